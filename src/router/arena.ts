/**
 * The route arena allocator: carves compiled route tables out of the shared memory's routeArena region.
 * Main thread only (tables are compiled there). First fit over an address-ordered free list with
 * coalescing. A replaced table is not freed at once: worker threads may still be matching on it, so it is
 * retired with a grace period and reclaimed after the deadline, on the next allocation or reclaim().
 */
import { SkiffError } from '../common/errors.js';
import type { WasmInstance } from '../wasm/module.js';

interface Block { at: number; len: number }
interface Retired { at: number; deadline: number }

const ALIGN = 64;

export class RouteArenaFullError extends SkiffError {
  constructor(wanted: number, free: number) {
    super('SKIFF_ROUTE_ARENA_FULL', `route arena: no ${wanted}-byte block (${free} bytes free in total)`, 'internal');
  }
}

export class RouteArena {
  private readonly free: Block[];
  private readonly used = new Map<number, number>();
  private readonly retired: Retired[] = [];

  constructor(readonly base: number, readonly len: number, private readonly now: () => number = Date.now) {
    const start = Math.ceil(base / ALIGN) * ALIGN;
    this.free = [{ at: start, len: base + len - start }];
  }

  /** Bytes currently free (retired blocks not yet reclaimed count as used). */
  get freeBytes(): number {
    return this.free.reduce((n, b) => n + b.len, 0);
  }

  /** A block of at least `bytes`, 64-byte aligned; throws RouteArenaFullError. */
  allocate(bytes: number): number {
    this.reclaim();
    const want = Math.ceil(Math.max(bytes, 1) / ALIGN) * ALIGN;
    for (let i = 0; i < this.free.length; i++) {
      const b = this.free[i];
      if (b.len < want) continue;
      const at = b.at;
      if (b.len === want) this.free.splice(i, 1);
      else { b.at += want; b.len -= want; }
      this.used.set(at, want);
      return at;
    }
    throw new RouteArenaFullError(want, this.freeBytes);
  }

  /** Frees `at` once `graceMs` have passed (0 = on the next allocation or reclaim). */
  retire(at: number, graceMs: number): void {
    if (!this.used.has(at)) throw new SkiffError('SKIFF_ROUTE_ARENA_UNKNOWN', `route arena: retire of unknown block ${at}`);
    if (this.retired.some((r) => r.at === at)) return;
    this.retired.push({ at, deadline: this.now() + graceMs });
  }

  /** Frees every retired block whose grace period is over; returns how many. */
  reclaim(): number {
    const now = this.now();
    let n = 0;
    for (let i = this.retired.length - 1; i >= 0; i--) {
      if (this.retired[i].deadline > now) continue;
      this.release(this.retired[i].at);
      this.retired.splice(i, 1);
      n++;
    }
    return n;
  }

  private release(at: number): void {
    const len = this.used.get(at);
    if (len === undefined) return;
    this.used.delete(at);
    let i = 0;
    while (i < this.free.length && this.free[i].at < at) i++;
    this.free.splice(i, 0, { at, len });
    // Coalesce with the next block, then with the previous one.
    const cur = this.free[i];
    const next = this.free[i + 1];
    if (next && cur.at + cur.len === next.at) { cur.len += next.len; this.free.splice(i + 1, 1); }
    const prev = this.free[i - 1];
    if (prev && prev.at + prev.len === cur.at) { prev.len += cur.len; this.free.splice(i, 1); }
  }
}

const arenas = new WeakMap<WebAssembly.Memory, RouteArena>();

/** The one arena of `wasm`'s shared memory (main thread). */
export function routeArena(wasm: WasmInstance): RouteArena {
  let a = arenas.get(wasm.memory);
  if (!a) { a = new RouteArena(wasm.map.routeArena.base, wasm.map.routeArena.len); arenas.set(wasm.memory, a); }
  return a;
}
