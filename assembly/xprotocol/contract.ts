// The x-protocol codec contract: every RPC protocol Skiff proxies implements these operations over raw
// bytes and the frame record (XF_* in abi/layout.ts), and is dispatched here by its protocol id (XP_*).
//
//   match(buf, len)                      -> XP_MATCH | XP_NO | XP_NEED_MORE   (peeked first bytes)
//   decode(buf, len, rec, maxFrameBytes) -> frame length | XP_NEED_MORE | XPE_*
//   afterIdPatch(buf, rec)               -> fix-ups once the id was patched in place (Bolt v2 CRC)
//   encodeHeartbeat(id, out, cap)        -> bytes | XPE_*   (keepalive Skiff sends upstream)
//   encodeHeartbeatReply(rec, out, cap)  -> bytes | XPE_*   (Skiff answers heartbeats itself)
//   encodeErrorReply(rec, status, msg, msgLen, out, cap) -> bytes | XPE_*  (a response in the protocol's format)
//   encodeGoaway(id, out, cap)           -> bytes | XPE_UNSUPPORTED (tell a client to stop using the connection:
//                                           Dubbo READONLY event, MOSN's Bolt goaway command)
//
// The reply encoders read only XF_PROTO, XF_ID_LO/HI, XF_CODEC, XF_VERSION and XF_SWITCH of the request's
// record (src/codec/xprotocol ReplyContext keeps just these per request in flight).
// Frames are never re-encoded: the framework re-sends the received bytes with only the request id patched
// (setRequestId below). Adding a protocol = one folder beside bolt/ and dubbo/ and one case per switch here.
import {
  XF_ID_LO, XF_ID_HI, XF_ID_OFFSET, XF_ID_WIDTH, XF_FRAME_LEN,
  XP_BOLT_V1, XP_BOLT_V2, XP_DUBBO, XP_EXAMPLE, XP_NO, XP_MATCH, XP_NEED_MORE, XP_PROTO_MAX,
  XPE_UNKNOWN_PROTO, XPE_UNSUPPORTED, XPE_MALFORMED,
} from "../abi/layout";
import { put32 } from "./bytes";
import { boltMatch, boltDecode } from "./bolt/decode";
import { boltEncodeHeartbeat, boltEncodeHeartbeatReply, boltEncodeErrorReply, boltEncodeGoaway, boltAfterIdPatch } from "./bolt/encode";
import { dubboMatch, dubboDecode, dubboReadArg } from "./dubbo/decode";
import { dubboEncodeHeartbeat, dubboEncodeHeartbeatReply, dubboEncodeErrorReply, dubboEncodeGoaway } from "./dubbo/encode";
import { exampleMatch, exampleDecode, exampleEncodeHeartbeat, exampleEncodeHeartbeatReply, exampleEncodeErrorReply } from "./example/codec";

export function match(proto: i32, buf: usize, len: i32): i32 {
  switch (proto) {
    case XP_BOLT_V1: case XP_BOLT_V2: return boltMatch(proto, buf, len);
    case XP_DUBBO: return dubboMatch(buf, len);
    case XP_EXAMPLE: return exampleMatch(buf, len);
  }
  return XPE_UNKNOWN_PROTO;
}

/** The protocol whose match says yes, 0 when none does, XP_NEED_MORE when one could once more bytes come. */
export function detect(buf: usize, len: i32): i32 {
  let needMore = false;
  for (let proto = 1; proto <= XP_PROTO_MAX; proto++) {
    const r = match(proto, buf, len);
    if (r == XP_MATCH) return proto;
    if (r == XP_NEED_MORE) needMore = true;
  }
  return needMore ? XP_NEED_MORE : XP_NO;
}

export function decode(proto: i32, buf: usize, len: i32, rec: usize, maxFrameBytes: i32): i32 {
  switch (proto) {
    case XP_BOLT_V1: case XP_BOLT_V2: return boltDecode(buf, len, rec, maxFrameBytes);
    case XP_DUBBO: return dubboDecode(buf, len, rec, maxFrameBytes);
    case XP_EXAMPLE: return exampleDecode(buf, len, rec, maxFrameBytes);
  }
  return XPE_UNKNOWN_PROTO;
}

/**
 * Patches the request id of the decoded frame at `buf` (described by `rec`) in place, big-endian at
 * XF_ID_OFFSET over XF_ID_WIDTH bytes, and updates the record. `id` is an integer below 2^53. Returns 0, or
 * XPE_MALFORMED (nothing written) when `rec` holds no decoded frame.
 */
export function setRequestId(proto: i32, buf: usize, rec: usize, id: f64): i32 {
  if (proto < 1 || proto > XP_PROTO_MAX) return XPE_UNKNOWN_PROTO;
  const v = <u64>id;
  const lo = <u32>v;
  const hi = <u32>(v >>> 32);
  const width = load<i32>(rec + XF_ID_WIDTH);
  const offset = load<i32>(rec + XF_ID_OFFSET);
  // A record that holds no decoded frame (or not this one) must not make us write outside the frame.
  if ((width != 4 && width != 8) || offset < 0 || offset + width > load<i32>(rec + XF_FRAME_LEN)) return XPE_MALFORMED;
  const at = buf + <usize>offset;
  if (width == 8) { put32(at, hi); put32(at + 4, lo); }
  else put32(at, lo);
  store<u32>(rec + XF_ID_LO, lo);
  store<u32>(rec + XF_ID_HI, width == 8 ? hi : 0);
  if (proto == XP_BOLT_V1 || proto == XP_BOLT_V2) boltAfterIdPatch(buf, rec);
  return 0;
}

export function encodeHeartbeat(proto: i32, id: f64, out: usize, outCap: i32): i32 {
  switch (proto) {
    case XP_BOLT_V1: case XP_BOLT_V2: return boltEncodeHeartbeat(proto, <u32><u64>id, out, outCap);
    case XP_DUBBO: return dubboEncodeHeartbeat(<u64>id, out, outCap);
    case XP_EXAMPLE: return exampleEncodeHeartbeat(<u32><u64>id, out, outCap);
  }
  return XPE_UNKNOWN_PROTO;
}

export function encodeHeartbeatReply(proto: i32, rec: usize, out: usize, outCap: i32): i32 {
  switch (proto) {
    case XP_BOLT_V1: case XP_BOLT_V2: return boltEncodeHeartbeatReply(rec, out, outCap);
    case XP_DUBBO: return dubboEncodeHeartbeatReply(rec, out, outCap);
    case XP_EXAMPLE: return exampleEncodeHeartbeatReply(rec, out, outCap);
  }
  return XPE_UNKNOWN_PROTO;
}

export function encodeErrorReply(proto: i32, rec: usize, status: i32, msg: usize, msgLen: i32, out: usize, outCap: i32): i32 {
  switch (proto) {
    case XP_BOLT_V1: case XP_BOLT_V2: return boltEncodeErrorReply(rec, status, msg, msgLen, out, outCap);
    case XP_DUBBO: return dubboEncodeErrorReply(rec, status, msg, msgLen, out, outCap);
    case XP_EXAMPLE: return exampleEncodeErrorReply(rec, status, msg, msgLen, out, outCap);
  }
  return XPE_UNKNOWN_PROTO;
}

export function encodeGoaway(proto: i32, id: f64, out: usize, outCap: i32): i32 {
  switch (proto) {
    case XP_BOLT_V1: case XP_BOLT_V2: return boltEncodeGoaway(proto, <u32><u64>id, out, outCap);
    case XP_EXAMPLE: return XPE_UNSUPPORTED;
    case XP_DUBBO: return dubboEncodeGoaway(<u64>id, out, outCap);
  }
  return XPE_UNKNOWN_PROTO;
}


/** Reads argument `index` of a decoded request (protocols whose requests carry typed arguments: Dubbo). */
export function readArg(proto: i32, rec: usize, index: i32): i32 {
  if (proto == XP_DUBBO) return dubboReadArg(rec, index);
  return proto >= 1 && proto <= XP_PROTO_MAX ? XPE_UNSUPPORTED : XPE_UNKNOWN_PROTO;
}
