// Worker thread for threads.test.ts: instantiates the module over the shared memory with its own thread
// index, attaches to the main thread's table, writes its requests into its own scratch region and matches
// them repeatedly through the shared cache, comparing each answer with a cache-free match.
import { parentPort, workerData } from 'node:worker_threads';
import { instantiate } from '../../../src/wasm/module.js';
import { attachTable, type RouteTableDescriptor } from '../../../src/router/index.js';
import { writeHeadRecord, type HeadRecordInput } from '../../helpers/head-record.js';

interface Job {
  memory: WebAssembly.Memory;
  threadIndex: number;
  descriptor: RouteTableDescriptor;
  requests: HeadRecordInput[];
  rounds: number;
  deadlineMs: number;
  /**
   * [workers started, workers done, main-thread passes], so the main thread can match while the workers do: a
   * worker goes on past `rounds` until the main thread has made a pass, however the threads get scheduled.
   */
  progress: SharedArrayBuffer;
}

const job = workerData as Job;
const wasm = instantiate(job.memory, job.threadIndex);
const table = attachTable(wasm, job.descriptor);
let at = wasm.scratchBase;
const recs = job.requests.map((r) => { const w = writeHeadRecord(wasm, r, at); at = w.end; return w.recPtr; });
const expected = recs.map((r) => table.matchUncached(r));
const batch = Int32Array.from(recs);
let mismatches = 0;
let matches = 0;
const stopAt = Date.now() + job.deadlineMs;
const progress = new Int32Array(job.progress);
Atomics.add(progress, 0, 1);
for (let round = 0; (round < job.rounds || Atomics.load(progress, 2) === 0) && Date.now() < stopAt; round++) {
  // Alternate single calls and batches, in a rotating order so the two threads collide on entries.
  if (round % 2 === 0) {
    for (let i = 0; i < recs.length; i++) {
      const k = (i + round) % recs.length;
      if (table.match(recs[k]) !== expected[k]) mismatches++;
      matches++;
    }
  } else {
    const got = table.matchBatch(batch);
    for (let i = 0; i < got.length; i++) if (got[i] !== expected[i]) mismatches++;
    matches += got.length;
  }
}
Atomics.add(progress, 1, 1);
parentPort!.postMessage({ expected, mismatches, matches });
