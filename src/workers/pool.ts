/**
 * The worker pool (piscina): `threads` workers, each with its own wasm instance over the process's shared
 * memory (thread indices 1..threads). The main thread initialises the slab region before workers start.
 * Tasks are batches dispatched by kind to the handlers listed in src/workers/handlers.ts.
 */
import { fileURLToPath, pathToFileURL } from 'node:url';
import { isAbsolute } from 'node:path';
import { Piscina } from 'piscina';
import { SkiffError } from '../common/errors.js';
import { logger } from '../common/logger.js';
import { compileModule, instantiate } from '../wasm/module.js';
import { slabPool } from '../wasm/slab.js';
import { MAX_THREADS } from '../wasm/memory.js';
import { ThreadSlots } from './thread_slots.js';
import type { TaskEnvelope, TaskOutcome, WorkerBootData, WorkerPool, WorkerPoolOptions } from './types.js';

export type { WorkerPool, WorkerPoolOptions, TaskHandler, WorkerContext } from './types.js';

const log = logger('workers');
/** Young-generation cap per worker thread, MiB. */
export const WORKER_YOUNG_GENERATION_MB = 6;
const WORKER_FILE = fileURLToPath(new URL('./worker.js', import.meta.url));

/** Codes: SKIFF_WORKER_POOL_CONFIG, SKIFF_WORKER_START, SKIFF_WORKER_POOL_DESTROYED, SKIFF_WORKER_UNKNOWN_TASK,
 *  SKIFF_WORKER_TASK_FAILED (a handler threw), SKIFF_WORKER_CRASHED (the thread died under the task). */
export class WorkerPoolError extends SkiffError {
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(code, message, 'internal', false, options);
    this.name = 'WorkerPoolError';
  }
}

const toModuleSpecifier = (s: string): string => (isAbsolute(s) ? pathToFileURL(s).href : s);

class PiscinaWorkerPool implements WorkerPool {
  private destroyed = false;
  private inFlight = 0;

  constructor(readonly threads: number, private readonly piscina: Piscina, private readonly slots: ThreadSlots) {}

  get pending(): number { return this.inFlight; }

  async run<T>(kind: string, payload: unknown): Promise<T> {
    if (this.destroyed) throw new WorkerPoolError('SKIFF_WORKER_POOL_DESTROYED', `worker pool destroyed; task '${kind}' not run`);
    const task: TaskEnvelope = { kind, payload };
    this.inFlight++;
    let outcome: TaskOutcome;
    try {
      outcome = await this.piscina.run(task);
    } catch (err) {
      throw new WorkerPoolError(this.destroyed ? 'SKIFF_WORKER_POOL_DESTROYED' : 'SKIFF_WORKER_CRASHED',
        `task '${kind}': ${(err as Error)?.message ?? err}`, { cause: err });
    } finally {
      this.inFlight--;
    }
    if (!outcome.ok) throw new WorkerPoolError(outcome.code, outcome.message);
    return outcome.value as T;
  }

  async destroy(): Promise<void> {
    if (this.destroyed) return;
    this.destroyed = true;
    await this.piscina.destroy();
    this.slots.releaseAllBut(new Set());
  }

  /** Used by tests: thread indices held now. */
  heldThreadIndices(): number { return this.slots.held(); }

  /** Used by tests: the live worker threads. */
  workerThreads(): readonly import('node:worker_threads').Worker[] { return this.piscina.threads; }
}

// Atomics.waitAsync exists in Node 16+; the es2022 lib this project compiles against does not declare it.
const waitAsync = (Atomics as unknown as {
  waitAsync(a: Int32Array, i: number, v: number, t: number): { async: boolean; value: Promise<string> | string };
}).waitAsync;

/** Waits (bounded) until every worker has started, or one failed. */
async function waitForWorkers(ready: Int32Array, threads: number, timeoutMs: number, failure: () => unknown): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const started = Atomics.load(ready, 0);
    if (Atomics.load(ready, 1) > 0 || failure()) {
      throw new WorkerPoolError('SKIFF_WORKER_START', 'a worker failed to start', { cause: failure() });
    }
    if (started >= threads) return;
    const left = deadline - Date.now();
    if (left <= 0) throw new WorkerPoolError('SKIFF_WORKER_START', `${started}/${threads} workers started within ${timeoutMs} ms`);
    const w = waitAsync(ready, 0, started, Math.min(left, 50));
    if (w.async) await w.value;
  }
}

export async function createWorkerPool(options: WorkerPoolOptions): Promise<WorkerPool> {
  const { threads, memory } = options;
  if (!Number.isInteger(threads) || threads < 1 || threads > MAX_THREADS - 1) {
    throw new WorkerPoolError('SKIFF_WORKER_POOL_CONFIG', `threads must be 1..${MAX_THREADS - 1}, got ${threads}`);
  }
  // The region is laid out once per memory, here on the main thread, before any worker attaches.
  // A thread-0 instance used for this call only (instances share nothing but the memory).
  slabPool(instantiate(memory, 0));
  const slots = ThreadSlots.create(threads);
  const ready = new SharedArrayBuffer(8);
  const boot: WorkerBootData = {
    memory, module: compileModule(), slots: slots.buffer, ready,
    handlerModules: (options.handlerModules ?? []).map(toModuleSpecifier),
  };
  const piscina = new Piscina({
    filename: WORKER_FILE,
    minThreads: threads,
    maxThreads: threads,
    idleTimeout: Infinity,
    concurrentTasksPerWorker: options.concurrentTasksPerWorker ?? 16,
    workerData: boot,
    // A worker runs short tasks that allocate little: V8's default young generation (up to 48 MiB each) would
    // only hold garbage resident. 6 MiB (2 MiB semi-spaces): peak RSS with one worker 111 -> 90 MiB under load, req/s unchanged within noise.
    resourceLimits: { maxYoungGenerationSizeMb: options.maxYoungGenerationSizeMb ?? WORKER_YOUNG_GENERATION_MB },
  });
  let startError: unknown;
  const onStartError = (err: unknown): void => { startError ??= err; };
  piscina.on('error', onStartError);
  // A worker that ends gives its thread index back, so the replacement piscina starts can take it. An ended
  // worker's threadId already reads -1 here, so free every index no live (or starting) worker holds.
  piscina.on('workerDestroy', () => {
    slots.releaseAllBut(new Set(piscina.threads.map((t) => t.threadId).filter((id) => id > 0)));
  });
  try {
    await waitForWorkers(new Int32Array(ready), threads, options.startTimeoutMs ?? 20_000, () => startError);
  } catch (err) {
    await piscina.destroy();
    throw err;
  }
  piscina.off('error', onStartError);
  // A worker error outside a task (e.g. a replacement failing to start): piscina drops that worker.
  piscina.on('error', (err: unknown) => log.error(`worker error: ${(err as Error)?.message ?? err}`));
  return new PiscinaWorkerPool(threads, piscina, slots);
}
