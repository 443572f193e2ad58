// What both head encoders (HTTP/1.1 serializer, HPACK) drop from a parsed head record when they forward it:
// the names the rewrite removes and the names a Connection header lists (RFC 9110 §7.6.1: hop-by-hop).
// Pure functions over raw pointers; no allocation, no state.
import {
  HEAD_HEADERS, HDR_ID, HDR_VALUE_PTR, HDR_VALUE_LEN, HEADER_ENTRY_SIZE, H_CONNECTION,
} from "../abi/layout";
import { eqBytes, eqIgnoreCase, isWs } from "./ascii";

/** `name` is in the remove list [list, list+listLen): repeated [u16 length][lowercase name bytes]. */
export function inRemoveList(name: usize, nameLen: i32, list: usize, listLen: i32): bool {
  let p: usize = list;
  const end = list + <usize>listLen;
  while (p + 2 <= end) {
    const len = <i32>load<u16>(p);
    p += 2;
    if (len == nameLen && p + <usize>len <= end && eqBytes(name, p, len)) return true;
    p += <usize>len;
  }
  return false;
}

/** One bit per (token length, first letter): a filter that rules most names out without comparing bytes. */
// @ts-ignore: decorator
@inline export function connectionTokenBit(len: i32, first: u32): u32 {
  return <u32>1 << ((<u32>len * 7 + (first | 0x20)) & 31);
}

/**
 * Walks the tokens of every Connection header of the record. With `name` 0: returns the OR of their
 * connectionTokenBits. Otherwise: returns 1 when a token equals [name, name+nameLen) ignoring case, else 0.
 */
function walkConnectionTokens(rec: usize, count: i32, name: usize, nameLen: i32): u32 {
  let bits: u32 = 0;
  let entry = rec + <usize>HEAD_HEADERS;
  for (let i = 0; i < count; i++, entry += <usize>HEADER_ENTRY_SIZE) {
    if (<i32>load<u16>(entry + <usize>HDR_ID) != H_CONNECTION) continue;
    const v = <usize>load<u32>(entry + <usize>HDR_VALUE_PTR);
    const len = <i32>load<u32>(entry + <usize>HDR_VALUE_LEN);
    let j = 0;
    while (j < len) {
      while (j < len && (isWs(<u32>load<u8>(v + <usize>j)) || <u32>load<u8>(v + <usize>j) == 0x2c)) j++;
      const t = j;
      while (j < len && <u32>load<u8>(v + <usize>j) != 0x2c) j++;
      let e = j;
      while (e > t && isWs(<u32>load<u8>(v + <usize>e - 1))) e--;
      if (e == t) continue;
      if (name == 0) bits |= connectionTokenBit(e - t, <u32>load<u8>(v + <usize>t));
      else if (e - t == nameLen && eqIgnoreCase(v + <usize>t, name, nameLen)) return 1;
    }
  }
  return bits;
}

/** The filter of the names the record's Connection headers list (0: none); test a name with connectionTokenBit. */
export function connectionListFilter(rec: usize, count: i32): u32 {
  return walkConnectionTokens(rec, count, 0, 0);
}

/** A Connection header of the record lists the (non-empty) `name`, ignoring case. */
export function listedInConnection(rec: usize, count: i32, name: usize, nameLen: i32): bool {
  return walkConnectionTokens(rec, count, name, nameLen) != 0;
}
