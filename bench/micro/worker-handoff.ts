// Route match inline vs through the worker pool (src/workers/pooled_route_resolver.ts), per request, at turn
// sizes 1, 8 and 64: latency of a turn (tinybench) and main-thread busy time per request (event-loop
// utilisation's active time over the run phase, which excludes time the loop sleeps waiting for workers).
// Run: node dist/bench/micro/worker-handoff.js   (SKIFF_BENCH_THREADS=N workers, default 1: the machine has
// two cores and the main thread needs one)
import { performance } from 'node:perf_hooks';
import { Bench } from 'tinybench';
import { mainInstance } from '../../src/wasm/runtime.js';
import { slabPool } from '../../src/wasm/slab.js';
import { compileRouteTable } from '../../src/router/index.js';
import { createWorkerPool } from '../../src/workers/pool.js';
import { PooledRouteResolver } from '../../src/workers/pooled_route_resolver.js';
import type { RouteConfiguration } from '../../src/types/envoy.js';
import type { RequestHead } from '../../src/types/http.js';
import type { RouteEntry, RouteTable } from '../../src/types/router.js';
import { writeHeadRecord } from '../../test/helpers/head-record.js';

const THREADS = Number(process.env.SKIFF_BENCH_THREADS ?? 1);
const wasm = mainInstance();

// 200 routes over 4 virtual hosts: prefixes, exact paths, a header matcher and a regex now and then.
const config: RouteConfiguration = {
  name: 'bench',
  virtual_hosts: ['a', 'b', 'c', 'd'].map((v) => ({
    name: v, domains: [`${v}.svc.cluster.local`, `${v}.example.com`],
    routes: Array.from({ length: 50 }, (_, i) => (
      i % 10 === 3 ? { name: `${v}-${i}`, match: { prefix: `/api/v${i}/`, headers: [{ name: 'x-tenant', string_match: { exact: `t${i}` } }] }, route: { cluster: `${v}${i}` } }
      : i % 10 === 7 ? { name: `${v}-${i}`, match: { safe_regex: { regex: `/items/${i}/[0-9]+` } }, route: { cluster: `${v}${i}` } }
      : i % 2 === 0 ? { name: `${v}-${i}`, match: { prefix: `/api/v${i}/` }, route: { cluster: `${v}${i}` } }
      : { name: `${v}-${i}`, match: { path: `/exact/${i}` }, route: { cluster: `${v}${i}` } })),
  })),
} as RouteConfiguration;
const table = compileRouteTable(config, wasm);
// Every request matched from scratch (the cost when keys rarely repeat).
const coldTable = compileRouteTable(config, wasm, { cache: false });

// 64 distinct requests, head records in slabs (as the codec leaves them).
const slab = slabPool(wasm);
const heads: RequestHead[] = Array.from({ length: 64 }, (_, k) => {
  const p = slab.lease(1024);
  const v = 'abcd'[k % 4];
  const i = (k * 7) % 50;
  const path = i % 10 === 7 ? `/items/${i}/${k}` : i % 10 === 3 || i % 2 === 0 ? `/api/v${i}/orders/${k}` : `/exact/${i}`;
  return writeHeadRecord(wasm, { host: `${v}.svc.cluster.local`, path, headers: [['x-tenant', `t${i}`], ['user-agent', 'bench']] }, p, p + 1024).head;
});
{
  const hits = heads.filter((h) => table.match(h) !== null).length;
  if (hits < 64) throw new Error(`bench routes match only ${hits}/64 requests`);
}

const pool = await createWorkerPool({ threads: THREADS, memory: wasm.memory });

function turn(resolver: PooledRouteResolver, n: number): Promise<void> {
  return new Promise((resolve) => {
    let left = n;
    const done = (_r: RouteEntry | null): void => { if (--left === 0) resolve(); };
    for (let i = 0; i < n; i++) resolver.resolve(heads[i], done);
  });
}

/** `depth` turns in flight: a new turn is cut each event-loop turn, as a busy read loop would. */
async function pipelined(resolver: PooledRouteResolver, n: number, depth: number): Promise<void> {
  const turns: Promise<void>[] = [];
  for (let d = 0; d < depth; d++) {
    turns.push(turn(resolver, n));
    await new Promise<void>((r) => setImmediate(r));
  }
  await Promise.all(turns);
}

interface Row { requestsPerIteration: number; busyMs: number; requests: number }
const rows = new Map<string, Row>();
const bench = new Bench({ name: 'route match: inline vs worker pool', time: 1000, warmupTime: 200 });

function add(name: string, perIteration: number, fn: () => Promise<void> | void): void {
  const row: Row = { requestsPerIteration: perIteration, busyMs: 0, requests: 0 };
  rows.set(name, row);
  let elu0 = performance.eventLoopUtilization();
  bench.add(name, async () => { await fn(); row.requests += perIteration; }, {
    // Runs per phase (warm-up, then run): the run phase's figures are the ones kept.
    beforeAll: () => { row.requests = 0; elu0 = performance.eventLoopUtilization(); },
    afterAll: () => { row.busyMs = performance.eventLoopUtilization(elu0).active; },
  });
}

const matchDirect = (t: RouteTable, n: number): void => { for (let i = 0; i < n; i++) t.match(heads[i]); };
for (const [label, t] of [['cache', table], ['no cache', coldTable]] as const) {
  for (const n of [1, 8, 64]) {
    const inline = new PooledRouteResolver(t, pool, { minBatch: 1_000_000 });
    const offload = new PooledRouteResolver(t, pool, { minBatch: 1 });
    add(`${label}: table.match x${n} (sync)`, n, () => matchDirect(t, n));
    add(`${label}: inline, turn of ${n}`, n, () => turn(inline, n));
    add(`${label}: pool, turn of ${n}`, n, () => turn(offload, n));
    add(`${label}: pool, turn of ${n}, 4 in flight`, 4 * n, () => pipelined(offload, n, 4));
  }
}

await bench.run();
await pool.destroy();

console.log(`${bench.name} (${THREADS} worker thread${THREADS === 1 ? '' : 's'}, 200 routes)`);
console.table(bench.tasks.map((t) => {
  const r = t.result as { latency?: { mean: number; p50?: number; p99: number } } | undefined;
  const row = rows.get(t.name)!;
  const lat = r?.latency;
  return {
    task: t.name,
    'iteration mean µs': lat ? +(lat.mean * 1000).toFixed(1) : NaN,
    'iteration p99 µs': lat ? +(lat.p99 * 1000).toFixed(1) : NaN,
    'main-thread busy µs/req': row.requests ? +((row.busyMs * 1000) / row.requests).toFixed(2) : NaN,
    'wall µs/req': lat ? +((lat.mean * 1000) / row.requestsPerIteration).toFixed(2) : NaN,
  };
}));
