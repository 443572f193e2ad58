// Big-endian reads and writes over raw pointers, and record helpers shared by every x-protocol codec.
import {
  XF_HEADERS, XF_HEADER_COUNT, XF_MAX_HEADERS, XF_RESPONSE_TYPE, XF_CLASS_DEF_COUNT, XF_FLAGS, XFF_HEADERS_TRUNCATED,
  HEADER_ENTRY_SIZE, HDR_NAME_PTR, HDR_NAME_LEN, HDR_ID, HDR_VALUE_PTR, HDR_VALUE_LEN,
} from "../abi/layout";

export function be16(p: usize): u32 {
  return (<u32>load<u8>(p) << 8) | <u32>load<u8>(p + 1);
}

export function be32(p: usize): u32 {
  return bswap<u32>(load<u32>(p));
}

export function put16(p: usize, v: u32): void {
  store<u8>(p, <u8>(v >>> 8));
  store<u8>(p + 1, <u8>v);
}

export function put32(p: usize, v: u32): void {
  store<u32>(p, bswap<u32>(v));
}

/** Clears the fixed part of a frame record (header entries and class definitions are overwritten as used). */
export function resetRecord(rec: usize): void {
  memory.fill(rec, 0, <usize>XF_HEADERS);
  store<i32>(rec + XF_CLASS_DEF_COUNT, 0);
  store<i32>(rec + XF_RESPONSE_TYPE, -1);
}

/**
 * Appends a header entry. A full record keeps its first XF_MAX_HEADERS entries and says so with
 * XFF_HEADERS_TRUNCATED: the frame is still forwarded whole, and its routing keys are still picked.
 */
export function addHeader(rec: usize, name: usize, nameLen: i32, value: usize, valueLen: i32): void {
  const n = load<i32>(rec + XF_HEADER_COUNT);
  if (n >= XF_MAX_HEADERS) {
    store<i32>(rec + XF_FLAGS, load<i32>(rec + XF_FLAGS) | XFF_HEADERS_TRUNCATED);
    return;
  }
  const e = rec + <usize>XF_HEADERS + <usize>(n * HEADER_ENTRY_SIZE);
  store<u32>(e + HDR_NAME_PTR, <u32>name);
  store<u16>(e + HDR_NAME_LEN, <u16>nameLen);
  store<u16>(e + HDR_ID, 0);
  store<u32>(e + HDR_VALUE_PTR, <u32>value);
  store<u32>(e + HDR_VALUE_LEN, <u32>valueLen);
  store<i32>(rec + XF_HEADER_COUNT, n + 1);
}

/** True when [p, p+len) equals the static ASCII literal at `lit` of `litLen` bytes. */
export function bytesEq(p: usize, len: i32, lit: usize, litLen: i32): bool {
  if (len != litLen) return false;
  return memory.compare(p, lit, <usize>len) == 0;
}

/** True when [p, p+len) holds exactly the ASCII text of the static string literal `lit` (no allocation). */
export function eqAscii(p: usize, len: i32, lit: string): bool {
  const n = lit.length;
  if (len != n) return false;
  const s = changetype<usize>(lit);
  for (let i = 0; i < n; i++) {
    if (<u32>load<u8>(p + <usize>i) != <u32>load<u16>(s + (<usize>i << 1))) return false;
  }
  return true;
}

/** Writes the ASCII text of the static string literal `lit` at p; returns its length. */
export function putAscii(p: usize, lit: string): i32 {
  const n = lit.length;
  const s = changetype<usize>(lit);
  for (let i = 0; i < n; i++) store<u8>(p + <usize>i, <u8>load<u16>(s + (<usize>i << 1)));
  return n;
}
