// Slab pool (assembly/mem/slab.ts): one lease + release pair per size class, single thread, uncontended.
// Each task iteration runs PAIRS pairs so the timer's own cost stays out of the figure; the table reports
// nanoseconds per pair. Run: node dist/bench/micro/slab.js
import { Bench } from 'tinybench';
import { createSharedMemory } from '../../src/wasm/memory.js';
import { instantiate } from '../../src/wasm/module.js';
import { slabPool, SLAB_CLASSES } from '../../src/wasm/slab.js';

const PAIRS = 1000;
const wasm = instantiate(createSharedMemory(), 0);
const pool = slabPool(wasm);
const exportsLease = wasm.exports.slab_lease as (n: number) => number;
const exportsRelease = wasm.exports.slab_release as (p: number) => number;

const bench = new Bench({ name: 'slab lease+release', time: 300, warmupTime: 100 });
for (const size of SLAB_CLASSES) {
  bench.add(`SlabPool ${size / 1024} KiB`, () => {
    for (let i = 0; i < PAIRS; i++) pool.release(pool.lease(size));
  });
}
bench.add('raw exports 1 KiB', () => {
  for (let i = 0; i < PAIRS; i++) exportsRelease(exportsLease(1024));
});
// A working set of 64 slabs held at once, released in lease order (FIFO over a LIFO list: no lucky reuse).
const held = new Int32Array(64);
bench.add('SlabPool 4 KiB, 64 held', () => {
  for (let r = 0; r < PAIRS / 64; r++) {
    for (let i = 0; i < 64; i++) held[i] = pool.lease(4096);
    for (let i = 0; i < 64; i++) pool.release(held[i]);
  }
});

await bench.run();
console.log(`${bench.name} (${PAIRS} pairs per iteration)`);
console.table(bench.tasks.map((t) => {
  const r = t.result as { state?: string; latency?: { mean: number; p99: number; rme: number }; totalTime?: number } | undefined;
  const lat = r?.latency;
  const pairs = t.name.includes('64 held') ? Math.floor(PAIRS / 64) * 64 : PAIRS;
  return {
    task: t.name,
    'ns/pair (mean)': lat ? +(lat.mean * 1e6 / pairs).toFixed(1) : NaN,
    'ns/pair (p99)': lat ? +(lat.p99 * 1e6 / pairs).toFixed(1) : NaN,
    'rme %': lat ? +lat.rme.toFixed(2) : NaN,
    samples: t.runs,
  };
}));
