// HTTP/1.1 request and response head parsers (RFC 9112), strict: CRLF only, no obs-fold, tokens per RFC 9110,
// HTTP/1.0 and 1.1 only, and framing rules that leave no room for request smuggling (RFC 9112 §6.3).
//
// A call either finds no complete head yet (HEAD_NEED_MORE after a cheap resumable scan, see scan.ts), or
// parses the complete head once, writing the head record (assembly/abi/layout.ts) at `rec`: absolute
// pointers into `buf`, names lowercased in place, values trimmed of OWS.
import {
  HEAD_STATUS, HEAD_LENGTH, HEAD_METHOD_ID, HEAD_STATUS_CODE, HEAD_METHOD_PTR, HEAD_METHOD_LEN, HEAD_TARGET_PTR,
  HEAD_TARGET_LEN, HEAD_PATH_PTR, HEAD_PATH_LEN, HEAD_QUERY_PTR, HEAD_QUERY_LEN, HEAD_HOST_PTR, HEAD_HOST_LEN,
  HEAD_VERSION_MINOR, HEAD_FLAGS, HEAD_CONTENT_LENGTH, HEAD_HEADER_COUNT, HEAD_HEADERS,
  HDR_NAME_PTR, HDR_NAME_LEN, HDR_ID, HDR_VALUE_PTR, HDR_VALUE_LEN, HEADER_ENTRY_SIZE,
  HEAD_NEED_MORE, HEAD_OK,
  FLAG_KEEP_ALIVE, FLAG_CHUNKED, FLAG_CONTENT_LENGTH, FLAG_EXPECT_CONTINUE, FLAG_UPGRADE, FLAG_CONNECTION_CLOSE,
  FLAG_ABSOLUTE_FORM, FLAG_TRANSFER_ENCODING,
  METHOD_OTHER, METHOD_GET, METHOD_HEAD, METHOD_POST, METHOD_PUT, METHOD_DELETE, METHOD_CONNECT, METHOD_OPTIONS,
  METHOD_TRACE, METHOD_PATCH,
  H_HOST, H_CONTENT_LENGTH, H_TRANSFER_ENCODING, H_CONNECTION, H_PROXY_CONNECTION, H_UPGRADE, H_EXPECT,
  H1E_INVALID_METHOD, H1E_INVALID_TARGET, H1E_INVALID_VERSION, H1E_INVALID_REQUEST_LINE, H1E_INVALID_TOKEN,
  H1E_WS_BEFORE_COLON, H1E_INVALID_HEADER_VALUE, H1E_BARE_CR, H1E_BARE_LF, H1E_OBS_FOLD, H1E_CL_AND_TE,
  H1E_DUPLICATE_CL, H1E_INVALID_CL, H1E_BAD_TE, H1E_UNSUPPORTED_TE, H1E_HEADERS_TOO_LARGE, H1E_TOO_MANY_HEADERS,
  H1E_MISSING_HOST, H1E_DUPLICATE_HOST, H1E_INVALID_STATUS_LINE, H1E_INVALID_CONNECT,
  H1E_INVALID_HOST, H1_OPT_ALLOW_MISSING_HOST,
} from "../../abi/layout";
import { charClass, C_TCHAR, C_VALUE, C_VISIBLE, C_UPPER, C_DIGIT, C_HOST, isWs, eqLiteral, eqLowerLiteral } from "../../util/ascii";
import { scanHeadEnd, skipLeadingEmptyLines, scanErrorAt } from "./scan";
import {
  headerId, parseContentLength, CL_INVALID, CL_DIFFERING, teReset, teAdd, teChunkedLast, teChunkedNotLast, teOther,
  teMalformed, connectionTokens, CONN_CLOSE, CONN_KEEP_ALIVE, CONN_UPGRADE,
} from "./fields";

const CR: u32 = 13;
const LF: u32 = 10;
const SP: u32 = 32;

// ---- per-parse state (wasm globals are per instance, so threads never share them) ----
let errorAt: i32 = 0;
let clValue: f64 = -1.0;
let clError: i32 = 0;
let teSeen: bool = false;
let connBits: i32 = 0;
let upgradeSeen: bool = false;
let expectContinue: bool = false;
let hostCount: i32 = 0;
let hostPtr: usize = 0;
let hostLen: i32 = 0;
/** Authority of an absolute-form or authority-form target (it wins over Host, RFC 9112 §3.2.2). */
let targetHostPtr: usize = 0;
let targetHostLen: i32 = -1;

// @ts-ignore: decorator
@inline function byteAt(buf: usize, i: i32): u32 {
  return <u32>load<u8>(buf + <usize>i);
}

// @ts-ignore: decorator
@inline function put(rec: usize, off: i32, v: i32): void {
  store<i32>(rec + <usize>off, v);
}

/** Records an error found at `at` and returns its code. */
function fail(rec: usize, code: i32, at: i32): i32 {
  errorAt = at;
  put(rec, HEAD_STATUS, code);
  put(rec, HEAD_LENGTH, at);
  return code;
}

/**
 * Finds the complete head: returns its end offset (> 0), 0 when it is not complete yet, or an error code as its
 * negation (-code), after writing the error to the record. `headStart` receives the start line's offset.
 */
let headStart: i32 = 0;
function locateHead(buf: usize, len: i32, scanFrom: i32, rec: usize, maxHeadBytes: i32): i32 {
  const limit = len < maxHeadBytes ? len : maxHeadBytes;
  const start = skipLeadingEmptyLines(buf, limit);
  if (start < 0) return -fail(rec, -start, scanErrorAt);
  headStart = start;
  // A scanFrom beyond the bytes present can only be a caller's mistake: scan everything rather than nothing.
  const end = scanHeadEnd(buf, start, scanFrom > len ? 0 : scanFrom - 3, limit);
  if (end < 0) return -fail(rec, -end, scanErrorAt);
  if (end > 0) return end;
  if (len >= maxHeadBytes) return -fail(rec, H1E_HEADERS_TOO_LARGE, limit);
  return 0;
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
function parseTarget(buf: usize, t: i32, len: i32, method: i32, rec: usize): i32 {
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

/**
 * Skips field-value bytes (VCHAR, obs-text, SP, HTAB) from `p`, 16 at a time; returns the offset of the first
 * other byte (the CR ending the line, or a forbidden control byte). The head ends in CRLF CRLF before `end`,
 * so a stop is always found.
 */
function scanFieldValue(buf: usize, p: i32, end: i32): i32 {
  const space = i8x16.splat(0x20);
  const del = i8x16.splat(0x7f);
  while (true) {
    if (p + 16 <= end) {
      const v = v128.load(buf + <usize>p);
      const mask = i8x16.bitmask(v128.or(i8x16.lt_u(v, space), i8x16.eq(v, del)));
      if (mask == 0) { p += 16; continue; }
      p += ctz(mask);
    }
    const c = byteAt(buf, p);
    if (c == 9 || (c >= 0x20 && c != 0x7f)) { p++; continue; }
    return p;
  }
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

function resetRecord(rec: usize): void {
  // HEAD_HEADERS (80) bytes of fixed fields, zeroed with five 16-byte stores.
  const zero = i64x2.splat(0);
  v128.store(rec, zero);
  v128.store(rec + 16, zero);
  v128.store(rec + 32, zero);
  v128.store(rec + 48, zero);
  v128.store(rec + 64, zero);
  store<f64>(rec + <usize>HEAD_CONTENT_LENGTH, -1.0);
  clValue = -1.0;
  clError = 0;
  teSeen = false;
  teReset();
  connBits = 0;
  upgradeSeen = false;
  expectContinue = false;
  hostCount = 0;
  hostPtr = 0;
  hostLen = 0;
  targetHostPtr = 0;
  targetHostLen = -1;
}

/**
 * Parses header lines from `p` to the end of the head (`end`, just past CRLF CRLF), filling entries.
 * Returns 0 or an error code (already written to the record).
 */
function parseHeaderLines(buf: usize, p: i32, end: i32, rec: usize, maxHeaders: i32, isRequest: bool): i32 {
  let count = 0;
  let entry = rec + <usize>HEAD_HEADERS;
  while (true) {
    let c = byteAt(buf, p);
    if (c == CR) {
      if (byteAt(buf, p + 1) != LF) return fail(rec, H1E_BARE_CR, p);
      break;
    }
    if (isWs(c)) return fail(rec, H1E_OBS_FOLD, p);
    // field-name, lowercased in place
    const name = p;
    while (true) {
      const k = charClass(c);
      if ((k & C_TCHAR) == 0) break;
      if ((k & C_UPPER) != 0) store<u8>(buf + <usize>p, <u8>(c | 0x20));
      p++;
      c = byteAt(buf, p);
    }
    const nameLen = p - name;
    if (c != 0x3a) {
      if (nameLen > 0 && isWs(c)) return fail(rec, H1E_WS_BEFORE_COLON, p);
      if (c == LF) return fail(rec, H1E_BARE_LF, p);
      return fail(rec, H1E_INVALID_TOKEN, p);
    }
    if (nameLen == 0) return fail(rec, H1E_INVALID_TOKEN, p);
    p++;
    // OWS field-value OWS CRLF
    c = byteAt(buf, p);
    while (isWs(c)) { p++; c = byteAt(buf, p); }
    const value = p;
    p = scanFieldValue(buf, p, end);
    c = byteAt(buf, p);
    if (c != CR) return fail(rec, c == LF ? H1E_BARE_LF : H1E_INVALID_HEADER_VALUE, p);
    let valueEnd = p;
    while (valueEnd > value && isWs(byteAt(buf, valueEnd - 1))) valueEnd--;
    if (byteAt(buf, p + 1) != LF) return fail(rec, H1E_BARE_CR, p);
    p += 2;
    if (count >= maxHeaders) return fail(rec, H1E_TOO_MANY_HEADERS, name);
    const valueLen = valueEnd - value;
    const id = headerId(buf + <usize>name, nameLen);
    store<u32>(entry + <usize>HDR_NAME_PTR, <u32>(buf + <usize>name));
    store<u16>(entry + <usize>HDR_NAME_LEN, <u16>nameLen);
    store<u16>(entry + <usize>HDR_ID, <u16>id);
    store<u32>(entry + <usize>HDR_VALUE_PTR, <u32>(buf + <usize>value));
    store<u32>(entry + <usize>HDR_VALUE_LEN, <u32>valueLen);
    entry += <usize>HEADER_ENTRY_SIZE;
    count++;
    if (id != 0) {
      const v = buf + <usize>value;
      if (id == H_CONTENT_LENGTH) {
        const n = parseContentLength(v, valueLen);
        if (n == CL_INVALID) return fail(rec, H1E_INVALID_CL, value);
        if (n == CL_DIFFERING || (clValue >= 0.0 && n != clValue)) return fail(rec, H1E_DUPLICATE_CL, value);
        clValue = n;
      } else if (id == H_TRANSFER_ENCODING) {
        teSeen = true;
        teAdd(v, valueLen);
      } else if (id == H_CONNECTION || id == H_PROXY_CONNECTION) {
        // Proxy-Connection is the pre-standard spelling some HTTP/1.0 clients send to proxies.
        connBits |= connectionTokens(v, valueLen);
      } else if (id == H_UPGRADE) {
        upgradeSeen = true;
      } else if (id == H_EXPECT) {
        if (eqLowerLiteral(v, valueLen, "100-continue")) expectContinue = true;
      } else if (id == H_HOST && isRequest) {
        hostCount++;
        if (hostCount > 1) return fail(rec, H1E_DUPLICATE_HOST, name);
        hostPtr = v;
        hostLen = valueLen;
      }
    }
  }
  put(rec, HEAD_HEADER_COUNT, count);
  return 0;
}

/** Framing and connection flags shared by requests and responses; returns 0 or an error code. */
function finishFraming(rec: usize, minor: i32, end: i32, isRequest: bool): i32 {
  let flags = load<i32>(rec + <usize>HEAD_FLAGS);
  let keepAlive = minor == 1 ? (connBits & CONN_CLOSE) == 0 : (connBits & CONN_KEEP_ALIVE) != 0 && (connBits & CONN_CLOSE) == 0;
  if (teSeen) {
    // RFC 9112 §6.1: a message with both is a smuggling attempt; §6.3: chunked must be the final coding.
    if (clValue >= 0.0) return fail(rec, H1E_CL_AND_TE, end);
    if (teMalformed) return fail(rec, H1E_BAD_TE, end);
    if (isRequest && (teChunkedNotLast || !teChunkedLast)) return fail(rec, H1E_BAD_TE, end);
    // A response whose final coding is not chunked is read until close (RFC 9112 §6.3 item 4).
    // Skiff forwards bodies re-framed as chunked, so any other coding would reach the peer undeclared.
    if (teOther && teChunkedLast) return fail(rec, H1E_UNSUPPORTED_TE, end);
    flags |= FLAG_TRANSFER_ENCODING;
    if (teChunkedLast) flags |= FLAG_CHUNKED;
    else keepAlive = false; // a response delimited by close
    if (minor == 0) keepAlive = false; // RFC 9112 §6.1: chunked in HTTP/1.0 means the connection closes
  } else if (clValue >= 0.0) {
    flags |= FLAG_CONTENT_LENGTH;
    store<f64>(rec + <usize>HEAD_CONTENT_LENGTH, clValue);
  }
  if (keepAlive) flags |= FLAG_KEEP_ALIVE;
  if ((connBits & CONN_CLOSE) != 0) flags |= FLAG_CONNECTION_CLOSE;
  if ((connBits & CONN_UPGRADE) != 0 && upgradeSeen) flags |= FLAG_UPGRADE;
  if (expectContinue && minor == 1) flags |= FLAG_EXPECT_CONTINUE;
  put(rec, HEAD_FLAGS, flags);
  put(rec, HEAD_LENGTH, end);
  put(rec, HEAD_STATUS, HEAD_OK);
  return HEAD_OK;
}

// Request line fields, for parseRequest after parseRequestLine.
let lineMethod: i32 = 0;
let lineTarget: i32 = 0;
let lineTargetLen: i32 = 0;
let lineMinor: i32 = 0;

/**
 * `method SP request-target SP HTTP-version CRLF` from `p`; the line's CRLF lies before `end`.
 * Returns the offset after the CRLF, or -code (already written to the record).
 */
function parseRequestLine(buf: usize, p: i32, end: i32, rec: usize): i32 {
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

/** Offset of the first LF in [from, limit), or -1. */
function findLf(buf: usize, from: i32, limit: i32): i32 {
  for (let i = from; i < limit; i++) if (byteAt(buf, i) == LF) return i;
  return -1;
}

/**
 * While a head is incomplete: checks what has arrived of the start line, so that garbage (a TLS hello on a
 * plaintext port, binary noise, a bad request line) is rejected at once instead of when the head completes
 * or reaches maxHeadBytes. Returns an error code, or 0 when nothing is wrong so far.
 */
function checkPartialRequestLine(buf: usize, start: i32, limit: i32, rec: usize): i32 {
  const lf = findLf(buf, start, limit);
  if (lf >= 0) {
    const r = parseRequestLine(buf, start, lf + 1, rec);
    return r < 0 ? -r : 0;
  }
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
function checkPartialStatusLine(buf: usize, start: i32, limit: i32, rec: usize): i32 {
  const lf = findLf(buf, start, limit);
  if (lf >= 0) {
    const r = parseStatusLine(buf, start, lf + 1, rec);
    return r < 0 ? -r : 0;
  }
  const prefix = "HTTP/";
  for (let i = 0; i < 5 && start + i < limit; i++) {
    if (byteAt(buf, start + i) != <u32>prefix.charCodeAt(i)) return fail(rec, H1E_INVALID_STATUS_LINE, start + i);
  }
  return 0;
}

export function parseRequest(buf: usize, len: i32, scanFrom: i32, rec: usize, maxHeaders: i32, maxHeadBytes: i32, opts: i32): i32 {
  const end = locateHead(buf, len, scanFrom, rec, maxHeadBytes);
  if (end == 0) {
    const early = checkPartialRequestLine(buf, headStart, len < maxHeadBytes ? len : maxHeadBytes, rec);
    if (early != 0) return early;
    put(rec, HEAD_STATUS, HEAD_NEED_MORE);
    return HEAD_NEED_MORE;
  }
  if (end <= 0) return -end;
  resetRecord(rec);
  const p = parseRequestLine(buf, headStart, end, rec);
  if (p < 0) return -p;
  const method = lineMethod;
  const t = lineTarget;
  const targetLen = lineTargetLen;
  const minor = lineMinor;
  const headersError = parseHeaderLines(buf, p, end, rec, maxHeaders, true);
  if (headersError != 0) return headersError;
  const targetError = parseTarget(buf, t, targetLen, method, rec);
  if (targetError != 0) return fail(rec, targetError, t);
  if (hostCount == 0 && minor == 1 && (opts & H1_OPT_ALLOW_MISSING_HOST) == 0) return fail(rec, H1E_MISSING_HOST, end);
  let authority: usize = hostPtr;
  let authorityLen = hostCount > 0 ? hostLen : 0;
  if (targetHostLen >= 0) {
    authority = targetHostPtr;
    authorityLen = targetHostLen;
  }
  // The authority picks the virtual host: only bytes an authority may hold (RFC 3986 §3.2), so no two
  // readers can disagree on it.
  for (let i = 0; i < authorityLen; i++) {
    if ((charClass(<u32>load<u8>(authority + <usize>i)) & C_HOST) == 0) {
      return fail(rec, H1E_INVALID_HOST, <i32>(authority - buf) + i);
    }
  }
  if (targetHostLen >= 0 || hostCount > 0) {
    put(rec, HEAD_HOST_PTR, <i32>authority);
    put(rec, HEAD_HOST_LEN, authorityLen);
  }
  return finishFraming(rec, minor, end, true);
}

/**
 * `HTTP-version SP status-code SP [ reason-phrase ] CRLF` from `p` (a missing reason is accepted); the line's
 * CRLF lies before `end`. Returns the offset after the CRLF, or -code (already written to the record).
 */
function parseStatusLine(buf: usize, p: i32, end: i32, rec: usize): i32 {
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

export function parseResponse(buf: usize, len: i32, scanFrom: i32, rec: usize, maxHeaders: i32, maxHeadBytes: i32): i32 {
  const end = locateHead(buf, len, scanFrom, rec, maxHeadBytes);
  if (end == 0) {
    const early = checkPartialStatusLine(buf, headStart, len < maxHeadBytes ? len : maxHeadBytes, rec);
    if (early != 0) return early;
    put(rec, HEAD_STATUS, HEAD_NEED_MORE);
    return HEAD_NEED_MORE;
  }
  if (end <= 0) return -end;
  resetRecord(rec);
  const p = parseStatusLine(buf, headStart, end, rec);
  if (p < 0) return -p;
  const minor = lineMinor;
  const headersError = parseHeaderLines(buf, p, end, rec, maxHeaders, false);
  if (headersError != 0) return headersError;
  return finishFraming(rec, minor, end, false);
}
