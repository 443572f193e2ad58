// Worker thread for slab.test.ts: instantiates the module over the test's shared memory with its own thread
// index and leases/releases slabs in a bounded loop, checking that no slab is ever held twice at once.
// Run only as a worker (a no-op if loaded on the main thread).
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { instantiate } from '../../../src/wasm/module.js';
import { slabPool, SLAB_CLASSES } from '../../../src/wasm/slab.js';

export interface StressInput {
  memory: WebAssembly.Memory;
  threadIndex: number;
  /** One Int32 per 1 KiB granule of the slab region: the thread index holding that slab, 0 when none. */
  owners: SharedArrayBuffer;
  /** Shared start line: workers spin (bounded) until main sets it to 1, so they run at the same time. */
  start: SharedArrayBuffer;
  pairs: number;
  /** Rounds of the tight phase: bursts of 1-8 raw lease calls then their releases, nothing else in between. */
  tightRounds: number;
  seed: number;
}

export interface StressResult {
  threadIndex: number;
  pairs: number;
  /** A lease returned a slab another holder still had. */
  doubleHandouts: number;
  /** A stamp written into a held slab was overwritten by someone else. */
  stampErrors: number;
  exhausted: number;
  perClass: number[];
  /** Tight phase: releases the pool refused (a slab handed out twice is released twice) and refused leases. */
  tightBadReleases: number;
  tightExhausted: number;
}

interface RawSlab { slab_lease(bytes: number): number; slab_release(ptr: number): number }

/**
 * Most of the time in wasm push/pop, so threads are often preempted inside a compare-and-swap window: this is
 * the phase that makes an untagged free list fail (slabs handed out twice, then released twice, list cycles).
 */
function tightPhase(raw: RawSlab, input: StressInput, next: () => number, result: StressResult): void {
  const burst = new Int32Array(8);
  for (let r = 0; r < input.tightRounds; r++) {
    const k = 1 + (next() & 7);
    for (let i = 0; i < k; i++) burst[i] = raw.slab_lease(1024);
    for (let i = 0; i < k; i++) {
      if (burst[i] === 0) result.tightExhausted++;
      else if (raw.slab_release(burst[i]) !== 0) result.tightBadReleases++;
    }
  }
}

function run(input: StressInput): StressResult {
  const wasm = instantiate(input.memory, input.threadIndex);
  const pool = slabPool(wasm);
  const owners = new Int32Array(input.owners);
  const go = new Int32Array(input.start);
  for (let i = 0; i < 1000 && Atomics.load(go, 0) === 0; i++) Atomics.wait(go, 0, 0, 5);
  const slabBase = wasm.map.slab.base;
  const view = wasm.view;
  const me = input.threadIndex;
  let rnd = input.seed >>> 0 || 1;
  const next = (): number => { rnd ^= rnd << 13; rnd ^= rnd >>> 17; rnd ^= rnd << 5; return rnd >>> 0; };
  const held: { ptr: number; stamp: number; size: number }[] = [];
  const result: StressResult = {
    threadIndex: me, pairs: 0, doubleHandouts: 0, stampErrors: 0, exhausted: 0, perClass: SLAB_CLASSES.map(() => 0),
    tightBadReleases: 0, tightExhausted: 0,
  };
  const releaseOne = (k: number): void => {
    const h = held[k];
    held[k] = held[held.length - 1];
    held.pop();
    if (view.getUint32(h.ptr + 4, true) !== h.stamp || view.getUint32(h.ptr + h.size - 4, true) !== h.stamp) result.stampErrors++;
    const g = (h.ptr - slabBase) >>> 10;
    if (Atomics.compareExchange(owners, g, me, 0) !== me) result.doubleHandouts++;
    pool.release(h.ptr);
    result.pairs++;
  };
  let stamp = me << 24;
  // Bounded: exactly `pairs` leases (or refusals), each followed eventually by its release.
  for (let i = 0; i < input.pairs; i++) {
    const r = next();
    // Mostly small classes, as a proxy would use them; the big ones now and then.
    const c = (r & 7) < 4 ? 0 : (r & 7) < 6 ? 1 : (r & 7) === 6 ? 2 : 3 + ((r >>> 3) & 1);
    const size = SLAB_CLASSES[c];
    const ptr = pool.lease(size - ((r >>> 8) & 255));
    if (ptr === 0) { result.exhausted++; continue; }
    result.perClass[c]++;
    const g = (ptr - slabBase) >>> 10;
    if (Atomics.compareExchange(owners, g, 0, me) !== 0) result.doubleHandouts++;
    stamp = (stamp + 1) | 0;
    view.setUint32(ptr + 4, stamp >>> 0, true);
    view.setUint32(ptr + size - 4, stamp >>> 0, true);
    held.push({ ptr, stamp: stamp >>> 0, size });
    // Hold up to 16 slabs, releasing a random one, so frees interleave with other threads' leases.
    if (held.length > 16 || ((r >>> 16) & 3) === 0) releaseOne((r >>> 20) % held.length);
  }
  while (held.length > 0) releaseOne(held.length - 1);
  tightPhase(wasm.exports as unknown as RawSlab, input, next, result);
  return result;
}

if (!isMainThread && parentPort) parentPort.postMessage(run(workerData as StressInput));
