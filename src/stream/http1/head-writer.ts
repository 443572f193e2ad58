/**
 * Writes a head that the wasm encoder serializes straight into a slab: the socket writes from the slab's
 * bytes (a Buffer view over the shared memory, no copy), and the connection's `SlabWrites` returns the slab
 * to the pool once the socket has written it.
 *
 * Why not a write callback per head: node defers every write callback to a next tick and, for a corked
 * socket, wraps the batch's callbacks in a closure per flush. Most writes complete inside the write (or the
 * uncork) call, which `socket.writableLength === 0` shows right after it, so the slab can go back at once;
 * only when bytes stay buffered in the socket does one empty write with a callback mark when they have left.
 */
import type { Socket } from 'node:net';
import { SkiffError } from '../../common/errors.js';
import type { WasmInstance } from '../../wasm/module.js';
import { SLAB_CLASSES, type SlabPool } from '../../wasm/slab.js';
import { HEAD_TOO_LARGE, OUT_OF_SLABS } from './errors.js';

/** First try: most heads fit in this; larger ones are re-encoded into the largest slab. */
const FIRST_TRY_BYTES = SLAB_CLASSES[2];

const EMPTY = Buffer.alloc(0);

/** An encoder of one head kind into `[out, out + outCap)`; returns the length, or a negative value if it did not fit. */
export type HeadEncoder<H, R> = (wasm: WasmInstance, head: H, rewrite: R, out: number, outCap: number) => number;

/**
 * The slabs whose bytes one socket was asked to write, returned to the pool once the socket has written them:
 * when nothing is left buffered in the socket after a write or an uncork, else when an empty write queued
 * behind them completes, else (a destroyed or ended socket) when the socket closes (`releaseAll`).
 */
export class SlabWrites {
  private readonly pending: number[] = [];
  /** An empty write with `onWritten` is queued behind the pending bytes. */
  private marked = false;

  constructor(private readonly pool: SlabPool, private readonly socket: Socket) {}

  /** The slab at `ptr` was just handed to the socket. */
  add(ptr: number): void {
    this.pending.push(ptr);
    this.settle();
  }

  /** Returns what the socket has written; called after writes and uncorks (TickCork) and on 'drain'. */
  settle(): void {
    if (this.pending.length === 0) return;
    const s = this.socket;
    // A destroyed socket writes nothing more, but its slabs go back on 'close' (releaseAll), once node is done with it.
    if (s.destroyed) return;
    if (s.writableLength === 0) { this.releaseAll(); return; }
    if (s.writableCorked > 0 || this.marked) return; // settled again when uncorked, or when the mark is written
    // Ended: no mark can be written after end(); the slabs go back on 'close' (releaseAll).
    if (s.writableEnded) return;
    this.marked = true;
    s.write(EMPTY, this.onWritten);
  }

  private readonly onWritten = (): void => {
    this.marked = false;
    this.settle();
  };

  /** Returns every pending slab (the socket has closed, or has written everything). */
  releaseAll(): void {
    const p = this.pending;
    for (let i = 0; i < p.length; i++) this.pool.release(p[i]);
    p.length = 0;
  }
}

/** Encodes a head into a slab and writes it; the slab goes back through `writes` once written. */
export function writeEncodedHead<H, R>(wasm: WasmInstance, pool: SlabPool, socket: Socket, writes: SlabWrites,
  encode: HeadEncoder<H, R>, head: H, rewrite: R): void {
  let want: number = FIRST_TRY_BYTES;
  for (let attempt = 0; attempt < 2; attempt++, want = pool.maxLease) {
    const ptr = pool.lease(want);
    if (ptr === 0) throw new SkiffError(OUT_OF_SLABS, 'no slab for an encoded head', 'internal');
    const n = encode(wasm, head, rewrite, ptr, pool.sizeOf(ptr));
    if (n < 0) { pool.release(ptr); continue; }
    socket.write(Buffer.from(wasm.memory.buffer as ArrayBuffer, ptr, n));
    writes.add(ptr);
    return;
  }
  throw new SkiffError(HEAD_TOO_LARGE, 'encoded head larger than the largest slab', 'internal');
}
