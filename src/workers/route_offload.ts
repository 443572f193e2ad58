/**
 * How route matching is handed to a worker. The batch travels through shared memory: the main thread leases a
 * slab and writes `n` head-record pointers (i32) followed by `n` result slots (i32); the worker matches each
 * record and writes the route index (or -1) into its slot. The task message carries only the table's
 * descriptor (plain data) and the slab pointer.
 *
 *   slab: [ rec_0 | rec_1 | ... | rec_{n-1} | idx_0 | idx_1 | ... | idx_{n-1} ]   (i32 little-endian each)
 */
import type { RouteEntry, RouteTable } from '../types/router.js';
import type { WasmInstance } from '../wasm/module.js';
import type { TaskHandler } from './types.js';

/** What a worker needs to match with a table (the router's `tableDescriptor(table)`): plain, cloneable data. */
export interface RouteTableDescriptor {
  readonly handle: number;
  readonly version: number;
  readonly regexes: readonly string[];
}

/** A table attached in one worker thread (the router's `attachTable(wasm, descriptor)`). */
export interface AttachedRouteTable {
  matchBatch(recPtrs: Int32Array): Int32Array;
}

/** Main-thread and worker-thread halves of the router that the offload needs. */
export interface RouteOffloadBinding {
  /** Task kind whose handler matches a batch (see createRouteMatchHandler). */
  readonly taskKind: string;
  describe(table: RouteTable): RouteTableDescriptor;
  entryAt(table: RouteTable, index: number): RouteEntry;
}

export type RouteTableAttacher = (wasm: WasmInstance, descriptor: RouteTableDescriptor) => AttachedRouteTable;

export interface RouteMatchPayload {
  readonly table: RouteTableDescriptor;
  /** Slab holding the record pointers, then the result slots. */
  readonly batch: number;
  readonly n: number;
}

/** Bytes of the batch area for `n` requests. */
export const routeBatchBytes = (n: number): number => 8 * n;

/** Most attached tables a worker keeps (a new table version replaces the oldest). */
const ATTACHED_TABLES_KEPT = 4;

/**
 * The worker-side handler: attaches each table once per thread (cached by handle and version), matches the
 * batch over views of the shared memory, writes the indices next to the pointers. Returns how many matched.
 */
export function createRouteMatchHandler(kind: string, attach: RouteTableAttacher): TaskHandler<RouteMatchPayload, number> {
  const attached = new Map<string, AttachedRouteTable>();
  return {
    kind,
    run(ctx, { table, batch, n }) {
      const buffer = ctx.wasm.memory.buffer as unknown as ArrayBuffer;
      if (!(Number.isInteger(n) && n > 0 && batch > 0 && batch % 4 === 0 && batch + routeBatchBytes(n) <= buffer.byteLength)) {
        throw new RangeError(`route batch [${batch}, n=${n}) outside memory`);
      }
      const key = `${table.handle}:${table.version}`;
      let t = attached.get(key);
      if (!t) {
        t = attach(ctx.wasm, table);
        if (attached.size >= ATTACHED_TABLES_KEPT) attached.delete(attached.keys().next().value as string);
        attached.set(key, t);
      }
      const recs = new Int32Array(buffer, batch, n);
      const out = new Int32Array(buffer, batch + 4 * n, n);
      const indices = t.matchBatch(recs);
      let matched = 0;
      for (let i = 0; i < n; i++) {
        const idx = indices[i] ?? -1;
        out[i] = idx;
        if (idx >= 0) matched++;
      }
      return matched;
    },
  };
}
