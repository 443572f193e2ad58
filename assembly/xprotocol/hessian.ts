// A Hessian 2.0 walker: skips values and reads the few scalars the codecs route on (strings, ints) without
// materializing anything. Every call is bounded: each step consumes at least one byte of [p, end) or fails,
// and nesting deeper than XP_HESSIAN_MAX_DEPTH fails. Class definitions seen ('C') are remembered in the
// frame record's work area (XF_CLASS_DEFS) because an object instance only names its class by number.
// Every function returns the position after the value, or 0 when the bytes are not valid Hessian 2.0.
import {
  XF_CLASS_DEFS, XF_CLASS_DEF_COUNT, XF_MAX_CLASS_DEFS, XP_HESSIAN_MAX_DEPTH, XF_ARG_TYPE, XF_ARG_PTR, XF_ARG_LEN,
  XF_ARG_NUM, XA_NULL, XA_BOOL, XA_INT, XA_DOUBLE, XA_STRING, XA_OTHER,
} from "../abi/layout";
import { be16, be32 } from "./bytes";

/** The last string read by readString: its UTF-8 bytes (contiguous: single-chunk strings only). */
export let strPtr: usize = 0;
export let strLen: i32 = 0;
/** True when the last readString saw null ('N'). */
export let strNull: bool = false;
/** The last integer read by readInt. */
export let intValue: i64 = 0;

/** Skips `chars` UTF-16 code units of UTF-8 text starting at p (4-byte sequences count as two units). */
function skipChars(p: usize, end: usize, chars: i32): usize {
  // Fast paths: eight, then four ASCII bytes are as many characters (routing names are ASCII).
  while (chars >= 8 && p + 8 <= end && (load<u64>(p) & 0x8080808080808080) == 0) {
    p += 8;
    chars -= 8;
  }
  if (chars >= 4 && p + 4 <= end && (load<u32>(p) & 0x80808080) == 0) {
    p += 4;
    chars -= 4;
  }
  while (chars > 0) {
    if (p >= end) return 0;
    const b = <u32>load<u8>(p);
    if (b < 0x80) { p++; chars--; continue; }
    let n: usize;
    if (b >= 0xf0) { n = 4; chars--; }
    else if (b >= 0xe0) n = 3;
    else if (b >= 0xc0) n = 2;
    else return 0; // a continuation byte cannot start a character
    p += n;
    chars--;
  }
  return p > end ? 0 : p;
}

/**
 * Reads a string (or null) into strPtr/strLen/strNull. Chunked strings ('R' chunks, over 65535 units) fail:
 * the fields read this way (names, versions, attachment keys) are never that long, and their bytes must be
 * contiguous to be pointed at.
 */
export function readString(p: usize, end: usize): usize {
  if (p >= end) return 0;
  const tag = <u32>load<u8>(p);
  let chars: i32;
  let start: usize;
  strNull = false;
  if (tag <= 0x1f) { chars = <i32>tag; start = p + 1; }
  else if (tag >= 0x30 && tag <= 0x33) {
    if (p + 2 > end) return 0;
    chars = <i32>(((tag - 0x30) << 8) | <u32>load<u8>(p + 1)); start = p + 2;
  } else if (tag == 0x53) { // 'S' final chunk
    if (p + 3 > end) return 0;
    chars = <i32>be16(p + 1); start = p + 3;
  } else if (tag == 0x4e) { // 'N'
    strNull = true; strPtr = 0; strLen = 0;
    return p + 1;
  } else return 0;
  const after = skipChars(start, end, chars);
  if (after == 0) return 0;
  strPtr = start;
  strLen = <i32>(after - start);
  return after;
}

/** Reads an int or a long into intValue. */
export function readInt(p: usize, end: usize): usize {
  if (p >= end) return 0;
  const tag = <i32>load<u8>(p);
  if (tag >= 0x80 && tag <= 0xbf) { intValue = <i64>(tag - 0x90); return p + 1; }
  if (tag >= 0xc0 && tag <= 0xcf) {
    if (p + 2 > end) return 0;
    intValue = <i64>(((tag - 0xc8) << 8) | <i32>load<u8>(p + 1)); return p + 2;
  }
  if (tag >= 0xd0 && tag <= 0xd7) {
    if (p + 3 > end) return 0;
    intValue = <i64>(((tag - 0xd4) << 16) | <i32>be16(p + 1)); return p + 3;
  }
  if (tag == 0x49 || tag == 0x59) { // 'I', 'Y' (long stored as 32 bits)
    if (p + 5 > end) return 0;
    intValue = <i64><i32>be32(p + 1); return p + 5;
  }
  if (tag >= 0xd8 && tag <= 0xef) { intValue = <i64>(tag - 0xe0); return p + 1; }
  if (tag >= 0xf0) {
    if (p + 2 > end) return 0;
    intValue = <i64>(((tag - 0xf8) << 8) | <i32>load<u8>(p + 1)); return p + 2;
  }
  if (tag >= 0x38 && tag <= 0x3f) {
    if (p + 3 > end) return 0;
    intValue = <i64>(((tag - 0x3c) << 16) | <i32>be16(p + 1)); return p + 3;
  }
  if (tag == 0x4c) { // 'L'
    if (p + 9 > end) return 0;
    intValue = <i64>bswap<u64>(load<u64>(p + 1)); return p + 9;
  }
  return 0;
}

/** Skips a type (a string, or an int referring to an earlier type). */
function skipType(p: usize, end: usize): usize {
  if (p >= end) return 0;
  const tag = <u32>load<u8>(p);
  if (tag <= 0x1f || (tag >= 0x30 && tag <= 0x33) || tag == 0x53 || tag == 0x52) return skipValue(p, end, 0, 1);
  return readInt(p, end);
}

/** Skips a string or binary body split in chunks: non-final chunk tag `more`, final chunk tag `last`. */
function skipChunks(p: usize, end: usize, more: u32, last: u32, isString: bool): usize {
  // Each chunk consumes at least 3 bytes, so the loop ends within (end - p) / 3 rounds.
  while (p + 3 <= end) {
    const tag = <u32>load<u8>(p);
    const n = <i32>be16(p + 1);
    let q: usize;
    if (isString) q = skipChars(p + 3, end, n);
    else { q = p + 3 + <usize>n; if (q > end) return 0; }
    if (q == 0) return 0;
    if (tag == last) return q;
    p = q;
    if (p >= end) return 0;
    const next = <u32>load<u8>(p);
    if (next != more && next != last) {
      // the final chunk may also use a compact form of the same type
      if (isString) return (next <= 0x1f || (next >= 0x30 && next <= 0x33)) ? readString(p, end) : 0;
      if ((next >= 0x20 && next <= 0x2f) || (next >= 0x34 && next <= 0x37)) return skipValue(p, end, 0, 1);
      return 0;
    }
  }
  return 0;
}

/** Skips `n` values. */
function skipValues(p: usize, end: usize, rec: usize, depth: i32, n: i64): usize {
  while (n > 0) {
    p = skipValue(p, end, rec, depth);
    if (p == 0) return 0;
    n--;
  }
  return p;
}

/** Skips values up to and including the 'Z' terminator. */
function skipUntilZ(p: usize, end: usize, rec: usize, depth: i32): usize {
  while (p < end) {
    if (load<u8>(p) == 0x5a) return p + 1;
    p = skipValue(p, end, rec, depth);
    if (p == 0) return 0;
  }
  return 0;
}

/** Field count of class definition `ref`, or -1 when unknown. */
function classFields(rec: usize, ref: i64): i64 {
  if (rec == 0) return -1;
  const count = load<i32>(rec + XF_CLASS_DEF_COUNT);
  if (ref < 0 || ref >= <i64>count) return -1;
  return <i64>load<u32>(rec + XF_CLASS_DEFS + (<usize>ref << 2));
}

/**
 * Skips one value of any type. `rec` is the frame record whose work area holds class definitions (0: objects
 * fail). `depth` counts the containers entered.
 */
export function skipValue(p: usize, end: usize, rec: usize, depth: i32): usize {
  if (p >= end || depth > XP_HESSIAN_MAX_DEPTH) return 0;
  const tag = <u32>load<u8>(p);
  let q: usize = 0;
  if (tag <= 0x1f || (tag >= 0x30 && tag <= 0x33) || tag == 0x53) return readString(p, end);
  if (tag == 0x52) return skipChunks(p, end, 0x52, 0x53, true);
  if (tag >= 0x20 && tag <= 0x2f) { q = p + 1 + <usize>(tag - 0x20); return q > end ? 0 : q; }
  if (tag >= 0x34 && tag <= 0x37) {
    if (p + 2 > end) return 0;
    q = p + 2 + <usize>(((tag - 0x34) << 8) | <u32>load<u8>(p + 1));
    return q > end ? 0 : q;
  }
  if (tag == 0x41 || tag == 0x42) return skipChunks(p, end, 0x41, 0x42, false);
  if ((tag >= 0x80) || (tag >= 0x38 && tag <= 0x3f) || tag == 0x49 || tag == 0x4c || tag == 0x59) return readInt(p, end);
  switch (tag) {
    case 0x4e: case 0x54: case 0x46: case 0x5b: case 0x5c: return p + 1;   // N T F, double 0.0 / 1.0
    case 0x5d: q = p + 2; break;                                            // double as byte
    case 0x5e: q = p + 3; break;                                            // double as short
    case 0x5f: case 0x4b: q = p + 5; break;                                 // double as float-int, date in minutes
    case 0x44: case 0x4a: q = p + 9; break;                                 // double, date
    case 0x51: return readInt(p + 1, end);                                  // 'Q' reference
    case 0x48: return skipMapBody(p + 1, end, rec, depth + 1);              // 'H' untyped map
    case 0x4d: {                                                            // 'M' typed map
      q = skipType(p + 1, end);
      if (q == 0) return 0;
      return skipMapBody(q, end, rec, depth + 1);
    }
    case 0x43: {                                                            // 'C' class definition, then a value follows separately
      q = readString(p + 1, end);
      if (q == 0 || strNull) return 0;
      q = readInt(q, end);
      if (q == 0 || intValue < 0) return 0;
      const fields = intValue;
      q = skipValues(q, end, 0, depth + 1, fields);
      if (q == 0 || rec == 0) return 0;
      const count = load<i32>(rec + XF_CLASS_DEF_COUNT);
      if (count >= XF_MAX_CLASS_DEFS) return 0;
      store<u32>(rec + XF_CLASS_DEFS + (<usize>count << 2), <u32>fields);
      store<i32>(rec + XF_CLASS_DEF_COUNT, count + 1);
      // A definition is not a value by itself: the value it introduces follows.
      return skipValue(q, end, rec, depth);
    }
    case 0x4f: {                                                            // 'O' object, class by int
      q = readInt(p + 1, end);
      if (q == 0) return 0;
      const fields = classFields(rec, intValue);
      if (fields < 0) return 0;
      return skipValues(q, end, rec, depth + 1, fields);
    }
    case 0x55: {                                                            // 'U' variable-length typed list
      q = skipType(p + 1, end);
      if (q == 0) return 0;
      return skipUntilZ(q, end, rec, depth + 1);
    }
    case 0x56: {                                                            // 'V' fixed-length typed list
      q = skipType(p + 1, end);
      if (q == 0) return 0;
      q = readInt(q, end);
      if (q == 0 || intValue < 0) return 0;
      return skipValues(q, end, rec, depth + 1, intValue);
    }
    case 0x57: return skipUntilZ(p + 1, end, rec, depth + 1);               // 'W' variable-length untyped list
    case 0x58: {                                                            // 'X' fixed-length untyped list
      q = readInt(p + 1, end);
      if (q == 0 || intValue < 0) return 0;
      return skipValues(q, end, rec, depth + 1, intValue);
    }
    default: {
      if (tag >= 0x60 && tag <= 0x6f) {                                     // object, compact class ref
        const fields = classFields(rec, <i64>(tag - 0x60));
        if (fields < 0) return 0;
        return skipValues(p + 1, end, rec, depth + 1, fields);
      }
      if (tag >= 0x70 && tag <= 0x77) {                                     // fixed typed list, compact length
        q = skipType(p + 1, end);
        if (q == 0) return 0;
        return skipValues(q, end, rec, depth + 1, <i64>(tag - 0x70));
      }
      if (tag >= 0x78 && tag <= 0x7f) return skipValues(p + 1, end, rec, depth + 1, <i64>(tag - 0x78));
      return 0;                                                             // reserved: 0x40 0x45 0x47 0x50 0x5a
    }
  }
  return q > end ? 0 : q;
}

/** Skips map entries up to and including 'Z'. */
function skipMapBody(p: usize, end: usize, rec: usize, depth: i32): usize {
  while (p < end) {
    if (load<u8>(p) == 0x5a) return p + 1;
    p = skipValue(p, end, rec, depth);
    if (p == 0) return 0;
    p = skipValue(p, end, rec, depth);
    if (p == 0) return 0;
  }
  return 0;
}

/**
 * Reads a class definition ('C' name fieldCount fieldNames...) at p and records it; returns the position of
 * the first field name in defFields and the count in intValue. Used by peeks that look for one field.
 */
export let defFields: usize = 0;
export function readClassDef(p: usize, end: usize, rec: usize): usize {
  if (p >= end || load<u8>(p) != 0x43) return 0;
  let q = readString(p + 1, end);
  if (q == 0 || strNull) return 0;
  q = readInt(q, end);
  if (q == 0 || intValue < 0) return 0;
  const fields = intValue;
  defFields = q;
  q = skipValues(q, end, 0, 1, fields);
  if (q == 0) return 0;
  const count = load<i32>(rec + XF_CLASS_DEF_COUNT);
  if (count >= XF_MAX_CLASS_DEFS) return 0;
  store<u32>(rec + XF_CLASS_DEFS + (<usize>count << 2), <u32>fields);
  store<i32>(rec + XF_CLASS_DEF_COUNT, count + 1);
  intValue = fields;
  return q;
}

/** Skips n values (exported for the codecs' peeks). */
export function skipN(p: usize, end: usize, rec: usize, n: i64): usize {
  return skipValues(p, end, rec, 1, n);
}

/** Skips `chars` UTF-16 units of UTF-8 text (raw strings whose length came separately). */
export function skipCharsExported(p: usize, end: usize, chars: i32): usize {
  return skipChars(p, end, chars);
}

/**
 * Reads the scalar value at p into the record's XF_ARG_* fields and returns its XA_* type (0 when the bytes
 * are not a value). Strings (single chunk) give ptr/len, numbers and booleans an f64; anything else is XA_OTHER.
 */
export function readScalar(p: usize, end: usize, rec: usize): i32 {
  if (p >= end) return 0;
  const tag = <u32>load<u8>(p);
  let type = XA_OTHER;
  let num: f64 = 0;
  if (tag == 0x4e) type = XA_NULL;
  else if (tag == 0x54 || tag == 0x46) { type = XA_BOOL; num = tag == 0x54 ? 1 : 0; }
  else if (tag <= 0x1f || (tag >= 0x30 && tag <= 0x33) || tag == 0x53) {
    if (readString(p, end) == 0) return 0;
    type = XA_STRING;
    store<u32>(rec + XF_ARG_PTR, <u32>strPtr);
    store<u32>(rec + XF_ARG_LEN, <u32>strLen);
  } else if (tag >= 0x80 || (tag >= 0x38 && tag <= 0x3f) || tag == 0x49 || tag == 0x4c || tag == 0x59) {
    if (readInt(p, end) == 0) return 0;
    type = XA_INT;
    num = <f64>intValue;
  } else if (tag == 0x5b || tag == 0x5c) { type = XA_DOUBLE; num = tag == 0x5c ? 1 : 0; }
  else if (tag == 0x5d) { if (p + 2 > end) return 0; type = XA_DOUBLE; num = <f64>load<i8>(p + 1); }
  else if (tag == 0x5e) { if (p + 3 > end) return 0; type = XA_DOUBLE; num = <f64><i16>be16(p + 1); }
  else if (tag == 0x5f) { if (p + 5 > end) return 0; type = XA_DOUBLE; num = <f64><i32>be32(p + 1) / 1000; }
  else if (tag == 0x44) { if (p + 9 > end) return 0; type = XA_DOUBLE; num = reinterpret<f64>(bswap<u64>(load<u64>(p + 1))); }
  store<i32>(rec + XF_ARG_TYPE, type);
  store<f64>(rec + XF_ARG_NUM, num);
  return type;
}
