// First-match order holds across indexed routes (exact paths, prefixes) and routes no index covers
// (regexes, long prefixes), checked against a plain linear reference matcher on random inputs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Route } from '../../../src/types/envoy.js';
import { seededRandom } from '../../helpers/random.js';
import { compile, routed, to } from './support.js';

test('a regex route before a prefix route wins when it matches', () => {
  const t = compile({ virtual_hosts: [{ name: 'v', domains: ['*'], routes: [
    to('regex', { safe_regex: { regex: '/api/v[0-9]+/admin' } }),
    to('prefix', { prefix: '/api' }),
    to('regex-late', { safe_regex: { regex: '/api/.*' } }),
  ] }] });
  assert.equal(routed(t, { path: '/api/v2/admin' }), 'regex');
  assert.equal(routed(t, { path: '/api/v2/users' }), 'prefix');
});

test('an earlier shorter prefix beats a later longer one; an earlier prefix beats a later exact path', () => {
  const t = compile({ virtual_hosts: [{ name: 'v', domains: ['*'], routes: [
    to('short', { prefix: '/a' }),
    to('long', { prefix: '/a/b' }),
    to('exact', { path: '/a/b/c' }),
  ] }] });
  assert.equal(routed(t, { path: '/a/b/c' }), 'short');
  const t2 = compile({ virtual_hosts: [{ name: 'v', domains: ['*'], routes: [
    to('exact', { path: '/a/b/c' }),
    to('long', { prefix: '/a/b' }),
    to('short', { prefix: '/a' }),
  ] }] });
  assert.equal(routed(t2, { path: '/a/b/c' }), 'exact');
  assert.equal(routed(t2, { path: '/a/b/x' }), 'long');
  assert.equal(routed(t2, { path: '/a/x' }), 'short');
});

test('a route whose header matcher fails falls through to the next candidate in order', () => {
  const t = compile({ virtual_hosts: [{ name: 'v', domains: ['*'], routes: [
    to('canary', { prefix: '/shop', headers: [{ name: 'x-canary', exact_match: '1' }] }),
    to('shop-exact', { path: '/shop/cart' }),
    to('shop', { prefix: '/shop' }),
  ] }] });
  assert.equal(routed(t, { path: '/shop/cart', headers: [['x-canary', '1']] }), 'canary');
  assert.equal(routed(t, { path: '/shop/cart' }), 'shop-exact');
  assert.equal(routed(t, { path: '/shop/list' }), 'shop');
});

test('the same prefix repeated keeps route order inside its candidate list', () => {
  const t = compile({ virtual_hosts: [{ name: 'v', domains: ['*'], routes: [
    to('first', { prefix: '/p', headers: [{ name: 'a', present_match: true }] }),
    to('second', { prefix: '/p', headers: [{ name: 'b', present_match: true }] }),
    to('third', { prefix: '/p' }),
  ] }] });
  assert.equal(routed(t, { path: '/p', headers: [['b', ''], ['a', '']] }), 'first');
  assert.equal(routed(t, { path: '/p', headers: [['b', '']] }), 'second');
  assert.equal(routed(t, { path: '/p' }), 'third');
});

test('prefixes of 512 bytes and more (not indexed) keep their place in order', () => {
  const long = '/' + 'x'.repeat(600);
  const t = compile({ virtual_hosts: [{ name: 'v', domains: ['*'], routes: [
    to('long', { prefix: long }),
    to('root', { prefix: '/' }),
  ] }] });
  assert.equal(routed(t, { path: long + '/tail' }), 'long');
  assert.equal(routed(t, { path: long.slice(0, 300) }), 'root');
});

// ---- property test: the indexed matcher agrees with a linear scan ----

const SEGMENTS = ['api', 'v1', 'v2', 'users', 'Users', 'orders', 'x', 'static', 'img', '42'];

/** The same semantics as the wasm matcher, written the plain way: test every route in order. */
function linearMatch(routes: Route[], path: string, headers: Map<string, string>): number {
  const q = path.indexOf('?');
  const p = q < 0 ? path : path.slice(0, q);
  for (let i = 0; i < routes.length; i++) {
    const m = routes[i].match;
    const ci = m.case_sensitive?.value === false;
    const fold = (s: string) => (ci ? s.toLowerCase() : s);
    let ok: boolean;
    if (m.prefix !== undefined) ok = fold(p).startsWith(fold(m.prefix));
    else if (m.path !== undefined) ok = fold(p) === fold(m.path);
    else if (m.path_separated_prefix !== undefined) {
      const s = fold(m.path_separated_prefix);
      ok = fold(p) === s || fold(p).startsWith(s + '/');
    } else ok = new RegExp(`^(?:${m.safe_regex!.regex})$`).test(p);
    for (const h of m.headers ?? []) ok &&= headers.get(h.name) === h.exact_match;
    if (ok) return i;
  }
  return -1;
}

test('random tables: the indexed match equals a linear scan (fixed seed)', () => {
  const rand = seededRandom(0x5eed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)];
  const randomPath = (): string => '/' + Array.from({ length: 1 + Math.floor(rand() * 4) }, () => pick(SEGMENTS)).join('/');
  for (let round = 0; round < 8; round++) {
    const routes: Route[] = Array.from({ length: 40 }, (_, i) => {
      const kind = Math.floor(rand() * 5);
      const p = randomPath();
      const match: Route['match'] =
        kind === 0 ? { prefix: p.slice(0, 1 + Math.floor(rand() * p.length)) }
        : kind === 1 ? { path: p }
        : kind === 2 ? { path_separated_prefix: p }
        : kind === 3 ? { safe_regex: { regex: rand() < 0.5 ? `${p.split('/').slice(0, 2).join('/')}/.*` : `.*/${pick(SEGMENTS)}` } }
        : { prefix: p, case_sensitive: { value: false } };
      if (rand() < 0.2) match.headers = [{ name: 'x-v', exact_match: pick(['a', 'b']) }];
      return to(`r${i}`, match);
    });
    const t = compile({ virtual_hosts: [{ name: 'v', domains: ['*'], routes }] });
    for (let i = 0; i < 150; i++) {
      const path = rand() < 0.5 ? randomPath() : randomPath() + '?q=' + pick(SEGMENTS);
      const hv = rand() < 0.5 ? pick(['a', 'b', 'c']) : undefined;
      const headers = new Map(hv === undefined ? [] : [['x-v', hv]]);
      const want = linearMatch(routes, path, headers);
      const got = routed(t, { path, headers: [...headers] });
      assert.equal(got, want < 0 ? null : `r${want}`, `round ${round}, ${path} ${hv ?? ''}`);
    }
    t.retire(0);
  }
});
