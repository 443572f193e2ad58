/**
 * The map of Skiff's one shared WebAssembly.Memory. The module's static data sits below `heap_base`;
 * everything above it is carved here, by JS, once, so that every thread sees the same regions.
 * The memory never grows (initial = maximum, see asconfig.json), so views stay valid for the process.
 */
export const PAGE = 65536;
/** Must equal asconfig.json options.initialMemory / maximumMemory. */
export const MEMORY_PAGES = 1024;
/** Main thread is thread 0; workers are 1..MAX_THREADS-1. */
export const MAX_THREADS = 17;
export const SCRATCH_BYTES = 256 * 1024;
export const ROUTE_ARENA_BYTES = 16 * 1024 * 1024;
export const ROUTE_CACHE_BYTES = 2 * 1024 * 1024;

export interface Region { readonly base: number; readonly len: number }

export interface MemoryMap {
  readonly heapBase: number;
  /** Scratch region per thread index. */
  readonly scratch: readonly Region[];
  /** Compiled route tables; allocated by the main thread only, read by every thread. */
  readonly routeArena: Region;
  /** The shared route cache (lock-free entries, see assembly/router/cache.ts). */
  readonly routeCache: Region;
  /** The slab pool: everything that is left. */
  readonly slab: Region;
}

const alignUp = (n: number, a: number): number => Math.ceil(n / a) * a;

export function createSharedMemory(): WebAssembly.Memory {
  return new WebAssembly.Memory({ initial: MEMORY_PAGES, maximum: MEMORY_PAGES, shared: true });
}

/** Lays the regions out above the module's heap base. Pure: every thread computes the same map. */
export function memoryMap(heapBase: number): MemoryMap {
  let at = alignUp(heapBase, PAGE);
  const take = (len: number): Region => { const r = { base: at, len }; at = alignUp(at + len, 64); return r; };
  const scratch: Region[] = [];
  for (let i = 0; i < MAX_THREADS; i++) scratch.push(take(SCRATCH_BYTES));
  const routeArena = take(ROUTE_ARENA_BYTES);
  const routeCache = take(ROUTE_CACHE_BYTES);
  at = alignUp(at, PAGE);
  const slab = { base: at, len: MEMORY_PAGES * PAGE - at };
  return { heapBase, scratch, routeArena, routeCache, slab };
}
