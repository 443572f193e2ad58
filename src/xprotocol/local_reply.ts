/**
 * Frames Skiff writes itself (error replies, heartbeat replies and requests, goaway), encoded by the wasm codec
 * into a small slab and copied out: they are small and rare, so one copy is cheaper than tracking the slab.
 */
import type { WasmInstance } from '../wasm/module.js';
import type { SlabPool } from '../wasm/slab.js';
import * as L from '../wasm/layout.js';
import { encodeErrorReply, encodeGoaway, encodeHeartbeat, encodeHeartbeatReply } from '../codec/xprotocol/codec.js';

const OUT_BYTES = 4096;

function withOut(slabs: SlabPool, bytes: number, fn: (out: number, cap: number) => number, wasm: WasmInstance): Buffer | null {
  const out = slabs.lease(bytes);
  if (out === 0) return null;
  try {
    const n = fn(out, bytes);
    return n > 0 ? Buffer.from(wasm.u8.subarray(out, out + n)) : null;
  } finally {
    slabs.release(out);
  }
}

/**
 * An error reply to the request decoded in `rec` (ids restored to `idLo`/`idHi`, the downstream's), wire
 * status `status`, message `msg`; null when the protocol cannot write one.
 */
export function errorReply(wasm: WasmInstance, slabs: SlabPool, proto: number, rec: number, idLo: number, idHi: number, status: number, msg: string): Buffer | null {
  const text = Buffer.from(msg.slice(0, 512), 'utf8');
  wasm.view.setUint32(rec + L.XF_ID_LO, idLo, true);
  wasm.view.setUint32(rec + L.XF_ID_HI, idHi, true);
  const cap = OUT_BYTES + text.length;
  return withOut(slabs, cap + text.length, (out) => {
    const msgPtr = out + cap;
    wasm.u8.set(text, msgPtr);
    return encodeErrorReply(wasm, proto, rec, status, msgPtr, text.length, out, cap);
  }, wasm);
}

export function heartbeatReply(wasm: WasmInstance, slabs: SlabPool, proto: number, rec: number): Buffer | null {
  return withOut(slabs, OUT_BYTES, (out, cap) => encodeHeartbeatReply(wasm, proto, rec, out, cap), wasm);
}

export function heartbeat(wasm: WasmInstance, slabs: SlabPool, proto: number, id: number): Buffer | null {
  return withOut(slabs, OUT_BYTES, (out, cap) => encodeHeartbeat(wasm, proto, id, out, cap), wasm);
}

export function goaway(wasm: WasmInstance, slabs: SlabPool, proto: number, id: number): Buffer | null {
  return withOut(slabs, OUT_BYTES, (out, cap) => encodeGoaway(wasm, proto, id, out, cap), wasm);
}
