// Bolt frames Skiff writes itself: heartbeats, heartbeat replies and error replies. Everything else is
// re-sent from the bytes it arrived in (see xp_set_request_id).
import {
  XF_PROTO, XF_ID_LO, XF_CODEC, XF_VERSION, XF_SWITCH, XF_FRAME_LEN, XF_FLAGS, XFF_CRC,
  XP_BOLT_V2, XPE_OUT_TOO_SMALL, BOLT_TYPE_RESPONSE, BOLT_TYPE_REQUEST, BOLT_CMD_HEARTBEAT, BOLT_CMD_RESPONSE, BOLT_CMD_GOAWAY,
  BOLT_CODEC_HESSIAN2,
} from "../../abi/layout";
import { put16, put32, putAscii } from "../bytes";
import { crc32 } from "../crc32";
import { boltHeaderLen } from "./decode";

/** Java bolt's heartbeat timeout, written in the timeout field of the heartbeats Skiff sends. */
const HEARTBEAT_TIMEOUT_MS: u32 = 1000;
/** Header key carrying the error message of an error reply (clients read the status; this is for people). */
const ERROR_KEY = "skiff_error";

/**
 * Writes a Bolt fixed header; returns the offset of classLen. `version` 1 or 2; for 2, `ver1` and `sw` are
 * written as given. The caller fills the lengths.
 */
function putHeader(out: usize, version: i32, ver1: i32, sw: i32, type: i32, cmd: i32, id: u32, codec: i32, statusOrTimeout: u32): usize {
  let p = out;
  store<u8>(p++, <u8>version);
  if (version == 2) store<u8>(p++, <u8>ver1);
  store<u8>(p++, <u8>type);
  put16(p, <u32>cmd); p += 2;
  store<u8>(p++, 1); // ver2
  put32(p, id); p += 4;
  store<u8>(p++, <u8>codec);
  if (version == 2) store<u8>(p++, <u8>sw);
  if (type == BOLT_TYPE_RESPONSE) { put16(p, statusOrTimeout); p += 2; }
  else { put32(p, statusOrTimeout); p += 4; }
  return p;
}

/** Appends the CRC32 trailer when this v2 frame carries one; returns the final length. */
function finish(out: usize, len: i32, version: i32, ver1: i32, sw: i32): i32 {
  if (version == 2 && ver1 > 1 && (sw & 1) != 0) {
    put32(out + <usize>len, crc32(out, len));
    return len + 4;
  }
  return len;
}

function crcBytes(version: i32, ver1: i32, sw: i32): i32 {
  return version == 2 && ver1 > 1 && (sw & 1) != 0 ? 4 : 0;
}

/** A heartbeat request of proto 1 or 2 (v2: ver1 1, no CRC, which every v2 peer accepts). */
export function boltEncodeHeartbeat(proto: i32, id: u32, out: usize, outCap: i32): i32 {
  const version = proto == XP_BOLT_V2 ? 2 : 1;
  const len = boltHeaderLen(version, BOLT_TYPE_REQUEST);
  if (outCap < len) return XPE_OUT_TOO_SMALL;
  const lens = putHeader(out, version, 1, 0, BOLT_TYPE_REQUEST, BOLT_CMD_HEARTBEAT, id, BOLT_CODEC_HESSIAN2, HEARTBEAT_TIMEOUT_MS);
  memory.fill(lens, 0, 8);
  return len;
}

/**
 * MOSN's goaway: a request with command code 100, no timeout and no class, header or content. Only
 * MOSN-aware clients know it, so the framework sends it only when configured to (MOSN: EnableBoltGoAway).
 */
export function boltEncodeGoaway(proto: i32, id: u32, out: usize, outCap: i32): i32 {
  const version = proto == XP_BOLT_V2 ? 2 : 1;
  const len = boltHeaderLen(version, BOLT_TYPE_REQUEST);
  if (outCap < len) return XPE_OUT_TOO_SMALL;
  const lens = putHeader(out, version, 1, 0, BOLT_TYPE_REQUEST, BOLT_CMD_GOAWAY, id, BOLT_CODEC_HESSIAN2, 0);
  memory.fill(lens, 0, 8);
  return len;
}

/** The heartbeat reply to the heartbeat in `rec`: same version, ver1, switch, codec and id. */
export function boltEncodeHeartbeatReply(rec: usize, out: usize, outCap: i32): i32 {
  const version = load<i32>(rec + XF_PROTO) == XP_BOLT_V2 ? 2 : 1;
  const ver1 = load<i32>(rec + XF_VERSION);
  const sw = load<i32>(rec + XF_SWITCH);
  const len = boltHeaderLen(version, BOLT_TYPE_RESPONSE);
  if (outCap < len + crcBytes(version, ver1, sw)) return XPE_OUT_TOO_SMALL;
  const lens = putHeader(out, version, ver1, sw, BOLT_TYPE_RESPONSE, BOLT_CMD_HEARTBEAT, load<u32>(rec + XF_ID_LO), load<i32>(rec + XF_CODEC), 0);
  memory.fill(lens, 0, 8);
  return finish(out, len, version, ver1, sw);
}

/**
 * An RPC response with ResponseStatus `status` to the request in `rec`, as bolt's server sends when it
 * cannot process a request: no class, no content; the message travels in the header map under skiff_error.
 */
export function boltEncodeErrorReply(rec: usize, status: i32, msg: usize, msgLen: i32, out: usize, outCap: i32): i32 {
  const version = load<i32>(rec + XF_PROTO) == XP_BOLT_V2 ? 2 : 1;
  const ver1 = load<i32>(rec + XF_VERSION);
  const sw = load<i32>(rec + XF_SWITCH);
  if (msgLen < 0) msgLen = 0;
  const keyLen = ERROR_KEY.length;
  const headerLen = 8 + keyLen + msgLen;
  const hdr = boltHeaderLen(version, BOLT_TYPE_RESPONSE);
  if (headerLen > 0xffff || outCap < hdr + headerLen + crcBytes(version, ver1, sw)) return XPE_OUT_TOO_SMALL;
  let codec = load<i32>(rec + XF_CODEC);
  if (codec == 0) codec = BOLT_CODEC_HESSIAN2;
  const lens = putHeader(out, version, ver1, sw, BOLT_TYPE_RESPONSE, BOLT_CMD_RESPONSE, load<u32>(rec + XF_ID_LO), codec, <u32>status);
  put16(lens, 0);
  put16(lens + 2, <u32>headerLen);
  put32(lens + 4, 0);
  let p = lens + 8;
  put32(p, <u32>keyLen); p += 4;
  p += <usize>putAscii(p, ERROR_KEY);
  put32(p, <u32>msgLen); p += 4;
  memory.copy(p, msg, <usize>msgLen);
  return finish(out, hdr + headerLen, version, ver1, sw);
}

/** After the id of the frame at buf was patched: recompute the CRC32 trailer when the frame has one. */
export function boltAfterIdPatch(buf: usize, rec: usize): void {
  if ((load<i32>(rec + XF_FLAGS) & XFF_CRC) == 0) return;
  const len = load<i32>(rec + XF_FRAME_LEN);
  put32(buf + <usize>(len - 4), crc32(buf, len - 4));
}

