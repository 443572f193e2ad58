/**
 * Byte-level helpers shared by the route compiler and its tests: config strings become UTF-8 bytes (the
 * request bytes the matcher compares them with are what the client sent), ASCII-only case folding and the
 * FNV-1a hash that assembly/router/bytes.ts computes over the same bytes.
 */
const encoder = new TextEncoder();

export const FNV_OFFSET = 0x811c9dc5;
export const FNV_PRIME = 0x01000193;

export function utf8(s: string): Uint8Array {
  return encoder.encode(s);
}

/** ASCII lowercase (A-Z only), as the wasm matcher folds. */
export function foldAscii(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(bytes.length);
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
