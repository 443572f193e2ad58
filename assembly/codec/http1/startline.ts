// Start lines: the request line (method, request-target in its four forms, version) and the status line,
// complete or still arriving (RFC 9112 §3, §4).
import {
  HEAD_METHOD_ID, HEAD_STATUS_CODE, HEAD_METHOD_PTR, HEAD_METHOD_LEN, HEAD_TARGET_PTR, HEAD_TARGET_LEN,
  HEAD_PATH_PTR, HEAD_PATH_LEN, HEAD_QUERY_PTR, HEAD_QUERY_LEN, HEAD_VERSION_MINOR, HEAD_FLAGS,
  FLAG_ABSOLUTE_FORM, METHOD_OTHER, METHOD_GET, METHOD_HEAD, METHOD_POST, METHOD_PUT, METHOD_DELETE,
  METHOD_CONNECT, METHOD_OPTIONS, METHOD_TRACE, METHOD_PATCH, H1E_INVALID_METHOD, H1E_INVALID_TARGET,
  H1E_INVALID_VERSION, H1E_INVALID_REQUEST_LINE, H1E_INVALID_STATUS_LINE, H1E_INVALID_CONNECT,
} from "../../abi/layout";
import { charClass, C_TCHAR, C_VALUE, C_VISIBLE, C_DIGIT, eqLiteral } from "../../util/ascii";
import { CR, LF, SP, byteAt, put, fail } from "./record";

/** Authority of an absolute-form or authority-form target (it wins over Host, RFC 9112 §3.2.2). */
export let targetHostPtr: usize = 0;
export let targetHostLen: i32 = -1;

export function resetTargetHost(): void {
  targetHostPtr = 0;
  targetHostLen = -1;
}

/** "HTTP/1.0" or "HTTP/1.1" at p: returns the minor version, or -code. */
function parseVersion(buf: usize, p: i32, end: i32, malformed: i32): i32 {
  if (p + 8 > end) return -malformed;
  if (!eqLiteral(buf + <usize>p, 5, "HTTP/")) return -malformed;
  const major = byteAt(buf, p + 5);
  const dot = byteAt(buf, p + 6);
  const minor = byteAt(buf, p + 7);
  if ((charClass(major) & C_DIGIT) == 0 || dot != 0x2e || (charClass(minor) & C_DIGIT) == 0) return -malformed;
  if (major != 0x31 || (minor != 0x30 && minor != 0x31)) return -H1E_INVALID_VERSION;
  return <i32>(minor - 0x30);
}

function methodId(m: usize, len: i32): i32 {
  switch (len) {
    case 3:
      if (eqLiteral(m, 3, "GET")) return METHOD_GET;
      if (eqLiteral(m, 3, "PUT")) return METHOD_PUT;
      return METHOD_OTHER;
    case 4:
      if (eqLiteral(m, 4, "POST")) return METHOD_POST;
      if (eqLiteral(m, 4, "HEAD")) return METHOD_HEAD;
      return METHOD_OTHER;
    case 5:
      if (eqLiteral(m, 5, "PATCH")) return METHOD_PATCH;
      if (eqLiteral(m, 5, "TRACE")) return METHOD_TRACE;
      return METHOD_OTHER;
    case 6: return eqLiteral(m, 6, "DELETE") ? METHOD_DELETE : METHOD_OTHER;
    case 7:
      if (eqLiteral(m, 7, "OPTIONS")) return METHOD_OPTIONS;
      if (eqLiteral(m, 7, "CONNECT")) return METHOD_CONNECT;
      return METHOD_OTHER;
  }
  return METHOD_OTHER;
}

/**
 * Splits the request-target [t, t+len) (RFC 9112 §3.2) into path/query/authority fields of the record.
 * Returns 0 or an error code.
 */
export function parseTarget(buf: usize, t: i32, len: i32, method: i32, rec: usize): i32 {
  const first = byteAt(buf, t);
  let pathStart = t;
  const end = t + len;
  if (method == METHOD_CONNECT) {
    // authority-form: host ":" port, nothing else
    if (first == 0x2f || first == 0x2a) return H1E_INVALID_CONNECT;
    for (let i = t; i < end; i++) {
      const c = byteAt(buf, i);
      if (c == 0x2f || c == 0x3f || c == 0x23 || c == 0x40) return H1E_INVALID_CONNECT;
    }
    targetHostPtr = buf + <usize>t;
    targetHostLen = len;
    put(rec, HEAD_PATH_PTR, <i32>(buf + <usize>end));
    put(rec, HEAD_PATH_LEN, 0);
    return 0;
  }
  if (first == 0x2a) {
    // asterisk-form: RFC 9112 §3.2.4 defines it for OPTIONS; SSDP's M-SEARCH uses it too, and it cannot
    // change framing, so any method may carry it.
    if (len != 1) return H1E_INVALID_TARGET;
  } else if (first != 0x2f) {
    // absolute-form: scheme "://" authority [path-abempty] [ "?" query ]
    let i = t;
    if ((charClass(first) & C_TCHAR) == 0 || (charClass(first) & C_DIGIT) != 0) return H1E_INVALID_TARGET;
    while (i < end) {
      const c = byteAt(buf, i);
      const isSchemeChar = ((c | 0x20) >= 0x61 && (c | 0x20) <= 0x7a) || (charClass(c) & C_DIGIT) != 0 || c == 0x2b || c == 0x2d || c == 0x2e;
      if (!isSchemeChar) break;
      i++;
    }
    if (i == t || i + 3 > end || byteAt(buf, i) != 0x3a || byteAt(buf, i + 1) != 0x2f || byteAt(buf, i + 2) != 0x2f) {
      return H1E_INVALID_TARGET;
    }
    i += 3;
    let auth = i;
    while (i < end) {
      const c = byteAt(buf, i);
      if (c == 0x2f || c == 0x3f || c == 0x23) break;
      if (c == 0x40) auth = i + 1; // drop userinfo (deprecated, RFC 9110 §4.2.4)
      i++;
    }
    if (i == auth) return H1E_INVALID_TARGET;
    targetHostPtr = buf + <usize>auth;
    targetHostLen = i - auth;
    pathStart = i;
    put(rec, HEAD_FLAGS, FLAG_ABSOLUTE_FORM);
  }
  // path [ "?" query ] [ "#" fragment ]: the record's path holds path and query, no fragment
  let q = -1;
  let pathEnd = end;
  for (let i = pathStart; i < end; i++) {
    const c = byteAt(buf, i);
    if (c == 0x3f && q < 0) q = i;
    else if (c == 0x23) { pathEnd = i; break; }
  }
  put(rec, HEAD_PATH_PTR, <i32>(buf + <usize>pathStart));
  put(rec, HEAD_PATH_LEN, pathEnd - pathStart);
  if (q >= 0) {
    put(rec, HEAD_QUERY_PTR, <i32>(buf + <usize>q + 1));
    put(rec, HEAD_QUERY_LEN, pathEnd - q - 1);
  }
  return 0;
}

/** Skips request-target bytes (visible ASCII 0x21..0x7E) from `p`, 16 at a time. */
function scanTarget(buf: usize, p: i32, end: i32): i32 {
  const lo = i8x16.splat(0x21);
  const span = i8x16.splat(0x5d);
  while (true) {
    if (p + 16 <= end) {
      const v = v128.load(buf + <usize>p);
      const mask = i8x16.bitmask(i8x16.gt_u(i8x16.sub(v, lo), span));
      if (mask == 0) { p += 16; continue; }
      p += ctz(mask);
    }
    if ((charClass(byteAt(buf, p)) & C_VISIBLE) != 0) { p++; continue; }
    return p;
  }
}

// Request line fields, for parseRequest after parseRequestLine.
export let lineMethod: i32 = 0;
export let lineTarget: i32 = 0;
export let lineTargetLen: i32 = 0;
export let lineMinor: i32 = 0;

/**
 * `method SP request-target SP HTTP-version CRLF` from `p`; the line's CRLF lies before `end`.
 * Returns the offset after the CRLF, or -code (already written to the record).
 */
export function parseRequestLine(buf: usize, p: i32, end: i32, rec: usize): i32 {
  const m = p;
  while ((charClass(byteAt(buf, p)) & C_TCHAR) != 0) p++;
  if (p == m || byteAt(buf, p) != SP) return -fail(rec, p == m ? H1E_INVALID_METHOD : (byteAt(buf, p) == CR ? H1E_INVALID_REQUEST_LINE : H1E_INVALID_METHOD), p);
  const methodLen = p - m;
  const method = methodId(buf + <usize>m, methodLen);
  p++;
  const t = p;
  p = scanTarget(buf, p, end);
  const targetLen = p - t;
  if (targetLen == 0) return -fail(rec, H1E_INVALID_TARGET, p);
  if (byteAt(buf, p) != SP) return -fail(rec, byteAt(buf, p) == CR ? H1E_INVALID_REQUEST_LINE : H1E_INVALID_TARGET, p);
  p++;
  const minor = parseVersion(buf, p, end, H1E_INVALID_REQUEST_LINE);
  if (minor < 0) return -fail(rec, -minor, p);
  p += 8;
  if (byteAt(buf, p) != CR || byteAt(buf, p + 1) != LF) return -fail(rec, H1E_INVALID_REQUEST_LINE, p);
  put(rec, HEAD_METHOD_ID, method);
  put(rec, HEAD_METHOD_PTR, <i32>(buf + <usize>m));
  put(rec, HEAD_METHOD_LEN, methodLen);
  put(rec, HEAD_TARGET_PTR, <i32>(buf + <usize>t));
  put(rec, HEAD_TARGET_LEN, targetLen);
  put(rec, HEAD_VERSION_MINOR, minor);
  lineMethod = method;
  lineTarget = t;
  lineTargetLen = targetLen;
  lineMinor = minor;
  return p + 2;
}

/** After checkPartial*Line: where the header lines start when the start line is complete, else -1. */
export let partialLineEnd: i32 = -1;

/** How much of an unfinished start line is checked: enough for a method and the start of a target. */
const PARTIAL_LINE_CHECK: i32 = 64;

/** Offset of the first LF in [from, limit), or -1; 16 bytes at a time. */
export function findLf(buf: usize, from: i32, limit: i32): i32 {
  let i = from;
  const lf = i8x16.splat(<i8>LF);
  for (; i + 16 <= limit; i += 16) {
    const mask = i8x16.bitmask(i8x16.eq(v128.load(buf + <usize>i), lf));
    if (mask != 0) return i + ctz(mask);
  }
  for (; i < limit; i++) if (byteAt(buf, i) == LF) return i;
  return -1;
}

/**
 * While a head is incomplete: checks what has arrived of the start line, so that garbage (a TLS hello on a
 * plaintext port, binary noise, a bad request line) is rejected at once instead of when the head completes
 * or reaches maxHeadBytes. The line's LF is looked for from `from` (no LF lies in [start, from)); an
 * unfinished line is checked in its first PARTIAL_LINE_CHECK bytes only, so that a line arriving byte by byte
 * costs no more than its length in total. Returns an error code, or 0 when nothing is wrong so far;
 * partialLineEnd tells where the header lines start once the line is complete.
 */
export function checkPartialRequestLine(buf: usize, start: i32, from: i32, limit: i32, rec: usize): i32 {
  partialLineEnd = -1;
  const lf = findLf(buf, from, limit);
  if (lf >= 0) {
    const r = parseRequestLine(buf, start, lf + 1, rec);
    if (r < 0) return -r;
    partialLineEnd = r;
    return 0;
  }
  if (from - start >= PARTIAL_LINE_CHECK) return 0;
  if (limit - start > PARTIAL_LINE_CHECK) limit = start + PARTIAL_LINE_CHECK;
  // Incomplete line: the method so far must be a token, the target so far visible bytes.
  let p = start;
  while (p < limit && (charClass(byteAt(buf, p)) & C_TCHAR) != 0) p++;
  if (p == limit) return 0;
  let c = byteAt(buf, p);
  if (c == CR && p + 1 == limit) return 0;
  if (c != SP || p == start) return fail(rec, H1E_INVALID_METHOD, p);
  p++;
  const t = p;
  while (p < limit && (charClass(byteAt(buf, p)) & C_VISIBLE) != 0) p++;
  if (p == limit) return 0;
  c = byteAt(buf, p);
  if (c == CR && p + 1 == limit) return 0;
  if (c != SP || p == t) return fail(rec, H1E_INVALID_TARGET, p);
  // The version so far must be a prefix of "HTTP/".
  p++;
  const prefix = "HTTP/";
  for (let i = 0; i < 5 && p + i < limit; i++) {
    if (byteAt(buf, p + i) != <u32>prefix.charCodeAt(i)) return fail(rec, H1E_INVALID_REQUEST_LINE, p + i);
  }
  return 0;
}

/** While a response head is incomplete: what has arrived of the status line must start like one. */
export function checkPartialStatusLine(buf: usize, start: i32, from: i32, limit: i32, rec: usize): i32 {
  partialLineEnd = -1;
  const lf = findLf(buf, from, limit);
  if (lf >= 0) {
    const r = parseStatusLine(buf, start, lf + 1, rec);
    if (r < 0) return -r;
    partialLineEnd = r;
    return 0;
  }
  const prefix = "HTTP/";
  for (let i = 0; i < 5 && start + i < limit; i++) {
    if (byteAt(buf, start + i) != <u32>prefix.charCodeAt(i)) return fail(rec, H1E_INVALID_STATUS_LINE, start + i);
  }
  return 0;
}

/**
 * `HTTP-version SP status-code SP [ reason-phrase ] CRLF` from `p` (a missing reason is accepted); the line's
 * CRLF lies before `end`. Returns the offset after the CRLF, or -code (already written to the record).
 */
export function parseStatusLine(buf: usize, p: i32, end: i32, rec: usize): i32 {
  const minor = parseVersion(buf, p, end, H1E_INVALID_STATUS_LINE);
  if (minor < 0) return -fail(rec, -minor, p);
  p += 8;
  if (byteAt(buf, p) != SP) return -fail(rec, H1E_INVALID_STATUS_LINE, p);
  p++;
  let status = 0;
  for (let i = 0; i < 3; i++) {
    const c = byteAt(buf, p);
    if ((charClass(c) & C_DIGIT) == 0) return -fail(rec, H1E_INVALID_STATUS_LINE, p);
    status = status * 10 + <i32>(c - 48);
    p++;
  }
  if (status < 100) return -fail(rec, H1E_INVALID_STATUS_LINE, p - 3);
  let reason = p;
  let reasonEnd = p;
  if (byteAt(buf, p) == SP) {
    p++;
    reason = p;
    while (true) {
      const c = byteAt(buf, p);
      if (c == CR) break;
      if ((charClass(c) & C_VALUE) == 0) return -fail(rec, H1E_INVALID_STATUS_LINE, p);
      p++;
    }
    reasonEnd = p;
  }
  if (byteAt(buf, p) != CR || byteAt(buf, p + 1) != LF) return -fail(rec, H1E_INVALID_STATUS_LINE, p);
  put(rec, HEAD_STATUS_CODE, status);
  put(rec, HEAD_METHOD_PTR, <i32>(buf + <usize>reason));
  put(rec, HEAD_METHOD_LEN, reasonEnd - reason);
  put(rec, HEAD_VERSION_MINOR, minor);
  lineMinor = minor;
  return p + 2;
}
