// Header and query-parameter matchers over a head record (assembly/abi/layout.ts HEAD_*), with Envoy's
// semantics: a header present several times is matched as its values joined with ","; a missing header
// fails every matcher except present_match: false, and invert_match flips the result except where Envoy
// says it does not (see headerMatches).
import { host_regex_match } from "../abi/imports";
import {
  HEAD_HEADER_COUNT, HEAD_HEADERS, HDR_NAME_PTR, HDR_NAME_LEN, HDR_VALUE_PTR, HDR_VALUE_LEN, HEADER_ENTRY_SIZE,
  HEAD_METHOD_PTR, HEAD_METHOD_LEN, HEAD_HOST_PTR, HEAD_HOST_LEN, HEAD_PATH_PTR, HEAD_PATH_LEN,
  HM_NAME, HM_NAME_LEN, HM_SOURCE, HM_TYPE, HM_FLAGS, HM_VALUE, HM_VALUE_LEN, HM_REGEX,
  HSRC_HEADER, HSRC_METHOD, HSRC_AUTHORITY, HSRC_PATH,
  MT_PRESENT, MT_EXACT, MT_PREFIX, MT_SUFFIX, MT_CONTAINS, MT_REGEX,
  HMF_IGNORE_CASE, HMF_INVERT, HMF_PRESENT_VALUE, HMF_MISSING_AS_EMPTY,
  RS_JOIN, RS_JOIN_BYTES,
} from "../abi/layout";
import { bytesEqual, bytesContain } from "./bytes";

// The value found by findHeader/findQueryParam (per-instance globals: a two-value return without allocation).
let foundPtr: usize = 0;
let foundLen: usize = 0;

/** Whether the string matcher (type, value, flags, regex) accepts [ptr, ptr+len). */
export function stringMatches(table: usize, m: usize, ptr: usize, len: usize): bool {
  const type = load<i32>(m + HM_TYPE);
  const fold = (load<u32>(m + HM_FLAGS) & HMF_IGNORE_CASE) != 0;
  const v = table + <usize>load<u32>(m + HM_VALUE);
  const vl = <usize>load<u32>(m + HM_VALUE_LEN);
  if (type == MT_EXACT) return len == vl && bytesEqual(ptr, v, vl, fold);
  if (type == MT_PREFIX) return len >= vl && bytesEqual(ptr, v, vl, fold);
  if (type == MT_SUFFIX) return len >= vl && bytesEqual(ptr + len - vl, v, vl, fold);
  if (type == MT_CONTAINS) return bytesContain(ptr, len, v, vl, fold);
  if (type == MT_REGEX) return host_regex_match(load<i32>(m + HM_REGEX), ptr, len) == 1;
  return false;
}

/** Whether the header the matcher reads is present (no join needed). */
function headerPresent(table: usize, m: usize, rec: usize): bool {
  if (load<i32>(m + HM_SOURCE) != HSRC_HEADER) return true;
  const name = table + <usize>load<u32>(m + HM_NAME);
  const nameLen = <usize>load<u32>(m + HM_NAME_LEN);
  const count = <usize>load<u32>(rec + HEAD_HEADER_COUNT);
  for (let i: usize = 0; i < count; i++) {
    const e = rec + HEAD_HEADERS + i * HEADER_ENTRY_SIZE;
    if (<usize>load<u16>(e + HDR_NAME_LEN) == nameLen && bytesEqual(<usize>load<u32>(e + HDR_NAME_PTR), name, nameLen, false)) return true;
  }
  return false;
}

/**
 * Finds the header the matcher reads; sets foundPtr/foundLen. Several values are joined with "," into the
 * router scratch area (joinBase); a join longer than the area reports "not found".
 */
function findHeader(table: usize, m: usize, rec: usize, joinBase: usize): bool {
  const source = load<i32>(m + HM_SOURCE);
  if (source == HSRC_METHOD) { foundPtr = load<u32>(rec + HEAD_METHOD_PTR); foundLen = load<u32>(rec + HEAD_METHOD_LEN); return true; }
  if (source == HSRC_AUTHORITY) { foundPtr = load<u32>(rec + HEAD_HOST_PTR); foundLen = load<u32>(rec + HEAD_HOST_LEN); return true; }
  if (source == HSRC_PATH) { foundPtr = load<u32>(rec + HEAD_PATH_PTR); foundLen = load<u32>(rec + HEAD_PATH_LEN); return true; }
  if (source != HSRC_HEADER) return false;
  const name = table + <usize>load<u32>(m + HM_NAME);
  const nameLen = <usize>load<u32>(m + HM_NAME_LEN);
  const count = <usize>load<u32>(rec + HEAD_HEADER_COUNT);
  let seen = 0;
  let joined: usize = 0;
  for (let i: usize = 0; i < count; i++) {
    const e = rec + HEAD_HEADERS + i * HEADER_ENTRY_SIZE;
    if (<usize>load<u16>(e + HDR_NAME_LEN) != nameLen) continue;
    if (!bytesEqual(<usize>load<u32>(e + HDR_NAME_PTR), name, nameLen, false)) continue;
    const vp = <usize>load<u32>(e + HDR_VALUE_PTR);
    const vl = <usize>load<u32>(e + HDR_VALUE_LEN);
    if (seen == 0) { foundPtr = vp; foundLen = vl; seen = 1; continue; }
    if (seen == 1) {
      // Second value: start the join with the first one.
      if (foundLen > <usize>RS_JOIN_BYTES) return false;
      memory.copy(joinBase, foundPtr, foundLen);
      joined = foundLen;
      seen = 2;
    }
    if (joined + 1 + vl > <usize>RS_JOIN_BYTES) return false;
    store<u8>(joinBase + joined, 0x2c);
    memory.copy(joinBase + joined + 1, vp, vl);
    joined += 1 + vl;
  }
  if (seen == 2) { foundPtr = joinBase; foundLen = joined; }
  return seen > 0;
}

/** One header matcher against the record, as Envoy's HeaderUtility::matchHeaders. */
export function headerMatches(table: usize, m: usize, rec: usize, scratch: usize): bool {
  const flags = load<u32>(m + HM_FLAGS);
  const type = load<i32>(m + HM_TYPE);
  const invert = (flags & HMF_INVERT) != 0;
  if (type == MT_PRESENT) {
    if (headerPresent(table, m, rec)) return ((flags & HMF_PRESENT_VALUE) != 0) != invert;
    if ((flags & HMF_MISSING_AS_EMPTY) != 0) return ((flags & HMF_PRESENT_VALUE) != 0) != invert;
    // Missing: Envoy's presence check passes only for present_match: false, and never when inverted.
    return !invert && (flags & HMF_PRESENT_VALUE) == 0;
  }
  let ptr: usize = 0;
  let len: usize = 0;
  if (findHeader(table, m, rec, scratch + RS_JOIN)) {
    ptr = foundPtr; len = foundLen;
  } else if ((flags & HMF_MISSING_AS_EMPTY) == 0) {
    // Missing header (or one too long to join): only an inverted value matcher passes.
    return invert;
  }
  return stringMatches(table, m, ptr, len) != invert;
}

/** First parameter named like the matcher in the query [q, q+qLen) (no percent-decoding, as Envoy). */
function findQueryParam(table: usize, m: usize, q: usize, qLen: usize): bool {
  const name = table + <usize>load<u32>(m + HM_NAME);
  const nameLen = <usize>load<u32>(m + HM_NAME_LEN);
  let start: usize = 0;
  while (start <= qLen) {
    let end = start;
    while (end < qLen && load<u8>(q + end) != 0x26) end++; // '&'
    let eq = start;
    while (eq < end && load<u8>(q + eq) != 0x3d) eq++; // '='
    if (eq - start == nameLen && bytesEqual(q + start, name, nameLen, false)) {
      foundPtr = eq < end ? q + eq + 1 : q + end;
      foundLen = eq < end ? end - eq - 1 : 0;
      return true;
    }
    start = end + 1;
  }
  return false;
}

/** One query parameter matcher: the parameter must be present, and its value must match if a matcher is set. */
export function queryMatches(table: usize, m: usize, q: usize, qLen: usize): bool {
  if (!findQueryParam(table, m, q, qLen)) return false;
  if (load<i32>(m + HM_TYPE) == MT_PRESENT) return true;
  return stringMatches(table, m, foundPtr, foundLen);
}
