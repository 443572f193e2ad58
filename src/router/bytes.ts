/**
 * Byte-level helpers shared by the route compiler and its tests: config strings become UTF-8 bytes (the
 * request bytes the matcher compares them with are what the client sent), ASCII-only case folding and the
 * FNV-1a hash that assembly/router/bytes.ts computes over the same bytes.
 */
const encoder = new TextEncoder();

export const FNV_OFFSET = 0x811c9dc5;
export const FNV_PRIME = 0x01000193;

// Config strings are encoded into views of shared 64 KiB chunks rather than an ArrayBuffer each: a table of
// 10 000 routes holds tens of thousands of strings, and one backing store per string kept the garbage
// collector busy for most of the compile. The views are never written after they are handed out.
const CHUNK = 64 * 1024;
let chunk = new Uint8Array(CHUNK);
let chunkAt = 0;

function room(n: number): Uint8Array {
  if (chunkAt + n > chunk.length) { chunk = new Uint8Array(Math.max(CHUNK, n)); chunkAt = 0; }
  return chunk;
}

export function utf8(s: string): Uint8Array {
  const c = room(s.length * 3);
  const { written } = encoder.encodeInto(s, c.subarray(chunkAt));
  const out = c.subarray(chunkAt, chunkAt + written);
  chunkAt += written;
  return out;
}

/** ASCII lowercase (A-Z only), as the wasm matcher folds. */
export function foldAscii(bytes: Uint8Array): Uint8Array {
  const c = room(bytes.length);
  const out = c.subarray(chunkAt, chunkAt + bytes.length);
  chunkAt += bytes.length;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i];
    out[i] = b >= 65 && b <= 90 ? b | 0x20 : b;
  }
  return out;
}

export function fnv1a(bytes: Uint8Array): number {
  let h = FNV_OFFSET;
  for (let i = 0; i < bytes.length; i++) h = Math.imul(h ^ bytes[i], FNV_PRIME) >>> 0;
  return h >>> 0;
}

/** A Map key for a byte string. */
export function byteKey(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('latin1');
}
