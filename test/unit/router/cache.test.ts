// The route cache: a hit answers as a cold match for random inputs, a new table version never sees the old
// table's entries, and an entry is only trusted when its full key and seqlock check out.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Route } from '../../../src/types/envoy.js';
import * as L from '../../../src/wasm/layout.js';
import { hostCallbacks } from '../../../src/wasm/host.js';
import { attachTable, tableDescriptor, StaleRouteTableError, type CompiledRouteTable } from '../../../src/router/index.js';
import { writeHeadRecord, type HeadRecordInput } from '../../helpers/head-record.js';
import { compile, to, wasm } from './support.js';

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; return s / 2 ** 32; };
}

/** Cache entries in the shared region that belong to `table`. */
function entriesOf(table: CompiledRouteTable): number[] {
  const out: number[] = [];
  const { base, len } = wasm.map.routeCache;
  for (let e = base; e + L.RC_ENTRY_SIZE <= base + len; e += L.RC_ENTRY_SIZE) {
    if (wasm.view.getUint32(e + L.RC_VERSION, true) === table.version) out.push(e);
  }
  return out;
}

function counting<T>(fn: () => T): { result: T; regexCalls: number } {
  const original = hostCallbacks.regexMatch;
  let regexCalls = 0;
  hostCallbacks.regexMatch = (id, ptr, len) => { regexCalls++; return original(id, ptr, len); };
  try { return { result: fn(), regexCalls }; } finally { hostCallbacks.regexMatch = original; }
}

const routes: Route[] = [
  to('admin', { safe_regex: { regex: '/admin/[a-z]+' }, headers: [{ name: 'x-role', exact_match: 'admin' }] }),
  to('canary', { prefix: '/api', headers: [{ name: 'x-canary', present_match: true }] }),
  to('post', { prefix: '/api', headers: [{ name: ':method', exact_match: 'POST' }] }),
  to('v1', { prefix: '/api/v1' }),
  to('login', { path: '/login', case_sensitive: { value: false } }),
  to('q', { prefix: '/search', query_parameters: [{ name: 'q', present_match: true }] }),
  to('files', { path_separated_prefix: '/files' }),
  to('rx', { safe_regex: { regex: '/[a-z]+/[0-9]+' } }),
];
const config = { virtual_hosts: [
  { name: 'main', domains: ['example.com', '*.example.com'], routes },
  { name: 'other', domains: ['*'], routes: [to('other', { prefix: '/o' })] },
] };

function randomRequest(rand: () => number): HeadRecordInput {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)];
  const path = pick(['/admin/', '/api', '/api/v1/', '/api/v2/', '/LOGIN', '/login', '/search', '/files', '/files/', '/filesx', '/o', '/abc/'])
    + pick(['', 'x', '12', 'users']) + pick(['', '?q=1', '?a=b']);
  const headers: [string, string][] = [];
  if (rand() < 0.3) headers.push(['x-role', pick(['admin', 'user'])]);
  if (rand() < 0.2) headers.push(['x-canary', '']);
  return { host: pick(['example.com', 'a.example.com', 'other.net']), method: pick(['GET', 'POST']), path, headers };
}

test('a cache hit returns the same route as a cold match, for random inputs (fixed seed)', () => {
  const table = compile(config);
  const rand = rng(1234);
  const inputs = Array.from({ length: 400 }, () => randomRequest(rand));
  const cold = inputs.map((r) => table.matchIndexUncached(writeHeadRecord(wasm, r).recPtr));
  for (let pass = 0; pass < 3; pass++) {
    inputs.forEach((r, i) => {
      const { recPtr } = writeHeadRecord(wasm, r);
      assert.equal(table.matchIndex(recPtr), cold[i], `pass ${pass}: ${JSON.stringify(r)}`);
    });
  }
  assert.ok(entriesOf(table).length > 50, 'the cache holds entries of this table');
  assert.ok(cold.some((c) => c === -1) && new Set(cold).size >= 8, 'inputs cover most routes and no-route');
  table.retire(0);
});

test('a repeated request is answered from the cache (no regex callback on the hit)', () => {
  const table = compile(config);
  const { recPtr } = writeHeadRecord(wasm, { host: 'example.com', path: '/admin/panel', headers: [['x-role', 'admin']] });
  const first = counting(() => table.matchIndex(recPtr));
  assert.equal(table.entryAt(first.result).name, 'admin');
  assert.ok(first.regexCalls >= 1);
  const second = counting(() => table.matchIndex(recPtr));
  assert.equal(second.result, first.result);
  assert.equal(second.regexCalls, 0);
  // A different value of a header a matcher reads is a different key.
  const { recPtr: other } = writeHeadRecord(wasm, { host: 'example.com', path: '/admin/panel', headers: [['x-role', 'user']] });
  assert.equal(table.matchIndex(other), -1);
  table.retire(0);
});

test('a regex route runs its regex only for paths that start with its literal prefix', () => {
  const table = compile({ virtual_hosts: [{ name: 'v', domains: ['*'], routes: [
    to('users', { safe_regex: { regex: '/users/[0-9]+' } }),
    to('any', { safe_regex: { regex: '.*/debug' } }),
    to('root', { prefix: '/' }),
  ] }] }, { cache: false });
  const run = (path: string) => counting(() => table.matchIndex(writeHeadRecord(wasm, { host: 'h', path }).recPtr));
  const users = run('/users/42');
  assert.equal(users.result, 0);
  assert.equal(users.regexCalls, 1);
  // "/orders/1" cannot match "/users/...": only the unindexable ".*/debug" is asked.
  const orders = run('/orders/1');
  assert.equal(orders.result, 2);
  assert.equal(orders.regexCalls, 1);
  const usersMiss = run('/users/x');
  assert.equal(usersMiss.result, 2);
  assert.equal(usersMiss.regexCalls, 2);
  assert.equal(run('/a/debug').result, 1);
  table.retire(0);
});

test('a new table version invalidates the cache', () => {
  const req = { host: 'example.com', path: '/api/v1/users' };
  const a = compile({ virtual_hosts: [{ name: 'v', domains: ['*'], routes: [to('old', { prefix: '/api' })] }] });
  const b = compile({ virtual_hosts: [{ name: 'v', domains: ['*'], routes: [to('new-0', { prefix: '/nothing' }), to('new', { prefix: '/api' })] }] });
  assert.notEqual(a.version, b.version);
  const { recPtr } = writeHeadRecord(wasm, req);
  assert.equal(a.matchIndex(recPtr), 0);
  assert.equal(a.matchIndex(recPtr), 0);
  assert.equal(b.matchIndex(recPtr), 1);
  assert.equal(b.entryAt(b.matchIndex(recPtr)).name, 'new');
  a.retire(0);
  b.retire(0);
});

test('an entry is trusted only if its full key matches and its seqlock is stable', () => {
  const table = compile({ virtual_hosts: [{ name: 'v', domains: ['*'], routes: [to('a', { prefix: '/a' }), to('b', { prefix: '/' })] }] });
  const { recPtr } = writeHeadRecord(wasm, { host: 'k.example', path: '/a/key' });
  assert.equal(table.matchIndex(recPtr), 0);
  const [e] = entriesOf(table);
  assert.ok(e !== undefined);
  // Plant a different answer: a hit now returns it, which shows the lookup reads this entry.
  wasm.view.setInt32(e + L.RC_RESULT, 1, true);
  assert.equal(table.matchIndex(recPtr), 1);
  // Same hash and length, one key byte different (as a colliding key would be): a miss, the right answer.
  const keyLen = wasm.view.getUint32(e + L.RC_KEY_LEN, true);
  wasm.u8[e + L.RC_KEY + keyLen - 1] ^= 0x20;
  assert.equal(table.matchIndex(recPtr), 0);
  // An odd sequence number means a writer is mid-update: never read.
  wasm.view.setInt32(e + L.RC_RESULT, 1, true);
  wasm.u8[e + L.RC_KEY + keyLen - 1] ^= 0x20;
  const seq = wasm.view.getUint32(e + L.RC_SEQ, true);
  wasm.view.setUint32(e + L.RC_SEQ, seq | 1, true);
  assert.equal(table.matchIndex(recPtr), 0);
  wasm.view.setUint32(e + L.RC_SEQ, (seq | 1) + 1, true);
  table.retire(0);
});

test('keys longer than an entry holds bypass the cache and still match', () => {
  const table = compile({ virtual_hosts: [{ name: 'v', domains: ['*'], routes: [to('long', { prefix: '/long' })] }] });
  const path = '/long/' + 'p'.repeat(L.RC_MAX_KEY);
  const { recPtr } = writeHeadRecord(wasm, { host: 'h', path });
  assert.equal(table.matchIndex(recPtr), 0);
  assert.equal(table.matchIndex(recPtr), 0);
  assert.equal(entriesOf(table).length, 0);
  table.retire(0);
});

test('cache: false compiles a table that never touches the cache', () => {
  const table = compile(config, { cache: false });
  const { recPtr } = writeHeadRecord(wasm, { host: 'example.com', path: '/api/v1/x' });
  assert.equal(table.entryAt(table.matchIndex(recPtr)).name, 'v1');
  assert.equal(entriesOf(table).length, 0);
  table.retire(0);
});

test('attachTable matches a batch like the main thread, and refuses a released table', () => {
  const table = compile(config);
  const rand = rng(99);
  let at = wasm.scratchBase;
  const recs: number[] = [];
  for (let i = 0; i < 64; i++) {
    const w = writeHeadRecord(wasm, randomRequest(rand), at);
    recs.push(w.recPtr);
    at = w.end;
  }
  const attached = attachTable(wasm, structuredClone(tableDescriptor(table)));
  const got = attached.matchBatch(Int32Array.from(recs));
  assert.deepEqual([...got], recs.map((r) => table.matchIndexUncached(r)));
  table.retire(0);
  // Reclaimed on the next allocation; a new table overwrites the blob.
  const next = compile({ virtual_hosts: [{ name: 'x', domains: ['*'] }] });
  assert.throws(() => attachTable(wasm, tableDescriptor(table)), StaleRouteTableError);
  // A worker still holding the attached table fails loudly instead of matching on the new bytes.
  assert.throws(() => attached.matchBatch(Int32Array.from(recs)), StaleRouteTableError);
  assert.throws(() => attached.match(recs[0]), (e: unknown) => e instanceof StaleRouteTableError && e.code === 'SKIFF_ROUTE_TABLE_STALE');
  next.retire(0);
});
