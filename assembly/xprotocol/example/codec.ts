// The recipe's example protocol, "echo": a length-prefixed RPC written against the x-protocol contract
// (see docs/XPROTOCOL.md). One file: wire format, match, decode, and the frames Skiff writes itself.
//
// 0       4      5       6              10             14       15       16
// +-------+------+-------+--------------+--------------+--------+--------+---------+--------+---------+
// | "ECHO"| kind |status | request id   | body length  | svcLen | mthLen | service | method | payload |
// +-------+------+-------+--------------+--------------+--------+--------+---------+--------+---------+
// kind: 1 request, 2 response, 3 one-way, 4 heartbeat, 5 heartbeat reply. Integers big-endian; the body
// (everything after the 16-byte header) holds service, method and payload.
import {
  XF_PROTO, XF_KIND, XF_FRAME_LEN, XF_FLAGS, XFF_TWOWAY, XF_ID_LO, XF_ID_OFFSET, XF_ID_WIDTH, XF_STATUS, XF_SERVICE_PTR,
  XF_SERVICE_LEN, XF_METHOD_PTR, XF_METHOD_LEN, XF_PAYLOAD_PTR, XF_PAYLOAD_LEN, XF_ERROR_AT,
  XP_EXAMPLE, XP_NO, XP_MATCH, XP_NEED_MORE, XPE_BAD_MAGIC, XPE_BAD_KIND, XPE_TOO_LARGE, XPE_MALFORMED,
  XPE_OUT_TOO_SMALL, XK_REQUEST, XK_HEARTBEAT_REPLY,
} from "../../abi/layout";
import { be32, put32, resetRecord } from "../bytes";

const HEADER = 16;
const MAGIC: u32 = 0x4543484f; // "ECHO"
const KIND_RESPONSE = 2;
const KIND_HEARTBEAT = 4;
const KIND_HEARTBEAT_REPLY = 5;

/** Needs the four magic bytes (fewer that agree so far: need more). */
export function exampleMatch(buf: usize, len: i32): i32 {
  const n = len < 4 ? len : 4;
  for (let i = 0; i < n; i++) {
    if (<u32>load<u8>(buf + <usize>i) != ((MAGIC >>> (24 - 8 * i)) & 0xff)) return XP_NO;
  }
  return len < 4 ? XP_NEED_MORE : XP_MATCH;
}

export function exampleDecode(buf: usize, len: i32, rec: usize, maxFrameBytes: i32): i32 {
  resetRecord(rec);
  const m = exampleMatch(buf, len);
  if (m == XP_NO) { store<i32>(rec + XF_ERROR_AT, 0); return XPE_BAD_MAGIC; }
  if (len < HEADER) return XP_NEED_MORE;
  const kind = <i32>load<u8>(buf + 4);
  if (kind < XK_REQUEST || kind > XK_HEARTBEAT_REPLY) { store<i32>(rec + XF_ERROR_AT, 4); return XPE_BAD_KIND; }
  const total = <u64>HEADER + <u64>be32(buf + 10);
  if (total > <u64>maxFrameBytes) { store<i32>(rec + XF_ERROR_AT, 10); return XPE_TOO_LARGE; }
  if (<u64>len < total) { store<i32>(rec + XF_FRAME_LEN, <i32>total); return XP_NEED_MORE; }
  const svcLen = <u64>load<u8>(buf + 14);
  const methodLen = <u64>load<u8>(buf + 15);
  if (<u64>HEADER + svcLen + methodLen > total) { store<i32>(rec + XF_ERROR_AT, 14); return XPE_MALFORMED; }
  const svc = buf + <usize>HEADER;
  const method = svc + <usize>svcLen;
  const payload = method + <usize>methodLen;
  store<i32>(rec + XF_PROTO, XP_EXAMPLE);
  store<i32>(rec + XF_KIND, kind); // the wire kinds were chosen equal to XK_*
  store<i32>(rec + XF_FRAME_LEN, <i32>total);
  store<i32>(rec + XF_FLAGS, kind == XK_REQUEST || kind == KIND_HEARTBEAT ? XFF_TWOWAY : 0);
  store<i32>(rec + XF_STATUS, <i32>load<u8>(buf + 5));
  store<u32>(rec + XF_ID_LO, be32(buf + 6));
  store<i32>(rec + XF_ID_OFFSET, 6);
  store<i32>(rec + XF_ID_WIDTH, 4);
  store<u32>(rec + XF_SERVICE_PTR, <u32>svc);
  store<u32>(rec + XF_SERVICE_LEN, <u32>svcLen);
  store<u32>(rec + XF_METHOD_PTR, <u32>method);
  store<u32>(rec + XF_METHOD_LEN, <u32>methodLen);
  store<u32>(rec + XF_PAYLOAD_PTR, <u32>payload);
  store<u32>(rec + XF_PAYLOAD_LEN, <u32>(buf + <usize>total - payload));
  return <i32>total;
}

function putFrame(out: usize, kind: i32, status: i32, id: u32, payload: usize, payloadLen: i32): i32 {
  put32(out, MAGIC);
  store<u8>(out + 4, <u8>kind);
  store<u8>(out + 5, <u8>status);
  put32(out + 6, id);
  put32(out + 10, <u32>payloadLen);
  store<u16>(out + 14, 0); // no service, no method
  memory.copy(out + HEADER, payload, <usize>payloadLen);
  return HEADER + payloadLen;
}

export function exampleEncodeHeartbeat(id: u32, out: usize, outCap: i32): i32 {
  return outCap < HEADER ? XPE_OUT_TOO_SMALL : putFrame(out, KIND_HEARTBEAT, 0, id, 0, 0);
}

export function exampleEncodeHeartbeatReply(rec: usize, out: usize, outCap: i32): i32 {
  return outCap < HEADER ? XPE_OUT_TOO_SMALL : putFrame(out, KIND_HEARTBEAT_REPLY, 0, load<u32>(rec + XF_ID_LO), 0, 0);
}

/** A response with `status` whose payload is the message. */
export function exampleEncodeErrorReply(rec: usize, status: i32, msg: usize, msgLen: i32, out: usize, outCap: i32): i32 {
  if (msgLen < 0) msgLen = 0;
  if (outCap < HEADER + msgLen) return XPE_OUT_TOO_SMALL;
  return putFrame(out, KIND_RESPONSE, status, load<u32>(rec + XF_ID_LO), msg, msgLen);
}
