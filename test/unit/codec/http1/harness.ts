// Test helpers: put head bytes into wasm memory, parse them, and read the result back.
import { mainInstance } from '../../../../src/wasm/runtime.js';
import { slabPool } from '../../../../src/wasm/slab.js';
import type { WasmInstance } from '../../../../src/wasm/module.js';
import * as L from '../../../../src/wasm/layout.js';
import { parseRequestHead, parseResponseHead, recordBytes, type HeadLimits } from '../../../../src/codec/http1/index.js';

export const wasm: WasmInstance = mainInstance();
export const LIMITS: HeadLimits = { maxHeaders: 64, maxHeadBytes: 16384 };

/** One input buffer, one record and one output buffer, leased once per test file. */
export const BUF_BYTES = 262144;
export const buf = slabPool(wasm).lease(BUF_BYTES);
export const rec = slabPool(wasm).lease(recordBytes(256));
export const out = slabPool(wasm).lease(BUF_BYTES);

export function load(bytes: Uint8Array | string): number {
  const b = typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes;
  if (b.length > BUF_BYTES) throw new RangeError('input larger than the test buffer');
  wasm.u8.set(b, buf);
  return b.length;
}

export function parseReq(text: string | Uint8Array, limits: HeadLimits = LIMITS): number {
  const len = load(text);
  return parseRequestHead(wasm, buf, len, 0, rec, limits);
}

export function parseRes(text: string | Uint8Array, limits: HeadLimits = LIMITS): number {
  const len = load(text);
  return parseResponseHead(wasm, buf, len, 0, rec, limits);
}

/** The output bytes [out, out+n) as a latin1 string. */
export function output(n: number): string {
  return Buffer.from(wasm.u8.subarray(out, out + n)).toString('latin1');
}

export function headLen(): number {
  return wasm.view.getInt32(rec + L.HEAD_LENGTH, true);
}

/** Fields of the record that tests compare (a plain snapshot, independent of memory reuse). */
export function snapshot(): Record<string, unknown> {
  const v = wasm.view;
  const u8 = wasm.u8;
  const str = (p: number, n: number): string => Buffer.from(u8.subarray(p, p + n)).toString('latin1');
  const count = v.getInt32(rec + L.HEAD_HEADER_COUNT, true);
  const headers: [string, string, number][] = [];
  for (let i = 0; i < count; i++) {
    const e = rec + L.HEAD_HEADERS + i * L.HEADER_ENTRY_SIZE;
    headers.push([
      str(v.getUint32(e + L.HDR_NAME_PTR, true), v.getUint16(e + L.HDR_NAME_LEN, true)),
      str(v.getUint32(e + L.HDR_VALUE_PTR, true), v.getUint32(e + L.HDR_VALUE_LEN, true)),
      v.getUint16(e + L.HDR_ID, true),
    ]);
  }
  const field = (p: number, n: number): string => str(v.getUint32(rec + p, true), v.getInt32(rec + n, true));
  return {
    status: v.getInt32(rec + L.HEAD_STATUS, true),
    length: v.getInt32(rec + L.HEAD_LENGTH, true),
    methodOrStatus: v.getInt32(rec + L.HEAD_METHOD_ID, true),
    method: field(L.HEAD_METHOD_PTR, L.HEAD_METHOD_LEN),
    target: field(L.HEAD_TARGET_PTR, L.HEAD_TARGET_LEN),
    path: field(L.HEAD_PATH_PTR, L.HEAD_PATH_LEN),
    query: field(L.HEAD_QUERY_PTR, L.HEAD_QUERY_LEN),
    host: field(L.HEAD_HOST_PTR, L.HEAD_HOST_LEN),
    minor: v.getInt32(rec + L.HEAD_VERSION_MINOR, true),
    flags: v.getInt32(rec + L.HEAD_FLAGS, true),
    contentLength: v.getFloat64(rec + L.HEAD_CONTENT_LENGTH, true),
    headers,
  };
}
