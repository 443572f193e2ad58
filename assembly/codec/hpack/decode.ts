// HPACK header block decoder (RFC 7541) that writes the head record the HTTP/1 parser writes
// (assembly/abi/layout.ts HEAD_*, HDR_*), so the router and the HTTP/1 serializer read HTTP/2 heads unchanged,
// and checks RFC 9113 §8.2/§8.3 in the same pass.
//
// Strings: names and values are copied (or Huffman-decoded) into the caller's output buffer, because table
// entries may be evicted while the stream lives; fields from the static table point into its static data
// (immutable, the same address in every instance). A stream-level problem (malformed message, limits) is
// remembered and decoding goes on to the end of the block, so the dynamic table stays in sync; a
// decoding failure stops at once (the connection is then unusable).
import {
  HEAD_STATUS, HEAD_LENGTH, HEAD_METHOD_ID, HEAD_STATUS_CODE, HEAD_METHOD_PTR, HEAD_METHOD_LEN, HEAD_TARGET_PTR,
  HEAD_TARGET_LEN, HEAD_PATH_PTR, HEAD_PATH_LEN, HEAD_QUERY_PTR, HEAD_QUERY_LEN, HEAD_HOST_PTR, HEAD_HOST_LEN,
  HEAD_VERSION_MINOR, HEAD_FLAGS, HEAD_CONTENT_LENGTH, HEAD_HEADER_COUNT, HEAD_HEADERS, HEAD_SCHEME_PTR,
  HEAD_SCHEME_LEN, HDR_NAME_PTR, HDR_NAME_LEN, HDR_ID, HDR_VALUE_PTR, HDR_VALUE_LEN, HEADER_ENTRY_SIZE,
  FLAG_KEEP_ALIVE, FLAG_CONTENT_LENGTH, FLAG_EXPECT_CONTINUE, METHOD_OTHER, METHOD_GET, METHOD_HEAD, METHOD_POST,
  METHOD_PUT, METHOD_DELETE, METHOD_CONNECT, METHOD_OPTIONS, METHOD_TRACE, METHOD_PATCH, H_HOST, H_CONTENT_LENGTH,
  H_TRANSFER_ENCODING, H_CONNECTION, H_KEEP_ALIVE, H_PROXY_CONNECTION, H_UPGRADE, H_TE, H_EXPECT,
  HPACK_MODE_REQUEST, HPACK_MODE_RESPONSE, HPACK_MODE_TRAILERS, HPACK_MODE_RAW, HPACK_OK, HPACK_E_TRUNCATED,
  HPACK_E_INTEGER_OVERFLOW, HPACK_E_INDEX, HPACK_E_HUFFMAN, HPACK_E_SIZE_UPDATE, HPACK_E_SIZE_UPDATE_POSITION,
  HPACK_E_SIZE_UPDATE_MISSING, HPACK_E_UPPERCASE_NAME, HPACK_E_INVALID_NAME, HPACK_E_INVALID_VALUE,
  HPACK_E_CONNECTION_HEADER, HPACK_E_TE, HPACK_E_PSEUDO_AFTER_REGULAR, HPACK_E_UNKNOWN_PSEUDO,
  HPACK_E_DUPLICATE_PSEUDO, HPACK_E_MISSING_PSEUDO, HPACK_E_PSEUDO_IN_TRAILERS, HPACK_E_INVALID_PSEUDO_VALUE,
  HPACK_E_INVALID_CONTENT_LENGTH, HPACK_E_INVALID_HOST, HPACK_E_HEADER_LIST_TOO_LARGE, HPACK_E_TOO_MANY_HEADERS,
} from "../../abi/layout";
import { charClass, C_TCHAR, C_UPPER, C_VALUE, C_HOST, C_DIGIT, eqLiteral, eqLowerLiteral, eqBytes } from "../../util/ascii";
import { headerId, parseContentLength } from "../http1/fields";
import { huffmanDecode, HUFF_INVALID, HUFF_NO_ROOM } from "./huffman";
import { STATIC_BYTES, STATIC_ENTRIES, STATIC_COUNT, REASON_BYTES, REASON_INDEX } from "./tables";
import {
  tableInsert, tableSetMaxSize, tableSlot, slotName, slotNameLen, slotValueLen, tableCount, tableFlags,
  tableSetFlags, tableLimit, tableStaging, tableCapacity, tableClear, tableMaxSize, tableSetLimit, TF_UPDATE_REQUIRED,
} from "./table";

// ---- per-call state (wasm globals: per instance, so threads never share them) ----
let bp: usize = 0;            // block cursor
let be: usize = 0;            // block end
let blockStart: usize = 0;
let outPos: usize = 0;
let outEnd: usize = 0;
let stagePos: usize = 0;      // staging cursor (table region), reset per field
let stageEnd: usize = 0;
let streamErr: i32 = 0;       // first stream-level error
let streamErrAt: i32 = 0;
let fieldAt: i32 = 0;         // block offset of the field being decoded
let listBytes: u32 = 0;
let maxList: u32 = 0;
let maxEntries: i32 = 0;
let count: i32 = 0;
let rec: usize = 0;
let mode: i32 = 0;
// the string readString produced
let strPtr: usize = 0;
let strLen: i32 = 0;
let strOk: bool = false;      // bytes are available at strPtr (else only the length is known)
// message state
let sawRegular: bool = false;
let pseudoSeen: i32 = 0;
let methodPtr: usize = 0;
let methodLen: i32 = 0;
let schemePtr: usize = 0;
let schemeLen: i32 = 0;
let authorityPtr: usize = 0;
let authorityLen: i32 = 0;
let pathPtr: usize = 0;
let pathLen: i32 = 0;
let statusCode: i32 = 0;
let hostCount: i32 = 0;
let hostPtr: usize = 0;
let hostLen: i32 = 0;
let cookieCount: i32 = 0;
let clValue: f64 = -1.0;
let flags: i32 = 0;

const P_METHOD: i32 = 1;
const P_SCHEME: i32 = 2;
const P_AUTHORITY: i32 = 4;
const P_PATH: i32 = 8;
const P_STATUS: i32 = 16;

function streamError(code: i32): void {
  if (streamErr == 0) { streamErr = code; streamErrAt = fieldAt; }
}

/** RFC 7541 §5.1 integer with an N-bit prefix; returns the value or -(error code). */
function readInt(prefix: u32): i64 {
  if (bp >= be) return -HPACK_E_TRUNCATED;
  const mask: u32 = (<u32>1 << prefix) - 1;
  let v: u64 = <u64>(<u32>load<u8>(bp++) & mask);
  if (v < <u64>mask) return <i64>v;
  let shift: u64 = 0;
  while (true) {
    if (bp >= be) return -HPACK_E_TRUNCATED;
    const b = <u64>load<u8>(bp++);
    v += (b & 0x7f) << shift;
    if (v > 0x7fffffff) return -HPACK_E_INTEGER_OVERFLOW;
    if ((b & 0x80) == 0) return <i64>v;
    shift += 7;
    // 2^31 - 1 needs at most 5 continuation bytes; longer runs (zero padding) are refused too.
    if (shift > 28) return -HPACK_E_INTEGER_OVERFLOW;
  }
}

/**
 * RFC 7541 §5.2 string literal into the output buffer. When the output is full: into the staging area if
 * `stage` (the field is to be indexed), else validated only (strOk false). Returns 0 or an error code.
 */
function readString(stage: bool): i32 {
  if (bp >= be) return HPACK_E_TRUNCATED;
  const huffman = (load<u8>(bp) & 0x80) != 0;
  const n = readInt(7);
  if (n < 0) return <i32>-n;
  const len = <i32>n;
  if (<u64>bp + <u64>len > <u64>be) return HPACK_E_TRUNCATED;
  const src = bp;
  bp += <usize>len;
  strOk = true;
  if (!huffman) {
    strLen = len;
    if (outPos + <usize>len <= outEnd) {
      memory.copy(outPos, src, <usize>len);
      strPtr = outPos;
      outPos += <usize>len;
    } else {
      // The block's own bytes serve for indexing (the caller keeps the block until the call returns).
      streamError(HPACK_E_HEADER_LIST_TOO_LARGE);
      strPtr = src;
      strOk = stage;
    }
    return 0;
  }
  let d = huffmanDecode(src, len, outPos, outEnd);
  if (d >= 0) {
    strPtr = outPos;
    strLen = d;
    outPos += <usize>d;
    return 0;
  }
  if (d == HUFF_INVALID) return HPACK_E_HUFFMAN;
  streamError(HPACK_E_HEADER_LIST_TOO_LARGE);
  if (stage) {
    d = huffmanDecode(src, len, stagePos, stageEnd);
    if (d >= 0) {
      strPtr = stagePos;
      strLen = d;
      stagePos += <usize>d;
      return 0;
    }
  }
  // Too long to index (or not to be indexed): validate, keep only the length.
  d = huffmanDecode(src, len, 0, 0);
  if (d < 0) return HPACK_E_HUFFMAN;
  strOk = false;
  strPtr = 0;
  strLen = d;
  return 0;
}

// ---- record writing and RFC 9113 checks ----

function addEntry(name: usize, nameLen: i32, id: i32, value: usize, valueLen: i32): void {
  if (count >= maxEntries) { streamError(HPACK_E_TOO_MANY_HEADERS); return; }
  const e = rec + <usize>HEAD_HEADERS + <usize>count * <usize>HEADER_ENTRY_SIZE;
  store<u32>(e + <usize>HDR_NAME_PTR, <u32>name);
  store<u16>(e + <usize>HDR_NAME_LEN, <u16>nameLen);
  store<u16>(e + <usize>HDR_ID, <u16>id);
  store<u32>(e + <usize>HDR_VALUE_PTR, <u32>value);
  store<u32>(e + <usize>HDR_VALUE_LEN, <u32>valueLen);
  count++;
}

/** §8.2.1: field-value bytes (no CTL but HTAB, no DEL), no leading or trailing SP/HTAB. */
function validValue(v: usize, len: i32): bool {
  if (len == 0) return true;
  const first = <u32>load<u8>(v);
  const last = <u32>load<u8>(v + <usize>len - 1);
  if (first == 0x20 || first == 0x09 || last == 0x20 || last == 0x09) return false;
  for (let i = 0; i < len; i++) {
    if ((charClass(<u32>load<u8>(v + <usize>i)) & C_VALUE) == 0) return false;
  }
  return true;
}

/** 0, HPACK_E_UPPERCASE_NAME or HPACK_E_INVALID_NAME for a regular field name. */
function checkName(name: usize, len: i32): i32 {
  if (len == 0) return HPACK_E_INVALID_NAME;
  let upper = false;
  for (let i = 0; i < len; i++) {
    const k = charClass(<u32>load<u8>(name + <usize>i));
    if ((k & C_TCHAR) == 0) return HPACK_E_INVALID_NAME;
    if ((k & C_UPPER) != 0) upper = true;
  }
  return upper ? HPACK_E_UPPERCASE_NAME : 0;
}

function pseudoField(name: usize, nameLen: i32, value: usize, valueLen: i32): void {
  if (mode == HPACK_MODE_TRAILERS) { streamError(HPACK_E_PSEUDO_IN_TRAILERS); return; }
  if (sawRegular) { streamError(HPACK_E_PSEUDO_AFTER_REGULAR); return; }
  if (!validValue(value, valueLen)) { streamError(HPACK_E_INVALID_VALUE); return; }
  let bit = 0;
  if (mode == HPACK_MODE_REQUEST) {
    if (eqLiteral(name, nameLen, ":method")) bit = P_METHOD;
    else if (eqLiteral(name, nameLen, ":scheme")) bit = P_SCHEME;
    else if (eqLiteral(name, nameLen, ":authority")) bit = P_AUTHORITY;
    else if (eqLiteral(name, nameLen, ":path")) bit = P_PATH;
  } else if (eqLiteral(name, nameLen, ":status")) {
    bit = P_STATUS;
  }
  if (bit == 0) { streamError(HPACK_E_UNKNOWN_PSEUDO); return; }
  if ((pseudoSeen & bit) != 0) { streamError(HPACK_E_DUPLICATE_PSEUDO); return; }
  pseudoSeen |= bit;
  if (bit == P_METHOD) { methodPtr = value; methodLen = valueLen; }
  else if (bit == P_SCHEME) { schemePtr = value; schemeLen = valueLen; }
  else if (bit == P_AUTHORITY) { authorityPtr = value; authorityLen = valueLen; }
  else if (bit == P_PATH) { pathPtr = value; pathLen = valueLen; }
  else {
    // 3 digits; 101 has no place in HTTP/2 (RFC 9113 §8.6)
    let code = 0;
    if (valueLen == 3) {
      for (let i = 0; i < 3; i++) {
        const c = <u32>load<u8>(value + <usize>i);
        if ((charClass(c) & C_DIGIT) == 0) { code = -1; break; }
        code = code * 10 + <i32>(c - 48);
      }
    } else {
      code = -1;
    }
    if (code < 100 || code == 101) { streamError(HPACK_E_INVALID_PSEUDO_VALUE); return; }
    statusCode = code;
  }
}

function regularField(name: usize, nameLen: i32, value: usize, valueLen: i32): void {
  sawRegular = true;
  const bad = checkName(name, nameLen);
  if (bad != 0) { streamError(bad); return; }
  if (!validValue(value, valueLen)) { streamError(HPACK_E_INVALID_VALUE); return; }
  const id = headerId(name, nameLen);
  if (id != 0) {
    if (id == H_CONNECTION || id == H_KEEP_ALIVE || id == H_PROXY_CONNECTION || id == H_TRANSFER_ENCODING || id == H_UPGRADE) {
      streamError(HPACK_E_CONNECTION_HEADER);
      return;
    }
    if (id == H_TE) {
      if (!eqLowerLiteral(value, valueLen, "trailers")) { streamError(HPACK_E_TE); return; }
    } else if (id == H_CONTENT_LENGTH && mode != HPACK_MODE_TRAILERS) {
      const n = parseContentLength(value, valueLen);
      if (n < 0.0 || (clValue >= 0.0 && n != clValue)) { streamError(HPACK_E_INVALID_CONTENT_LENGTH); return; }
      clValue = n;
    } else if (id == H_HOST && mode == HPACK_MODE_REQUEST) {
      hostCount++;
      if (hostCount > 1) { streamError(HPACK_E_INVALID_HOST); return; }
      hostPtr = value;
      hostLen = valueLen;
    } else if (id == H_EXPECT && mode == HPACK_MODE_REQUEST) {
      if (eqLowerLiteral(value, valueLen, "100-continue")) flags |= FLAG_EXPECT_CONTINUE;
    }
  } else if (mode == HPACK_MODE_REQUEST && nameLen == 6 && eqLiteral(name, nameLen, "cookie")) {
    cookieCount++;
  }
  addEntry(name, nameLen, id, value, valueLen);
}

/** One decoded field: limits, then the record (strings may be unavailable when the output is full). */
function acceptField(name: usize, nameLen: i32, value: usize, valueLen: i32, available: bool): void {
  listBytes += <u32>nameLen + <u32>valueLen;
  if (listBytes > maxList) streamError(HPACK_E_HEADER_LIST_TOO_LARGE);
  if (!available || streamErr != 0) {
    // Nothing more is recorded once the message is known to be refused; only the table matters now.
    return;
  }
  if (mode == HPACK_MODE_RAW) { addEntry(name, nameLen, 0, value, valueLen); return; }
  if (nameLen > 0 && load<u8>(name) == 0x3a) pseudoField(name, nameLen, value, valueLen);
  else regularField(name, nameLen, value, valueLen);
}

// Static entry fields.
// @ts-ignore: decorator
@inline function staticName(i: i32): usize { return STATIC_BYTES + <usize>load<u16>(STATIC_ENTRIES + (<usize>i << 3)); }
// @ts-ignore: decorator
@inline function staticNameLen(i: i32): i32 { return <i32>load<u16>(STATIC_ENTRIES + (<usize>i << 3) + 2); }
// @ts-ignore: decorator
@inline function staticValue(i: i32): usize { return STATIC_BYTES + <usize>load<u16>(STATIC_ENTRIES + (<usize>i << 3) + 4); }
// @ts-ignore: decorator
@inline function staticValueLen(i: i32): i32 { return <i32>load<u16>(STATIC_ENTRIES + (<usize>i << 3) + 6); }

/** Copies [src, src+len) into the output (or the staging area when `stage`); sets strPtr/strLen/strOk. */
function copyOut(src: usize, len: i32, stage: bool): void {
  strLen = len;
  strOk = true;
  if (outPos + <usize>len <= outEnd) {
    memory.copy(outPos, src, <usize>len);
    strPtr = outPos;
    outPos += <usize>len;
    return;
  }
  streamError(HPACK_E_HEADER_LIST_TOO_LARGE);
  if (stage && stagePos + <usize>len <= stageEnd) {
    memory.copy(stagePos, src, <usize>len);
    strPtr = stagePos;
    stagePos += <usize>len;
    return;
  }
  strOk = false;
  strPtr = 0;
}

/** Indexed field (§6.1). Returns 0 or an error code. */
function indexedField(t: usize): i32 {
  const n = readInt(7);
  if (n < 0) return <i32>-n;
  const i = <i32>n;
  if (i == 0) return HPACK_E_INDEX;
  if (i <= STATIC_COUNT) {
    acceptField(staticName(i), staticNameLen(i), staticValue(i), staticValueLen(i), true);
    return 0;
  }
  const d = i - STATIC_COUNT;
  if (d > tableCount(t)) return HPACK_E_INDEX;
  const s = tableSlot(t, d);
  const p = slotName(t, s);
  const nl = slotNameLen(s);
  const vl = slotValueLen(s);
  copyOut(p, nl + vl, false);
  if (strOk) acceptField(strPtr, nl, strPtr + <usize>nl, vl, true);
  else acceptField(0, nl, 0, vl, false);
  return 0;
}

/** Literal field (§6.2) with a `prefix`-bit name index; `index` adds it to the table. Returns 0 or a code. */
function literalField(t: usize, prefix: u32, index: bool): i32 {
  const n = readInt(prefix);
  if (n < 0) return <i32>-n;
  const i = <i32>n;
  let name: usize = 0;
  let nameLen = 0;
  let nameOk = true;
  if (i == 0) {
    const e = readString(index);
    if (e != 0) return e;
    name = strPtr; nameLen = strLen; nameOk = strOk;
  } else if (i <= STATIC_COUNT) {
    name = staticName(i); nameLen = staticNameLen(i);
  } else {
    const d = i - STATIC_COUNT;
    if (d > tableCount(t)) return HPACK_E_INDEX;
    const s = tableSlot(t, d);
    copyOut(slotName(t, s), slotNameLen(s), index);
    name = strPtr; nameLen = strLen; nameOk = strOk;
  }
  const e = readString(index);
  if (e != 0) return e;
  const value = strPtr;
  const valueLen = strLen;
  const valueOk = strOk;
  if (index) {
    // Bytes are unavailable only for an entry larger than the table (see readString): it empties the table.
    if (nameOk && valueOk) tableInsert(t, name, nameLen, value, valueLen);
    else tableClear(t);
  }
  // Strings that went to the staging area or stayed in the block come with a HEADER_LIST_TOO_LARGE error
  // already set, so acceptField only counts them.
  acceptField(name, nameLen, value, valueLen, nameOk && valueOk);
  return 0;
}

function methodId(p: usize, len: i32): i32 {
  switch (len) {
    case 3: return eqLiteral(p, len, "GET") ? METHOD_GET : eqLiteral(p, len, "PUT") ? METHOD_PUT : METHOD_OTHER;
    case 4: return eqLiteral(p, len, "POST") ? METHOD_POST : eqLiteral(p, len, "HEAD") ? METHOD_HEAD : METHOD_OTHER;
    case 5: return eqLiteral(p, len, "PATCH") ? METHOD_PATCH : eqLiteral(p, len, "TRACE") ? METHOD_TRACE : METHOD_OTHER;
    case 6: return eqLiteral(p, len, "DELETE") ? METHOD_DELETE : METHOD_OTHER;
    case 7: return eqLiteral(p, len, "OPTIONS") ? METHOD_OPTIONS : eqLiteral(p, len, "CONNECT") ? METHOD_CONNECT : METHOD_OTHER;
  }
  return METHOD_OTHER;
}

/** RFC 9113 §8.2.3: cookie crumbs are joined with "; " into the first cookie field (for HTTP/1 peers). */
function joinCookies(): void {
  let total = 0;
  let first = -1;
  for (let i = 0; i < count; i++) {
    const e = rec + <usize>HEAD_HEADERS + <usize>i * <usize>HEADER_ENTRY_SIZE;
    if (<i32>load<u16>(e + <usize>HDR_NAME_LEN) != 6 || !eqLiteral(<usize>load<u32>(e + <usize>HDR_NAME_PTR), 6, "cookie")) continue;
    if (first < 0) first = i; else total += 2;
    total += load<i32>(e + <usize>HDR_VALUE_LEN);
  }
  if (outPos + <usize>total > outEnd) { streamError(HPACK_E_HEADER_LIST_TOO_LARGE); return; }
  const joined = outPos;
  let w = 0;
  for (let i = 0; i < count; i++) {
    const e = rec + <usize>HEAD_HEADERS + <usize>i * <usize>HEADER_ENTRY_SIZE;
    if (<i32>load<u16>(e + <usize>HDR_NAME_LEN) == 6 && eqLiteral(<usize>load<u32>(e + <usize>HDR_NAME_PTR), 6, "cookie")) {
      if (outPos > joined) { store<u16>(outPos, 0x203b); outPos += 2; } // "; "
      const len = load<i32>(e + <usize>HDR_VALUE_LEN);
      memory.copy(outPos, <usize>load<u32>(e + <usize>HDR_VALUE_PTR), <usize>len);
      outPos += <usize>len;
      if (i != first) continue;
      store<u32>(e + <usize>HDR_VALUE_PTR, <u32>joined);
      store<u32>(e + <usize>HDR_VALUE_LEN, <u32>total);
    }
    if (w != i) memory.copy(rec + <usize>HEAD_HEADERS + <usize>w * <usize>HEADER_ENTRY_SIZE, e, <usize>HEADER_ENTRY_SIZE);
    w++;
  }
  count = w;
}

function finishRequest(): void {
  const isConnect = (pseudoSeen & P_METHOD) != 0 && eqLiteral(methodPtr, methodLen, "CONNECT");
  if ((pseudoSeen & P_METHOD) == 0) { streamError(HPACK_E_MISSING_PSEUDO); return; }
  if (isConnect) {
    // §8.5: CONNECT names the authority only
    if ((pseudoSeen & P_AUTHORITY) == 0 || (pseudoSeen & (P_SCHEME | P_PATH)) != 0) { streamError(HPACK_E_MISSING_PSEUDO); return; }
  } else if ((pseudoSeen & (P_SCHEME | P_PATH)) != (P_SCHEME | P_PATH)) {
    streamError(HPACK_E_MISSING_PSEUDO);
    return;
  }
  if (methodLen == 0) { streamError(HPACK_E_INVALID_PSEUDO_VALUE); return; }
  for (let i = 0; i < methodLen; i++) {
    if ((charClass(<u32>load<u8>(methodPtr + <usize>i)) & C_TCHAR) == 0) { streamError(HPACK_E_INVALID_PSEUDO_VALUE); return; }
  }
  if (!isConnect) {
    // :path: "*" (OPTIONS) or starting with "/", visible ASCII only (the HTTP/1 request-target's bytes)
    if (pathLen == 0) { streamError(HPACK_E_INVALID_PSEUDO_VALUE); return; }
    const first = <u32>load<u8>(pathPtr);
    if (first != 0x2f && !(first == 0x2a && pathLen == 1)) { streamError(HPACK_E_INVALID_PSEUDO_VALUE); return; }
    for (let i = 0; i < pathLen; i++) {
      const c = <u32>load<u8>(pathPtr + <usize>i);
      if (c <= 0x20 || c >= 0x7f) { streamError(HPACK_E_INVALID_PSEUDO_VALUE); return; }
    }
    for (let i = 0; i < schemeLen; i++) {
      if ((charClass(<u32>load<u8>(schemePtr + <usize>i)) & C_TCHAR) == 0) { streamError(HPACK_E_INVALID_PSEUDO_VALUE); return; }
    }
    if (schemeLen == 0) { streamError(HPACK_E_INVALID_PSEUDO_VALUE); return; }
  }
  let authority = authorityPtr;
  let authorityN = authorityLen;
  if ((pseudoSeen & P_AUTHORITY) != 0) {
    // §8.3.1: a Host that names another authority makes the request malformed
    if (hostCount > 0 && (hostLen != authorityLen || !eqBytes(hostPtr, authorityPtr, hostLen))) { streamError(HPACK_E_INVALID_HOST); return; }
  } else if (hostCount > 0) {
    authority = hostPtr;
    authorityN = hostLen;
  }
  for (let i = 0; i < authorityN; i++) {
    if ((charClass(<u32>load<u8>(authority + <usize>i)) & C_HOST) == 0) {
      streamError((pseudoSeen & P_AUTHORITY) != 0 ? HPACK_E_INVALID_PSEUDO_VALUE : HPACK_E_INVALID_HOST);
      return;
    }
  }
  if (cookieCount > 1) joinCookies();
  if ((pseudoSeen & P_AUTHORITY) != 0 && hostCount == 0) {
    // HTTP/1 peers and readers of `host` see the authority (RFC 9113 §8.3.1); one entry beyond maxHeaders
    // is reserved for it.
    maxEntries++;
    addEntry(staticName(38), 4, H_HOST, authorityPtr, authorityLen);
  }
  store<i32>(rec + <usize>HEAD_METHOD_ID, methodId(methodPtr, methodLen));
  store<u32>(rec + <usize>HEAD_METHOD_PTR, <u32>methodPtr);
  store<i32>(rec + <usize>HEAD_METHOD_LEN, methodLen);
  if (isConnect) {
    store<u32>(rec + <usize>HEAD_TARGET_PTR, <u32>authorityPtr);
    store<i32>(rec + <usize>HEAD_TARGET_LEN, authorityLen);
    store<u32>(rec + <usize>HEAD_PATH_PTR, <u32>(authorityPtr + <usize>authorityLen));
    store<u32>(rec + <usize>HEAD_QUERY_PTR, <u32>(authorityPtr + <usize>authorityLen));
  } else {
    store<u32>(rec + <usize>HEAD_TARGET_PTR, <u32>pathPtr);
    store<i32>(rec + <usize>HEAD_TARGET_LEN, pathLen);
    let end = pathLen;
    let q = -1;
    for (let i = 0; i < pathLen; i++) {
      const c = <u32>load<u8>(pathPtr + <usize>i);
      if (c == 0x3f && q < 0) q = i;
      else if (c == 0x23) { end = i; break; }
    }
    store<u32>(rec + <usize>HEAD_PATH_PTR, <u32>pathPtr);
    store<i32>(rec + <usize>HEAD_PATH_LEN, end);
    if (q >= 0) {
      store<u32>(rec + <usize>HEAD_QUERY_PTR, <u32>(pathPtr + <usize>q + 1));
      store<i32>(rec + <usize>HEAD_QUERY_LEN, end - q - 1);
    } else {
      store<u32>(rec + <usize>HEAD_QUERY_PTR, <u32>(pathPtr + <usize>end));
    }
    store<u32>(rec + <usize>HEAD_SCHEME_PTR, <u32>schemePtr);
    store<i32>(rec + <usize>HEAD_SCHEME_LEN, schemeLen);
  }
  store<u32>(rec + <usize>HEAD_HOST_PTR, <u32>authority);
  store<i32>(rec + <usize>HEAD_HOST_LEN, authorityN);
}

function resetCall(t: usize, m: i32, block: usize, blockLen: i32, r: usize, maxHeaders: i32, out: usize, outCap: i32, maxListBytes: i32): void {
  bp = block;
  be = block + <usize>(blockLen > 0 ? blockLen : <i32>0);
  blockStart = block;
  outPos = out;
  outEnd = out + <usize>(outCap > 0 ? outCap : <i32>0);
  stageEnd = tableStaging(t) + <usize>tableCapacity(t);
  streamErr = 0;
  streamErrAt = 0;
  listBytes = 0;
  maxList = <u32>(maxListBytes > 0 ? maxListBytes : 0);
  maxEntries = maxHeaders > 0 ? maxHeaders : 0;
  count = 0;
  rec = r;
  mode = m;
  sawRegular = false;
  pseudoSeen = 0;
  methodPtr = 0; methodLen = 0;
  schemePtr = 0; schemeLen = 0;
  authorityPtr = 0; authorityLen = 0;
  pathPtr = 0; pathLen = 0;
  statusCode = 0;
  hostCount = 0; hostPtr = 0; hostLen = 0;
  cookieCount = 0;
  clValue = -1.0;
  flags = FLAG_KEEP_ALIVE;
  memory.fill(r, 0, <usize>HEAD_HEADERS);
  store<f64>(r + <usize>HEAD_CONTENT_LENGTH, -1.0);
  store<i32>(r + <usize>HEAD_VERSION_MINOR, 1);
}

function fail(code: i32, at: i32): i32 {
  store<i32>(rec + <usize>HEAD_STATUS, code);
  store<i32>(rec + <usize>HEAD_LENGTH, at);
  store<i32>(rec + <usize>HEAD_HEADER_COUNT, count);
  return code;
}

/**
 * Decodes the header block [block, block+blockLen) with the dynamic table at `t` into the record at `r`
 * (room for maxHeaders + 1 entries), strings into [out, out+outCap). Returns HPACK_OK or an HPACK_E_* code,
 * also left in HEAD_STATUS; HEAD_LENGTH holds the output bytes used (HPACK_OK) or the block offset of the
 * field at fault.
 */
export function decodeBlock(t: usize, m: i32, block: usize, blockLen: i32, r: usize, maxHeaders: i32, out: usize, outCap: i32, maxListBytes: i32): i32 {
  resetCall(t, m, block, blockLen, r, maxHeaders, out, outCap, maxListBytes);
  let fields = 0;
  while (bp < be) {
    fieldAt = <i32>(bp - blockStart);
    stagePos = tableStaging(t);
    const b = <u32>load<u8>(bp);
    let e = 0;
    if ((b & 0xe0) == 0x20) {
      // §6.3 dynamic table size update: only before the first field, at most the SETTINGS limit
      if (fields > 0) return fail(HPACK_E_SIZE_UPDATE_POSITION, fieldAt);
      const n = readInt(5);
      if (n < 0) return fail(<i32>-n, fieldAt);
      if (<u64>n > <u64>tableLimit(t)) return fail(HPACK_E_SIZE_UPDATE, fieldAt);
      tableSetMaxSize(t, <u32>n);
      tableSetFlags(t, tableFlags(t) & ~TF_UPDATE_REQUIRED);
      continue;
    }
    if (fields == 0 && (tableFlags(t) & TF_UPDATE_REQUIRED) != 0) return fail(HPACK_E_SIZE_UPDATE_MISSING, fieldAt);
    fields++;
    if ((b & 0x80) != 0) e = indexedField(t);
    else if ((b & 0x40) != 0) e = literalField(t, 6, true);
    else e = literalField(t, 4, false); // without indexing (0000) or never indexed (0001)
    if (e != 0) return fail(e, fieldAt);
  }
  if ((tableFlags(t) & TF_UPDATE_REQUIRED) != 0) return fail(HPACK_E_SIZE_UPDATE_MISSING, <i32>(be - blockStart));
  fieldAt = <i32>(be - blockStart);
  if (streamErr == 0) {
    if (m == HPACK_MODE_REQUEST) finishRequest();
    else if (m == HPACK_MODE_RESPONSE) {
      if ((pseudoSeen & P_STATUS) == 0) streamError(HPACK_E_MISSING_PSEUDO);
      else {
        store<i32>(rec + <usize>HEAD_STATUS_CODE, statusCode);
        // HTTP/2 has no reason phrase; HTTP/1 peers get the standard one (where the slot holds it for HTTP/1)
        if (statusCode < 600) {
          const r = REASON_INDEX + (<usize>(statusCode - 100) << 2);
          store<u32>(rec + <usize>HEAD_METHOD_PTR, <u32>(REASON_BYTES + <usize>load<u16>(r)));
          store<i32>(rec + <usize>HEAD_METHOD_LEN, <i32>load<u16>(r + 2));
        }
      }
    }
  }
  if (streamErr != 0) return fail(streamErr, streamErrAt);
  if (clValue >= 0.0 && m != HPACK_MODE_TRAILERS && m != HPACK_MODE_RAW) {
    flags |= FLAG_CONTENT_LENGTH;
    store<f64>(rec + <usize>HEAD_CONTENT_LENGTH, clValue);
  }
  store<i32>(rec + <usize>HEAD_FLAGS, flags);
  store<i32>(rec + <usize>HEAD_HEADER_COUNT, count);
  store<i32>(rec + <usize>HEAD_LENGTH, <i32>(outPos - out));
  store<i32>(rec + <usize>HEAD_STATUS, HPACK_OK);
  return HPACK_OK;
}

/** Decoder side of SETTINGS_HEADER_TABLE_SIZE (once acknowledged): a lower limit requires a size update. */
export function decoderSetLimit(t: usize, limit: u32): void {
  if (limit < tableMaxSize(t)) tableSetFlags(t, tableFlags(t) | TF_UPDATE_REQUIRED);
  else tableSetFlags(t, tableFlags(t) & ~TF_UPDATE_REQUIRED);
  tableSetLimit(t, limit);
}

