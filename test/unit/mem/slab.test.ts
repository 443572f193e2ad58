// The slab pool in wasm (assembly/mem/slab.ts) through its wrapper (src/wasm/slab.ts): classes and sizes,
// reuse, exhaustion, bad releases, one initialisation per memory, and leases/releases from several threads.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Worker } from 'node:worker_threads';
import { createSharedMemory } from '../../../src/wasm/memory.js';
import { instantiate } from '../../../src/wasm/module.js';
import { slabChunks, slabFreeLength, slabPool, slabStats, SLAB_CLASSES, SlabError } from '../../../src/wasm/slab.js';
import type { StressInput, StressResult } from './slab_stress_worker.js';

/** A fresh memory per test, so exhaustion in one test cannot leak into another. */
const freshInstance = (threadIndex = 0) => instantiate(createSharedMemory(), threadIndex);

test('a lease gets the smallest class that holds the request', () => {
  const pool = slabPool(freshInstance());
  const cases: [number, number][] = [[0, 1024], [1, 1024], [1024, 1024], [1025, 4096], [4096, 4096], [4097, 16384],
    [16384, 16384], [60000, 65536], [65537, 262144], [262144, 262144], [1024.5, 4096]];
  for (const [bytes, size] of cases) {
    const p = pool.lease(bytes);
    assert.ok(p > 0, `lease(${bytes})`);
    assert.equal(pool.sizeOf(p), size, `lease(${bytes})`);
    pool.release(p);
  }
  assert.equal(pool.maxLease, 262144);
  for (const bad of [262145, 1 << 30, -1, NaN, Infinity]) assert.equal(pool.lease(bad), 0, `lease(${bad})`);
});

test('leased slabs are disjoint, inside the slab region, and aligned to their size', () => {
  const wasm = freshInstance();
  const pool = slabPool(wasm);
  const spans: [number, number][] = [];
  for (let i = 0; i < 300; i++) {
    const size = SLAB_CLASSES[i % SLAB_CLASSES.length];
    const p = pool.lease(size);
    assert.ok(p >= wasm.map.slab.base && p + size <= wasm.map.slab.base + wasm.map.slab.len);
    spans.push([p, p + size]);
  }
  spans.sort((a, b) => a[0] - b[0]);
  for (let i = 1; i < spans.length; i++) assert.ok(spans[i][0] >= spans[i - 1][1], 'overlapping slabs');
  // Bytes written through one slab are not seen through its neighbour.
  wasm.u8.fill(0xab, spans[0][0], spans[0][1]);
  assert.notEqual(wasm.u8[spans[1][0] + 8], 0xab);
});

test('a released slab is reused by the next lease of its class, and the counters follow', () => {
  const wasm = freshInstance();
  const pool = slabPool(wasm);
  const a = pool.lease(2000);
  const b = pool.lease(2000);
  assert.notEqual(a, b);
  let s = slabStats(wasm)[1];
  assert.equal(s.leased, 2);
  assert.equal(s.carved, 64); // one 256 KiB chunk of 4 KiB slabs
  pool.release(a);
  assert.equal(pool.lease(3000), a);
  pool.release(a);
  pool.release(b);
  s = slabStats(wasm)[1];
  assert.equal(s.leased, 0);
  assert.equal(slabFreeLength(wasm, 1), s.carved);
  assert.equal(slabStats(wasm)[0].carved, 0, 'other classes untouched');
});

test('exhaustion returns 0, counts the refusal, and a release makes room again', () => {
  const wasm = freshInstance();
  const pool = slabPool(wasm);
  const { total } = slabChunks(wasm);
  assert.ok(total > 100);
  const held: number[] = [];
  for (let i = 0; i < total + 10; i++) {
    const p = pool.lease(262144);
    if (p === 0) break;
    held.push(p);
  }
  assert.equal(held.length, total);
  assert.equal(pool.lease(200000), 0);
  assert.equal(pool.lease(1), 0, 'no chunk left for a smaller class either');
  const stats = slabStats(wasm);
  assert.equal(stats[4].exhaustedTotal, 2); // the loop's last try and the one after it
  assert.equal(stats[0].exhaustedTotal, 1);
  assert.equal(slabChunks(wasm).used, total);
  pool.release(held[17]);
  assert.equal(pool.lease(262144), held[17]);
  for (const p of held) pool.release(p);
  assert.equal(slabStats(wasm)[4].leased, 0);
});

test('releasing an unknown pointer or releasing twice is a typed error and leaves the pool intact', () => {
  const wasm = freshInstance();
  const pool = slabPool(wasm);
  const p = pool.lease(100);
  assert.throws(() => pool.release(p + 8), (e: unknown) => e instanceof SlabError && e.code === 'SKIFF_SLAB_BAD_RELEASE');
  assert.throws(() => pool.release(wasm.map.slab.base + 16), (e: unknown) => e instanceof SlabError && e.code === 'SKIFF_SLAB_BAD_RELEASE');
  assert.throws(() => pool.release(0), (e: unknown) => e instanceof SlabError && e.code === 'SKIFF_SLAB_BAD_RELEASE');
  pool.release(p);
  assert.throws(() => pool.release(p), (e: unknown) => e instanceof SlabError && e.code === 'SKIFF_SLAB_DOUBLE_RELEASE');
  // The free list holds `p` once: two leases get two different slabs.
  const x = pool.lease(100);
  const y = pool.lease(100);
  assert.equal(x, p);
  assert.notEqual(y, p);
  assert.equal(pool.sizeOf(p + 8), 0);
});

test('the region is initialised once per memory; other instances attach and share it', () => {
  const memory = createSharedMemory();
  const main = instantiate(memory, 0);
  const other = instantiate(memory, 1);
  const mainPool = slabPool(main);
  const p = mainPool.lease(5000);
  const otherPool = slabPool(other); // attaches: must not wipe the lease above
  assert.equal(otherPool.sizeOf(p), 16384);
  const q = otherPool.lease(5000);
  assert.notEqual(q, p);
  otherPool.release(p); // released by another thread than the one that leased it
  assert.equal(mainPool.lease(5000), p);
  assert.equal(slabStats(other)[2].leased, 2);
  assert.equal(slabStats(main)[2].leased, 2);
});

function runStressWorker(input: StressInput): Promise<StressResult> {
  return new Promise((resolve, reject) => {
    const w = new Worker(new URL('./slab_stress_worker.js', import.meta.url), { workerData: input });
    let result: StressResult | undefined;
    w.once('message', (m: StressResult) => { result = m; });
    w.once('error', reject);
    w.once('exit', (code) => (result && code === 0 ? resolve(result) : reject(new Error(`stress worker exited ${code} without a result`))));
  });
}

test('four threads leasing and releasing concurrently never share a slab and lose none', async () => {
  const memory = createSharedMemory();
  const main = instantiate(memory, 0);
  slabPool(main); // the main thread initialises before workers start
  const owners = new SharedArrayBuffer(4 * Math.ceil(main.map.slab.len / 1024));
  const start = new SharedArrayBuffer(4);
  const pairs = 200_000;
  const tightRounds = 300_000;
  const runs = [1, 2, 3, 4].map((t) => runStressWorker({ memory, threadIndex: t, owners, start, pairs, tightRounds, seed: 0x9e3779b9 * t }));
  Atomics.store(new Int32Array(start), 0, 1);
  Atomics.notify(new Int32Array(start), 0);
  const results = await Promise.all(runs);
  let leases = 0;
  for (const r of results) {
    assert.equal(r.doubleHandouts, 0, `thread ${r.threadIndex} got a slab someone else held`);
    assert.equal(r.stampErrors, 0, `thread ${r.threadIndex} saw its stamp overwritten`);
    assert.equal(r.exhausted, 0);
    assert.equal(r.pairs, pairs);
    assert.equal(r.tightBadReleases, 0, `thread ${r.threadIndex}: a slab was released twice (handed out twice)`);
    assert.equal(r.tightExhausted, 0);
    leases += r.pairs;
  }
  assert.equal(leases, 4 * pairs);
  const stats = slabStats(main);
  for (let c = 0; c < stats.length; c++) {
    assert.equal(stats[c].leased, 0, `class ${c} leased`);
    assert.ok(stats[c].carved > 0, `class ${c} used`);
    assert.equal(slabFreeLength(main, c), stats[c].carved, `class ${c}: a slab went missing from the free list`);
  }
  assert.ok(new Int32Array(owners).every((o) => o === 0));
});
