/**
 * The slab buffer pool over the shared memory's slab region: fixed size classes, leased and released by
 * pointer. Any thread may lease and release: the free lists live in shared memory and are updated with
 * atomics by assembly/mem/slab.ts; this file is a thin wrapper over its exports.
 *
 * Contract used by the codec, stream and worker layers:
 *   lease(bytes) -> pointer to at least `bytes` bytes, or 0 when that class is exhausted;
 *   release(ptr) returns it; sizeOf(ptr) tells the class size of a leased pointer.
 *
 * Initialisation: the first `slabPool(wasm)` over a memory lays the region out (`slab_init`, guarded by a
 * compare-and-swap, so it happens once per memory whichever thread gets there first); the main thread does it
 * before workers start (src/workers/pool.ts), and every other instance attaches to the same region.
 */
import { SkiffError } from '../common/errors.js';
import type { WasmInstance } from './module.js';
import {
  SLAB_CLASS_COUNT, SLAB_ERR_MISMATCH, SLAB_ERR_NOT_LEASED, SLAB_ERR_NOT_SLAB, SLAB_ERR_TIMEOUT,
  SLAB_ERR_TOO_SMALL, SLAB_RELEASED,
} from './layout.js';

export interface SlabPool {
  /** Smallest class holding `bytes`, or 0 when exhausted or `bytes` exceeds the largest class. */
  lease(bytes: number): number;
  release(ptr: number): void;
  /** Capacity of the slab at `ptr`. */
  sizeOf(ptr: number): number;
  /** Largest lease possible. */
  readonly maxLease: number;
}

/** Size classes in bytes (1 KiB x 4^c; the wasm side computes the same, checked at attach). */
export const SLAB_CLASSES = [1024, 4096, 16384, 65536, 262144] as const;

/** Per-class counters, over all threads. */
export interface SlabClassStats {
  readonly size: number;
  /** Slabs leased now. */
  readonly leased: number;
  /** Slabs carved from the region for this class (leased now + on the free list). */
  readonly carved: number;
  /** Leases refused because the class was exhausted. */
  readonly exhaustedTotal: number;
}

/** The slab pool's numeric exports (assembly/mem/exports.ts). */
interface SlabExports {
  slab_init(base: number, len: number): number;
  slab_lease(bytes: number): number;
  slab_release(ptr: number): number;
  slab_size_of(ptr: number): number;
  slab_class_count(): number;
  slab_class_size(c: number): number;
  slab_leased(c: number): number;
  slab_carved(c: number): number;
  slab_exhausted_total(c: number): number;
  slab_chunk_count(): number;
  slab_chunks_used(): number;
  slab_free_length(c: number, limit: number): number;
}

/** Codes: SKIFF_SLAB_INIT (region unusable), SKIFF_SLAB_BAD_RELEASE (not a slab), SKIFF_SLAB_DOUBLE_RELEASE. */
export class SlabError extends SkiffError {
  constructor(code: string, message: string) {
    super(code, message, 'internal', false);
    this.name = 'SlabError';
  }
}

class WasmSlabPool implements SlabPool {
  readonly maxLease = SLAB_CLASSES[SLAB_CLASSES.length - 1];
  // Bound once: the hot calls go straight to the export.
  private readonly leaseExport: (bytes: number) => number;
  private readonly releaseExport: (ptr: number) => number;
  private readonly sizeOfExport: (ptr: number) => number;

  constructor(readonly exports: SlabExports) {
    this.leaseExport = exports.slab_lease;
    this.releaseExport = exports.slab_release;
    this.sizeOfExport = exports.slab_size_of;
  }

  lease(bytes: number): number {
    // Negative, NaN or oversized requests fit no class; fractions round up.
    if (!(bytes >= 0 && bytes <= this.maxLease)) return 0;
    return this.leaseExport(Math.ceil(bytes)) >>> 0;
  }

  release(ptr: number): void {
    const status = this.releaseExport(ptr >>> 0);
    if (status === SLAB_RELEASED) return;
    if (status === SLAB_ERR_NOT_LEASED) throw new SlabError('SKIFF_SLAB_DOUBLE_RELEASE', `slab: ${ptr} is not leased`);
    if (status === SLAB_ERR_NOT_SLAB) throw new SlabError('SKIFF_SLAB_BAD_RELEASE', `slab: release of unknown pointer ${ptr}`);
    throw new SlabError('SKIFF_SLAB_BAD_RELEASE', `slab: release of ${ptr} failed (${status})`);
  }

  sizeOf(ptr: number): number {
    return this.sizeOfExport(ptr >>> 0) >>> 0;
  }
}

const pools = new WeakMap<WasmInstance, WasmSlabPool>();

/** Initialises the region once per memory (or attaches to it) and checks the class table against wasm's. */
function attachPool(wasm: WasmInstance): WasmSlabPool {
  const exports = wasm.exports as unknown as SlabExports;
  const { base, len } = wasm.map.slab;
  const status = exports.slab_init(base, len);
  if (status < 0) {
    const why = status === SLAB_ERR_TOO_SMALL ? 'region too small'
      : status === SLAB_ERR_MISMATCH ? 'memory already initialised with another slab region'
      : status === SLAB_ERR_TIMEOUT ? 'another thread did not finish initialising' : `status ${status}`;
    throw new SlabError('SKIFF_SLAB_INIT', `slab: cannot initialise [${base}, +${len}): ${why}`);
  }
  if (exports.slab_class_count() !== SLAB_CLASS_COUNT || SLAB_CLASSES.some((s, c) => exports.slab_class_size(c) !== s)) {
    throw new SlabError('SKIFF_SLAB_INIT', 'slab: wasm size classes differ from SLAB_CLASSES');
  }
  return new WasmSlabPool(exports);
}

/** The slab pool as seen from `wasm`'s thread. */
export function slabPool(wasm: WasmInstance): SlabPool {
  let p = pools.get(wasm);
  if (!p) { p = attachPool(wasm); pools.set(wasm, p); }
  return p;
}

/** Counters per class (index = class), for /stats and tests. */
export function slabStats(wasm: WasmInstance): SlabClassStats[] {
  const e = (slabPool(wasm) as WasmSlabPool).exports;
  return SLAB_CLASSES.map((size, c) => ({
    size,
    leased: e.slab_leased(c),
    carved: e.slab_carved(c) >>> 0,
    exhaustedTotal: e.slab_exhausted_total(c) >>> 0,
  }));
}

/** Region geometry: chunks of 256 KiB in all, and carved so far. */
export function slabChunks(wasm: WasmInstance): { total: number; used: number } {
  const e = (slabPool(wasm) as WasmSlabPool).exports;
  return { total: e.slab_chunk_count() >>> 0, used: e.slab_chunks_used() >>> 0 };
}

/**
 * Free-list length of class `c` (walks at most `limit` links; -1 past it). Only meaningful while no thread
 * leases or releases: for checks after a quiescent point, e.g. that no slab was lost.
 */
export function slabFreeLength(wasm: WasmInstance, c: number, limit = 1 << 20): number {
  return (slabPool(wasm) as WasmSlabPool).exports.slab_free_length(c, limit);
}
