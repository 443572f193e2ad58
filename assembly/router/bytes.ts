// Byte helpers for the router: FNV-1a hashing (the compiler in src/router/hash.ts computes the same
// values), ASCII case folding and comparisons over raw pointers. Nothing here allocates.

export const FNV_OFFSET: u32 = 0x811c9dc5;
export const FNV_PRIME: u32 = 0x01000193;

/** ASCII lowercase of one byte; other bytes unchanged. */
// @ts-ignore: decorator
@inline export function lower(b: u32): u32 {
  return b - 65 < 26 ? b | 0x20 : b;
}

/** FNV-1a over [ptr, ptr+len), lowercased first when `fold`. */
export function fnv(ptr: usize, len: usize, fold: bool): u32 {
  let h = FNV_OFFSET;
  for (let i: usize = 0; i < len; i++) {
    let b = <u32>load<u8>(ptr + i);
    if (fold) b = lower(b);
    h = (h ^ b) * FNV_PRIME;
  }
  return h;
}

/** a[0..len) equals b[0..len); when `fold`, a is lowercased first (b is stored lowercase). */
export function bytesEqual(a: usize, b: usize, len: usize, fold: bool): bool {
  let i: usize = 0;
  if (!fold) {
    for (; i + 8 <= len; i += 8) if (load<u64>(a + i) != load<u64>(b + i)) return false;
    for (; i < len; i++) if (load<u8>(a + i) != load<u8>(b + i)) return false;
    return true;
  }
  for (; i < len; i++) if (lower(<u32>load<u8>(a + i)) != <u32>load<u8>(b + i)) return false;
  return true;
}

/** Whether needle (stored lowercase when `fold`) occurs anywhere in hay. */
export function bytesContain(hay: usize, hayLen: usize, needle: usize, needleLen: usize, fold: bool): bool {
  if (needleLen > hayLen) return false;
  const last = hayLen - needleLen;
  for (let i: usize = 0; i <= last; i++) {
    if (bytesEqual(hay + i, needle, needleLen, fold)) return true;
  }
  return false;
}

/** Word-at-a-time hash of a cache key; the key buffer is zero padded to a multiple of 4 bytes. */
export function keyHash(ptr: usize, len: usize): u32 {
  let h: u32 = FNV_OFFSET ^ <u32>len;
  for (let i: usize = 0; i < len; i += 4) {
    let k = load<u32>(ptr + i) * 0xcc9e2d51;
    k = rotl<u32>(k, 15) * 0x1b873593;
    h = rotl<u32>(h ^ k, 13) * 5 + 0xe6546b64;
  }
  h ^= h >>> 16; h *= 0x85ebca6b; h ^= h >>> 13; h *= 0xc2b2ae35; h ^= h >>> 16;
  return h;
}
