// Finding the end of an HTTP/1 head (the CRLF CRLF after the last header line), resumably.
//
// The scan is the only work done while a head is incomplete, so it is cheap: 16 bytes at a time with SIMD
// until a byte <= CR shows up. It also rejects a bare LF or a bare CR as soon as one arrives, so a peer
// cannot park a malformed head in the buffer until maxHeadBytes. Everything else is checked once, by the
// full parse of a complete head.
import { H1E_BARE_CR, H1E_BARE_LF } from "../../abi/layout";

const CR: u32 = 13;
const LF: u32 = 10;

/** Offset of the byte where the last scan error was found (per instance). */
export let scanErrorAt: i32 = 0;

/**
 * Skips empty lines before the start line (RFC 9112 §2.2: a server SHOULD ignore at least one).
 * Returns the offset of the start line, or -H1E_BARE_LF.
 */
export function skipLeadingEmptyLines(buf: usize, limit: i32): i32 {
  let p = 0;
  while (p + 1 < limit && <u32>load<u8>(buf + <usize>p) == CR && <u32>load<u8>(buf + <usize>p + 1) == LF) p += 2;
  if (p < limit && <u32>load<u8>(buf + <usize>p) == LF) { scanErrorAt = p; return -H1E_BARE_LF; }
  return p;
}

/**
 * Scans [max(from, start), limit) for the CRLF CRLF that ends a head starting at `start`.
 * Returns the offset just past it, 0 when not found yet, or -H1E_BARE_LF / -H1E_BARE_CR.
 * `from` may be any earlier position: callers pass the previous length minus 3.
 *
 * 16 positions per step without data-dependent branches: for each position i, is it the start of CR LF CR LF,
 * is it an LF without a CR before it, is it a CR without an LF after it. Loads reach from i-1 to i+18, so the
 * vector loop covers positions with start < i and i + 19 <= limit; the rest goes byte by byte.
 */
export function scanHeadEnd(buf: usize, start: i32, from: i32, limit: i32): i32 {
  let i = from > start ? from : start;
  if (i == start && i < limit) {
    // the byte at `start` has no CR before it that belongs to the head
    if (<u32>load<u8>(buf + <usize>i) == LF) { scanErrorAt = i; return -H1E_BARE_LF; }
    if (<u32>load<u8>(buf + <usize>i) == CR) return scanBytes(buf, start, i, limit);
    i++;
  }
  const cr = i8x16.splat(<i8>CR);
  const lf = i8x16.splat(<i8>LF);
  while (i + 19 <= limit) {
    const at = buf + <usize>i;
    const c0 = v128.load(at);
    const c1 = v128.load(at, 1);
    const isCr = i8x16.eq(c0, cr);
    const isLf = i8x16.eq(c0, lf);
    const nextLf = i8x16.eq(c1, lf);
    const prevCr = i8x16.eq(v128.load(at - 1), cr);
    const bad = v128.or(v128.andnot(isLf, prevCr), v128.andnot(isCr, nextLf));
    const end = v128.and(v128.and(isCr, nextLf), v128.and(i8x16.eq(v128.load(at, 2), cr), i8x16.eq(v128.load(at, 3), lf)));
    const badMask = i8x16.bitmask(bad);
    const endMask = i8x16.bitmask(end);
    if ((badMask | endMask) != 0) {
      // whichever comes first decides
      const b = badMask != 0 ? ctz(badMask) : 32;
      const e = endMask != 0 ? ctz(endMask) : 32;
      if (e < b) return i + e + 4;
      const p = i + b;
      scanErrorAt = p;
      return <u32>load<u8>(buf + <usize>p) == LF ? -H1E_BARE_LF : -H1E_BARE_CR;
    }
    i += 16;
  }
  return scanBytes(buf, start, i, limit);
}

/** The byte-by-byte form of scanHeadEnd, for the last bytes of the buffer. */
function scanBytes(buf: usize, start: i32, from: i32, limit: i32): i32 {
  for (let i = from; i < limit; i++) {
    const c = <u32>load<u8>(buf + <usize>i);
    if (c == LF) {
      if (i == start || <u32>load<u8>(buf + <usize>i - 1) != CR) { scanErrorAt = i; return -H1E_BARE_LF; }
      if (i - start >= 3 && <u32>load<u8>(buf + <usize>i - 2) == LF) return i + 1;
    } else if (c == CR) {
      if (i + 1 < limit && <u32>load<u8>(buf + <usize>i + 1) != LF) { scanErrorAt = i; return -H1E_BARE_CR; }
    }
  }
  return 0;
}
