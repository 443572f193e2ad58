// HPACK Huffman code (RFC 7541 §5.2, Appendix B): table-driven decoding four bits at a time, and encoding
// through a 64-bit bit accumulator. Tables: tables.ts (generated, immutable static data).
import { HUFF_CODES, HUFF_LENGTHS, HUFF_DECODE, HUFF_EMIT, HUFF_FAIL, HUFF_ACCEPT } from "./tables";

/** huffmanDecode: the input decodes EOS, or ends in padding longer than 7 bits or not all ones. */
export const HUFF_INVALID: i32 = -1;
/** huffmanDecode: the output does not fit in [dst, dstEnd). */
export const HUFF_NO_ROOM: i32 = -2;

/**
 * Decodes [src, src+len) into dst. With dst == 0 only validates (nothing is written). Returns the number of
 * decoded bytes, HUFF_INVALID or HUFF_NO_ROOM.
 */
export function huffmanDecode(src: usize, len: i32, dst: usize, dstEnd: usize): i32 {
  let state: u32 = 0;
  let flags: u32 = HUFF_ACCEPT;
  let out = dst;
  let n = 0;
  for (let i = 0; i < len; i++) {
    const b = <u32>load<u8>(src + <usize>i);
    let t = load<u32>(HUFF_DECODE + (<usize>((state << 4) | (b >> 4)) << 2));
    if ((t & HUFF_FAIL) != 0) return HUFF_INVALID;
    if ((t & HUFF_EMIT) != 0) {
      if (dst != 0) {
        if (out >= dstEnd) return HUFF_NO_ROOM;
        store<u8>(out++, <u8>(t >> 8));
      }
      n++;
    }
    state = t & 0xff;
    t = load<u32>(HUFF_DECODE + (<usize>((state << 4) | (b & 15)) << 2));
    if ((t & HUFF_FAIL) != 0) return HUFF_INVALID;
    if ((t & HUFF_EMIT) != 0) {
      if (dst != 0) {
        if (out >= dstEnd) return HUFF_NO_ROOM;
        store<u8>(out++, <u8>(t >> 8));
      }
      n++;
    }
    state = t & 0xff;
    flags = t;
  }
  return (flags & HUFF_ACCEPT) != 0 ? n : HUFF_INVALID;
}

/** Bytes the Huffman encoding of [src, src+len) takes. */
export function huffmanEncodedLength(src: usize, len: i32): i32 {
  let bits: u64 = 0;
  for (let i = 0; i < len; i++) bits += <u64>load<u8>(HUFF_LENGTHS + <usize>load<u8>(src + <usize>i));
  return <i32>((bits + 7) >> 3);
}

/** Huffman-encodes [src, src+len) at dst (room for huffmanEncodedLength bytes); returns the bytes written. */
export function huffmanEncode(src: usize, len: i32, dst: usize): i32 {
  let acc: u64 = 0;
  let bits: u32 = 0;
  let out = dst;
  for (let i = 0; i < len; i++) {
    const c = <usize>load<u8>(src + <usize>i);
    const n = <u32>load<u8>(HUFF_LENGTHS + c);
    acc = (acc << <u64>n) | <u64>load<u32>(HUFF_CODES + (c << 2));
    bits += n;
    while (bits >= 8) {
      bits -= 8;
      store<u8>(out++, <u8>(acc >> <u64>bits));
    }
  }
  if (bits > 0) {
    // Pad with the most significant bits of EOS (all ones).
    store<u8>(out++, <u8>((acc << <u64>(8 - bits)) | ((<u64>1 << <u64>(8 - bits)) - 1)));
  }
  return <i32>(out - dst);
}
