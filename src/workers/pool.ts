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

/** Makes a piscina with the pool's options and events wired; the pool makes a new one after an idle exit. */
type PiscinaFactory = () => Piscina;

class PiscinaWorkerPool implements WorkerPool {
  private destroyed = false;
  private inFlight = 0;
  private lastSettled = 0;
  private reaper: NodeJS.Timeout | undefined;
  /** Pools ended after an idle period, still terminating their threads. */
  private readonly ending = new Set<Promise<void>>();

  /**
   * `idleExitMs`: with the pool lazy (minThreads 0), when no task has run for this long every worker ends at
   * once and the next task starts a fresh one. piscina's own per-worker idleTimeout is kept too, but it can be
   * lost: in its atomics mode a result read synchronously inside postTask's tick has its idle timer cleared by
   * the microtask postTask queued, so a worker that finished that way would never exit.
   */
  constructor(readonly threads: number, private piscina: Piscina | undefined, private readonly make: PiscinaFactory,
    private readonly slots: ThreadSlots, private readonly live: ReadonlySet<number>, private readonly idleExitMs: number) {}

  get pending(): number { return this.inFlight; }

  get liveThreads(): number { return this.live.size; }

  async run<T>(kind: string, payload: unknown): Promise<T> {
    if (this.destroyed) throw new WorkerPoolError('SKIFF_WORKER_POOL_DESTROYED', `worker pool destroyed; task '${kind}' not run`);
    const task: TaskEnvelope = { kind, payload };
    this.piscina ??= this.make();
    this.inFlight++;
    let outcome: TaskOutcome;
    try {
      outcome = await this.piscina.run(task);
    } catch (err) {
      throw new WorkerPoolError(this.destroyed ? 'SKIFF_WORKER_POOL_DESTROYED' : 'SKIFF_WORKER_CRASHED',
        `task '${kind}': ${(err as Error)?.message ?? err}`, { cause: err });
    } finally {
      this.inFlight--;
      this.settled();
    }
    if (!outcome.ok) throw new WorkerPoolError(outcome.code, outcome.message);
    return outcome.value as T;
  }

  private settled(): void {
    if (this.idleExitMs === Infinity) return;
    this.lastSettled = Date.now();
    if (this.inFlight === 0 && this.reaper === undefined) this.armReaper(this.idleExitMs);
  }

  private armReaper(ms: number): void {
    this.reaper = setTimeout(() => {
      this.reaper = undefined;
      if (this.destroyed || this.inFlight > 0 || this.piscina === undefined) return;
      const idleFor = Date.now() - this.lastSettled;
      if (idleFor < this.idleExitMs) { this.armReaper(this.idleExitMs - idleFor); return; }
      const old = this.piscina;
      this.piscina = undefined;
      const ended = old.destroy().catch((err: unknown) => log.warn(`ending idle workers: ${(err as Error)?.message ?? err}`));
      this.ending.add(ended);
      void ended.then(() => this.ending.delete(ended));
    }, ms);
    this.reaper.unref();
  }

  async destroy(): Promise<void> {
    if (this.destroyed) return;
    this.destroyed = true;
    if (this.reaper !== undefined) clearTimeout(this.reaper);
    await Promise.all([this.piscina?.destroy(), ...this.ending]);
    this.slots.releaseAllBut(new Set());
  }

  /** Used by tests: thread indices held now. */
  heldThreadIndices(): number { return this.slots.held(); }

  /** Used by tests: the live worker threads. */
  workerThreads(): readonly import('node:worker_threads').Worker[] { return this.piscina?.threads ?? []; }
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
  const minThreads = options.minThreads ?? threads;
  if (!Number.isInteger(minThreads) || minThreads < 0 || minThreads > threads) {
    throw new WorkerPoolError('SKIFF_WORKER_POOL_CONFIG', `minThreads must be 0..${threads}, got ${minThreads}`);
  }
  const idleTimeoutMs = options.idleTimeoutMs ?? Infinity;
  if (!(idleTimeoutMs === Infinity || (Number.isInteger(idleTimeoutMs) && idleTimeoutMs >= 0))) {
    throw new WorkerPoolError('SKIFF_WORKER_POOL_CONFIG', `idleTimeoutMs must be a whole number of ms or Infinity, got ${idleTimeoutMs}`);
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
  // Every piscina made so far whose threads may still run (one, plus those ending after an idle exit).
  const generations = new Set<Piscina>();
  const threadIdsInUse = (): Set<number> => {
    const ids = new Set<number>();
    for (const g of generations) for (const t of g.threads) if (t.threadId > 0) ids.add(t.threadId);
    return ids;
  };
  // Live = ready (workerCreate) and still in a pool. piscina.threads also lists workers still starting, and its
  // event objects are new on every event, so keep the thread ids seen ready and drop those no pool holds any
  // more (after the current tick: piscina emits workerDestroy before it removes the worker).
  const live = new Set<number>();
  const onLive = options.onLiveThreadsChange;
  let reported = 0;
  const report = (): void => { if (live.size !== reported) { reported = live.size; onLive?.(reported); } };
  let startError: unknown;
  const onStartError = (err: unknown): void => { startError ??= err; };
  const make = (): Piscina => {
    const piscina = new Piscina({
      filename: WORKER_FILE,
      minThreads,
      maxThreads: threads,
      idleTimeout: idleTimeoutMs,
      concurrentTasksPerWorker: options.concurrentTasksPerWorker ?? 16,
      workerData: boot,
      // A worker runs short tasks that allocate little: V8's default young generation (up to 48 MiB each) would
      // only hold garbage resident. 6 MiB (2 MiB semi-spaces): peak RSS with one worker 111 -> 90 MiB under load, req/s unchanged within noise.
      resourceLimits: { maxYoungGenerationSizeMb: options.maxYoungGenerationSizeMb ?? WORKER_YOUNG_GENERATION_MB },
    });
    generations.add(piscina);
    if (generations.size === 1 && minThreads > 0) piscina.on('error', onStartError);
    // A worker error outside a task (e.g. a replacement failing to start): piscina drops that worker.
    else piscina.on('error', (err: unknown) => log.error(`worker error: ${(err as Error)?.message ?? err}`));
    piscina.on('workerCreate', (w: { id: number }) => { live.add(w.id); report(); });
    // A worker that ends gives its thread index back, so the replacement piscina starts can take it. A worker
    // that died already reads threadId -1 here, so free every index no live (or starting) worker holds. One
    // ended by an idle exit (piscina.destroy) is still listed here with its threadId: free again after the tick,
    // once piscina has dropped it, or its index stays held and the next generation's worker finds none free
    // ("no free thread index": with --concurrency 1 every request routed after the idle exit waited forever).
    piscina.on('workerDestroy', () => {
      slots.releaseAllBut(threadIdsInUse());
      queueMicrotask(() => {
        if (piscina.threads.length === 0 && piscina !== current()) generations.delete(piscina);
        const inUse = threadIdsInUse();
        slots.releaseAllBut(inUse);
        for (const id of live) if (!inUse.has(id)) live.delete(id);
        report();
      });
    });
    return piscina;
  };
  let pool: PiscinaWorkerPool | undefined;
  const current = (): Piscina | undefined => (pool as unknown as { piscina?: Piscina } | undefined)?.piscina;
  const first = make();
  try {
    if (minThreads > 0) await waitForWorkers(new Int32Array(ready), minThreads, options.startTimeoutMs ?? 20_000, () => startError);
  } catch (err) {
    await first.destroy();
    throw err;
  }
  if (minThreads > 0) {
    first.off('error', onStartError);
    first.on('error', (err: unknown) => log.error(`worker error: ${(err as Error)?.message ?? err}`));
  }
  pool = new PiscinaWorkerPool(threads, first, make, slots, live, minThreads === 0 ? idleTimeoutMs : Infinity);
  return pool;
}
