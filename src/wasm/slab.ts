/**
 * The slab buffer pool over the shared memory's slab region: fixed size classes, leased and released by
 * pointer. Any thread may lease and release (the free lists live in shared memory, see assembly/mem).
 *
 * Contract used by the codec, stream and worker layers:
 *   lease(bytes) -> pointer to at least `bytes` bytes, or 0 when that class is exhausted;
 *   release(ptr) returns it; sizeOf(ptr) tells the class size of a leased pointer.
 */
import type { WasmInstance } from './module.js';

export interface SlabPool {
  /** Smallest class holding `bytes`, or 0 when exhausted or `bytes` exceeds the largest class. */
  lease(bytes: number): number;
  release(ptr: number): void;
  /** Capacity of the slab at `ptr`. */
  sizeOf(ptr: number): number;
  /** Largest lease possible. */
  readonly maxLease: number;
}

/** Size classes in bytes. */
export const SLAB_CLASSES = [1024, 4096, 16384, 65536, 262144] as const;

/**
 * Main-thread pool: free lists kept in JS, slabs carved from the region on demand.
 * (Replaced by the atomic pool in assembly/mem once that lands; same contract.)
 */
class LocalSlabPool implements SlabPool {
  private next: number;
  private readonly end: number;
  private readonly free: number[][] = SLAB_CLASSES.map(() => []);
  private readonly classOf = new Map<number, number>();
  readonly maxLease = SLAB_CLASSES[SLAB_CLASSES.length - 1];

  constructor(base: number, len: number) {
    this.next = base;
    this.end = base + len;
  }

  lease(bytes: number): number {
    const c = SLAB_CLASSES.findIndex((s) => s >= bytes);
    if (c < 0) return 0;
    const ptr = this.free[c].pop();
    if (ptr !== undefined) return ptr;
    const size = SLAB_CLASSES[c];
    if (this.next + size > this.end) return 0;
    const p = this.next;
    this.next += size;
    this.classOf.set(p, c);
    return p;
  }

  release(ptr: number): void {
    const c = this.classOf.get(ptr);
    if (c === undefined) throw new Error(`slab: release of unknown pointer ${ptr}`);
    this.free[c].push(ptr);
  }

  sizeOf(ptr: number): number {
    const c = this.classOf.get(ptr);
    return c === undefined ? 0 : SLAB_CLASSES[c];
  }
}

const pools = new WeakMap<WasmInstance, SlabPool>();

/** The slab pool as seen from `wasm`'s thread. */
export function slabPool(wasm: WasmInstance): SlabPool {
  let p = pools.get(wasm);
  if (!p) { p = new LocalSlabPool(wasm.map.slab.base, wasm.map.slab.len); pools.set(wasm, p); }
  return p;
}
