// X-protocol codec entry points (see contract.ts): numbers in, numbers out. `proto` is an XP_* id; buffers
// and records are absolute addresses in the shared memory; ids are integers below 2^53 passed as f64.
import * as C from "./contract";
import { crc32 } from "./crc32";

/** XP_MATCH, XP_NO or XP_NEED_MORE for the first `len` bytes of a connection. */
export function xp_match(proto: i32, buf: usize, len: i32): i32 { return C.match(proto, buf, len); }

/** The first protocol id whose match says yes, 0 when none, XP_NEED_MORE when undecided. */
export function xp_detect(buf: usize, len: i32): i32 { return C.detect(buf, len); }

/** Decodes one frame into `rec` (XF_RECORD_SIZE bytes): frame length, XP_NEED_MORE or an XPE_* code. */
export function xp_decode(proto: i32, buf: usize, len: i32, rec: usize, maxFrameBytes: i32): i32 {
  return C.decode(proto, buf, len, rec, maxFrameBytes);
}

/** Patches the request id of the decoded frame at `buf` in place (and its CRC when it has one). */
export function xp_set_request_id(proto: i32, buf: usize, rec: usize, id: f64): i32 {
  return C.setRequestId(proto, buf, rec, id);
}

/** Writes a heartbeat request with id `id` at `out`: bytes written or an XPE_* code. */
export function xp_encode_heartbeat(proto: i32, id: f64, out: usize, outCap: i32): i32 {
  return C.encodeHeartbeat(proto, id, out, outCap);
}

/** Writes the reply to the heartbeat decoded in `rec`. */
export function xp_encode_heartbeat_reply(proto: i32, rec: usize, out: usize, outCap: i32): i32 {
  return C.encodeHeartbeatReply(proto, rec, out, outCap);
}

/** Writes a response with wire status `status` and a UTF-8 message to the request decoded in `rec`. */
export function xp_encode_error_reply(proto: i32, rec: usize, status: i32, msg: usize, msgLen: i32, out: usize, outCap: i32): i32 {
  return C.encodeErrorReply(proto, rec, status, msg, msgLen, out, outCap);
}

/** Writes the protocol's "stop using this connection" frame (Dubbo READONLY event), or XPE_UNSUPPORTED. */
export function xp_encode_goaway(proto: i32, id: f64, out: usize, outCap: i32): i32 {
  return C.encodeGoaway(proto, id, out, outCap);
}

/** CRC-32 (IEEE, as Bolt v2 appends it) of [buf, buf+len), as an unsigned number. */
export function xp_crc32(buf: usize, len: i32): u32 { return crc32(buf, len); }

/**
 * Reads argument `index` of the request decoded in `rec` into XF_ARG_* (for parameter route matches): its
 * XA_* type, 0 when there is no such argument, or an XPE_* code. The frame bytes must not have moved.
 */
export function xp_read_arg(proto: i32, rec: usize, index: i32): i32 { return C.readArg(proto, rec, index); }
