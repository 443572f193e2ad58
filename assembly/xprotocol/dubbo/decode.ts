// Dubbo 2 (ExchangeCodec) matching and decoding, with a Hessian2 peek at the request body.
//
// 0     1     2     3     4                                   12                    16
// +-----+-----+-----+-----+-----------------------------------+---------------------+
// |  magic    |flag |status|            request id (u64)      |   body length (u32) |
// | 0xda 0xbb |     |     |                                   |                     |
// +-----+-----+-----+-----+-----------------------------------+---------------------+
// flag: 0x80 request, 0x40 two-way, 0x20 event, low 5 bits serialization id (2 = hessian2).
// status: responses only (20 OK). Request body (hessian2): dubbo version, path, version, method, parameter
// types descriptor, the arguments, the attachments map. Response body: a response type int, then value,
// exception and/or attachments. Event body: null for a heartbeat, "R" for READONLY.
import {
  XF_PROTO, XF_KIND, XF_FRAME_LEN, XF_FLAGS, XF_ID_LO, XF_ID_HI, XF_ID_OFFSET, XF_ID_WIDTH, XF_STATUS,
  XF_TIMEOUT, XF_CODEC, XF_VERSION, XF_RESPONSE_TYPE, XF_SERVICE_PTR, XF_SERVICE_LEN, XF_METHOD_PTR,
  XF_METHOD_LEN, XF_SVC_VERSION_PTR, XF_SVC_VERSION_LEN, XF_GROUP_PTR, XF_GROUP_LEN, XF_RPC_VERSION_PTR,
  XF_RPC_VERSION_LEN, XF_PAYLOAD_PTR, XF_PAYLOAD_LEN, XF_ERROR_AT, XF_ARGS_PTR, XF_ARGS_LEN, XF_ARGS_COUNT,
  XF_CLASS_DEF_COUNT, XFF_PEEKED, XFF_TWOWAY,
  XK_REQUEST, XK_RESPONSE, XK_ONEWAY, XK_HEARTBEAT, XK_HEARTBEAT_REPLY, XK_GOAWAY, XK_EVENT,
  XP_DUBBO, XP_NO, XP_MATCH, XP_NEED_MORE, XPE_BAD_MAGIC, XPE_TOO_LARGE, XPE_HESSIAN,
  DUBBO_HEADER_LEN, DUBBO_FLAG_REQUEST, DUBBO_FLAG_TWOWAY, DUBBO_FLAG_EVENT, DUBBO_SERIALIZATION_MASK,
  DUBBO_SERIALIZATION_HESSIAN2, DUBBO_STATUS_OK,
} from "../../abi/layout";
import { be32, resetRecord, addHeader, eqAscii } from "../bytes";
import { readString, readInt, readScalar, skipValue, skipN, strPtr, strLen, strNull, intValue } from "../hessian";

/** xp_match for Dubbo: the two magic bytes. */
export function dubboMatch(buf: usize, len: i32): i32 {
  if (len < 1) return XP_NEED_MORE;
  if (load<u8>(buf) != 0xda) return XP_NO;
  if (len < 2) return XP_NEED_MORE;
  return load<u8>(buf + 1) == 0xbb ? XP_MATCH : XP_NO;
}

function fail(rec: usize, at: usize, code: i32): i32 {
  store<i32>(rec + XF_ERROR_AT, <i32>at);
  return code;
}

/** Decodes one Dubbo frame; same contract as boltDecode. */
export function dubboDecode(buf: usize, len: i32, rec: usize, maxFrameBytes: i32): i32 {
  resetRecord(rec);
  const m = dubboMatch(buf, len);
  if (m == XP_NEED_MORE) return XP_NEED_MORE;
  if (m == XP_NO) return fail(rec, 0, XPE_BAD_MAGIC);
  if (len < DUBBO_HEADER_LEN) return XP_NEED_MORE;
  const bodyLen = <u64>be32(buf + 12);
  const total = <u64>DUBBO_HEADER_LEN + bodyLen;
  if (total > <u64>maxFrameBytes) return fail(rec, 12, XPE_TOO_LARGE);
  if (<u64>len < total) {
    store<i32>(rec + XF_FRAME_LEN, <i32>total);
    return XP_NEED_MORE;
  }
  const frameLen = <i32>total;
  const flag = <i32>load<u8>(buf + 2);
  const serialization = flag & DUBBO_SERIALIZATION_MASK;
  const body = buf + <usize>DUBBO_HEADER_LEN;
  const end = buf + <usize>frameLen;
  store<i32>(rec + XF_PROTO, XP_DUBBO);
  store<i32>(rec + XF_FRAME_LEN, frameLen);
  store<i32>(rec + XF_FLAGS, (flag & DUBBO_FLAG_TWOWAY) != 0 ? XFF_TWOWAY : 0);
  store<u32>(rec + XF_ID_HI, be32(buf + 4));
  store<u32>(rec + XF_ID_LO, be32(buf + 8));
  store<i32>(rec + XF_ID_OFFSET, 4);
  store<i32>(rec + XF_ID_WIDTH, 8);
  store<i32>(rec + XF_CODEC, serialization);
  store<i32>(rec + XF_VERSION, 1);
  store<u32>(rec + XF_PAYLOAD_PTR, <u32>body);
  store<u32>(rec + XF_PAYLOAD_LEN, <u32>bodyLen);
  const hessian = serialization == DUBBO_SERIALIZATION_HESSIAN2;

  if ((flag & DUBBO_FLAG_REQUEST) != 0) {
    if ((flag & DUBBO_FLAG_EVENT) != 0) {
      store<i32>(rec + XF_KIND, eventKind(body, end, hessian));
      return frameLen;
    }
    store<i32>(rec + XF_KIND, (flag & DUBBO_FLAG_TWOWAY) != 0 ? XK_REQUEST : XK_ONEWAY);
    if (hessian) {
      const r = peekRequest(buf, body, end, rec);
      if (r < 0) return r;
    }
    return frameLen;
  }

  const status = <i32>load<u8>(buf + 3);
  store<i32>(rec + XF_STATUS, status);
  if ((flag & DUBBO_FLAG_EVENT) != 0) {
    store<i32>(rec + XF_KIND, XK_HEARTBEAT_REPLY);
    return frameLen;
  }
  store<i32>(rec + XF_KIND, XK_RESPONSE);
  if (hessian && status == DUBBO_STATUS_OK && bodyLen > 0) {
    const p = readInt(body, end);
    if (p == 0) return fail(rec, body - buf, XPE_HESSIAN);
    store<i32>(rec + XF_RESPONSE_TYPE, <i32>intValue);
    peekResponseAttachments(p, end, rec, <i32>intValue);
  }
  return frameLen;
}

/** Event requests: null data is a heartbeat, the string "R" asks the peer to stop sending (READONLY). */
function eventKind(body: usize, end: usize, hessian: bool): i32 {
  if (body >= end) return XK_HEARTBEAT;
  if (!hessian) return load<u8>(body) == 0x4e ? XK_HEARTBEAT : XK_EVENT;
  const p = readString(body, end);
  if (p == 0) return XK_EVENT;
  if (strNull) return XK_HEARTBEAT;
  return eqAscii(strPtr, strLen, "R") ? XK_GOAWAY : XK_EVENT;
}

/** Number of parameters in a JVM method descriptor ("Ljava/lang/String;II[J"), -1 when malformed. */
function countArgs(p: usize, len: i32): i32 {
  let n = 0;
  let i = 0;
  while (i < len) {
    let c = <u32>load<u8>(p + <usize>i);
    while (c == 0x5b && i + 1 < len) { i++; c = <u32>load<u8>(p + <usize>i); } // '[' array dimensions
    if (c == 0x4c) {                                                         // 'L' class name up to ';'
      while (i < len && load<u8>(p + <usize>i) != 0x3b) i++;
      if (i >= len) return -1;
    } else if (c != 0x5a && c != 0x42 && c != 0x43 && c != 0x44 && c != 0x46 && c != 0x49 && c != 0x4a && c != 0x53) {
      return -1;                                                             // not Z B C D F I J S
    }
    i++;
    n++;
  }
  return n;
}

function setField(rec: usize, ptrField: i32, lenField: i32): void {
  store<u32>(rec + ptrField, <u32>strPtr);
  store<u32>(rec + lenField, <u32>strLen);
}

/** Request body: five strings, the arguments (skipped), then the attachments map. */
function peekRequest(buf: usize, body: usize, end: usize, rec: usize): i32 {
  let p = readString(body, end);
  if (p == 0) return fail(rec, body - buf, XPE_HESSIAN);
  setField(rec, XF_RPC_VERSION_PTR, XF_RPC_VERSION_LEN);
  const pathAt = p;
  p = readString(p, end);
  if (p == 0) return fail(rec, pathAt - buf, XPE_HESSIAN);
  setField(rec, XF_SERVICE_PTR, XF_SERVICE_LEN);
  const versionAt = p;
  p = readString(p, end);
  if (p == 0) return fail(rec, versionAt - buf, XPE_HESSIAN);
  setField(rec, XF_SVC_VERSION_PTR, XF_SVC_VERSION_LEN);
  const methodAt = p;
  p = readString(p, end);
  if (p == 0 || strNull) return fail(rec, methodAt - buf, XPE_HESSIAN);
  setField(rec, XF_METHOD_PTR, XF_METHOD_LEN);
  if (p < end && load<u8>(p) >= 0x80 && load<u8>(p) <= 0xbf) p++;   // dubbox writes an int (-1) before the descriptor
  const descAt = p;
  p = readString(p, end);
  if (p == 0) return fail(rec, descAt - buf, XPE_HESSIAN);
  const args = countArgs(strPtr, strLen);
  if (args < 0) return fail(rec, descAt - buf, XPE_HESSIAN);
  const argsAt = p;
  p = skipN(p, end, rec, <i64>args);
  if (p == 0) return fail(rec, argsAt - buf, XPE_HESSIAN);
  store<u32>(rec + XF_ARGS_PTR, <u32>argsAt);
  store<u32>(rec + XF_ARGS_LEN, <u32>(p - argsAt));
  store<i32>(rec + XF_ARGS_COUNT, args);
  if (p < end) {
    const r = readAttachments(p, end, rec);
    if (r < 0) return fail(rec, p - buf, r);
  }
  store<i32>(rec + XF_FLAGS, load<i32>(rec + XF_FLAGS) | XFF_PEEKED);
  return 0;
}

/**
 * The attachments map ('H' or typed 'M', or null): string entries become header entries; group, version,
 * interface and timeout fill the record's well-known fields when the body did not. Other values are skipped.
 */
function readAttachments(p: usize, end: usize, rec: usize): i32 {
  const tag = <u32>load<u8>(p);
  if (tag == 0x4e) return 0;
  if (tag == 0x4d) {
    // a typed map's type: a string ("java.util.HashMap") or an int referring to an earlier type
    let q = readString(p + 1, end);
    if (q == 0 || strNull) q = readInt(p + 1, end);
    if (q == 0) return XPE_HESSIAN;
    p = q;
  } else if (tag == 0x48) p++;
  else return XPE_HESSIAN;
  // Each entry consumes at least two bytes, so the loop ends within (end - p) / 2 rounds.
  while (p < end) {
    if (load<u8>(p) == 0x5a) return 0;
    const keyAt = p;
    let q = readString(p, end);
    if (q == 0 || strNull) {
      q = skipValue(keyAt, end, rec, 1);         // a non-string key: skip the entry
      if (q == 0) return XPE_HESSIAN;
      q = skipValue(q, end, rec, 1);
      if (q == 0) return XPE_HESSIAN;
      p = q;
      continue;
    }
    const key = strPtr;
    const keyLen = strLen;
    const valueAt = q;
    q = readString(valueAt, end);
    if (q != 0 && !strNull) {
      addHeader(rec, key, keyLen, strPtr, strLen);
      if (eqAscii(key, keyLen, "group")) setField(rec, XF_GROUP_PTR, XF_GROUP_LEN);
      else if (eqAscii(key, keyLen, "version") && load<u32>(rec + XF_SVC_VERSION_LEN) == 0) setField(rec, XF_SVC_VERSION_PTR, XF_SVC_VERSION_LEN);
      else if ((eqAscii(key, keyLen, "interface") || eqAscii(key, keyLen, "path")) && load<u32>(rec + XF_SERVICE_LEN) == 0) setField(rec, XF_SERVICE_PTR, XF_SERVICE_LEN);
      else if (eqAscii(key, keyLen, "timeout")) store<i32>(rec + XF_TIMEOUT, parseDecimal(strPtr, strLen));
    } else {
      q = readInt(valueAt, end);
      if (q != 0) {
        if (eqAscii(key, keyLen, "timeout") && intValue > 0 && intValue < 0x7fffffff) store<i32>(rec + XF_TIMEOUT, <i32>intValue);
      } else {
        q = skipValue(valueAt, end, rec, 1);
        if (q == 0) return XPE_HESSIAN;
      }
    }
    p = q;
  }
  return XPE_HESSIAN; // no 'Z'
}

/** A non-negative decimal below 2^31, 0 when the text is not one. */
function parseDecimal(p: usize, len: i32): i32 {
  if (len == 0 || len > 9) return 0;
  let v = 0;
  for (let i = 0; i < len; i++) {
    const c = <i32>load<u8>(p + <usize>i);
    if (c < 0x30 || c > 0x39) return 0;
    v = v * 10 + (c - 0x30);
  }
  return v;
}

/**
 * Responses with attachments (types 3, 4, 5): skips the exception or value and reads the map into headers.
 * Best effort: a response is passed through unchanged, so a body the walker cannot follow is not an error.
 */
function peekResponseAttachments(p: usize, end: usize, rec: usize, type: i32): void {
  if (type < 3 || type > 5) return;
  if (type != 5) {
    p = skipValue(p, end, rec, 1);
    if (p == 0) return;
  }
  if (p < end && readAttachments(p, end, rec) == 0) {
    store<i32>(rec + XF_FLAGS, load<i32>(rec + XF_FLAGS) | XFF_PEEKED);
  }
}

/**
 * xp_read_arg for Dubbo: walks to argument `index` of the request decoded in `rec` (whose bytes must still be
 * where they were decoded) and reads it into XF_ARG_*. Returns its XA_* type, 0 when there is no such
 * argument (not a peeked hessian2 request, or index out of range), XPE_HESSIAN when the walk fails.
 */
export function dubboReadArg(rec: usize, index: i32): i32 {
  if (index < 0 || index >= load<i32>(rec + XF_ARGS_COUNT)) return 0;
  const start = <usize>load<u32>(rec + XF_ARGS_PTR);
  const end = start + <usize>load<u32>(rec + XF_ARGS_LEN);
  // The arguments are the first Hessian values that can define classes: walk them with a fresh table.
  store<i32>(rec + XF_CLASS_DEF_COUNT, 0);
  let p = skipN(start, end, rec, <i64>index);
  if (p == 0) return XPE_HESSIAN;
  const r = readScalar(p, end, rec);
  return r == 0 ? XPE_HESSIAN : r;
}
