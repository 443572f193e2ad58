// The main wasm instance for the stream tests, and a counter of slab leases/releases on its pool.
import { mainInstance } from '../../../../src/wasm/runtime.js';
import { slabPool } from '../../../../src/wasm/slab.js';
import type { WasmInstance } from '../../../../src/wasm/module.js';

export const wasm: WasmInstance = mainInstance();

/** Counts slab leases and releases on the main instance's pool while installed. */
export function countSlabs(): { leased: number; released: number; outstanding(): number; restore(): void } {
  const pool = slabPool(wasm) as unknown as { lease(n: number): number; release(p: number): void };
  const lease = pool.lease;
  const release = pool.release;
  const live = new Set<number>();
  const c = {
    leased: 0, released: 0,
    outstanding: () => live.size,
    restore: () => { pool.lease = lease; pool.release = release; },
  };
  pool.lease = function (n: number): number {
    const p = lease.call(this, n);
    if (p !== 0) { c.leased++; live.add(p); }
    return p;
  };
  pool.release = function (p: number): void {
    c.released++;
    if (!live.delete(p)) throw new Error(`slab ${p} released but not leased while counting (or released twice)`);
    release.call(this, p);
  };
  return c;
}

