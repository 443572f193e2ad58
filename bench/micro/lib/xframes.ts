// What the x-protocol codec benchmarks (bolt.ts, dubbo.ts) lease once: a frame buffer, a frame record, an
// output buffer and an error message already in wasm memory, plus a view over the record.
import { mainInstance } from '../../../src/wasm/runtime.js';
import { slabPool } from '../../../src/wasm/slab.js';
import { XFrameView, FRAME_RECORD_BYTES } from '../../../src/codec/xprotocol/index.js';
import type { WasmInstance } from '../../../src/wasm/module.js';

export interface XFrameBench {
  readonly wasm: WasmInstance;
  /** 16 KiB for the frame under test. */
  readonly buf: number;
  readonly rec: number;
  /** 4 KiB for encoded frames. */
  readonly out: number;
  /** `msgBytes` ('upstream timed out'), for error replies. */
  readonly msg: number;
  readonly msgBytes: Buffer;
  readonly view: XFrameView;
}

export function xframeBench(): XFrameBench {
  const wasm = mainInstance();
  const pool = slabPool(wasm);
  const buf = pool.lease(16384);
  const rec = pool.lease(FRAME_RECORD_BYTES);
  const out = pool.lease(4096);
  const msg = pool.lease(1024);
  const msgBytes = Buffer.from('upstream timed out');
  wasm.u8.set(msgBytes, msg);
  return { wasm, buf, rec, out, msg, msgBytes, view: new XFrameView(wasm, rec) };
}
