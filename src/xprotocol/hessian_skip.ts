/**
 * A Hessian 2.0 value walker over a JS Buffer: where a value ends, without building it. Big Dubbo frames (above
 * one slab, so not in wasm memory) use it to step over the call's arguments to the attachments map behind them.
 * The wasm walker (assembly/xprotocol/hessian.ts) does the same for frames in a slab; this one exists because a
 * big frame's body is never copied into wasm whole.
 *
 * Untrusted bytes: every step consumes input or fails (returns -1), nesting stops at MAX_DEPTH, and at most
 * MAX_CLASS_DEFS class definitions are kept.
 */

const MAX_DEPTH = 32;
const MAX_CLASS_DEFS = 256;

export class HessianSkipper {
  /** Field counts of the class definitions seen so far, in order (object instances refer to them by index). */
  private readonly classFields: number[] = [];

  constructor(private readonly b: Buffer) {}

  /** The offset after the int at `p`, its value in `this.intValue`; -1 when `p` holds no int. */
  intValue = 0;
  readInt(p: number): number {
    const b = this.b;
    const t = b[p];
    if (t === undefined) return -1;
    if (t >= 0x80 && t <= 0xbf) { this.intValue = t - 0x90; return p + 1; }
    if (t >= 0xc0 && t <= 0xcf) { if (p + 2 > b.length) return -1; this.intValue = ((t - 0xc8) << 8) + b[p + 1]!; return p + 2; }
    if (t >= 0xd0 && t <= 0xd7) { if (p + 3 > b.length) return -1; this.intValue = ((t - 0xd4) << 16) + (b[p + 1]! << 8) + b[p + 2]!; return p + 3; }
    if (t === 0x49) { if (p + 5 > b.length) return -1; this.intValue = b.readInt32BE(p + 1); return p + 5; }
    return -1;
  }

  /** The offset after the value at `p`, or -1. */
  skip(p: number, depth = 0): number {
    const b = this.b;
    if (depth > MAX_DEPTH || p >= b.length) return -1;
    const t = b[p]!;
    const fixed = (n: number): number => (p + n <= b.length ? p + n : -1);
    if (t <= 0x1f) return this.chars(p + 1, t);
    if (t <= 0x2f) return fixed(1 + (t - 0x20));
    if (t <= 0x33) return p + 2 > b.length ? -1 : this.chars(p + 2, ((t - 0x30) << 8) | b[p + 1]!);
    if (t <= 0x37) return p + 2 > b.length ? -1 : fixed(2 + (((t - 0x34) << 8) | b[p + 1]!));
    if (t <= 0x3f) return fixed(3);
    if (t >= 0x80) {
      if (t <= 0xbf) return p + 1;
      if (t <= 0xcf) return fixed(2);
      if (t <= 0xd7) return fixed(3);
      if (t <= 0xef) return p + 1;
      return fixed(2);
    }
    if (t >= 0x60 && t <= 0x6f) return this.fields(p + 1, t - 0x60, depth);
    if (t >= 0x70 && t <= 0x77) { const q = this.skip(p + 1, depth + 1); return q < 0 ? -1 : this.values(q, t - 0x70, depth); }
    if (t >= 0x78 && t <= 0x7f) return this.values(p + 1, t - 0x78, depth);
    switch (t) {
      case 0x41: case 0x42: {                       // binary chunk ('A' more follow, 'B' final)
        if (p + 3 > b.length) return -1;
        const q = fixed(3 + b.readUInt16BE(p + 1));
        return t === 0x42 || q < 0 ? q : this.skip(q, depth);
      }
      case 0x52: case 0x53: {                       // string chunk ('R' more follow, 'S' final)
        if (p + 3 > b.length) return -1;
        const q = this.chars(p + 3, b.readUInt16BE(p + 1));
        return t === 0x53 || q < 0 ? q : this.skip(q, depth);
      }
      case 0x43: {                                   // class definition, then the value it precedes
        let q = this.skip(p + 1, depth + 1);         // class name
        if (q < 0) return -1;
        q = this.readInt(q);
        const n = this.intValue;
        if (q < 0 || n < 0 || this.classFields.length >= MAX_CLASS_DEFS) return -1;
        for (let i = 0; i < n && q >= 0; i++) q = this.skip(q, depth + 1);   // field names
        if (q < 0) return -1;
        this.classFields.push(n);
        return this.skip(q, depth);
      }
      case 0x44: case 0x4a: case 0x4c: return fixed(9);
      case 0x49: case 0x4b: case 0x59: case 0x5f: return fixed(5);
      case 0x46: case 0x4e: case 0x54: case 0x5b: case 0x5c: return p + 1;
      case 0x5d: return fixed(2);
      case 0x5e: return fixed(3);
      case 0x48: return this.untilZ(p + 1, depth);
      case 0x4d: { const q = this.skip(p + 1, depth + 1); return q < 0 ? -1 : this.untilZ(q, depth); }
      case 0x4f: { const q = this.readInt(p + 1); return q < 0 ? -1 : this.fields(q, this.intValue, depth); }
      case 0x51: return this.readInt(p + 1);
      case 0x55: { const q = this.skip(p + 1, depth + 1); return q < 0 ? -1 : this.untilZ(q, depth); }
      case 0x57: return this.untilZ(p + 1, depth);
      case 0x56: {
        let q = this.skip(p + 1, depth + 1);
        if (q >= 0) q = this.readInt(q);
        return q < 0 ? -1 : this.values(q, this.intValue, depth);
      }
      case 0x58: { const q = this.readInt(p + 1); return q < 0 ? -1 : this.values(q, this.intValue, depth); }
      default: return -1;
    }
  }

  /** After `units` UTF-16 units of Hessian's UTF-8 at `p` (a 4-byte sequence counts as two). */
  private chars(p: number, units: number): number {
    const b = this.b;
    for (let u = 0; u < units; u++) {
      const c = b[p];
      if (c === undefined) return -1;
      if (c < 0x80) p += 1;
      else if (c >= 0xc0 && c < 0xe0) p += 2;
      else if (c >= 0xe0 && c < 0xf0) p += 3;
      else if (c >= 0xf0 && c < 0xf8) { p += 4; u++; }
      else return -1;
    }
    return p <= b.length ? p : -1;
  }

  private fields(p: number, classIndex: number, depth: number): number {
    const n = this.classFields[classIndex];
    return n === undefined ? -1 : this.values(p, n, depth);
  }

  /** `n` values (each consumes at least one byte, so a huge `n` fails at the end of the input). */
  private values(p: number, n: number, depth: number): number {
    if (n < 0) return -1;
    for (let i = 0; i < n; i++) {
      p = this.skip(p, depth + 1);
      if (p < 0) return -1;
    }
    return p;
  }

  private untilZ(p: number, depth: number): number {
    const b = this.b;
    // Bounded: every round consumes at least one byte or fails.
    while (p < b.length) {
      if (b[p] === 0x5a) return p + 1;
      p = this.skip(p, depth + 1);
      if (p < 0) return -1;
    }
    return -1;
  }
}

/** Parameters in a JVM method descriptor such as `Ljava/lang/String;I[J`; -1 when it is not one. */
export function descriptorArgCount(desc: string): number {
  let n = 0;
  let i = 0;
  while (i < desc.length) {
    while (desc[i] === '[') i++;
    const c = desc[i];
    if (c === undefined) return -1;
    if (c === 'L') {
      const end = desc.indexOf(';', i);
      if (end < 0) return -1;
      i = end + 1;
    } else if ('ZBCSIJFD'.includes(c)) i++;
    else return -1;
    n++;
  }
  return n;
}
