// HPACK header block encoder (RFC 7541). Sources: a head record (as the HTTP/1 parser or the HPACK decoder
// wrote it) plus a rewrite, or a local field list. Per field: an exact static match, then an exact dynamic
// match is sent as an index; otherwise a literal, with a name index when one exists, Huffman-coded when
// shorter. Indexing policy (nghttp2's, which Envoy uses): authorization, proxy-authorization and cookie values
// under 20 bytes are never indexed (RFC 7541 §7.1.3); :path, age, content-length, etag, if-modified-since,
// if-none-match, location and set-cookie (values that rarely repeat) and fields larger than 3/4 of the table
// are sent without indexing; everything else is indexed.
//
// Nothing is written, and the table is not touched, unless the whole block fits: an upper bound of the
// block's size is checked against the output capacity first.
import {
  HEAD_METHOD_PTR, HEAD_METHOD_LEN, HEAD_METHOD_ID, HEAD_PATH_PTR, HEAD_PATH_LEN, HEAD_HOST_PTR, HEAD_HOST_LEN,
  HEAD_SCHEME_PTR, HEAD_SCHEME_LEN, HEAD_STATUS_CODE, HEAD_HEADER_COUNT, HEAD_HEADERS, HDR_NAME_PTR, HDR_NAME_LEN,
  HDR_ID, HDR_VALUE_PTR, HDR_VALUE_LEN, HEADER_ENTRY_SIZE, METHOD_CONNECT, H_HOST, H_CONTENT_LENGTH,
  H_TRANSFER_ENCODING, H_CONNECTION, H_KEEP_ALIVE, H_PROXY_CONNECTION, H_UPGRADE, H_TE, H_TRAILER,
  BODY_KIND_LENGTH, HPACK_ENC_E_OUTPUT, HPACK_ENC_E_INPUT, HPACK_FIELD_NAME_LEN, HPACK_FIELD_FLAGS,
  HPACK_FIELD_VALUE_LEN, HPACK_FIELD_BYTES, HPACK_FIELD_NEVER_INDEX, HPACK_FIELD_NO_INDEX,
  HPACK_ENC_REQUEST, HPACK_ENC_RESPONSE, HPACK_ENC_TRAILERS,
} from "../../abi/layout";
import { eqLiteral, eqLowerLiteral, eqBytes, writeDecimal } from "../../util/ascii";
import { inRemoveList, listedInConnection } from "../../util/hop_by_hop";
import { huffmanEncode, huffmanEncodedLength } from "./huffman";
import { STATIC_BYTES, STATIC_ENTRIES, STATIC_COUNT, STATIC_NAME_SLOTS, STATIC_NAME_MASK } from "./tables";
import {
  tableInsert, tableFind, tableSetMaxSize, tableMaxSize, tableLimit, tableSetLimit, tableFlags, tableSetFlags,
  tablePendingMin, tableSetPendingMin, tableCapacity, tableStaging, hashBytes, TF_UPDATE_PENDING, ENTRY_OVERHEAD,
} from "./table";

const ENC_REQUEST = HPACK_ENC_REQUEST;
const ENC_RESPONSE = HPACK_ENC_RESPONSE;
const ENC_TRAILERS = HPACK_ENC_TRAILERS;

/** Bytes of a field's representation beyond its name and value: first byte, index/length integers. */
const FIELD_OVERHEAD: i32 = 16;
const SIZE_UPDATES_BOUND: i32 = 12;

let outPos: usize = 0;

// ---- primitive representations ----

/** RFC 7541 §5.1: `value` with an N-bit prefix under `first`'s high bits. */
function emitInt(value: u32, prefix: u32, first: u32): void {
  const max: u32 = (<u32>1 << prefix) - 1;
  if (value < max) { store<u8>(outPos++, <u8>(first | value)); return; }
  store<u8>(outPos++, <u8>(first | max));
  let v = value - max;
  while (v >= 128) { store<u8>(outPos++, <u8>((v & 0x7f) | 0x80)); v >>= 7; }
  store<u8>(outPos++, <u8>v);
}

/** RFC 7541 §5.2: Huffman-coded when that is shorter. */
function emitString(p: usize, len: i32): void {
  const h = huffmanEncodedLength(p, len);
  if (h < len) {
    emitInt(<u32>h, 7, 0x80);
    outPos += <usize>huffmanEncode(p, len, outPos);
  } else {
    emitInt(<u32>len, 7, 0);
    memory.copy(outPos, p, <usize>len);
    outPos += <usize>len;
  }
}

// ---- static table lookup ----

/** Static index equal to (name, value) as a positive number, else the first index with that name negated, else 0. */
function staticFind(name: usize, nameLen: i32, nameHash: u32, value: usize, valueLen: i32): i32 {
  let slot = nameHash & STATIC_NAME_MASK;
  for (let probes: u32 = 0; probes <= STATIC_NAME_MASK; probes++) {
    const i = <i32>load<u8>(STATIC_NAME_SLOTS + <usize>slot);
    if (i == 0) return 0;
    const e = STATIC_ENTRIES + (<usize>i << 3);
    if (<i32>load<u16>(e + 2) == nameLen && eqBytes(STATIC_BYTES + <usize>load<u16>(e), name, nameLen)) {
      // entries with one name are consecutive in the static table
      for (let j = i; j <= STATIC_COUNT; j++) {
        const f = STATIC_ENTRIES + (<usize>j << 3);
        if (j > i && !(<i32>load<u16>(f + 2) == nameLen && eqBytes(STATIC_BYTES + <usize>load<u16>(f), name, nameLen))) break;
        if (<i32>load<u16>(f + 6) == valueLen && eqBytes(STATIC_BYTES + <usize>load<u16>(f + 4), value, valueLen)) return j;
      }
      return -i;
    }
    slot = (slot + 1) & STATIC_NAME_MASK;
  }
  return 0;
}

// ---- policy ----

/** RFC 7541 §7.1.3: values an attacker could probe for through the compression ratio. */
function neverIndex(name: usize, nameLen: i32, valueLen: i32): bool {
  if (nameLen == 13) return eqLiteral(name, nameLen, "authorization");
  if (nameLen == 19) return eqLiteral(name, nameLen, "proxy-authorization");
  if (nameLen == 6) return valueLen < 20 && eqLiteral(name, nameLen, "cookie");
  return false;
}

/** Fields whose values rarely repeat: indexing them would only evict useful entries. */
function skipIndex(name: usize, nameLen: i32): bool {
  switch (nameLen) {
    case 3: return eqLiteral(name, nameLen, "age");
    case 4: return eqLiteral(name, nameLen, "etag");
    case 5: return eqLiteral(name, nameLen, ":path");
    case 8: return eqLiteral(name, nameLen, "location");
    case 10: return eqLiteral(name, nameLen, "set-cookie");
    case 13: return eqLiteral(name, nameLen, "if-none-match");
    case 14: return eqLiteral(name, nameLen, "content-length");
    case 17: return eqLiteral(name, nameLen, "if-modified-since");
  }
  return false;
}

/** One field (names already lowercase). `flags`: HPACK_FIELD_NEVER_INDEX / HPACK_FIELD_NO_INDEX. */
function emitField(t: usize, name: usize, nameLen: i32, value: usize, valueLen: i32, flags: i32): void {
  const nameHash = hashBytes(name, nameLen);
  const s = staticFind(name, nameLen, nameHash, value, valueLen);
  if (s > 0) { emitInt(<u32>s, 7, 0x80); return; }
  const sensitive = (flags & HPACK_FIELD_NEVER_INDEX) != 0 || neverIndex(name, nameLen, valueLen);
  let nameIndex = s < 0 ? -s : 0;
  if (!sensitive) {
    const d = tableFind(t, name, nameLen, nameHash, value, valueLen);
    if (d > 0) { emitInt(<u32>(d + STATIC_COUNT), 7, 0x80); return; }
    if (nameIndex == 0 && d < 0) nameIndex = -d + STATIC_COUNT;
  }
  const size = <u32>nameLen + <u32>valueLen + ENTRY_OVERHEAD;
  let first: u32 = 0x00;
  let prefix: u32 = 4;
  let index = false;
  if (sensitive) {
    first = 0x10;
  } else if ((flags & HPACK_FIELD_NO_INDEX) == 0 && !skipIndex(name, nameLen) && size <= (tableMaxSize(t) >> 2) * 3) {
    first = 0x40;
    prefix = 6;
    index = true;
  }
  emitInt(<u32>nameIndex, prefix, first);
  if (nameIndex == 0) emitString(name, nameLen);
  emitString(value, valueLen);
  if (index) tableInsert(t, name, nameLen, value, valueLen);
}

/**
 * RFC 7541 §4.2: the size updates owed since the last block. When the peer's limit dipped below the table's
 * size in between, the smallest value goes first (it forces the evictions the peer expects), then the size.
 */
function emitSizeUpdates(t: usize): void {
  if ((tableFlags(t) & TF_UPDATE_PENDING) == 0) return;
  const limit = tableLimit(t);
  const min = tablePendingMin(t);
  if (min < tableMaxSize(t) && min < limit) {
    emitInt(min, 5, 0x20);
    tableSetMaxSize(t, min);
  }
  if (limit != tableMaxSize(t) || min < limit) {
    emitInt(limit, 5, 0x20);
    tableSetMaxSize(t, limit);
  }
  tableSetFlags(t, tableFlags(t) & ~TF_UPDATE_PENDING);
}

/** The peer's SETTINGS_HEADER_TABLE_SIZE: the table's size becomes min(peer, capacity), announced in the next block. */
export function encoderSetPeerLimit(t: usize, peer: u32): void {
  const cap = tableCapacity(t);
  const size = peer < cap ? peer : cap;
  const pending = (tableFlags(t) & TF_UPDATE_PENDING) != 0;
  if (!pending || size < tablePendingMin(t)) tableSetPendingMin(t, size);
  tableSetLimit(t, size);
  if (size != tableMaxSize(t) || tablePendingMin(t) < tableMaxSize(t)) tableSetFlags(t, tableFlags(t) | TF_UPDATE_PENDING);
}

// ---- field lists: [u16 name length][u16 flags][u32 value length][name][value] ... ----

/** Bound of the encoded size of a list, or -1 when the list is malformed. */
function listBound(list: usize, listLen: i32): i32 {
  let p: usize = list;
  const end = list + <usize>listLen;
  let bound = 0;
  while (p < end) {
    if (p + <usize>HPACK_FIELD_BYTES > end) return -1;
    const nl = <i32>load<u16>(p + <usize>HPACK_FIELD_NAME_LEN);
    const vl = load<i32>(p + <usize>HPACK_FIELD_VALUE_LEN);
    if (vl < 0 || <u64>p + <u64>HPACK_FIELD_BYTES + <u64>nl + <u64>vl > <u64>end) return -1;
    bound += nl + vl + FIELD_OVERHEAD;
    p += <usize>(HPACK_FIELD_BYTES + nl + vl);
  }
  return bound;
}

function emitList(t: usize, list: usize, listLen: i32): void {
  let p: usize = list;
  const end = list + <usize>listLen;
  while (p < end) {
    const nl = <i32>load<u16>(p + <usize>HPACK_FIELD_NAME_LEN);
    const flags = <i32>load<u16>(p + <usize>HPACK_FIELD_FLAGS);
    const vl = load<i32>(p + <usize>HPACK_FIELD_VALUE_LEN);
    const name = p + <usize>HPACK_FIELD_BYTES;
    emitField(t, name, nl, name + <usize>nl, vl, flags);
    p = name + <usize>(nl + vl);
  }
}

/** Encodes a local field list (pseudo-headers first, as the caller ordered them). Bytes written or HPACK_ENC_E_*. */
export function encodeList(t: usize, list: usize, listLen: i32, out: usize, outCap: i32): i32 {
  const bound = listBound(list, listLen);
  if (bound < 0) return HPACK_ENC_E_INPUT;
  if (bound + SIZE_UPDATES_BOUND > outCap) return HPACK_ENC_E_OUTPUT;
  outPos = out;
  emitSizeUpdates(t);
  emitList(t, list, listLen);
  return <i32>(outPos - out);
}

// ---- head records ----

/** The record's field is forwarded (hop-by-hop and framing fields are re-derived, never copied). */
function forwarded(kind: i32, rec: usize, count: i32, hasConnection: bool, entry: usize, removePtr: usize, removeLen: i32): bool {
  const id = <i32>load<u16>(entry + <usize>HDR_ID);
  if (id == H_CONNECTION || id == H_KEEP_ALIVE || id == H_PROXY_CONNECTION || id == H_TRANSFER_ENCODING ||
    id == H_UPGRADE || id == H_TRAILER || id == H_CONTENT_LENGTH) return false;
  if (id == H_HOST && kind == ENC_REQUEST) return false; // it is the :authority
  const name = <usize>load<u32>(entry + <usize>HDR_NAME_PTR);
  const nameLen = <i32>load<u16>(entry + <usize>HDR_NAME_LEN);
  // pseudo-headers never come from a record's entries (a RAW decode's would be misplaced)
  if (nameLen == 0 || load<u8>(name) == 0x3a) return false;
  if (id == H_TE) {
    // RFC 9113 §8.2.2: "te: trailers" is the one value HTTP/2 carries (gRPC needs it)
    const v = <usize>load<u32>(entry + <usize>HDR_VALUE_PTR);
    if (!eqLowerLiteral(v, load<i32>(entry + <usize>HDR_VALUE_LEN), "trailers")) return false;
  }
  if (removeLen > 0 && inRemoveList(name, nameLen, removePtr, removeLen)) return false;
  if (hasConnection && listedInConnection(rec, count, name, nameLen)) return false;
  return true;
}

/**
 * Encodes the head at `rec` with a rewrite. Requests: :method, then (not CONNECT) :scheme (`scheme` when
 * schemeLen > 0, else the record's, else "http"), :authority (the record's host), :path (`path` when
 * pathLen >= 0, else the record's path, "/" when empty). Responses: :status. Trailers: fields only. Then the
 * record's fields that survive, the add list, and content-length when bodyKind is BODY_KIND_LENGTH.
 * `tmp`: 32 bytes of scratch for digits. Returns bytes written or HPACK_ENC_E_*.
 */
export function encodeRecord(
  t: usize, kind: i32, rec: usize, schemePtr: usize, schemeLen: i32, pathPtr: usize, pathLen: i32,
  removePtr: usize, removeLen: i32, addPtr: usize, addLen: i32, bodyKind: i32, contentLength: f64,
  out: usize, outCap: i32,
): i32 {
  const addBound = listBound(addPtr, addLen);
  if (addBound < 0) return HPACK_ENC_E_INPUT;
  const count = load<i32>(rec + <usize>HEAD_HEADER_COUNT);
  let bound = addBound + SIZE_UPDATES_BOUND + 5 * FIELD_OVERHEAD + 64;
  bound += pathLen > 0 ? pathLen : load<i32>(rec + <usize>HEAD_PATH_LEN);
  bound += schemeLen + load<i32>(rec + <usize>HEAD_SCHEME_LEN) + load<i32>(rec + <usize>HEAD_METHOD_LEN) + load<i32>(rec + <usize>HEAD_HOST_LEN);
  let hasConnection = false;
  let entry = rec + <usize>HEAD_HEADERS;
  for (let i = 0; i < count; i++, entry += <usize>HEADER_ENTRY_SIZE) {
    bound += <i32>load<u16>(entry + <usize>HDR_NAME_LEN) + load<i32>(entry + <usize>HDR_VALUE_LEN) + FIELD_OVERHEAD;
    if (<i32>load<u16>(entry + <usize>HDR_ID) == H_CONNECTION) hasConnection = true;
  }
  if (bound > outCap) return HPACK_ENC_E_OUTPUT;
  outPos = out;
  emitSizeUpdates(t);
  // Digits (status, content-length) are formatted in the table's staging area, which the encoder does not use otherwise.
  const tmp = tableStaging(t);
  if (kind == ENC_REQUEST) {
    const method = <usize>load<u32>(rec + <usize>HEAD_METHOD_PTR);
    const methodLen = load<i32>(rec + <usize>HEAD_METHOD_LEN);
    emitField(t, staticName(2), 7, method, methodLen, 0);
    const connect = load<i32>(rec + <usize>HEAD_METHOD_ID) == METHOD_CONNECT;
    if (!connect) {
      if (schemeLen > 0) emitField(t, staticName(6), 7, schemePtr, schemeLen, 0);
      else if (load<i32>(rec + <usize>HEAD_SCHEME_LEN) > 0) {
        emitField(t, staticName(6), 7, <usize>load<u32>(rec + <usize>HEAD_SCHEME_PTR), load<i32>(rec + <usize>HEAD_SCHEME_LEN), 0);
      } else {
        emitInt(6, 7, 0x80); // :scheme http
      }
    }
    const hostLen = load<i32>(rec + <usize>HEAD_HOST_LEN);
    if (hostLen > 0 || connect) emitField(t, staticName(1), 10, <usize>load<u32>(rec + <usize>HEAD_HOST_PTR), hostLen, 0);
    if (!connect) {
      if (pathLen > 0) emitField(t, staticName(4), 5, pathPtr, pathLen, 0);
      else {
        const p = <usize>load<u32>(rec + <usize>HEAD_PATH_PTR);
        const len = load<i32>(rec + <usize>HEAD_PATH_LEN);
        if (len == 0) emitInt(4, 7, 0x80); // :path /
        else emitField(t, staticName(4), 5, p, len, 0);
      }
    }
  } else if (kind == ENC_RESPONSE) {
    const n = writeDecimal(tmp, <u64>load<i32>(rec + <usize>HEAD_STATUS_CODE));
    emitField(t, staticName(8), 7, tmp, n, 0);
  }
  entry = rec + <usize>HEAD_HEADERS;
  for (let i = 0; i < count; i++, entry += <usize>HEADER_ENTRY_SIZE) {
    if (!forwarded(kind, rec, count, hasConnection, entry, removePtr, removeLen)) continue;
    emitField(t, <usize>load<u32>(entry + <usize>HDR_NAME_PTR), <i32>load<u16>(entry + <usize>HDR_NAME_LEN),
      <usize>load<u32>(entry + <usize>HDR_VALUE_PTR), load<i32>(entry + <usize>HDR_VALUE_LEN), 0);
  }
  emitList(t, addPtr, addLen);
  if (kind != ENC_TRAILERS && bodyKind == BODY_KIND_LENGTH) {
    const n = writeDecimal(tmp, <u64>(contentLength > 0.0 ? contentLength : 0.0));
    emitField(t, staticName(28), 14, tmp, n, 0);
  }
  return <i32>(outPos - out);
}

// @ts-ignore: decorator
@inline function staticName(i: i32): usize { return STATIC_BYTES + <usize>load<u16>(STATIC_ENTRIES + (<usize>i << 3)); }
