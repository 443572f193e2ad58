/**
 * The xDS worker thread (started by offload.ts): decodes and checks the resources of large discovery responses
 * off the main thread, which serves traffic. Per job it gets the response bytes (transferred) and the byte range
 * of each resource to look at; it answers in chunks, in order, with each resource's name, warnings, the result
 * of the type's prepare function (when the caller named one it can import) or a packed error and its stage
 * (resource_check.ts). The decoded trees stay here: the main thread decodes a resource again only if its
 * handler reads it (clusters, from its own copy of the bytes), which costs it less than receiving the tree.
 *
 * A job is dropped when the control word says it was cancelled (the stream it came from is gone).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { setLogLevel, type LogLevel } from '../common/logger.js';
import { markSighted, sightedExtensionNames } from '../config/istio.js';
import { envoyRoot } from '../config/protos.js';
import { bodyOf, checkDecoded, decodeNamed, packError, resourcePath } from './resource_check.js';
import type { JobMessage, ResultEntry, WorkerMessage } from './offload.js';

/** A chunk goes back after this many resources or this long, whichever comes first. */
const CHUNK_RESOURCES = 256;
const CHUNK_MS = 8;

type Preparer = (body: Record<string, unknown>, path: string) => unknown;

const data = workerData as { control: SharedArrayBuffer; logLevel: LogLevel };
const control = new Int32Array(data.control);
setLogLevel(data.logLevel);
const port = parentPort!;
const preparers = new Map<string, Promise<Preparer>>();

function post(msg: WorkerMessage): void { port.postMessage(msg); }

/** Extension names already passed to the main thread. */
const reported = new Set<string>();

/** A chunk of results, with the extension names first warned about since the last one. */
function postChunk(id: number, entries: ResultEntry[]): void {
  const fresh = sightedExtensionNames().filter((n) => !reported.has(n));
  for (const n of fresh) reported.add(n);
  post(fresh.length > 0 ? { op: 'chunk', id, entries, sighted: fresh } : { op: 'chunk', id, entries });
}

async function preparerOf(ref: { url: string; name: string }): Promise<Preparer> {
  const key = `${ref.url}#${ref.name}`;
  let p = preparers.get(key);
  if (p === undefined) {
    p = import(ref.url).then((mod: Record<string, unknown>) => {
      const f = mod[ref.name];
      if (typeof f !== 'function') throw new Error(`${ref.url} has no function ${ref.name}`);
      return f as Preparer;
    });
    preparers.set(key, p);
  }
  return p;
}

function cancelled(id: number): boolean {
  // Jobs below the control word belong to streams that are gone.
  return id < Atomics.load(control, 0);
}

async function run(job: JobMessage): Promise<void> {
  const prepare = job.preparer ? await preparerOf(job.preparer) : undefined;
  markSighted(job.sighted);
  for (const n of job.sighted) reported.add(n);
  const bytes = new Uint8Array(job.buffer);
  const items = job.items;
  let out: ResultEntry[] = [];
  let chunkStart = performance.now();
  const began = chunkStart;
  for (let k = 0; k + 2 < items.length; k += 3) {
    if (cancelled(job.id)) { post({ op: 'done', id: job.id, cpuMs: performance.now() - began }); return; }
    const index = items[k]!;
    const value = bytes.subarray(items[k + 1]!, items[k + 2]!);
    let entry: ResultEntry;
    let stop = false;
    try {
      const { decoded, name } = decodeNamed(job.typeUrl, value, index);
      entry = { index, name };
      try {
        const path = resourcePath(job.typeUrl, name);
        const warnings = checkDecoded(decoded, path, job.validate);
        if (warnings.length > 0) entry.warnings = warnings;
        if (prepare) entry.prepared = prepare(bodyOf(decoded.value), path);
      } catch (err) {
        entry.error = packError(err);
      }
    } catch (err) {
      // Undecodable: the response is rejected at this resource whatever it is, so nothing after it matters.
      entry = { index, error: packError(err), decodeFailed: true };
      stop = true;
    }
    out.push(entry);
    if (stop) break;
    if (out.length >= CHUNK_RESOURCES || performance.now() - chunkStart >= CHUNK_MS) {
      postChunk(job.id, out);
      out = [];
      chunkStart = performance.now();
    }
  }
  if (out.length > 0) postChunk(job.id, out);
  post({ op: 'done', id: job.id, cpuMs: performance.now() - began });
}

// Jobs run one after the other, in the order they came.
let queue: Promise<void> = Promise.resolve();
port.on('message', (job: JobMessage) => {
  queue = queue.then(() => run(job)).catch((err: unknown) => {
    post({ op: 'failed', id: job.id, message: err instanceof Error ? err.message : String(err) });
  });
});

// Loaded before the first job so that one does not wait for the protos.
envoyRoot();
post({ op: 'ready' });
