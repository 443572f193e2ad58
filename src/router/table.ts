/**
 * A compiled route table as the main thread holds it (RouteTable), and the plain-data descriptor a worker
 * thread receives to match on the same table over the same shared memory (attachTable).
 */
import { SkiffError } from '../common/errors.js';
import type { RequestHead } from '../types/http.js';
import type { RouteEntry, RouteTable } from '../types/router.js';
import type { WasmInstance } from '../wasm/module.js';
import { RT_MAGIC, RT_MAGIC_VALUE, RT_VERSION, ROUTER_SCRATCH_BYTES, RS_BATCH, RS_BATCH_BYTES } from '../wasm/layout.js';
import type { RouteArena } from './arena.js';
import { activateRegexes, compileFullMatch } from './regex.js';

/** How long a retired table stays readable by other threads before its memory is reused. */
export const DEFAULT_RETIRE_GRACE_MS = 60_000;

/** What a worker needs to match on a table (structured-clone safe). */
export interface RouteTableDescriptor {
  readonly handle: number;
  readonly version: number;
  readonly regexes: string[];
}

interface RouterExports {
  route_match(table: number, rec: number): number;
  route_match_nocache(table: number, rec: number): number;
  route_match_batch(table: number, recs: number, n: number, out: number): void;
  route_select_vhost(table: number, rec: number): number;
}

export class CompiledRouteTable implements RouteTable {
  private retired = false;
  private readonly x: RouterExports;

  constructor(
    readonly wasm: WasmInstance,
    /** Absolute address of the table blob in the shared memory. */
    readonly handle: number,
    readonly version: number,
    private readonly entries: readonly RouteEntry[],
    readonly regexPatterns: readonly string[],
    private readonly regexes: readonly RegExp[],
    private readonly arena: RouteArena,
  ) {
    this.x = wasm.exports as unknown as RouterExports;
  }

  get routeCount(): number {
    return this.entries.length;
  }

  match(head: RequestHead): RouteEntry | null {
    const i = this.matchIndex(head.recordPtr);
    return i < 0 ? null : this.entryAt(i);
  }

  /** Global route index for the head record at `recPtr` (through the route cache), or -1. */
  matchIndex(recPtr: number): number {
    activateRegexes(this.wasm.memory, this.regexes);
    return this.x.route_match(this.handle, recPtr);
  }

  /** As matchIndex, bypassing the route cache. */
  matchIndexUncached(recPtr: number): number {
    activateRegexes(this.wasm.memory, this.regexes);
    return this.x.route_match_nocache(this.handle, recPtr);
  }

  /** Index of the virtual host the record's authority selects, or -1. */
  virtualHostIndex(recPtr: number): number {
    return this.x.route_select_vhost(this.handle, recPtr);
  }

  entryAt(index: number): RouteEntry {
    const e = this.entries[index];
    if (e === undefined) throw new RangeError(`route index ${index} out of range (${this.entries.length} routes)`);
    return e;
  }

  /** Releases the table's memory after `graceMs` (threads matching on it must stop within that time). */
  retire(graceMs = DEFAULT_RETIRE_GRACE_MS): void {
    if (this.retired) return;
    this.retired = true;
    this.arena.retire(this.handle, graceMs);
  }
}

export function tableDescriptor(table: CompiledRouteTable): RouteTableDescriptor {
  return { handle: table.handle, version: table.version, regexes: [...table.regexPatterns] };
}

export interface AttachedRouteTable {
  readonly version: number;
  /** Route index (or -1) for each head record address. */
  matchBatch(recPtrs: Int32Array): Int32Array;
  match(recPtr: number): number;
  matchUncached(recPtr: number): number;
}

export class StaleRouteTableError extends SkiffError {
  constructor(handle: number, version: number) {
    super('SKIFF_ROUTE_TABLE_STALE', `no route table version ${version} at ${handle} (released or never compiled)`, 'internal');
  }
}

/** Attaches this thread (`wasm`: its own instance over the shared memory) to a table the main thread compiled. */
export function attachTable(wasm: WasmInstance, d: RouteTableDescriptor): AttachedRouteTable {
  // Checked on attach and before every call: a table released after its grace period (and its memory
  // reused) must fail loudly rather than match on someone else's bytes.
  const check = (): void => {
    if (wasm.view.getInt32(d.handle + RT_MAGIC, true) !== RT_MAGIC_VALUE || wasm.view.getUint32(d.handle + RT_VERSION, true) !== d.version) {
      throw new StaleRouteTableError(d.handle, d.version);
    }
  };
  check();
  const regexes = d.regexes.map((p, i) => compileFullMatch(p, `regexes[${i}]`));
  const x = wasm.exports as unknown as RouterExports;
  const batchBase = wasm.scratchBase + wasm.scratchLen - ROUTER_SCRATCH_BYTES + RS_BATCH;
  const chunk = RS_BATCH_BYTES / 8;
  const buffer = wasm.memory.buffer as unknown as ArrayBuffer;
  const inView = new Uint32Array(buffer, batchBase, chunk);
  const outView = new Int32Array(buffer, batchBase + chunk * 4, chunk);
  return {
    version: d.version,
    matchBatch(recPtrs: Int32Array): Int32Array {
      check();
      activateRegexes(wasm.memory, regexes);
      const out = new Int32Array(recPtrs.length);
      for (let from = 0; from < recPtrs.length; from += chunk) {
        const n = Math.min(chunk, recPtrs.length - from);
        inView.set(recPtrs.subarray(from, from + n));
        x.route_match_batch(d.handle, batchBase, n, batchBase + chunk * 4);
        out.set(outView.subarray(0, n), from);
      }
      return out;
    },
    match(recPtr: number): number {
      check();
      activateRegexes(wasm.memory, regexes);
      return x.route_match(d.handle, recPtr);
    },
    matchUncached(recPtr: number): number {
      check();
      activateRegexes(wasm.memory, regexes);
      return x.route_match_nocache(d.handle, recPtr);
    },
  };
}
