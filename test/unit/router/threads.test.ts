// Two worker threads, each with its own instance over the one shared memory, match concurrently through
// the shared route cache and always get the answers a cache-free match gives.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Worker } from 'node:worker_threads';
import type { Route } from '../../../src/types/envoy.js';
import { tableDescriptor } from '../../../src/router/index.js';
import { writeHeadRecord, type HeadRecordInput } from '../../helpers/head-record.js';
import * as L from '../../../src/wasm/layout.js';
import { compile, to, wasm } from './support.js';

interface WorkerResult { expected: number[]; mismatches: number; matches: number }

function runWorker(threadIndex: number, job: object): { worker: Worker; done: Promise<WorkerResult> } {
  const worker = new Worker(new URL('./match-worker.js', import.meta.url), { workerData: { ...job, threadIndex } });
  const done = new Promise<WorkerResult>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`worker ${threadIndex} exited with ${code} before reporting`)));
  });
  return { worker, done };
}

test('two threads matching concurrently through the shared cache agree with cache-free matching', { timeout: 60_000 }, async () => {
  const routes: Route[] = [
    to('regex', { safe_regex: { regex: '/u/[0-9]+/profile' } }),
    to('hdr', { prefix: '/api', headers: [{ name: 'x-tenant', prefix_match: 't1' }] }),
    ...Array.from({ length: 200 }, (_, i) => to(`svc${i}`, { prefix: `/svc${i}/` })),
    to('exact', { path: '/health' }),
    to('root', { prefix: '/' }),
  ];
  const table = compile({ virtual_hosts: [{ name: 'v', domains: ['*.mesh', 'mesh'], routes }] });
  const requests: HeadRecordInput[] = [];
  for (let i = 0; i < 300; i++) {
    const path = [`/u/${i}/profile`, `/api/x${i % 7}`, `/svc${i % 230}/op`, '/health', `/other/${i}`][i % 5];
    const headers: [string, string][] = i % 3 === 0 ? [['x-tenant', `t${i % 4}`]] : [];
    requests.push({ host: i % 11 === 0 ? 'elsewhere' : `s${i % 5}.mesh`, path, headers });
  }
  let at = wasm.scratchBase;
  const recs = requests.map((r) => { const w = writeHeadRecord(wasm, r, at); at = w.end; return w.recPtr; });
  const reference = recs.map((r) => table.matchIndexUncached(r));
  const progress = new SharedArrayBuffer(12);
  const job = { memory: wasm.memory, descriptor: tableDescriptor(table), requests, rounds: 300, deadlineMs: 20_000, progress };
  const workers = [runWorker(1, job), runWorker(2, job)];
  try {
    // The main thread matches through the cache too, from the moment a worker starts until both are done.
    const flags = new Int32Array(progress);
    const stopAt = Date.now() + 20_000;
    let mainMatches = 0;
    let mainMismatches = 0;
    while (Atomics.load(flags, 1) < 2 && Date.now() < stopAt) {
      if (Atomics.load(flags, 0) === 0) { Atomics.wait(flags, 0, 0, 5); continue; }
      for (let i = 0; i < recs.length; i++) {
        if (table.matchIndex(recs[i]) !== reference[i]) mainMismatches++;
        mainMatches++;
      }
      Atomics.add(flags, 2, 1); // a pass done: the workers may stop after their rounds
    }
    const results = await Promise.all(workers.map((w) => w.done));
    assert.equal(mainMismatches, 0);
    assert.ok(mainMatches > 0, 'the main thread matched while the workers ran');
    for (const r of results) {
      assert.deepEqual(r.expected, reference, 'a worker\'s cache-free match equals the main thread\'s');
      assert.equal(r.mismatches, 0);
      assert.ok(r.matches >= requests.length * 10, `each worker matched enough (${r.matches})`);
    }
    assert.ok(reference.includes(-1), 'some requests have no virtual host');
    let cached = 0;
    for (let e = wasm.map.routeCache.base; e < wasm.map.routeCache.base + wasm.map.routeCache.len; e += L.RC_ENTRY_SIZE) {
      if (wasm.view.getUint32(e + L.RC_VERSION, true) === table.version) cached++;
    }
    assert.ok(cached >= requests.length / 2, `the shared cache holds this table's entries (${cached})`);
    assert.ok(new Set(reference).size > 40, `requests reach many routes (${new Set(reference).size})`);
  } finally {
    await Promise.all(workers.map((w) => w.worker.terminate()));
    table.retire(0);
  }
});
