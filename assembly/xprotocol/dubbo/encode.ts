// Dubbo frames Skiff writes itself: heartbeats and their replies, error responses, the READONLY event.
import {
  XF_ID_LO, XF_ID_HI, XF_CODEC, XPE_OUT_TOO_SMALL, DUBBO_HEADER_LEN, DUBBO_FLAG_REQUEST, DUBBO_FLAG_TWOWAY,
  DUBBO_FLAG_EVENT, DUBBO_SERIALIZATION_HESSIAN2, DUBBO_STATUS_OK,
} from "../../abi/layout";
import { put16, put32 } from "../bytes";

function putHeader(out: usize, flag: i32, status: i32, hi: u32, lo: u32, bodyLen: i32): void {
  store<u8>(out, 0xda);
  store<u8>(out + 1, 0xbb);
  store<u8>(out + 2, <u8>flag);
  store<u8>(out + 3, <u8>status);
  put32(out + 4, hi);
  put32(out + 8, lo);
  put32(out + 12, <u32>bodyLen);
}

/** The serialization id to answer `rec` with: the request's, hessian2 when it had none. */
function serializationOf(rec: usize): i32 {
  const s = load<i32>(rec + XF_CODEC);
  return s != 0 ? s : DUBBO_SERIALIZATION_HESSIAN2;
}

/** Heartbeat request: request, two-way, event, hessian2; body null. */
export function dubboEncodeHeartbeat(id: u64, out: usize, outCap: i32): i32 {
  if (outCap < DUBBO_HEADER_LEN + 1) return XPE_OUT_TOO_SMALL;
  putHeader(out, DUBBO_FLAG_REQUEST | DUBBO_FLAG_TWOWAY | DUBBO_FLAG_EVENT | DUBBO_SERIALIZATION_HESSIAN2, 0, <u32>(id >>> 32), <u32>id, 1);
  store<u8>(out + DUBBO_HEADER_LEN, 0x4e);
  return DUBBO_HEADER_LEN + 1;
}

/** Heartbeat response: event, status OK, the request's id; body null. */
export function dubboEncodeHeartbeatReply(rec: usize, out: usize, outCap: i32): i32 {
  if (outCap < DUBBO_HEADER_LEN + 1) return XPE_OUT_TOO_SMALL;
  putHeader(out, DUBBO_FLAG_EVENT | serializationOf(rec), DUBBO_STATUS_OK, load<u32>(rec + XF_ID_HI), load<u32>(rec + XF_ID_LO), 1);
  store<u8>(out + DUBBO_HEADER_LEN, 0x4e);
  return DUBBO_HEADER_LEN + 1;
}

/** UTF-16 code units of the UTF-8 text [p, p+len) (a 4-byte sequence is a surrogate pair: two units). */
function utf16Units(p: usize, len: i32): i32 {
  let n = 0;
  for (let i = 0; i < len; i++) {
    const b = <u32>load<u8>(p + <usize>i);
    if ((b & 0xc0) != 0x80) n += b >= 0xf0 ? 2 : 1;
  }
  return n;
}

/** Writes a Hessian2 string of UTF-8 text (up to 65535 code units, one chunk); returns bytes written. */
function putHessianString(out: usize, p: usize, len: i32): i32 {
  const units = utf16Units(p, len);
  let h = 0;
  if (units < 32) { store<u8>(out, <u8>units); h = 1; }
  else if (units < 1024) { store<u8>(out, <u8>(0x30 + (units >>> 8))); store<u8>(out + 1, <u8>units); h = 2; }
  else { store<u8>(out, 0x53); put16(out + 1, <u32>units); h = 3; }
  memory.copy(out + <usize>h, p, <usize>len);
  return h + len;
}

/** Longest prefix of the UTF-8 text at p (at most len bytes) holding at most 65535 UTF-16 units. */
function clampUnits(p: usize, len: i32): i32 {
  let units = 0;
  for (let i = 0; i < len; i++) {
    const b = <u32>load<u8>(p + <usize>i);
    if ((b & 0xc0) != 0x80) {
      const u = b >= 0xf0 ? 2 : 1;
      if (units + u > 0xffff) return i;
      units += u;
    }
  }
  return len;
}

/** Error response: status byte `status` (30, 31, 40, 50, 60, 70, 80, 90, 100) and the message as a Hessian2 string. */
export function dubboEncodeErrorReply(rec: usize, status: i32, msg: usize, msgLen: i32, out: usize, outCap: i32): i32 {
  if (msgLen < 0) msgLen = 0;
  msgLen = clampUnits(msg, msgLen);
  if (outCap < DUBBO_HEADER_LEN + 3 + msgLen) return XPE_OUT_TOO_SMALL;
  const bodyLen = putHessianString(out + DUBBO_HEADER_LEN, msg, msgLen);
  putHeader(out, serializationOf(rec), status, load<u32>(rec + XF_ID_HI), load<u32>(rec + XF_ID_LO), bodyLen);
  return DUBBO_HEADER_LEN + bodyLen;
}

/** READONLY event (Dubbo's graceful shutdown notice): one-way event request with the string "R". */
export function dubboEncodeGoaway(id: u64, out: usize, outCap: i32): i32 {
  if (outCap < DUBBO_HEADER_LEN + 2) return XPE_OUT_TOO_SMALL;
  putHeader(out, DUBBO_FLAG_REQUEST | DUBBO_FLAG_EVENT | DUBBO_SERIALIZATION_HESSIAN2, 0, <u32>(id >>> 32), <u32>id, 2);
  store<u8>(out + DUBBO_HEADER_LEN, 0x01);
  store<u8>(out + DUBBO_HEADER_LEN + 1, 0x52);
  return DUBBO_HEADER_LEN + 2;
}
