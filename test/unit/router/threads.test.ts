// Two worker threads, each with its own instance over the one shared memory, match concurrently through
// the shared route cache and always get the answers a cache-free match gives.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Worker } from 'node:worker_threads';
import type { Route } from '../../../src/types/envoy.js';
import { tableDescriptor } from '../../../src/router/index.js';
import { writeHeadRecord, type HeadRecordInput } from '../../helpers/head-record.js';
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
  const reference = requests.map((r) => table.matchIndexUncached(writeHeadRecord(wasm, r).recPtr));
  const job = { memory: wasm.memory, descriptor: tableDescriptor(table), requests, rounds: 300, deadlineMs: 20_000 };
  const workers = [runWorker(1, job), runWorker(2, job)];
  try {
    const results = await Promise.all(workers.map((w) => w.done));
    for (const r of results) {
      assert.deepEqual(r.expected, reference, 'a worker\'s cache-free match equals the main thread\'s');
      assert.equal(r.mismatches, 0);
      assert.ok(r.matches >= requests.length * 10, `each worker matched enough (${r.matches})`);
    }
    assert.ok(reference.includes(-1), 'some requests have no virtual host');
    assert.ok(new Set(reference).size > 40, `requests reach many routes (${new Set(reference).size})`);
  } finally {
    await Promise.all(workers.map((w) => w.worker.terminate()));
    table.retire(0);
  }
});
