// The worker pool: workers instantiate the module over the shared memory with their own thread index, run
// tasks by kind, see the main thread's bytes, report errors with codes, and end on destroy().
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Worker } from 'node:worker_threads';
import { mainInstance } from '../../../src/wasm/runtime.js';
import { slabPool } from '../../../src/wasm/slab.js';
import { createWorkerPool, WorkerPoolError } from '../../../src/workers/pool.js';
import { fnv1a } from '../../../src/workers/handlers/checksum.js';
import type { ThreadInfo } from '../../../src/workers/handlers/thread_info.js';
import type { WorkerPool } from '../../../src/workers/types.js';

const FIXTURES = new URL('./fixture_handlers.js', import.meta.url).href;
let pool: WorkerPool;

before(async () => {
  pool = await createWorkerPool({ threads: 2, memory: mainInstance().memory, handlerModules: [FIXTURES] });
});
after(async () => { await pool.destroy(); });

const isCode = (code: string) => (e: unknown) => e instanceof WorkerPoolError && e.code === code;

test('each worker runs with its own thread index and scratch region', async () => {
  const infos = await Promise.all(Array.from({ length: 64 }, () => pool.run<ThreadInfo>('thread.info', null)));
  const map = mainInstance().map;
  const byIndex = new Map<number, number>();
  for (const info of infos) {
    assert.ok(info.threadIndex === 1 || info.threadIndex === 2, `thread index ${info.threadIndex}`);
    assert.equal(info.scratchBase, map.scratch[info.threadIndex].base);
    assert.equal(info.slabMaxLease, 262144);
    const prev = byIndex.get(info.threadIndex);
    assert.ok(prev === undefined || prev === info.threadId, 'two threads claimed one index');
    byIndex.set(info.threadIndex, info.threadId);
  }
  assert.equal(byIndex.size, 2, 'both workers ran tasks');
});

test('workers read the bytes the main thread wrote into shared memory, not a copy', async () => {
  const wasm = mainInstance();
  const slab = slabPool(wasm);
  const p = slab.lease(4096);
  try {
    for (let i = 0; i < 4096; i++) wasm.u8[p + i] = (i * 31) & 255;
    const [first] = await pool.run<number[]>('checksum', { ranges: [[p, 4096]] });
    assert.equal(first, fnv1a(wasm.u8, p, 4096));
    wasm.u8[p + 100] ^= 0xff;
    const [second] = await pool.run<number[]>('checksum', { ranges: [[p, 4096]] });
    assert.notEqual(second, first);
    assert.equal(second, fnv1a(wasm.u8, p, 4096));
  } finally {
    slab.release(p);
  }
});

test('a slab leased and written in a worker is seen and released by the main thread', async () => {
  const wasm = mainInstance();
  const p = await pool.run<number>('test.fill-slab', { bytes: 3000, byte: 0x5a });
  assert.ok(p > 0);
  assert.equal(slabPool(wasm).sizeOf(p), 4096);
  assert.ok(wasm.u8.subarray(p, p + 3000).every((b) => b === 0x5a));
  slabPool(wasm).release(p);
});

test('results of concurrent batches come back to their own callers, in submission order', async () => {
  const wasm = mainInstance();
  const slab = slabPool(wasm);
  const p = slab.lease(1024);
  try {
    for (let i = 0; i < 1024; i++) wasm.u8[p + i] = i & 255;
    const batches = Array.from({ length: 40 }, (_, b) => Array.from({ length: 8 }, (_, k) => [p + b, 1 + ((b * 8 + k) % 900)] as const));
    const order: number[] = [];
    const results = await Promise.all(batches.map((ranges, b) => pool.run<number[]>('checksum', { ranges }).then((r) => { order.push(b); return r; })));
    results.forEach((r, b) => assert.deepEqual(r, batches[b].map(([ptr, len]) => fnv1a(wasm.u8, ptr, len))));
    assert.equal(order.length, 40);
  } finally {
    slab.release(p);
  }
});

test('errors cross the thread boundary with their codes', async () => {
  await assert.rejects(pool.run('no.such.kind', {}), isCode('SKIFF_WORKER_UNKNOWN_TASK'));
  await assert.rejects(pool.run('test.fail', { code: 'SKIFF_TEST_BOOM' }), isCode('SKIFF_TEST_BOOM'));
  await assert.rejects(pool.run('checksum', { ranges: [[-5, 10]] }), isCode('SKIFF_WORKER_TASK_FAILED'));
  // The pool still works after failures.
  assert.equal((await pool.run<ThreadInfo>('thread.info', null)).slabMaxLease, 262144);
});

test('a worker that dies under a task fails that task only; its replacement takes over the thread index', async () => {
  const own = await createWorkerPool({ threads: 1, memory: mainInstance().memory, handlerModules: [FIXTURES] });
  try {
    const before = await own.run<ThreadInfo>('thread.info', null);
    await assert.rejects(own.run('test.exit', null), isCode('SKIFF_WORKER_CRASHED'));
    const after = await own.run<ThreadInfo>('thread.info', null);
    assert.equal(after.threadIndex, 1);
    assert.notEqual(after.threadId, before.threadId, 'a new thread');
  } finally {
    await own.destroy();
  }
});

test('invalid thread counts and failing handler modules are typed start-up errors', async () => {
  const memory = mainInstance().memory;
  for (const threads of [0, -1, 1.5, 17]) {
    await assert.rejects(createWorkerPool({ threads, memory }), isCode('SKIFF_WORKER_POOL_CONFIG'));
  }
  await assert.rejects(createWorkerPool({ threads: 1, memory, handlerModules: [new URL('./no_such_module.js', import.meta.url).href] }),
    isCode('SKIFF_WORKER_START'));
});

test('destroy() ends every worker thread, and the pool refuses work afterwards', async () => {
  const own = await createWorkerPool({ threads: 2, memory: mainInstance().memory });
  const internals = own as unknown as { workerThreads(): readonly Worker[]; heldThreadIndices(): number };
  const threads = internals.workerThreads();
  assert.equal(threads.length, 2);
  assert.equal(internals.heldThreadIndices(), 2);
  const exited = threads.map((w) => new Promise<number>((resolve) => w.once('exit', resolve)));
  await own.destroy();
  await Promise.all(exited);
  assert.equal(internals.workerThreads().length, 0);
  assert.equal(internals.heldThreadIndices(), 0);
  await assert.rejects(own.run('thread.info', null), isCode('SKIFF_WORKER_POOL_DESTROYED'));
});

test('every worker runs with a capped young generation (default, or as asked)', async () => {
  const { WORKER_YOUNG_GENERATION_MB } = await import('../../../src/workers/pool.js');
  const limits = (p: WorkerPool): number[] =>
    (p as unknown as { workerThreads(): readonly Worker[] }).workerThreads().map((t) => t.resourceLimits?.maxYoungGenerationSizeMb ?? -1);
  assert.deepEqual(limits(pool), [WORKER_YOUNG_GENERATION_MB, WORKER_YOUNG_GENERATION_MB]);
  const own = await createWorkerPool({ threads: 1, memory: mainInstance().memory, maxYoungGenerationSizeMb: 12 });
  try {
    assert.deepEqual(limits(own), [12]);
  } finally {
    await own.destroy();
  }
});
