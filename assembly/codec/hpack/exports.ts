// HPACK entry points: numbers in, numbers out (see decode.ts, encode.ts, table.ts, huffman.ts).
import { decodeBlock, decoderSetLimit } from "./decode";
import { tableBytes, tableInit, tableSize, tableCount, tableMaxSize, tableCapacity } from "./table";
import { huffmanDecode, huffmanEncode, huffmanEncodedLength } from "./huffman";

/** Bytes a dynamic table region able to grow to `capacity` needs (the caller leases them, e.g. a slab). */
export function hpack_table_bytes(capacity: u32): u32 {
  return tableBytes(capacity);
}

/** Lays out an empty table at `t`: sizes up to `capacity`, maximum size and limit `initial` (≤ capacity). */
export function hpack_table_init(t: usize, capacity: u32, initial: u32): void {
  tableInit(t, capacity, initial < capacity ? initial : capacity);
}

/** Current size (RFC 7541 accounting), entry count, maximum size and capacity of a table. */
export function hpack_table_size(t: usize): u32 { return tableSize(t); }
export function hpack_table_count(t: usize): i32 { return tableCount(t); }
export function hpack_table_max_size(t: usize): u32 { return tableMaxSize(t); }
export function hpack_table_capacity(t: usize): u32 { return tableCapacity(t); }

/** Decoder: our SETTINGS_HEADER_TABLE_SIZE took effect (≤ capacity; the caller checks). */
export function hpack_decoder_set_limit(t: usize, limit: u32): void {
  decoderSetLimit(t, limit);
}

/**
 * Decodes one complete header block (HEADERS + CONTINUATION payloads joined) into the head record `rec`
 * (room for maxHeaders + 1 entries), strings into [out, out+outCap). `mode`: HPACK_MODE_*. Returns HPACK_OK
 * or an HPACK_E_* code (see assembly/abi/layout.ts for which are connection errors).
 */
export function hpack_decode(
  t: usize, mode: i32, block: usize, blockLen: i32, rec: usize, maxHeaders: i32, out: usize, outCap: i32, maxListBytes: i32,
): i32 {
  return decodeBlock(t, mode, block, blockLen, rec, maxHeaders, out, outCap, maxListBytes);
}

/** Huffman-decodes [src, src+len) into [dst, dst+dstCap): bytes written, -1 invalid, -2 no room. */
export function hpack_huffman_decode(src: usize, len: i32, dst: usize, dstCap: i32): i32 {
  return huffmanDecode(src, len, dst, dst + <usize>(dstCap > 0 ? dstCap : <i32>0));
}

/** Bytes the Huffman encoding of [src, src+len) takes. */
export function hpack_huffman_length(src: usize, len: i32): i32 {
  return huffmanEncodedLength(src, len);
}

/** Huffman-encodes [src, src+len) at dst (room for hpack_huffman_length bytes); returns bytes written. */
export function hpack_huffman_encode(src: usize, len: i32, dst: usize): i32 {
  return huffmanEncode(src, len, dst);
}
