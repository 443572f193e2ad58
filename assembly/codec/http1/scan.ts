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
 */
export function scanHeadEnd(buf: usize, start: i32, from: i32, limit: i32): i32 {
  let i = from > start ? from : start;
  const ctl = i8x16.splat(14);
  while (i < limit) {
    if (i + 16 <= limit) {
      const mask = i8x16.bitmask(i8x16.lt_u(v128.load(buf + <usize>i), ctl));
      if (mask == 0) { i += 16; continue; }
      i += ctz(mask);
    }
    const c = <u32>load<u8>(buf + <usize>i);
    if (c == LF) {
      if (i == start || <u32>load<u8>(buf + <usize>i - 1) != CR) { scanErrorAt = i; return -H1E_BARE_LF; }
      if (i - start >= 3 && <u32>load<u8>(buf + <usize>i - 2) == LF) return i + 1;
    } else if (c == CR) {
      if (i + 1 < limit && <u32>load<u8>(buf + <usize>i + 1) != LF) { scanErrorAt = i; return -H1E_BARE_CR; }
    }
    i++;
  }
  return 0;
}
