// Untrusted request bytes never crash the matcher: random authorities, paths, queries and headers (long,
// repeated, odd bytes) always yield a valid route index or -1, the same with and without the cache.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Route } from '../../../src/types/envoy.js';
import { writeHeadRecord } from '../../helpers/head-record.js';
import { seededRandom } from '../../helpers/random.js';
import { compile, to, wasm } from './support.js';

const ALPHABET = 'aZ/?&=.-*:%[]# \t\u00ff\u00e9\u4e2d0';

test('random request bytes: valid answers, cached equal to cold (fixed seed)', () => {
  const routes: Route[] = [
    to('h', { prefix: '/', headers: [{ name: 'x-a', string_match: { contains: 'z', ignore_case: true } }] }),
    to('q', { prefix: '/', query_parameters: [{ name: 'a', string_match: { suffix: '=' } }] }),
    to('rx', { safe_regex: { regex: '/[a-z%]*' } }),
    to('ci', { path: '/aZ', case_sensitive: { value: false } }),
    to('sep', { path_separated_prefix: '/a' }),
  ];
  const table = compile({ virtual_hosts: [
    { name: 'a', domains: ['*.a', 'a.*', 'exact'], routes },
    { name: 'b', domains: ['*'], routes: [...routes].reverse() },
  ] });
  const rand = seededRandom(7);
  const str = (max: number): string => Array.from({ length: Math.floor(rand() * max) }, () => ALPHABET[Math.floor(rand() * ALPHABET.length)]).join('');
  for (let i = 0; i < 500; i++) {
    const headers: [string, string][] = Array.from({ length: Math.floor(rand() * 6) }, () => [rand() < 0.5 ? 'x-a' : str(8) || 'x', str(rand() < 0.05 ? 3000 : 40)]);
    const { recPtr } = writeHeadRecord(wasm, { host: str(30), path: (rand() < 0.8 ? '/' : '') + str(rand() < 0.05 ? 2000 : 60), headers });
    const cold = table.matchIndexUncached(recPtr);
    assert.ok(Number.isInteger(cold) && cold >= -1 && cold < table.routeCount);
    assert.equal(table.matchIndex(recPtr), cold);
    assert.equal(table.matchIndex(recPtr), cold);
  }
  table.retire(0);
});

test('a header repeated past the join area fails value matchers but is present, and does not crash', () => {
  const table = compile({ virtual_hosts: [{ name: 'v', domains: ['*'], routes: [
    to('big', { prefix: '/', headers: [{ name: 'x-big', contains_match: 'needle' }] }),
    to('present', { prefix: '/', headers: [{ name: 'x-big', present_match: true }] }),
  ] }] });
  const chunk = 'v'.repeat(4000);
  const headers: [string, string][] = Array.from({ length: 12 }, () => ['x-big', chunk]);
  headers.push(['x-big', 'needle']);
  const { recPtr } = writeHeadRecord(wasm, { host: 'h', path: '/', headers });
  assert.equal(table.matchIndex(recPtr), 1);
  const small = writeHeadRecord(wasm, { host: 'h', path: '/', headers: [['x-big', 'a'], ['x-big', 'needle']] });
  assert.equal(table.matchIndex(small.recPtr), 0);
  table.retire(0);
});

test('10 000 routes: the last routes are found, in order', () => {
  const routes: Route[] = [];
  for (let i = 0; i < 10_000; i++) routes.push(i % 2 ? to(`p${i}`, { prefix: `/p${i}/` }) : to(`e${i}`, { path: `/e/${i}` }));
  routes.push(to('late-regex', { safe_regex: { regex: '/p9999/special' } }));
  const table = compile({ virtual_hosts: [{ name: 'v', domains: ['*'], routes }] });
  const name = (path: string) => { const i = table.matchIndex(writeHeadRecord(wasm, { host: 'h', path }).recPtr); return i < 0 ? null : table.entryAt(i).name; };
  assert.equal(name('/p9999/x'), 'p9999');
  assert.equal(name('/e/9998'), 'e9998');
  assert.equal(name('/e/0'), 'e0');
  // The prefix route /p9999/ comes first, so the later regex never wins.
  assert.equal(name('/p9999/special'), 'p9999');
  assert.equal(name('/p10000/x'), null);
  table.retire(0);
});
