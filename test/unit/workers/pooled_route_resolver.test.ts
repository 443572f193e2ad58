// PooledRouteResolver: a turn with fewer than minBatch requests is matched inline, a turn at or above it goes
// to a worker through shared memory; answers are the same either way and callbacks keep submission order.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mainInstance } from '../../../src/wasm/runtime.js';
import { slabStats } from '../../../src/wasm/slab.js';
import { createWorkerPool } from '../../../src/workers/pool.js';
import { PooledRouteResolver } from '../../../src/workers/pooled_route_resolver.js';
import type { WorkerPool } from '../../../src/workers/types.js';
import type { RouteEntry } from '../../../src/types/router.js';
import { PrefixTable, prefixBinding, writeHead } from './prefix_table.js';

const PREFIXES = ['/api/v2/users', '/api/v2', '/api', '/static/', '/health', '/'];
let pool: WorkerPool;

before(async () => {
  pool = await createWorkerPool({ threads: 2, memory: mainInstance().memory, handlerModules: [new URL('./fixture_handlers.js', import.meta.url).href] });
});
after(async () => { await pool.destroy(); });

/** Deterministic paths over the prefixes, some matching none (no leading '/'). */
function paths(n: number, seed: number): string[] {
  const out: string[] = [];
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    const base = ['/api/v2/users/', '/api/v2/orders', '/api/v1', '/static/app.js', '/healthz', '/other', '*', 'x/api'][x % 8];
    out.push(`${base}${x % 97}`);
  }
  return out;
}

/** Submits every path in one turn; resolves with the routes in callback order. */
function resolveTurn(resolver: PooledRouteResolver, ps: readonly string[], order?: number[], tag = 0): Promise<(RouteEntry | null)[]> {
  const wasm = mainInstance();
  const heads = ps.map((p) => writeHead(wasm, p));
  const routes: (RouteEntry | null)[] = new Array(ps.length);
  return new Promise((resolve) => {
    let left = ps.length;
    heads.forEach((h, i) => resolver.resolve(h, (r) => {
      routes[i] = r;
      order?.push(tag * 10_000 + i);
      if (--left === 0) { heads.forEach((x) => x.free()); resolve(routes); }
    }));
  });
}

const names = (rs: readonly (RouteEntry | null)[]): (string | null)[] => rs.map((r) => r?.name ?? null);

test('fewer than minBatch requests in a turn are matched inline', async () => {
  const table = new PrefixTable(mainInstance(), PREFIXES);
  const resolver = new PooledRouteResolver(table, pool, { binding: prefixBinding });
  const ps = paths(7, 1);
  const routes = await resolveTurn(resolver, ps);
  assert.deepEqual(resolver.stats, { inline: 7, offloaded: 0, fallbacks: 0, tasks: 0 });
  assert.deepEqual(names(routes), ps.map((p) => table.entries.find((e) => p.startsWith(e.matchPrefix!))?.name ?? null));
});

test('a turn of minBatch requests or more goes to a worker and gets the same answers', async () => {
  const table = new PrefixTable(mainInstance(), PREFIXES);
  const resolver = new PooledRouteResolver(table, pool, { binding: prefixBinding, minBatch: 8 });
  const ps = paths(8, 2);
  const routes = await resolveTurn(resolver, ps);
  assert.deepEqual(resolver.stats, { inline: 0, offloaded: 8, fallbacks: 0, tasks: 1 });
  const inline = new PooledRouteResolver(table, pool, { binding: prefixBinding, minBatch: 1000 });
  assert.deepEqual(names(routes), names(await resolveTurn(inline, ps)));
  assert.equal(inline.stats.inline, 8);
  assert.deepEqual(names(routes), names(ps.map((p) => table.entries.find((e) => p.startsWith(e.matchPrefix!)) ?? null)));
});

test('a large turn is split into several batches in flight; answers equal inline ones', async () => {
  const table = new PrefixTable(mainInstance(), PREFIXES);
  const leasedBefore = slabStats(mainInstance()).map((s) => s.leased);
  const resolver = new PooledRouteResolver(table, pool, { binding: prefixBinding, minBatch: 8, maxBatch: 32 });
  const ps = paths(200, 3);
  const routes = await resolveTurn(resolver, ps);
  assert.equal(resolver.stats.tasks, 7);
  assert.equal(resolver.stats.offloaded, 200);
  const expected = ps.map((p) => table.entries.find((e) => p.startsWith(e.matchPrefix!)) ?? null);
  assert.deepEqual(names(routes), names(expected));
  assert.ok(routes.includes(null) && routes.some((r) => r?.name === 'r0'), 'inputs cover matches and misses');
  assert.deepEqual(slabStats(mainInstance()).map((s) => s.leased), leasedBefore, 'batch slabs released');
});

test('callbacks run in submission order across an offloaded turn and a later inline one', async () => {
  const table = new PrefixTable(mainInstance(), PREFIXES);
  const resolver = new PooledRouteResolver(table, pool, { binding: prefixBinding, minBatch: 8 });
  const order: number[] = [];
  const first = resolveTurn(resolver, paths(40, 4), order, 1);
  // Next turn: 2 requests, matched inline at once, but they must wait for the 40 before them.
  const second = new Promise<(RouteEntry | null)[]>((resolve) => setImmediate(() => resolve(resolveTurn(resolver, paths(2, 5), order, 2))));
  await Promise.all([first, second]);
  assert.deepEqual(order, [...Array.from({ length: 40 }, (_, i) => 10_000 + i), 20_000, 20_001]);
  assert.equal(resolver.stats.inline, 2);
  assert.equal(resolver.stats.offloaded, 40);
});

test('a failed hand-off falls back to inline matching, still answering every request once', async () => {
  const table = new PrefixTable(mainInstance(), PREFIXES);
  const broken = { ...prefixBinding, taskKind: 'no.such.task' };
  const resolver = new PooledRouteResolver(table, pool, { binding: broken, minBatch: 4 });
  const ps = paths(12, 6);
  let calls = 0;
  const routes = await resolveTurn(resolver, ps, undefined).then((r) => { calls = r.length; return r; });
  assert.equal(calls, 12);
  assert.deepEqual(resolver.stats, { inline: 0, offloaded: 0, fallbacks: 12, tasks: 1 });
  assert.deepEqual(names(routes), names(ps.map((p) => table.entries.find((e) => p.startsWith(e.matchPrefix!)) ?? null)));
});

test('invalid batch sizes are a typed error', () => {
  const table = new PrefixTable(mainInstance(), PREFIXES);
  assert.throws(() => new PooledRouteResolver(table, pool, { binding: prefixBinding, minBatch: 0 }), { code: 'SKIFF_ROUTE_OFFLOAD_CONFIG' });
});

test('a head whose match throws (a stale record: its connection closed during the turn) gets null; the others their routes', async () => {
  const table = new PrefixTable(mainInstance(), PREFIXES);
  const stale = new WeakSet<object>();
  // The real failure is a wasm trap reading a released head record; a table that throws for marked heads stands in.
  const trapping = Object.create(table, {
    match: { value: (h: Parameters<PrefixTable['match']>[0]) => {
      if (stale.has(h)) throw new WebAssembly.RuntimeError('memory access out of bounds');
      return table.match(h);
    } },
  }) as PrefixTable;
  const broken = { ...prefixBinding, taskKind: 'no.such.task' };
  for (const minBatch of [100, 4]) { // inline, and inline after a failed hand-off
    const resolver = new PooledRouteResolver(trapping, pool, { binding: broken, minBatch });
    const wasm = mainInstance();
    const ps = ['/api/v2/users/1', '/static/a', '/health', '/api/x', '/other'];
    const heads = ps.map((p) => writeHead(wasm, p));
    stale.add(heads[1]);
    const routes = await new Promise<(RouteEntry | null)[]>((resolve) => {
      const out: (RouteEntry | null)[] = new Array(heads.length);
      let left = heads.length;
      heads.forEach((h, i) => resolver.resolve(h, (r) => { out[i] = r; if (--left === 0) resolve(out); }));
    });
    heads.forEach((h) => h.free());
    const expected = names(ps.map((p) => table.entries.find((e) => p.startsWith(e.matchPrefix!)) ?? null));
    expected[1] = null;
    assert.ok(expected.filter((n) => n !== null).length >= 3, 'the other heads do match routes');
    assert.deepEqual(names(routes), expected, `minBatch ${minBatch}`);
  }
});

