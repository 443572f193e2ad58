/**
 * The xDS worker thread, main side: large discovery responses are decoded and checked there (offload_worker.ts)
 * while the main thread keeps serving traffic; small ones stay inline (a worker hop costs more than they do).
 *
 * One worker per AdsClient, started on the first large response (or with the client when asked), and stopped
 * after `idleStopMs` without work: an idle sidecar does not keep its ~30 MiB (its own copy of the Envoy protos,
 * 0.5-1 s of CPU to load). A large response that finds no worker starts one and waits for it rather than stall
 * traffic by decoding here; small responses never wait for it (they are decoded inline).
 * A job gets a copy of the response bytes (transferred; the main thread keeps its own for the resources it
 * stores) and the byte range of each resource to look at. Results come back in chunks, in order; `OffloadJob`
 * hands them to the reader resource by resource. If the worker dies, its jobs fail with SKIFF_XDS_OFFLOAD_FAILED and the caller decodes inline:
 * a crash costs speed, never a response. After MAX_CRASHES the client stays inline for good.
 */
import { Worker } from 'node:worker_threads';
import { SkiffError } from '../common/errors.js';
import { LOG_LEVELS, logger, type LogLevel } from '../common/logger.js';
import { markSighted, sightedExtensionNames } from '../config/istio.js';
import type { PackedError } from './resource_check.js';

const log = logger('xds');

/** Responses at least this big go to the worker (10 000 clusters are ~1.5 MB; a typical Istio EDS update is KBs). */
export const DEFAULT_OFFLOAD_MIN_BYTES = 256 * 1024;
/**
 * The worker is stopped after this long without a job: its ~30 MiB (protos, and the garbage of the last push
 * until its heap is collected) are not kept by an idle sidecar. Large pushes come in bursts (CDS then EDS, a
 * rollout) and are rare after start-up; the next one starts it again (0.5-1 s of the other core's time, which
 * that response waits for: decoding it here instead would stall traffic for as long).
 */
export const DEFAULT_IDLE_STOP_MS = 10_000;
const MAX_CRASHES = 3;
const WORKER_YOUNG_GENERATION_MB = 4;

/** What the caller passes to name a prepare function the worker can import: `module[name](body, path)`. */
export interface PreparerRef { readonly url: string; readonly name: string }

/** main -> worker */
export interface JobMessage {
  readonly id: number;
  readonly typeUrl: string;
  readonly buffer: ArrayBuffer;
  /** (response index, start, end) per resource to look at, byte offsets into `buffer`. */
  readonly items: Uint32Array;
  readonly validate: boolean;
  readonly preparer?: PreparerRef;
  /** Extension names the main thread already warned about (src/config/istio.ts: warned once per process). */
  readonly sighted: string[];
}

/** One resource's outcome (see resource_check.ts for the two stages). */
export interface ResultEntry {
  index: number;
  /** Read from the decoded resource (absent when it could not be decoded). */
  name?: string;
  warnings?: string[];
  prepared?: unknown;
  error?: PackedError;
  /** The error came from decoding (stage 1): it rejects the response whatever the resource's name. */
  decodeFailed?: boolean;
}

/** worker -> main */
export type WorkerMessage =
  | { op: 'ready' }
  | { op: 'chunk'; id: number; entries: ResultEntry[]; sighted?: string[] }
  | { op: 'done'; id: number; cpuMs: number }
  | { op: 'failed'; id: number; message: string };

export class OffloadFailedError extends SkiffError {
  constructor(message: string) {
    super('SKIFF_XDS_OFFLOAD_FAILED', message, 'internal', true);
    this.name = 'OffloadFailedError';
  }
}

/** One response's resources on the worker: results by response index, as they come. */
export class OffloadJob {
  private readonly results = new Map<number, ResultEntry>();
  private waiter: { index: number; resolve: () => void } | undefined;
  done = false;
  failure: OffloadFailedError | undefined;
  /** Worker CPU spent on it (ms), once done. */
  workerMs = 0;
  /** When the worker's first chunk came (performance.now()), for the timing log. */
  firstResultAt = 0;

  /** One flag per response index: 1 = sent to the worker. */
  private readonly sentFlags: Uint8Array;

  /** `items`: the (index, start, end) triples sent; `prepared`: whether the worker runs the type's preparer. */
  constructor(readonly id: number, items: Uint32Array, readonly prepared: boolean) {
    const count = items.length >= 3 ? items[items.length - 3]! + 1 : 0;
    this.sentFlags = new Uint8Array(count);
    for (let k = 0; k < items.length; k += 3) this.sentFlags[items[k]!] = 1;
  }

  /** Whether the resource at this response index went to the worker. */
  sent(index: number): boolean {
    return this.sentFlags[index] === 1;
  }

  /** The result for a response index, if it came (undefined while it has not, and for indices not sent). */
  get(index: number): ResultEntry | undefined {
    return this.results.get(index);
  }

  /** Resolves once the result for `index` is in, or the job is over (done, failed or cancelled). */
  wait(index: number): Promise<void> {
    if (this.results.has(index) || this.done) return Promise.resolve();
    return new Promise<void>((resolve) => { this.waiter = { index, resolve }; });
  }

  /** @internal */
  add(entries: ResultEntry[]): void {
    if (this.firstResultAt === 0) this.firstResultAt = performance.now();
    for (const e of entries) this.results.set(e.index, e);
    const w = this.waiter;
    if (w !== undefined && this.results.has(w.index)) { this.waiter = undefined; w.resolve(); }
  }

  /** @internal */
  finish(failure?: OffloadFailedError, workerMs = 0): void {
    this.done = true;
    this.failure = failure;
    this.workerMs = workerMs;
    const w = this.waiter;
    this.waiter = undefined;
    w?.resolve();
  }
}

export interface OffloadOptions {
  /** Responses of at least this many bytes are decoded on the worker (default 256 KiB); Infinity = never. */
  minBytes?: number;
  /** ms without a job after which the worker is stopped (default 60 s). */
  idleStopMs?: number;
}

/** SKIFF_XDS_OFFLOAD_IDLE_MS (benchmarks): ms, or `never`. */
function envIdleStopMs(): number | undefined {
  const v = process.env.SKIFF_XDS_OFFLOAD_IDLE_MS;
  if (v === undefined || v === '') return undefined;
  if (v === 'never') return Infinity;
  const n = Number(v);
  return Number.isFinite(n) && n >= 0 ? n : undefined;
}

/** The current log level, handed to the worker (the logger has one threshold per thread). */
function currentLogLevel(): LogLevel {
  const probe = logger('xds');
  return LOG_LEVELS.find((l) => probe.enabled(l)) ?? 'off';
}

export class XdsOffload {
  readonly minBytes: number;
  private readonly idleStopMs: number;
  private worker: Worker | undefined;
  /** Word 0: jobs with a smaller id are cancelled (read by the worker between resources). */
  private readonly control = new Int32Array(new SharedArrayBuffer(4));
  private readonly jobs = new Map<number, OffloadJob>();
  private nextId = 1;
  private crashes = 0;
  private idleTimer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(options: OffloadOptions = {}) {
    this.minBytes = options.minBytes ?? DEFAULT_OFFLOAD_MIN_BYTES;
    this.idleStopMs = options.idleStopMs ?? envIdleStopMs() ?? DEFAULT_IDLE_STOP_MS;
  }

  /** Whether a response of `bytes` goes to the worker. */
  wants(bytes: number): boolean {
    return !this.closed && this.crashes < MAX_CRASHES && bytes >= this.minBytes;
  }

  /** Whether the worker thread is running (tests, /stats). */
  running(): boolean {
    return this.worker !== undefined;
  }

  /** Starts the worker now (it loads the protos in the background); a no-op when it runs or offloading is off. */
  start(): void {
    if (this.worker !== undefined || this.closed || this.crashes >= MAX_CRASHES || !Number.isFinite(this.minBytes)) return;
    const worker = new Worker(new URL('./offload_worker.js', import.meta.url), {
      workerData: { control: this.control.buffer, logLevel: currentLogLevel() },
      // A small young generation: decoding leaves short-lived garbage only, and a large one stays in RSS after a push.
      resourceLimits: { maxYoungGenerationSizeMb: WORKER_YOUNG_GENERATION_MB },
    });
    // The worker never keeps the process alive: the client's close() (or process exit) ends it.
    worker.unref();
    worker.on('message', (msg: WorkerMessage) => this.onMessage(msg));
    worker.on('error', (err) => {
      if (this.worker !== worker) return;
      log.warn(`xDS worker thread failed: ${err.message}`);
      this.lost(worker, `xDS worker thread failed: ${err.message}`);
    });
    worker.on('exit', (code) => {
      if (this.worker !== worker) return;
      log.warn(`xDS worker thread exited (code ${code})`);
      this.lost(worker, `xDS worker thread exited (code ${code})`);
    });
    this.worker = worker;
    this.armIdleStop();
  }

  /**
   * Sends one response's resources to the worker. `bytes` is the whole response (copied: the caller keeps its own);
   * `items` holds (index, start, end) triples into it.
   */
  submit(typeUrl: string, bytes: Uint8Array, items: Uint32Array, validate: boolean, preparer?: PreparerRef): OffloadJob {
    this.start();
    const id = this.nextId++;
    const job = new OffloadJob(id, items, preparer !== undefined);
    if (this.worker === undefined) { job.finish(new OffloadFailedError('the xDS worker thread is not running')); return job; }
    const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
    const msg: JobMessage = { id, typeUrl, buffer, items, validate, sighted: sightedExtensionNames(), ...(preparer ? { preparer } : {}) };
    this.jobs.set(id, job);
    clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
    this.worker.postMessage(msg, [buffer, items.buffer as ArrayBuffer]);
    return job;
  }

  /** Drops every job submitted so far (their stream is gone): the worker skips what it has not done. */
  cancelAll(): void {
    Atomics.store(this.control, 0, this.nextId);
    for (const job of this.jobs.values()) job.finish();
    this.jobs.clear();
    this.armIdleStop();
  }

  /** Stops the worker for good. */
  close(): void {
    this.closed = true;
    this.cancelAll();
    clearTimeout(this.idleTimer);
    this.stopWorker();
  }

  private onMessage(msg: WorkerMessage): void {
    if (msg.op === 'ready') return;
    const job = this.jobs.get(msg.id);
    if (job === undefined) return; // cancelled
    if (msg.op === 'chunk') {
      // Before the entries are read: a warning the worker gave is not given again by this thread.
      if (msg.sighted !== undefined) markSighted(msg.sighted);
      job.add(msg.entries);
      return;
    }
    this.jobs.delete(msg.id);
    if (msg.op === 'done') job.finish(undefined, msg.cpuMs);
    else job.finish(new OffloadFailedError(`xDS worker: ${msg.message}`));
    this.armIdleStop();
  }

  private lost(worker: Worker, why: string): void {
    this.crashes++;
    this.worker = undefined;
    void worker.terminate();
    for (const job of this.jobs.values()) job.finish(new OffloadFailedError(why));
    this.jobs.clear();
    if (this.crashes >= MAX_CRASHES) log.error(`xDS worker thread lost ${this.crashes} times: large responses are decoded on the main thread from now on`);
  }

  private armIdleStop(): void {
    if (this.worker === undefined || this.jobs.size > 0 || this.idleTimer !== undefined) return;
    if (!Number.isFinite(this.idleStopMs)) return;
    this.idleTimer = setTimeout(() => {
      this.idleTimer = undefined;
      if (this.jobs.size === 0) this.stopWorker();
    }, this.idleStopMs);
    this.idleTimer.unref();
  }

  private stopWorker(): void {
    const worker = this.worker;
    this.worker = undefined;
    if (worker !== undefined) void worker.terminate();
  }
}
