// ASCII byte classes and helpers over raw pointers, for every codec (no allocation, static tables only).
// RFC 9110 §5.6.2 token characters, §5.5 field-value characters; RFC 9112 request-target characters.

/** tchar: "!#$%&'*+-.^_`|~" DIGIT ALPHA. */
export const C_TCHAR: u32 = 1;
/** field-vchar / SP / HTAB: VCHAR and obs-text, no CTL except HTAB, no DEL. */
export const C_VALUE: u32 = 2;
/** Visible ASCII 0x21..0x7E: the bytes a request-target may hold. */
export const C_VISIBLE: u32 = 4;
/** 'A'..'Z'. */
export const C_UPPER: u32 = 8;
/** '0'..'9'. */
export const C_DIGIT: u32 = 16;
/** SP or HTAB (OWS). */
export const C_WS: u32 = 32;
/** Bytes of an authority (RFC 3986 §3.2): unreserved, pct-encoded, sub-delims, ":" and the IP-literal brackets. */
export const C_HOST: u32 = 64;

// One byte of class bits per byte value; immutable, so safe in static memory shared by every instance.
const CHAR_CLASS: usize = memory.data<u8>([
  0, 0, 0, 0, 0, 0, 0, 0, 0, 34, 0, 0, 0, 0, 0, 0,
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
  34, 71, 6, 7, 71, 71, 71, 71, 70, 70, 71, 71, 70, 71, 71, 6,
  87, 87, 87, 87, 87, 87, 87, 87, 87, 87, 70, 70, 6, 70, 6, 6,
  6, 79, 79, 79, 79, 79, 79, 79, 79, 79, 79, 79, 79, 79, 79, 79,
  79, 79, 79, 79, 79, 79, 79, 79, 79, 79, 79, 70, 6, 70, 7, 71,
  7, 71, 71, 71, 71, 71, 71, 71, 71, 71, 71, 71, 71, 71, 71, 71,
  71, 71, 71, 71, 71, 71, 71, 71, 71, 71, 71, 6, 7, 6, 71, 0,
  2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
  2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
  2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
  2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
  2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
  2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
  2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
  2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
]);

// @ts-ignore: decorator
@inline export function charClass(c: u32): u32 {
  return <u32>load<u8>(CHAR_CLASS + <usize>c);
}

// @ts-ignore: decorator
@inline export function isTchar(c: u32): bool {
  return (charClass(c) & C_TCHAR) != 0;
}

// @ts-ignore: decorator
@inline export function isWs(c: u32): bool {
  return c == 32 || c == 9;
}

// @ts-ignore: decorator
@inline export function lowerAscii(c: u32): u32 {
  return (charClass(c) & C_UPPER) != 0 ? c | 0x20 : c;
}

/**
 * Bytes [ptr, ptr+len) equal the ASCII string literal `lit`, ignoring ASCII case of the bytes (`lit` must be
 * lowercase). Static string literals live in the module's data segment, so this allocates nothing.
 */
export function eqLowerLiteral(ptr: usize, len: i32, lit: string): bool {
  if (len != lit.length) return false;
  const l = changetype<usize>(lit);
  for (let i = 0; i < len; i++) {
    if (lowerAscii(<u32>load<u8>(ptr + <usize>i)) != <u32>load<u16>(l + (<usize>i << 1))) return false;
  }
  return true;
}

/** Bytes [a, a+len) equal bytes [b, b+len), ignoring ASCII case. */
export function eqIgnoreCase(a: usize, b: usize, len: i32): bool {
  for (let i = 0; i < len; i++) {
    if (lowerAscii(<u32>load<u8>(a + <usize>i)) != lowerAscii(<u32>load<u8>(b + <usize>i))) return false;
  }
  return true;
}

/** Bytes [a, a+len) equal bytes [b, b+len). */
export function eqBytes(a: usize, b: usize, len: i32): bool {
  return memory.compare(a, b, <usize>len) == 0;
}

/** Writes the decimal digits of `n` (0 <= n < 2^53) at `out`; returns the number of bytes written. */
export function writeDecimal(out: usize, n: u64): i32 {
  let digits = 1;
  let t = n;
  while (t >= 10) { t /= 10; digits++; }
  let p = out + <usize>digits;
  let v = n;
  for (let i = 0; i < digits; i++) {
    p--;
    store<u8>(p, <u8>(48 + <u32>(v % 10)));
    v /= 10;
  }
  return digits;
}

/** Number of decimal digits `writeDecimal` writes for `n`. */
export function decimalLength(n: u64): i32 {
  let digits = 1;
  while (n >= 10) { n /= 10; digits++; }
  return digits;
}

/** Bytes [ptr, ptr+len) equal the ASCII string literal `lit` exactly (static literal: no allocation). */
export function eqLiteral(ptr: usize, len: i32, lit: string): bool {
  if (len != lit.length) return false;
  const l = changetype<usize>(lit);
  for (let i = 0; i < len; i++) {
    if (<u32>load<u8>(ptr + <usize>i) != <u32>load<u16>(l + (<usize>i << 1))) return false;
  }
  return true;
}
