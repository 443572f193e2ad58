// HTTP/1.1 request and response head parsers (RFC 9112), strict: CRLF only, no obs-fold, tokens per RFC 9110,
// HTTP/1.0 and 1.1 only, and framing rules that leave no room for request smuggling (RFC 9112 §6.3).
//
// A call either finds no complete head yet (HEAD_NEED_MORE after a cheap resumable scan, see scan.ts), or
// parses the complete head once, writing the head record (assembly/abi/layout.ts) at `rec`: absolute
// pointers into `buf`, names lowercased in place, values trimmed of OWS. Start lines: startline.ts; the
// meaning of framing headers: fields.ts.
import {
  HEAD_STATUS, HEAD_LENGTH, HEAD_RESUME, HEAD_HOST_PTR, HEAD_HOST_LEN, HEAD_FLAGS, HEAD_CONTENT_LENGTH, HEAD_HEADER_COUNT,
  HEAD_HEADERS, HDR_NAME_PTR, HDR_NAME_LEN, HDR_ID, HDR_VALUE_PTR, HDR_VALUE_LEN, HEADER_ENTRY_SIZE,
  HEAD_NEED_MORE, HEAD_OK, FLAG_KEEP_ALIVE, FLAG_CHUNKED, FLAG_CONTENT_LENGTH, FLAG_EXPECT_CONTINUE,
  FLAG_UPGRADE, FLAG_CONNECTION_CLOSE, FLAG_TRANSFER_ENCODING, H_HOST, H_CONTENT_LENGTH, H_TRANSFER_ENCODING,
  H_CONNECTION, H_PROXY_CONNECTION, H_UPGRADE, H_EXPECT, H1E_INVALID_TOKEN, H1E_WS_BEFORE_COLON,
  H1E_INVALID_HEADER_VALUE, H1E_BARE_CR, H1E_BARE_LF, H1E_OBS_FOLD, H1E_CL_AND_TE, H1E_DUPLICATE_CL,
  H1E_INVALID_CL, H1E_BAD_TE, H1E_UNSUPPORTED_TE, H1E_HEADERS_TOO_LARGE, H1E_TOO_MANY_HEADERS,
  H1E_MISSING_HOST, H1E_DUPLICATE_HOST, H1E_INVALID_HOST, H1_OPT_ALLOW_MISSING_HOST,
} from "../../abi/layout";
import { charClass, C_TCHAR, C_UPPER, C_HOST, isWs, eqLowerLiteral } from "../../util/ascii";
import { scanHeadEnd, skipLeadingEmptyLines, scanErrorAt } from "./scan";
import {
  headerId, parseContentLength, CL_INVALID, CL_DIFFERING, teReset, teAdd, teChunkedLast, teChunkedNotLast,
  teOther, teEncoded, teMalformed, connectionTokens, CONN_CLOSE, CONN_KEEP_ALIVE, CONN_UPGRADE,
} from "./fields";
import { CR, LF, byteAt, put, fail } from "./record";
import {
  parseTarget, parseRequestLine, parseStatusLine, checkPartialRequestLine, checkPartialStatusLine,
  resetTargetHost, partialLineEnd, findLf, targetHostPtr, targetHostLen, lineMethod, lineTarget, lineTargetLen, lineMinor,
} from "./startline";

// ---- per-parse state (wasm globals are per instance, so threads never share them) ----
let clValue: f64 = -1.0;
let teSeen: bool = false;
let connBits: i32 = 0;
let upgradeSeen: bool = false;
let expectContinue: bool = false;
let hostCount: i32 = 0;
let hostPtr: usize = 0;
let hostLen: i32 = 0;

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


function resetRecord(rec: usize): void {
  // HEAD_HEADERS (96) bytes of fixed fields, zeroed with six 16-byte stores.
  const zero = i64x2.splat(0);
  v128.store(rec, zero);
  v128.store(rec + 16, zero);
  v128.store(rec + 32, zero);
  v128.store(rec + 48, zero);
  v128.store(rec + 64, zero);
  v128.store(rec + 80, zero);
  store<f64>(rec + <usize>HEAD_CONTENT_LENGTH, -1.0);
  clValue = -1.0;
  teSeen = false;
  teReset();
  connBits = 0;
  upgradeSeen = false;
  expectContinue = false;
  hostCount = 0;
  hostPtr = 0;
  hostLen = 0;
  resetTargetHost();
}

// tchar membership by nibbles: byte b is a tchar when TCHAR_BY_LOW[b & 15] & TCHAR_BY_HIGH[b >> 4] != 0
// (the low table holds, per low nibble, one bit per high nibble 0..7; bytes >= 0x80 have no bit).
const TCHAR_BY_LOW = i32x4(<i32>0xfcf8fce8, <i32>0xfcfcfcfc, <i32>0x54f4f8f8, <i32>0x70f454d0);
const TCHAR_BY_HIGH = i32x4(<i32>0x08040201, <i32>0x80402010, 0, 0);
const LANE_INDEX = i32x4(<i32>0x03020100, <i32>0x07060504, <i32>0x0b0a0908, <i32>0x0f0e0d0c);

/**
 * The common case in 16 bytes at once: a header name of 1..15 token bytes followed by ':'. Lowercases it in
 * place and returns its length; returns 0 when the case does not apply (the byte-by-byte path then decides,
 * and reports any error at its exact offset).
 */
function shortNameLength(buf: usize, p: i32, end: i32): i32 {
  if (p + 16 > end) return 0;
  const at = buf + <usize>p;
  const v = v128.load(at);
  const colon = i8x16.bitmask(i8x16.eq(v, i8x16.splat(0x3a)));
  if (colon == 0) return 0;
  const n = ctz(colon);
  if (n == 0) return 0;
  const below = (1 << n) - 1;
  const byLow = i8x16.swizzle(TCHAR_BY_LOW, v128.and(v, i8x16.splat(0x0f)));
  const byHigh = i8x16.swizzle(TCHAR_BY_HIGH, i8x16.shr_u(v, 4));
  const isToken = i8x16.bitmask(i8x16.ne(v128.and(byLow, byHigh), i8x16.splat(0)));
  if ((isToken & below) != below) return 0;
  const inName = i8x16.lt_u(LANE_INDEX, i8x16.splat(<i8>n));
  const upper = v128.and(i8x16.lt_u(i8x16.sub(v, i8x16.splat(0x41)), i8x16.splat(26)), inName);
  if (v128.any_true(upper)) v128.store(at, v128.or(v, v128.and(upper, i8x16.splat(0x20))));
  return n;
}

// The header line parseFieldLine read last.
let fieldName: i32 = 0;
let fieldNameLen: i32 = 0;
let fieldValue: i32 = 0;
let fieldValueLen: i32 = 0;

/**
 * One header line `field-name ":" OWS field-value OWS CRLF` from `p` (not the empty line); its CRLF lies
 * before `end`. Lowercases the name in place. Returns the offset of the next line, or -code (written to the
 * record). The parts are left in fieldName / fieldNameLen / fieldValue / fieldValueLen.
 */
function parseFieldLine(buf: usize, p: i32, end: i32, rec: usize): i32 {
  let c = byteAt(buf, p);
  if (isWs(c)) return -fail(rec, H1E_OBS_FOLD, p);
  const name = p;
  const short = shortNameLength(buf, p, end);
  if (short > 0) {
    p += short;
    c = 0x3a;
  } else {
    while (true) {
      const k = charClass(c);
      if ((k & C_TCHAR) == 0) break;
      if ((k & C_UPPER) != 0) store<u8>(buf + <usize>p, <u8>(c | 0x20));
      p++;
      c = byteAt(buf, p);
    }
  }
  const nameLen = p - name;
  if (c != 0x3a) {
    if (nameLen > 0 && isWs(c)) return -fail(rec, H1E_WS_BEFORE_COLON, p);
    if (c == LF) return -fail(rec, H1E_BARE_LF, p);
    return -fail(rec, H1E_INVALID_TOKEN, p);
  }
  if (nameLen == 0) return -fail(rec, H1E_INVALID_TOKEN, p);
  p++;
  c = byteAt(buf, p);
  while (isWs(c)) { p++; c = byteAt(buf, p); }
  const value = p;
  p = scanFieldValue(buf, p, end);
  c = byteAt(buf, p);
  if (c != CR) return -fail(rec, c == LF ? H1E_BARE_LF : H1E_INVALID_HEADER_VALUE, p);
  let valueEnd = p;
  while (valueEnd > value && isWs(byteAt(buf, valueEnd - 1))) valueEnd--;
  if (byteAt(buf, p + 1) != LF) return -fail(rec, H1E_BARE_CR, p);
  fieldName = name;
  fieldNameLen = nameLen;
  fieldValue = value;
  fieldValueLen = valueEnd - value;
  return p + 2;
}

/**
 * Parses header lines from `p` to the end of the head (`end`, just past CRLF CRLF), filling entries.
 * Returns 0 or an error code (already written to the record).
 */
function parseHeaderLines(buf: usize, p: i32, end: i32, rec: usize, maxHeaders: i32, isRequest: bool): i32 {
  let count = 0;
  let entry = rec + <usize>HEAD_HEADERS;
  while (true) {
    if (byteAt(buf, p) == CR) {
      if (byteAt(buf, p + 1) != LF) return fail(rec, H1E_BARE_CR, p);
      break;
    }
    const next = parseFieldLine(buf, p, end, rec);
    if (next < 0) return -next;
    const name = fieldName;
    const nameLen = fieldNameLen;
    const value = fieldValue;
    const valueLen = fieldValueLen;
    p = next;
    if (count >= maxHeaders) return fail(rec, H1E_TOO_MANY_HEADERS, name);
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

/**
 * While the head is incomplete: checks what has arrived, so that a broken head is rejected at the line that
 * breaks it rather than when it completes: the start line (see checkPartial*Line), then each header line that
 * is complete, on its own (syntax, a Content-Length that cannot be one); rules across lines wait for the
 * whole head. HEAD_RESUME remembers the first unchecked line, so each call looks at new bytes (plus the line
 * they continue) only. Returns 0 or an error code.
 */
function checkIncompleteHead(buf: usize, start: i32, scanFrom: i32, limit: i32, rec: usize, isRequest: bool): i32 {
  // A lone CR at the end may begin one more empty line before the start line: nothing to check yet.
  if (start >= limit || byteAt(buf, start) == CR) return 0;
  let p: i32;
  const resume = load<i32>(rec + <usize>HEAD_RESUME);
  if (scanFrom > 0 && resume > start && resume <= scanFrom && byteAt(buf, resume - 1) == LF) {
    p = resume; // the start line was checked by an earlier call
  } else {
    // No LF lies in [start, scanFrom - 1) on a resumed call, or the earlier call would have found the line end.
    const from = scanFrom - 1 > start ? scanFrom - 1 : start;
    const bad = isRequest
      ? checkPartialRequestLine(buf, start, from, limit, rec)
      : checkPartialStatusLine(buf, start, from, limit, rec);
    if (bad != 0) return bad;
    if (partialLineEnd < 0) { put(rec, HEAD_RESUME, 0); return 0; }
    p = partialLineEnd;
  }
  let searchFrom = p > scanFrom ? p : scanFrom; // the line at p had no LF before scanFrom
  while (true) {
    const lf = findLf(buf, searchFrom, limit);
    if (lf < 0 || lf == p + 1) break; // line incomplete, or the empty line (then the head is not incomplete)
    const next = parseFieldLine(buf, p, lf + 1, rec);
    if (next < 0) return -next;
    if (headerId(buf + <usize>fieldName, fieldNameLen) == H_CONTENT_LENGTH) {
      const n = parseContentLength(buf + <usize>fieldValue, fieldValueLen);
      if (n == CL_INVALID) return fail(rec, H1E_INVALID_CL, fieldValue);
      if (n == CL_DIFFERING) return fail(rec, H1E_DUPLICATE_CL, fieldValue);
    }
    p = next;
    searchFrom = p;
  }
  put(rec, HEAD_RESUME, p);
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
    // Skiff forwards bodies re-framed (and drops Transfer-Encoding), so a coding other than chunked would
    // reach the peer undeclared: requests get 501; responses are refused too, except the no-op identity,
    // which leaves a body read until close (RFC 9112 §6.3 item 4).
    if (isRequest ? teOther : teEncoded || teChunkedNotLast) return fail(rec, H1E_UNSUPPORTED_TE, end);
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






export function parseRequest(buf: usize, len: i32, scanFrom: i32, rec: usize, maxHeaders: i32, maxHeadBytes: i32, opts: i32): i32 {
  const end = locateHead(buf, len, scanFrom, rec, maxHeadBytes);
  if (end == 0) {
    const early = checkIncompleteHead(buf, headStart, scanFrom, len < maxHeadBytes ? len : maxHeadBytes, rec, true);
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


export function parseResponse(buf: usize, len: i32, scanFrom: i32, rec: usize, maxHeaders: i32, maxHeadBytes: i32): i32 {
  const end = locateHead(buf, len, scanFrom, rec, maxHeadBytes);
  if (end == 0) {
    const early = checkIncompleteHead(buf, headStart, scanFrom, len < maxHeadBytes ? len : maxHeadBytes, rec, false);
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
