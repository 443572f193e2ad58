/**
 * Route resolution batched per event-loop turn. `resolve` calls made during one turn are collected; at the end
 * of the turn (setImmediate) they are matched inline on the main thread when fewer than `minBatch` wait (a
 * worker hop costs the main thread more than a few wasm matches, DESIGN.md §2), else handed to the worker pool
 * in batches of at most `maxBatch` (record pointers in a slab, see route_offload.ts). Callbacks run exactly
 * once each, in submission order across batches. A failed hand-off (no slab, worker error) falls back to
 * matching inline, so a request never waits on a broken worker.
 */
import { SkiffError } from '../common/errors.js';
import { logger } from '../common/logger.js';
import type { RequestHead } from '../types/http.js';
import type { RouteEntry, RouteResolver, RouteTable } from '../types/router.js';
import { mainInstance } from '../wasm/runtime.js';
import type { WasmInstance } from '../wasm/module.js';
import { slabPool } from '../wasm/slab.js';
import { routeBatchBytes, type RouteMatchPayload, type RouteOffloadBinding, type RouteTableDescriptor } from './route_offload.js';
import { routerOffload } from './router_binding.js';
import type { WorkerPool } from './types.js';

const log = logger('workers');

export interface PooledRouteResolverOptions {
  /** Fewest requests in a turn worth a hand-off; fewer are matched inline. Default 8. */
  readonly minBatch?: number;
  /** Most requests per task; a larger turn becomes several tasks in flight. Default 256. */
  readonly maxBatch?: number;
  /** The router's halves of the offload; default: src/router through router_binding.ts. */
  readonly binding?: RouteOffloadBinding;
  /** The main thread's instance over the pool's memory (for the batch slab). Default mainInstance(). */
  readonly wasm?: WasmInstance;
}

/** Counters, for stats and tests. */
export interface PooledRouteResolverStats {
  /** Requests matched inline / by a worker; fallbacks counts inline matches after a failed hand-off. */
  inline: number;
  offloaded: number;
  fallbacks: number;
  /** Tasks sent. */
  tasks: number;
}

type Callback = (route: RouteEntry | null) => void;

interface Batch {
  /** The table current when the batch was cut: a swap does not change answers already under way. */
  readonly table: RouteTable;
  readonly heads: RequestHead[];
  readonly callbacks: Callback[];
  routes: (RouteEntry | null)[] | null;
}

export class PooledRouteResolver implements RouteResolver {
  readonly minBatch: number;
  readonly maxBatch: number;
  readonly stats: PooledRouteResolverStats = { inline: 0, offloaded: 0, fallbacks: 0, tasks: 0 };
  private readonly binding: RouteOffloadBinding;
  private readonly wasm: WasmInstance;
  private table: RouteTable;
  private descriptor: RouteTableDescriptor | undefined;
  private waitingHeads: RequestHead[] = [];
  private waitingCallbacks: Callback[] = [];
  private scheduled = false;
  /** Batches not yet delivered, oldest first: callbacks leave in this order. */
  private readonly queue: Batch[] = [];

  constructor(table: RouteTable, readonly pool: WorkerPool, options: PooledRouteResolverOptions = {}) {
    this.table = table;
    this.minBatch = options.minBatch ?? 8;
    this.maxBatch = options.maxBatch ?? 256;
    if (!(Number.isInteger(this.minBatch) && this.minBatch >= 1 && Number.isInteger(this.maxBatch) && this.maxBatch >= 1)) {
      throw new SkiffError('SKIFF_ROUTE_OFFLOAD_CONFIG', `minBatch and maxBatch must be positive integers (${this.minBatch}, ${this.maxBatch})`, 'config');
    }
    this.binding = options.binding ?? routerOffload;
    this.wasm = options.wasm ?? mainInstance();
  }

  /** The table later turns use (as InlineRouteResolver.setTable). */
  setTable(table: RouteTable): void {
    this.table = table;
    this.descriptor = undefined;
  }

  get current(): RouteTable {
    return this.table;
  }

  resolve(head: RequestHead, cb: Callback): void {
    this.waitingHeads.push(head);
    this.waitingCallbacks.push(cb);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.flush);
    }
  }

  /** End of the turn: match inline or hand the turn's requests over in batches. */
  private readonly flush = (): void => {
    this.scheduled = false;
    const heads = this.waitingHeads;
    const callbacks = this.waitingCallbacks;
    this.waitingHeads = [];
    this.waitingCallbacks = [];
    if (heads.length < this.minBatch) {
      this.queue.push({ table: this.table, heads, callbacks, routes: this.matchInline(this.table, heads) });
      this.stats.inline += heads.length;
    } else {
      for (let at = 0; at < heads.length; at += this.maxBatch) {
        const batch: Batch = { table: this.table, heads: heads.slice(at, at + this.maxBatch), callbacks: callbacks.slice(at, at + this.maxBatch), routes: null };
        this.queue.push(batch);
        this.offload(batch);
      }
    }
    this.deliver();
  };

  /**
   * A head can go stale while it waits for the end of the turn: its client closed, the connection returned the
   * head record's slab, and another connection may be reusing it. The request is over by then (its callback is
   * ignored), but matching the stale record can trap in wasm (memory access out of bounds), which must cost that
   * one answer (null), never the process.
   */
  private matchInline(table: RouteTable, heads: readonly RequestHead[]): (RouteEntry | null)[] {
    const routes: (RouteEntry | null)[] = new Array(heads.length);
    for (let i = 0; i < heads.length; i++) {
      try {
        routes[i] = table.match(heads[i]);
      } catch (err) {
        log.debug(`route match failed (a request whose connection closed meanwhile?): ${(err as Error)?.message ?? String(err)}`);
        routes[i] = null;
      }
    }
    return routes;
  }

  private offload(batch: Batch): void {
    const n = batch.heads.length;
    const slab = slabPool(this.wasm);
    const ptr = slab.lease(routeBatchBytes(n));
    if (ptr === 0) { this.fallBack(batch, 'no slab for the batch'); return; }
    const view = this.wasm.view;
    for (let i = 0; i < n; i++) view.setInt32(ptr + 4 * i, batch.heads[i].recordPtr, true);
    let payload: RouteMatchPayload;
    try {
      // Described once per table (the descriptor is plain data, cloned into every task message).
      if (batch.table === this.table) this.descriptor ??= this.binding.describe(batch.table);
      payload = { table: batch.table === this.table ? this.descriptor! : this.binding.describe(batch.table), batch: ptr, n };
    } catch (err) {
      slab.release(ptr);
      this.fallBack(batch, (err as Error).message);
      return;
    }
    this.stats.tasks++;
    this.pool.run<number>(this.binding.taskKind, payload).then(
      () => {
        try {
          const routes: (RouteEntry | null)[] = new Array(n);
          for (let i = 0; i < n; i++) {
            const idx = view.getInt32(ptr + 4 * (n + i), true);
            routes[i] = idx >= 0 ? this.binding.entryAt(batch.table, idx) : null;
          }
          batch.routes = routes;
          this.stats.offloaded += n;
        } catch (err) {
          this.fallBack(batch, (err as Error)?.message ?? String(err));
        } finally {
          slab.release(ptr);
        }
        this.deliver();
      },
      (err: unknown) => {
        slab.release(ptr);
        this.fallBack(batch, (err as Error)?.message ?? String(err));
        this.deliver();
      },
    );
  }

  private fallBack(batch: Batch, why: string): void {
    log.warn(`route offload failed (${why}); matching ${batch.heads.length} requests inline`);
    batch.routes = this.matchInline(batch.table, batch.heads);
    this.stats.fallbacks += batch.heads.length;
  }

  /** Runs the callbacks of every finished batch at the head of the queue, in submission order. */
  private deliver(): void {
    let firstError: unknown;
    let failed = false;
    while (this.queue.length > 0 && this.queue[0].routes !== null) {
      const batch = this.queue.shift()!;
      const routes = batch.routes!;
      for (let i = 0; i < batch.callbacks.length; i++) {
        // One throwing callback must not starve the others; the first error is rethrown afterwards.
        try { batch.callbacks[i](routes[i]); } catch (err) { if (!failed) { failed = true; firstError = err; } }
      }
    }
    if (failed) throw firstError;
  }
}
