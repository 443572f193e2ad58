/**
 * The worker pool's contracts. Threads: `WorkerPool` lives on the main thread; `TaskHandler`s run in worker
 * threads, each of which has its own wasm instance over the process's one shared memory.
 *
 * Tasks are batches: a hand-off costs the main thread 12-44 µs (DESIGN.md §2), so a handler takes many items
 * per call (e.g. a list of record pointers in shared memory) and never one request per task.
 */
import type { WasmInstance } from '../wasm/module.js';
import type { SlabPool } from '../wasm/slab.js';

/** What a handler sees in its worker thread. */
export interface WorkerContext {
  /** 1..threads: this worker's thread index (its scratch region). */
  readonly threadIndex: number;
  readonly wasm: WasmInstance;
  readonly slab: SlabPool;
}

/** A kind of task a worker can run. `run` gets the payload structured-cloned; its result is cloned back. */
export interface TaskHandler<P = any, R = unknown> {
  readonly kind: string;
  run(ctx: WorkerContext, payload: P): R;
}

/** A module listed in `handlerModules` exports `handlers` (added after the built-in list, kinds unique). */
export interface HandlerModule {
  readonly handlers: readonly TaskHandler[];
}

export interface WorkerPoolOptions {
  /** Worker threads, 1..16 (thread indices 1..threads). */
  readonly threads: number;
  /** The process's shared memory (src/wasm/memory.ts createSharedMemory). */
  readonly memory: WebAssembly.Memory;
  /** Tasks a worker may have queued at once (several batches in flight). Default 16. */
  readonly concurrentTasksPerWorker?: number;
  /** Extra handler modules (file URLs or paths), e.g. for tests and benchmarks. */
  readonly handlerModules?: readonly string[];
  /** How long start-up may take before createWorkerPool fails. Default 20 000 ms. */
  readonly startTimeoutMs?: number;
  /** Young-generation cap per worker, MiB (worker resourceLimits). Default WORKER_YOUNG_GENERATION_MB (6). */
  readonly maxYoungGenerationSizeMb?: number;
  /**
   * Workers kept running even when idle, 0..threads. Default `threads` (all started before createWorkerPool
   * resolves). Below `threads`, the rest start on demand when a task finds every worker busy or none running,
   * and exit after `idleTimeoutMs` without a task: a lightly loaded process then holds no idle worker's memory.
   */
  readonly minThreads?: number;
  /** How long a worker above `minThreads` may stay idle before it exits, ms. Default Infinity (never). */
  readonly idleTimeoutMs?: number;
  /** Called with the number of live (started, not yet ended) workers whenever it changes. */
  readonly onLiveThreadsChange?: (live: number) => void;
}

export interface WorkerPool {
  readonly threads: number;
  /** Runs the handler registered for `kind` in some worker. Rejects with a SkiffError (stable code). */
  run<T>(kind: string, payload: unknown): Promise<T>;
  /** Tasks submitted and not yet settled. */
  readonly pending: number;
  /** Worker threads running now (0..threads; fewer than `threads` while the pool follows the load). */
  readonly liveThreads: number;
  /** Ends every worker thread; later `run` calls reject with SKIFF_WORKER_POOL_DESTROYED. */
  destroy(): Promise<void>;
}

/** What the main thread posts per task. */
export interface TaskEnvelope {
  readonly kind: string;
  readonly payload: unknown;
}

/** What a worker answers: errors as data, because a thrown error loses its `code` crossing threads. */
export type TaskOutcome =
  | { readonly ok: true; readonly value: unknown }
  | { readonly ok: false; readonly code: string; readonly message: string };

/** workerData of every worker. */
export interface WorkerBootData {
  readonly memory: WebAssembly.Memory;
  /** The module the main thread compiled (workers instantiate it instead of compiling their own). */
  readonly module: WebAssembly.Module;
  /** Int32 per thread index (0 unused): the worker_threads threadId holding it, 0 when free. */
  readonly slots: SharedArrayBuffer;
  /** Int32[0]: workers started; Int32[1]: workers that failed to start. Notified on change. */
  readonly ready: SharedArrayBuffer;
  readonly handlerModules: readonly string[];
}
