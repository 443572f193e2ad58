/**
 * Writes encoder inputs into wasm memory (the thread's scratch region, below the router's working area):
 * field lists ([u16 name length][u16 flags][u32 value length][name][value]...), remove lists
 * ([u16 length][name]...), and single strings. Names are lowercased and checked as tokens, values checked
 * as HTTP/2 field values (RFC 9113 §8.2.1), so a bad header from configuration never reaches the wire.
 */
import type { WasmInstance } from '../../wasm/module.js';
import * as L from '../../wasm/layout.js';
import { HpackError, H2_PROTOCOL_ERROR } from './errors.js';

const TCHAR = new Uint8Array(256);
for (const c of "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") TCHAR[c.charCodeAt(0)] = 1;

export class FieldInputError extends HpackError {
  constructor(message: string) {
    super('SKIFF_HPACK_INVALID_FIELD', message, H2_PROTOCOL_ERROR);
    this.name = 'FieldInputError';
  }
}

/** A cursor over [base, end) of wasm memory. */
export class ScratchWriter {
  at: number;
  constructor(private readonly wasm: WasmInstance, readonly base: number, private readonly end: number) {
    this.at = base;
  }

  static forThread(wasm: WasmInstance): ScratchWriter {
    return new ScratchWriter(wasm, wasm.scratchBase, wasm.scratchBase + wasm.scratchLen - L.ROUTER_SCRATCH_BYTES);
  }

  reset(): void { this.at = this.base; }

  private room(n: number): void {
    if (this.at + n > this.end) throw new HpackError('SKIFF_HPACK_INPUT_TOO_LARGE', `encoder input larger than the scratch region (${this.end - this.base} bytes)`);
  }

  /** Name: token characters, lowercased; pseudo-header names (":x") allowed when `pseudo`. */
  private putName(at: number, name: string, pseudo: boolean): void {
    const u8 = this.wasm.u8;
    if (name.length === 0) throw new FieldInputError('empty header name');
    for (let i = 0; i < name.length; i++) {
      let c = name.charCodeAt(i);
      if (i === 0 && c === 0x3a && pseudo && name.length > 1) { u8[at] = c; continue; }
      if (c > 255 || TCHAR[c] === 0) throw new FieldInputError(`header name ${JSON.stringify(name)} is not a token`);
      if (c >= 65 && c <= 90) c |= 0x20;
      u8[at + i] = c;
    }
  }

  /** Value: latin1 field-value bytes, no CTL but HTAB, no DEL, no surrounding SP/HTAB. */
  private putValue(at: number, name: string, value: string): void {
    const u8 = this.wasm.u8;
    const n = value.length;
    for (let i = 0; i < n; i++) {
      const c = value.charCodeAt(i);
      if (c > 255 || (c < 0x20 && c !== 9) || c === 0x7f) throw new FieldInputError(`header ${name}: value holds a forbidden character`);
      u8[at + i] = c;
    }
    if (n > 0) {
      const a = u8[at], z = u8[at + n - 1];
      if (a === 0x20 || a === 9 || z === 0x20 || z === 9) throw new FieldInputError(`header ${name}: value has surrounding whitespace`);
    }
  }

  /**
   * Appends one field list entry. `raw`: bytes as given (latin1), no HTTP checks: for HPACK-level tests and
   * conformance, never for traffic.
   */
  field(name: string, value: string, flags = 0, pseudo = false, raw = false): void {
    if (name.length > 0xffff) throw new FieldInputError('header name too long');
    this.room(L.HPACK_FIELD_BYTES + name.length + value.length);
    const v = this.wasm.view;
    const at = this.at;
    v.setUint16(at + L.HPACK_FIELD_NAME_LEN, name.length, true);
    v.setUint16(at + L.HPACK_FIELD_FLAGS, flags, true);
    v.setUint32(at + L.HPACK_FIELD_VALUE_LEN, value.length, true);
    if (raw) {
      this.putLatin1(at + L.HPACK_FIELD_BYTES, name);
      this.putLatin1(at + L.HPACK_FIELD_BYTES + name.length, value);
    } else {
      this.putName(at + L.HPACK_FIELD_BYTES, name, pseudo);
      this.putValue(at + L.HPACK_FIELD_BYTES + name.length, name, value);
    }
    this.at = at + L.HPACK_FIELD_BYTES + name.length + value.length;
  }

  private putLatin1(at: number, s: string): void {
    const u8 = this.wasm.u8;
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c > 255) throw new FieldInputError(`${JSON.stringify(s)} is not latin1`);
      u8[at + i] = c;
    }
  }

  /** Appends one remove list entry. */
  removeName(name: string): void {
    if (name.length > 0xffff) throw new FieldInputError('header name too long');
    this.room(2 + name.length);
    this.wasm.view.setUint16(this.at, name.length, true);
    this.putName(this.at + 2, name, false);
    this.at += 2 + name.length;
  }

  /** Appends raw latin1 bytes checked by `check`; returns [ptr, len]. */
  bytes(s: string, check: (c: number) => boolean, what: string): [number, number] {
    this.room(s.length);
    const u8 = this.wasm.u8;
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c > 255 || !check(c)) throw new FieldInputError(`${what} ${JSON.stringify(s)} holds a forbidden character`);
      u8[this.at + i] = c;
    }
    const r: [number, number] = [this.at, s.length];
    this.at += s.length;
    return r;
  }
}
