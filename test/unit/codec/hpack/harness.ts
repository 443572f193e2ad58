/**
 * Shared set-up for the HPACK tests: one block buffer, one record and one output buffer leased from the slab
 * pool, and helpers that write a block, decode it and read the record back as [name, value] byte strings.
 */
import { mainInstance } from '../../../../src/wasm/runtime.js';
import { slabPool } from '../../../../src/wasm/slab.js';
import type { WasmInstance } from '../../../../src/wasm/module.js';
import * as L from '../../../../src/wasm/layout.js';
import { HpackDecoder, hpackRecordBytes, type HpackDecodeMode } from '../../../../src/codec/hpack/index.js';

export interface Buffers {
  readonly wasm: WasmInstance;
  readonly block: number;
  readonly blockCap: number;
  readonly rec: number;
  readonly maxHeaders: number;
  readonly out: number;
  readonly outCap: number;
  release(): void;
}

export function buffers(maxHeaders = 256): Buffers {
  const wasm = mainInstance();
  const pool = slabPool(wasm);
  const blockCap = 65536;
  const outCap = 262144;
  const block = pool.lease(blockCap);
  const rec = pool.lease(hpackRecordBytes(maxHeaders));
  const out = pool.lease(outCap);
  if (!block || !rec || !out) throw new Error('slab pool exhausted');
  return {
    wasm, block, blockCap, rec, maxHeaders, out, outCap,
    release: () => { pool.release(block); pool.release(rec); pool.release(out); },
  };
}

export type Fields = [string, string][];

/** The record's entries as latin1 strings (bytes one to one). */
export function entries(wasm: WasmInstance, rec: number): Fields {
  const v = wasm.view;
  const n = v.getInt32(rec + L.HEAD_HEADER_COUNT, true);
  const mem = Buffer.from(wasm.memory.buffer as ArrayBuffer);
  const list: Fields = [];
  for (let i = 0; i < n; i++) {
    const e = rec + L.HEAD_HEADERS + i * L.HEADER_ENTRY_SIZE;
    const np = v.getUint32(e + L.HDR_NAME_PTR, true);
    const vp = v.getUint32(e + L.HDR_VALUE_PTR, true);
    list.push([
      mem.toString('latin1', np, np + v.getUint16(e + L.HDR_NAME_LEN, true)),
      mem.toString('latin1', vp, vp + v.getUint32(e + L.HDR_VALUE_LEN, true)),
    ]);
  }
  return list;
}

export interface DecodeOptions {
  maxHeaders?: number;
  maxListBytes?: number;
  outCap?: number;
}

/** Copies `bytes` into the block buffer and decodes them. */
export function decodeBytes(b: Buffers, dec: HpackDecoder, mode: HpackDecodeMode, bytes: Uint8Array, opts: DecodeOptions = {}): number {
  if (bytes.length > b.blockCap) throw new RangeError('block too large for the test buffer');
  b.wasm.u8.set(bytes, b.block);
  return dec.decode(mode, b.block, bytes.length, b.rec, opts.maxHeaders ?? b.maxHeaders, b.out, opts.outCap ?? b.outCap, opts.maxListBytes ?? 1 << 20);
}

export const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

/** Field representation helpers (RFC 7541 §5, §6), for hand-built blocks. */
export function int(value: number, prefix: number, firstBits = 0): number[] {
  const max = (1 << prefix) - 1;
  if (value < max) return [firstBits | value];
  const out = [firstBits | max];
  let v = value - max;
  while (v >= 128) { out.push((v % 128) | 0x80); v = Math.floor(v / 128); }
  out.push(v);
  return out;
}

export function str(s: string): number[] {
  const bytes = [...Buffer.from(s, 'latin1')];
  return [...int(bytes.length, 7), ...bytes];
}

/** Literal without indexing, new name. */
export function lit(name: string, value: string): number[] {
  return [0x00, ...str(name), ...str(value)];
}

/** Literal with incremental indexing, new name. */
export function litIdx(name: string, value: string): number[] {
  return [0x40, ...str(name), ...str(value)];
}

/** Indexed field. */
export function idx(i: number): number[] {
  return int(i, 7, 0x80);
}

/** A request block: the four pseudo-headers as literals (no indexing), then `extra`. */
export function request(extra: number[] = [], path = '/', authority = 'example.com'): Uint8Array {
  return Uint8Array.from([...idx(2), ...idx(6), ...lit(':authority', authority), ...lit(':path', path), ...extra]);
}
