// Shared set-up for the x-protocol codec tests: frame bytes copied into a slab, a frame record, an output
// slab, and the real JS codecs (CommonJS packages without types) loaded through createRequire.
import { createRequire } from 'node:module';
import { mainInstance } from '../../../../src/wasm/runtime.js';
import { slabPool } from '../../../../src/wasm/slab.js';
import type { WasmInstance } from '../../../../src/wasm/module.js';
import {
  decodeFrame, XFrameView, FRAME_RECORD_BYTES, DEFAULT_MAX_FRAME_BYTES,
} from '../../../../src/codec/xprotocol/index.js';

export const require = createRequire(import.meta.url);

export interface Harness {
  readonly wasm: WasmInstance;
  /** Frame bytes go here (256 KiB). */
  readonly buf: number;
  readonly rec: number;
  /** Encoder output (64 KiB). */
  readonly out: number;
  readonly outCap: number;
  /** Copies bytes to `buf`; returns their length. */
  load(bytes: Uint8Array): number;
  /** Copies and decodes: the xp_decode result and a view over the record. */
  decode(proto: number, bytes: Uint8Array, maxFrameBytes?: number): { n: number; frame: XFrameView };
  /** Bytes at [ptr, ptr+len) as a fresh Buffer. */
  bytesAt(ptr: number, len: number): Buffer;
  /** Copies bytes to a scratch spot (for messages passed to encoders); returns its address. */
  put(bytes: Uint8Array): number;
}

let shared: Harness | undefined;

export function harness(): Harness {
  if (shared) return shared;
  const wasm = mainInstance();
  const pool = slabPool(wasm);
  const buf = pool.lease(262144);
  const rec = pool.lease(FRAME_RECORD_BYTES);
  const out = pool.lease(65536);
  const msg = pool.lease(65536);
  if (!buf || !rec || !out || !msg) throw new Error('slab pool exhausted');
  const h: Harness = {
    wasm, buf, rec, out, outCap: 65536,
    load(bytes) { wasm.u8.set(bytes, buf); return bytes.length; },
    decode(proto, bytes, maxFrameBytes = DEFAULT_MAX_FRAME_BYTES) {
      const len = h.load(bytes);
      return { n: decodeFrame(wasm, proto, buf, len, rec, maxFrameBytes), frame: new XFrameView(wasm, rec) };
    },
    bytesAt(ptr, len) { return Buffer.from(wasm.u8.slice(ptr, ptr + len)); },
    put(bytes) { wasm.u8.set(bytes, msg); return msg; },
  };
  shared = h;
  return h;
}

export const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
