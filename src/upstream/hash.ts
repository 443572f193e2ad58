/**
 * xxHash64 (Yann Collet's XXH64, written from its published specification), the hash Envoy uses for
 * hash_policy and for placing ring-hash and Maglev entries. Inputs are hashed as UTF-8.
 *
 * The arithmetic works on 32-bit halves held in plain numbers rather than on BigInt: a request's hash is
 * computed on the hot path and BigInt arithmetic allocates on every operation. Only the result is a bigint.
 */

const encoder = new TextEncoder();
/** Reused UTF-8 buffer for string inputs (grown, never shrunk; 3 bytes per UTF-16 unit is the worst case). */
let utf8 = new Uint8Array(256);

function encode(s: string): Uint8Array {
  if (s.length * 3 > utf8.length) utf8 = new Uint8Array(s.length * 3);
  const { written } = encoder.encodeInto(s, utf8);
  return utf8.subarray(0, written);
}

// The five 64-bit primes of the spec, as [high, low] 32-bit halves.
const P1H = 0x9e3779b1, P1L = 0x85ebca87;
const P2H = 0xc2b2ae3d, P2L = 0x27d4eb4f;
const P3H = 0x165667b1, P3L = 0x9e3779f9;
const P4H = 0x85ebca77, P4L = 0xc2b2ae63;
const P5H = 0x27d4eb2f, P5L = 0x165667c5;

/**
 * A 64-bit register as two unsigned 32-bit halves. Every helper writes its result into `out` so that a
 * hash runs without allocating. Only this module touches these.
 */
interface U64 { h: number; l: number }

function set(out: U64, h: number, l: number): void { out.h = h >>> 0; out.l = l >>> 0; }

function add(out: U64, bh: number, bl: number): void {
  const l = out.l + bl;
  const carry = l > 0xffffffff ? 1 : 0;
  out.l = l >>> 0;
  out.h = (out.h + bh + carry) >>> 0;
}

function sub(out: U64, bh: number, bl: number): void {
  const borrow = out.l < bl ? 1 : 0;
  out.l = (out.l - bl) >>> 0;
  out.h = (out.h - bh - borrow) >>> 0;
}

/**
 * out = out * b (mod 2^64). The low halves' full 64-bit product is built from 16-bit pieces (every partial
 * product exact in a double); the cross terms only feed the high half, so Math.imul's low 32 bits suffice.
 */
function mul(out: U64, bh: number, bl: number): void {
  const al = out.l, ah = out.h;
  const a0 = al & 0xffff, a1 = al >>> 16, b0 = bl & 0xffff, b1 = bl >>> 16;
  const p00 = a0 * b0, p01 = a0 * b1, p10 = a1 * b0, p11 = a1 * b1;
  const mid = (p00 >>> 16) + (p01 & 0xffff) + (p10 & 0xffff); // below 3 * 2^16
  const lo = ((mid << 16) | (p00 & 0xffff)) >>> 0;
  const hiOfLow = p11 + (p01 >>> 16) + (p10 >>> 16) + (mid >>> 16);
  out.h = (hiOfLow + Math.imul(ah, bl) + Math.imul(al, bh)) >>> 0;
  out.l = lo;
}

function rotl(out: U64, r: number): void {
  const h = out.h, l = out.l;
  if (r === 32) { out.h = l; out.l = h; return; }
  if (r < 32) {
    out.h = ((h << r) | (l >>> (32 - r))) >>> 0;
    out.l = ((l << r) | (h >>> (32 - r))) >>> 0;
  } else {
    const s = r - 32;
    out.h = ((l << s) | (h >>> (32 - s))) >>> 0;
    out.l = ((h << s) | (l >>> (32 - s))) >>> 0;
  }
}

function xorShiftRight(out: U64, r: number): void {
  // out ^= out >> r, for 0 < r < 64
  if (r < 32) {
    const sh = out.h >>> r;
    const sl = ((out.l >>> r) | (out.h << (32 - r))) >>> 0;
    out.h = (out.h ^ sh) >>> 0;
    out.l = (out.l ^ sl) >>> 0;
  } else {
    out.l = (out.l ^ (out.h >>> (r - 32))) >>> 0;
  }
}

function readU32(b: Uint8Array, i: number): number {
  return (b[i] | (b[i + 1] << 8) | (b[i + 2] << 16) | (b[i + 3] << 24)) >>> 0;
}

// Scratch registers reused by every call (the main thread runs one hash at a time; nothing here awaits).
const acc: U64 = { h: 0, l: 0 };
const v1: U64 = { h: 0, l: 0 }, v2: U64 = { h: 0, l: 0 }, v3: U64 = { h: 0, l: 0 }, v4: U64 = { h: 0, l: 0 };
const lane: U64 = { h: 0, l: 0 };
const tmp: U64 = { h: 0, l: 0 };

/** v = rotl(v + lane * P2, 31) * P1 */
function round(v: U64, inH: number, inL: number): void {
  set(lane, inH, inL);
  mul(lane, P2H, P2L);
  add(v, lane.h, lane.l);
  rotl(v, 31);
  mul(v, P1H, P1L);
}

/** acc = (acc ^ round(0, v)) * P1 + P4 */
function mergeRound(v: U64): void {
  set(tmp, 0, 0);
  round(tmp, v.h, v.l);
  acc.h = (acc.h ^ tmp.h) >>> 0;
  acc.l = (acc.l ^ tmp.l) >>> 0;
  mul(acc, P1H, P1L);
  add(acc, P4H, P4L);
}

/** XXH64 of `bytes` with a 64-bit seed given as halves; the result is left in `acc`. */
function xxh64Into(bytes: Uint8Array, seedH: number, seedL: number): void {
  const len = bytes.length;
  let i = 0;
  if (len >= 32) {
    set(v1, seedH, seedL); add(v1, P1H, P1L); add(v1, P2H, P2L);
    set(v2, seedH, seedL); add(v2, P2H, P2L);
    set(v3, seedH, seedL);
    set(v4, seedH, seedL); sub(v4, P1H, P1L);
    const limit = len - 32;
    while (i <= limit) {
      round(v1, readU32(bytes, i + 4), readU32(bytes, i)); i += 8;
      round(v2, readU32(bytes, i + 4), readU32(bytes, i)); i += 8;
      round(v3, readU32(bytes, i + 4), readU32(bytes, i)); i += 8;
      round(v4, readU32(bytes, i + 4), readU32(bytes, i)); i += 8;
    }
    set(acc, v1.h, v1.l); rotl(acc, 1);
    set(lane, v2.h, v2.l); rotl(lane, 7); add(acc, lane.h, lane.l);
    set(lane, v3.h, v3.l); rotl(lane, 12); add(acc, lane.h, lane.l);
    set(lane, v4.h, v4.l); rotl(lane, 18); add(acc, lane.h, lane.l);
    mergeRound(v1); mergeRound(v2); mergeRound(v3); mergeRound(v4);
  } else {
    set(acc, seedH, seedL); add(acc, P5H, P5L);
  }
  // The length is below 2^53 and, for any input we hash, below 2^32.
  add(acc, Math.floor(len / 0x100000000), len >>> 0);
  while (i + 8 <= len) {
    set(v1, 0, 0);
    round(v1, readU32(bytes, i + 4), readU32(bytes, i));
    acc.h = (acc.h ^ v1.h) >>> 0; acc.l = (acc.l ^ v1.l) >>> 0;
    rotl(acc, 27); mul(acc, P1H, P1L); add(acc, P4H, P4L);
    i += 8;
  }
  if (i + 4 <= len) {
    set(lane, 0, readU32(bytes, i)); mul(lane, P1H, P1L);
    acc.h = (acc.h ^ lane.h) >>> 0; acc.l = (acc.l ^ lane.l) >>> 0;
    rotl(acc, 23); mul(acc, P2H, P2L); add(acc, P3H, P3L);
    i += 4;
  }
  while (i < len) {
    set(lane, 0, bytes[i]); mul(lane, P5H, P5L);
    acc.h = (acc.h ^ lane.h) >>> 0; acc.l = (acc.l ^ lane.l) >>> 0;
    rotl(acc, 11); mul(acc, P1H, P1L);
    i += 1;
  }
  xorShiftRight(acc, 33); mul(acc, P2H, P2L);
  xorShiftRight(acc, 29); mul(acc, P3H, P3L);
  xorShiftRight(acc, 32);
}

/** XXH64 of raw bytes with an optional seed (0 .. 2^64-1). */
export function xxh64(bytes: Uint8Array, seed: bigint = 0n): bigint {
  const s = BigInt.asUintN(64, seed);
  xxh64Into(bytes, Number(s >> 32n), Number(s & 0xffffffffn));
  return (BigInt(acc.h) << 32n) | BigInt(acc.l);
}

/** XXH64 (seed 0) of the string's UTF-8 bytes: the hash of hash_policy values and of LB keys. */
export function hash64(s: string): bigint {
  return xxh64(encode(s));
}
