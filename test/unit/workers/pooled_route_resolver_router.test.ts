// PooledRouteResolver over a real compiled route table (src/router) and the built-in `route.match` handler:
// workers attach the table over the shared memory (regex routes call back into the worker's JS) and answer
// exactly as the main thread's inline match does.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mainInstance } from '../../../src/wasm/runtime.js';
import { slabPool } from '../../../src/wasm/slab.js';
import { compileRouteTable } from '../../../src/router/index.js';
import { createWorkerPool } from '../../../src/workers/pool.js';
import { PooledRouteResolver } from '../../../src/workers/pooled_route_resolver.js';
import type { WorkerPool } from '../../../src/workers/types.js';
import type { RouteConfiguration } from '../../../src/types/envoy.js';
import type { RequestHead } from '../../../src/types/http.js';
import type { RouteEntry } from '../../../src/types/router.js';
import { writeHeadRecord } from '../../helpers/head-record.js';

const CONFIG: RouteConfiguration = {
  name: 'local',
  virtual_hosts: [
    {
      name: 'api', domains: ['api.example.com', '*.api.example.com'],
      routes: [
        { name: 'user-by-id', match: { safe_regex: { regex: '/users/[0-9]+' } }, route: { cluster: 'users' } },
        { name: 'canary', match: { prefix: '/orders', headers: [{ name: 'x-canary', string_match: { exact: 'yes' } }] }, route: { cluster: 'orders-canary' } },
        { name: 'orders', match: { prefix: '/orders' }, route: { cluster: 'orders' } },
        { name: 'health', match: { path: '/healthz' }, direct_response: { status: 200 } },
      ],
    },
    { name: 'default', domains: ['*'], routes: [{ name: 'static', match: { prefix: '/static/' }, route: { cluster: 'static' } }] },
  ],
} as RouteConfiguration;

const REQUESTS: { host: string; path: string; headers?: [string, string][] }[] = [
  { host: 'api.example.com', path: '/users/42' },
  { host: 'api.example.com', path: '/users/abc' },
  { host: 'eu.api.example.com', path: '/orders/7', headers: [['x-canary', 'yes']] },
  { host: 'api.example.com', path: '/orders/7', headers: [['x-canary', 'no']] },
  { host: 'api.example.com', path: '/healthz' },
  { host: 'api.example.com', path: '/healthz/deep' },
  { host: 'www.example.org', path: '/static/app.js' },
  { host: 'www.example.org', path: '/orders' },
];

let pool: WorkerPool;
before(async () => { pool = await createWorkerPool({ threads: 2, memory: mainInstance().memory }); });
after(async () => { await pool.destroy(); });

/** Writes each request's head record into its own slab (shared memory every worker reads). */
function heads(n: number): { heads: RequestHead[]; free(): void } {
  const wasm = mainInstance();
  const slab = slabPool(wasm);
  const ptrs: number[] = [];
  const out: RequestHead[] = [];
  for (let i = 0; i < n; i++) {
    const p = slab.lease(1024);
    ptrs.push(p);
    out.push(writeHeadRecord(wasm, REQUESTS[i % REQUESTS.length], p, p + 1024).head);
  }
  return { heads: out, free: () => ptrs.forEach((p) => slab.release(p)) };
}

function resolveAll(resolver: PooledRouteResolver, hs: readonly RequestHead[]): Promise<(RouteEntry | null)[]> {
  return new Promise((resolve) => {
    const routes: (RouteEntry | null)[] = new Array(hs.length);
    let left = hs.length;
    hs.forEach((h, i) => resolver.resolve(h, (r) => { routes[i] = r; if (--left === 0) resolve(routes); }));
  });
}

test('offloaded batches match a compiled table exactly as the inline path does, regex routes included', async () => {
  const table = compileRouteTable(CONFIG, mainInstance());
  const { heads: hs, free } = heads(64);
  try {
    const offloaded = new PooledRouteResolver(table, pool, { minBatch: 8, maxBatch: 16 });
    const inline = new PooledRouteResolver(table, pool, { minBatch: 1000 });
    const viaWorkers = await resolveAll(offloaded, hs);
    const onMain = await resolveAll(inline, hs);
    assert.deepEqual({ offloaded: offloaded.stats.offloaded, tasks: offloaded.stats.tasks, fallbacks: offloaded.stats.fallbacks }, { offloaded: 64, tasks: 4, fallbacks: 0 });
    assert.equal(inline.stats.inline, 64);
    const names = (rs: (RouteEntry | null)[]) => rs.map((r) => r?.name ?? null);
    assert.deepEqual(names(viaWorkers), names(onMain));
    assert.deepEqual(names(viaWorkers).slice(0, 8), ['user-by-id', null, 'canary', 'orders', 'health', null, 'static', null]);
    assert.deepEqual(names(viaWorkers), hs.map((h) => table.match(h)?.name ?? null));
  } finally {
    free();
  }
});

test('a table swapped with setTable is used by later turns, while earlier batches keep theirs', async () => {
  const first = compileRouteTable(CONFIG, mainInstance());
  const second = compileRouteTable({ name: 'other', virtual_hosts: [{ name: 'all', domains: ['*'], routes: [{ name: 'catch-all', match: { prefix: '/' }, route: { cluster: 'x' } }] }] } as RouteConfiguration, mainInstance());
  const { heads: hs, free } = heads(16);
  try {
    const resolver = new PooledRouteResolver(first, pool, { minBatch: 8 });
    const before = resolveAll(resolver, hs);
    await new Promise((r) => setImmediate(r)); // the first turn is cut and sent
    resolver.setTable(second);
    const afterSwap = await resolveAll(resolver, hs);
    assert.deepEqual((await before).map((r) => r?.name ?? null).slice(0, 2), ['user-by-id', null]);
    assert.ok(afterSwap.every((r) => r?.name === 'catch-all'));
    assert.equal(resolver.stats.offloaded, 32);
  } finally {
    free();
  }
});
