// HTTP/1.1 head serializer: builds the head Skiff forwards from a parsed head record plus a rewrite.
//
// Output: start line (always HTTP/1.1), the original header lines that survive (names already lowercase,
// values as trimmed by the parser), the lines JS added, then the framing header derived from the body kind
// and `connection: close` when asked. Hop-by-hop headers (RFC 9110 §7.6.1) and content-length are never
// copied: framing is re-derived, so no framing header of the peer can reach the other side.
//
// Rewrite inputs, written by JS into its scratch region:
//   remove list: repeated [u16 length][lowercase name bytes]
//   add block:   pre-formatted "name: value\r\n" lines, copied verbatim
import {
  HEAD_METHOD_PTR, HEAD_METHOD_LEN, HEAD_TARGET_PTR, HEAD_TARGET_LEN, HEAD_PATH_PTR, HEAD_PATH_LEN,
  HEAD_HOST_PTR, HEAD_HOST_LEN, HEAD_FLAGS, HEAD_STATUS_CODE, HEAD_HEADER_COUNT, HEAD_HEADERS, HEAD_METHOD_ID,
  HDR_NAME_PTR, HDR_NAME_LEN, HDR_ID, HDR_VALUE_PTR, HDR_VALUE_LEN, HEADER_ENTRY_SIZE, FLAG_ABSOLUTE_FORM,
  METHOD_CONNECT, H_HOST, H_CONTENT_LENGTH, H_TRANSFER_ENCODING, H_CONNECTION, H_KEEP_ALIVE,
  H_PROXY_CONNECTION, H_UPGRADE, H_TE, H_TRAILER, BODY_KIND_LENGTH, BODY_KIND_CHUNKED,
} from "../../abi/layout";
import { writeDecimal, decimalLength } from "../../util/ascii";
import { inRemoveList, connectionListFilter, connectionTokenBit, listedInConnection } from "../../util/hop_by_hop";

// Output cursor of the current call (per instance).
let outPos: usize = 0;
let outEnd: usize = 0;
let overflow: bool = false;

/**
 * Copies `len` bytes from `src` to `dst` (no overlap): 16 at a time, then the rest byte by byte. Header
 * fields are short, and an inline loop beats memory.copy's call for them.
 */
function copyBytes(dst: usize, src: usize, len: i32): void {
  let i = 0;
  for (; i + 16 <= len; i += 16) v128.store(dst + <usize>i, v128.load(src + <usize>i));
  for (; i < len; i++) store<u8>(dst + <usize>i, load<u8>(src + <usize>i));
}

function emit(ptr: usize, len: i32): void {
  if (overflow || outPos + <usize>len > outEnd) { overflow = true; return; }
  copyBytes(outPos, ptr, len);
  outPos += <usize>len;
}

/** Writes an ASCII string literal (static data, no allocation). */
function emitLiteral(lit: string): void {
  const len = lit.length;
  if (overflow || outPos + <usize>len > outEnd) { overflow = true; return; }
  const l = changetype<usize>(lit);
  for (let i = 0; i < len; i++) store<u8>(outPos + <usize>i, <u8>load<u16>(l + (<usize>i << 1)));
  outPos += <usize>len;
}

function emitDecimal(n: u64): void {
  const len = decimalLength(n);
  if (overflow || outPos + <usize>len > outEnd) { overflow = true; return; }
  outPos += <usize>writeDecimal(outPos, n);
}

// @ts-ignore: decorator
@inline function isHopByHop(id: i32): bool {
  return id == H_CONNECTION || id == H_KEEP_ALIVE || id == H_PROXY_CONNECTION || id == H_TE || id == H_TRAILER ||
    id == H_TRANSFER_ENCODING || id == H_UPGRADE || id == H_CONTENT_LENGTH;
}

/** Surviving original header lines, the added lines, framing, `connection: close`, and the final CRLF. */
function emitHeaderBlock(
  rec: usize, dropHost: bool, removePtr: usize, removeLen: i32, addPtr: usize, addLen: i32,
  bodyKind: i32, contentLength: f64, close: i32,
): void {
  const count = load<i32>(rec + <usize>HEAD_HEADER_COUNT);
  // A filter of the names Connection lists (by length and first byte), so that only a header that may be
  // listed is compared with the tokens.
  const listed = connectionListFilter(rec, count);
  let entry = rec + <usize>HEAD_HEADERS;
  for (let i = 0; i < count; i++, entry += <usize>HEADER_ENTRY_SIZE) {
    const id = <i32>load<u16>(entry + <usize>HDR_ID);
    if (isHopByHop(id) || (dropHost && id == H_HOST)) continue;
    const name = <usize>load<u32>(entry + <usize>HDR_NAME_PTR);
    const nameLen = <i32>load<u16>(entry + <usize>HDR_NAME_LEN);
    if (removeLen > 0 && inRemoveList(name, nameLen, removePtr, removeLen)) continue;
    if ((listed & connectionTokenBit(nameLen, <u32>load<u8>(name))) != 0 && listedInConnection(rec, count, name, nameLen)) continue;
    // name ": " value CRLF, with one bounds check for the line
    const value = <usize>load<u32>(entry + <usize>HDR_VALUE_PTR);
    const valueLen = <i32>load<u32>(entry + <usize>HDR_VALUE_LEN);
    const lineLen = nameLen + valueLen + 4;
    if (overflow || outPos + <usize>lineLen > outEnd) { overflow = true; return; }
    copyBytes(outPos, name, nameLen);
    store<u16>(outPos + <usize>nameLen, 0x203a); // ": "
    copyBytes(outPos + <usize>nameLen + 2, value, valueLen);
    store<u16>(outPos + <usize>(nameLen + 2 + valueLen), 0x0a0d); // CRLF
    outPos += <usize>lineLen;
  }
  if (addLen > 0) emit(addPtr, addLen);
  if (bodyKind == BODY_KIND_LENGTH) {
    emitLiteral("content-length: ");
    emitDecimal(<u64>(contentLength > 0.0 ? contentLength : 0.0));
    emitLiteral("\r\n");
  } else if (bodyKind == BODY_KIND_CHUNKED) {
    emitLiteral("transfer-encoding: chunked\r\n");
  }
  if (close != 0) emitLiteral("connection: close\r\n");
  emitLiteral("\r\n");
}

function begin(out: usize, outCap: i32): void {
  outPos = out;
  outEnd = out + <usize>(outCap > 0 ? outCap : <i32>0);
  overflow = false;
}

function finish(out: usize): i32 {
  return overflow ? -1 : <i32>(outPos - out);
}

/**
 * Request head: `method SP target SP HTTP/1.1`. The target is `path` when pathLen >= 0; else the received
 * target, except that an absolute-form target is sent in origin-form with `host: <authority>` first (the
 * authority wins over any received Host, RFC 9112 §3.2.2) unless `host` is in the remove list.
 * Returns bytes written or -1 when outCap is too small.
 */
export function encodeRequest(
  rec: usize, pathPtr: usize, pathLen: i32, removePtr: usize, removeLen: i32, addPtr: usize, addLen: i32,
  bodyKind: i32, contentLength: f64, close: i32, out: usize, outCap: i32,
): i32 {
  begin(out, outCap);
  emit(<usize>load<u32>(rec + <usize>HEAD_METHOD_PTR), load<i32>(rec + <usize>HEAD_METHOD_LEN));
  emitLiteral(" ");
  const absolute = (load<i32>(rec + <usize>HEAD_FLAGS) & FLAG_ABSOLUTE_FORM) != 0 &&
    load<i32>(rec + <usize>HEAD_METHOD_ID) != METHOD_CONNECT;
  if (pathLen >= 0) {
    emit(pathPtr, pathLen);
  } else if (absolute) {
    const p = <usize>load<u32>(rec + <usize>HEAD_PATH_PTR);
    const len = load<i32>(rec + <usize>HEAD_PATH_LEN);
    if (len == 0 || <u32>load<u8>(p) != 0x2f) emitLiteral("/");
    emit(p, len);
  } else {
    emit(<usize>load<u32>(rec + <usize>HEAD_TARGET_PTR), load<i32>(rec + <usize>HEAD_TARGET_LEN));
  }
  emitLiteral(" HTTP/1.1\r\n");
  let dropHost = false;
  if (absolute) {
    dropHost = true;
    // Is "host" in the remove list? (The list holds bytes; compared by hand, no literal needed.)
    let removed = false;
    let p: usize = removePtr;
    const end = removePtr + <usize>removeLen;
    while (p + 2 <= end) {
      const len = <i32>load<u16>(p);
      p += 2;
      if (len == 4 && load<u8>(p) == 0x68 && load<u8>(p + 1) == 0x6f && load<u8>(p + 2) == 0x73 && load<u8>(p + 3) == 0x74) removed = true;
      p += <usize>len;
    }
    if (!removed) {
      emitLiteral("host: ");
      emit(<usize>load<u32>(rec + <usize>HEAD_HOST_PTR), load<i32>(rec + <usize>HEAD_HOST_LEN));
      emitLiteral("\r\n");
    }
  }
  emitHeaderBlock(rec, dropHost, removePtr, removeLen, addPtr, addLen, bodyKind, contentLength, close);
  return finish(out);
}

/** Response head: `HTTP/1.1 SP status SP reason`. Returns bytes written or -1 when outCap is too small. */
export function encodeResponse(
  rec: usize, removePtr: usize, removeLen: i32, addPtr: usize, addLen: i32,
  bodyKind: i32, contentLength: f64, close: i32, out: usize, outCap: i32,
): i32 {
  begin(out, outCap);
  emitLiteral("HTTP/1.1 ");
  emitDecimal(<u64>load<i32>(rec + <usize>HEAD_STATUS_CODE));
  emitLiteral(" ");
  emit(<usize>load<u32>(rec + <usize>HEAD_METHOD_PTR), load<i32>(rec + <usize>HEAD_METHOD_LEN));
  emitLiteral("\r\n");
  emitHeaderBlock(rec, false, removePtr, removeLen, addPtr, addLen, bodyKind, contentLength, close);
  return finish(out);
}
