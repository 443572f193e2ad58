// HPACK entry points: numbers in, numbers out (see decode.ts, encode.ts, table.ts, huffman.ts).
import { decodeBlock, decoderSetLimit } from "./decode";
import { tableBytes, tableInit, tableSize, tableCount, tableMaxSize, tableCapacity } from "./table";
import { huffmanDecode, huffmanEncode, huffmanEncodedLength } from "./huffman";
import { encodeList, encodeRecord, encoderSetPeerLimit } from "./encode";

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

/** Encoder: the peer's SETTINGS_HEADER_TABLE_SIZE; the size update goes out at the start of the next block. */
export function hpack_encoder_set_peer_limit(t: usize, peer: u32): void {
  encoderSetPeerLimit(t, peer);
}

/**
 * Encodes a local field list ([u16 name length][u16 HPACK_FIELD_* flags][u32 value length][name][value]...,
 * names lowercase, pseudo-headers first) into [out, out+outCap). Returns bytes written or HPACK_ENC_E_*
 * (then nothing was written and the table is unchanged).
 */
export function hpack_encode_list(t: usize, list: usize, listLen: i32, out: usize, outCap: i32): i32 {
  return encodeList(t, list, listLen, out, outCap);
}

/**
 * Encodes the head record `rec` with a rewrite (kind 0 request, 1 response, 2 trailers): scheme/path
 * overrides (len 0 / < 0: from the record), remove list ([u16 len][name]...), add list (field list format),
 * framing. Returns bytes written or HPACK_ENC_E_*.
 */
export function hpack_encode_record(
  t: usize, kind: i32, rec: usize, schemePtr: usize, schemeLen: i32, pathPtr: usize, pathLen: i32,
  removePtr: usize, removeLen: i32, addPtr: usize, addLen: i32, bodyKind: i32, contentLength: f64,
  out: usize, outCap: i32,
): i32 {
  return encodeRecord(t, kind, rec, schemePtr, schemeLen, pathPtr, pathLen, removePtr, removeLen, addPtr, addLen, bodyKind, contentLength, out, outCap);
}
