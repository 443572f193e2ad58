/**
 * Writes a head that the wasm encoder serializes straight into a slab: the socket writes from the slab's
 * bytes (a Buffer view over the shared memory, no copy) and the slab returns to the pool in the write
 * callback, which node calls once the bytes are out or the write failed.
 */
import type { Socket } from 'node:net';
import { SkiffError } from '../../common/errors.js';
import type { WasmInstance } from '../../wasm/module.js';
import { SLAB_CLASSES, type SlabPool } from '../../wasm/slab.js';
import { HEAD_TOO_LARGE, OUT_OF_SLABS } from './errors.js';

/** First try: most heads fit in this; larger ones are re-encoded into the largest slab. */
const FIRST_TRY_BYTES = SLAB_CLASSES[2];

export function writeEncodedHead(wasm: WasmInstance, pool: SlabPool, socket: Socket,
  encode: (out: number, outCap: number) => number): void {
  for (const want of [FIRST_TRY_BYTES, pool.maxLease]) {
    const ptr = pool.lease(want);
    if (ptr === 0) throw new SkiffError(OUT_OF_SLABS, 'no slab for an encoded head', 'internal');
    const n = encode(ptr, pool.sizeOf(ptr));
    if (n < 0) { pool.release(ptr); continue; }
    const bytes = Buffer.from(wasm.memory.buffer as ArrayBuffer, ptr, n);
    let released = false;
    socket.write(bytes, () => { if (!released) { released = true; pool.release(ptr); } });
    return;
  }
  throw new SkiffError(HEAD_TOO_LARGE, 'encoded head larger than the largest slab', 'internal');
}
