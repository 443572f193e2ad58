// Every matcher kind over head records: path forms, case sensitivity, regex full match, headers (string
// matchers, deprecated *_match forms, present_match, invert_match, missing headers, repeated headers,
// pseudo-headers) and query parameters.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { HeaderMatcher, QueryParameterMatcher, RouteMatch } from '../../../src/types/envoy.js';
import { compile, routed, to } from './support.js';

/** A table with one route `hit` under the given match, then a catch-all `miss`. */
function one(m: RouteMatch) {
  return compile({ virtual_hosts: [{ name: 'v', domains: ['*'], routes: [to('hit', m), to('miss', { prefix: '' })] }] });
}
const withHeader = (h: HeaderMatcher) => one({ prefix: '/', headers: [h] });
const withQuery = (q: QueryParameterMatcher) => one({ prefix: '/', query_parameters: [q] });

test('prefix matches the start of the path; the query string is ignored', () => {
  const t = one({ prefix: '/api/v1' });
  assert.equal(routed(t, { path: '/api/v1' }), 'hit');
  assert.equal(routed(t, { path: '/api/v1/users?id=3' }), 'hit');
  assert.equal(routed(t, { path: '/api/v1x' }), 'hit');
  assert.equal(routed(t, { path: '/api/v' }), 'miss');
  assert.equal(routed(t, { path: '/api?/v1' }), 'miss');
  assert.equal(routed(t, { path: '/API/v1' }), 'miss');
});

test('path is an exact match on the path without the query', () => {
  const t = one({ path: '/login' });
  assert.equal(routed(t, { path: '/login' }), 'hit');
  assert.equal(routed(t, { path: '/login?next=/home' }), 'hit');
  assert.equal(routed(t, { path: '/login/' }), 'miss');
  assert.equal(routed(t, { path: '/logi' }), 'miss');
});

test('path_separated_prefix matches the prefix followed by "/" or the end of the path', () => {
  const t = one({ path_separated_prefix: '/api' });
  assert.equal(routed(t, { path: '/api' }), 'hit');
  assert.equal(routed(t, { path: '/api/' }), 'hit');
  assert.equal(routed(t, { path: '/api/x' }), 'hit');
  assert.equal(routed(t, { path: '/api?x=1' }), 'hit');
  assert.equal(routed(t, { path: '/apix' }), 'miss');
});

test('case_sensitive: false folds ASCII case for prefix, path and path_separated_prefix', () => {
  const p = one({ prefix: '/Api', case_sensitive: { value: false } });
  assert.equal(routed(p, { path: '/aPI/x' }), 'hit');
  assert.equal(routed(p, { path: '/apx' }), 'miss');
  const e = one({ path: '/Login', case_sensitive: { value: false } });
  assert.equal(routed(e, { path: '/LOGIN' }), 'hit');
  assert.equal(routed(e, { path: '/LOGIN2' }), 'miss');
  const s = one({ path_separated_prefix: '/Docs', case_sensitive: { value: false } });
  assert.equal(routed(s, { path: '/dOCS/a' }), 'hit');
  assert.equal(routed(s, { path: '/docsx' }), 'miss');
  const sensitive = one({ path: '/Login', case_sensitive: { value: true } });
  assert.equal(routed(sensitive, { path: '/login' }), 'miss');
});

test('safe_regex must match the whole path (RE2 full match), without the query', () => {
  const t = one({ safe_regex: { regex: '/users/[0-9]+' } });
  assert.equal(routed(t, { path: '/users/42' }), 'hit');
  assert.equal(routed(t, { path: '/users/42?x=y' }), 'hit');
  assert.equal(routed(t, { path: '/users/42/posts' }), 'miss');
  assert.equal(routed(t, { path: '/v2/users/42' }), 'miss');
  const alt = one({ safe_regex: { regex: '/a|/b' } });
  assert.equal(routed(alt, { path: '/b' }), 'hit');
  assert.equal(routed(alt, { path: '/ab' }), 'miss');
  const named = one({ safe_regex: { regex: '/(?P<id>[a-z]+)' } });
  assert.equal(routed(named, { path: '/abc' }), 'hit');
});

test('header string_match: exact, prefix, suffix, contains, safe_regex, with and without ignore_case', () => {
  const cases: [HeaderMatcher['string_match'], string, boolean][] = [
    [{ exact: 'beta' }, 'beta', true], [{ exact: 'beta' }, 'Beta', false], [{ exact: 'beta', ignore_case: true }, 'BeTa', true],
    [{ prefix: 'ver-' }, 'ver-2', true], [{ prefix: 'ver-' }, 'VER-2', false], [{ prefix: 'VER-', ignore_case: true }, 'ver-2', true],
    [{ suffix: '.internal' }, 'a.internal', true], [{ suffix: '.internal' }, 'a.INTERNAL', false],
    [{ suffix: '.Internal', ignore_case: true }, 'a.INTERNAL', true], [{ suffix: 'long-suffix' }, 'fix', false],
    [{ contains: 'mobile' }, 'Agent mobile 1', true], [{ contains: 'mobile' }, 'Agent MOBILE', false],
    [{ contains: 'Mobile', ignore_case: true }, 'agent MOBILE 1', true], [{ contains: 'x' }, '', false],
    [{ safe_regex: { regex: 'v[0-9]' } }, 'v7', true], [{ safe_regex: { regex: 'v[0-9]' } }, 'v77', false],
  ];
  for (const [sm, value, hit] of cases) {
    const t = withHeader({ name: 'x-test', string_match: sm });
    assert.equal(routed(t, { headers: [['x-test', value]] }), hit ? 'hit' : 'miss', `${JSON.stringify(sm)} vs ${JSON.stringify(value)}`);
    assert.equal(routed(t, {}), 'miss', `${JSON.stringify(sm)} with the header missing`);
  }
});

test('the deprecated *_match forms behave as their string_match equivalents', () => {
  assert.equal(routed(withHeader({ name: 'x', exact_match: 'a' }), { headers: [['x', 'a']] }), 'hit');
  assert.equal(routed(withHeader({ name: 'x', exact_match: 'a' }), { headers: [['x', 'A']] }), 'miss');
  assert.equal(routed(withHeader({ name: 'x', prefix_match: 'ab' }), { headers: [['x', 'abc']] }), 'hit');
  assert.equal(routed(withHeader({ name: 'x', suffix_match: 'bc' }), { headers: [['x', 'abc']] }), 'hit');
  assert.equal(routed(withHeader({ name: 'x', contains_match: 'b' }), { headers: [['x', 'abc']] }), 'hit');
  assert.equal(routed(withHeader({ name: 'x', contains_match: 'z' }), { headers: [['x', 'abc']] }), 'miss');
  assert.equal(routed(withHeader({ name: 'x', safe_regex_match: { regex: 'a.c' } }), { headers: [['x', 'abc']] }), 'hit');
  assert.equal(routed(withHeader({ name: 'x', safe_regex_match: { regex: 'a.c' } }), { headers: [['x', 'abcd']] }), 'miss');
});

test('header names are case-insensitive in the config', () => {
  assert.equal(routed(withHeader({ name: 'X-Canary', exact_match: '1' }), { headers: [['x-canary', '1']] }), 'hit');
});

test('present_match and a matcher with no value test presence', () => {
  const present = withHeader({ name: 'x-debug', present_match: true });
  assert.equal(routed(present, { headers: [['x-debug', '']] }), 'hit');
  assert.equal(routed(present, {}), 'miss');
  const absent = withHeader({ name: 'x-debug', present_match: false });
  assert.equal(routed(absent, {}), 'hit');
  assert.equal(routed(absent, { headers: [['x-debug', '1']] }), 'miss');
  const bare = withHeader({ name: 'x-debug' });
  assert.equal(routed(bare, { headers: [['x-debug', 'x']] }), 'hit');
  assert.equal(routed(bare, {}), 'miss');
});

test('invert_match flips the result; a missing header passes an inverted value matcher', () => {
  const t = withHeader({ name: 'x-env', exact_match: 'prod', invert_match: true });
  assert.equal(routed(t, { headers: [['x-env', 'prod']] }), 'miss');
  assert.equal(routed(t, { headers: [['x-env', 'dev']] }), 'hit');
  assert.equal(routed(t, {}), 'hit');
  const invPresent = withHeader({ name: 'x-env', present_match: true, invert_match: true });
  assert.equal(routed(invPresent, { headers: [['x-env', 'a']] }), 'miss');
  // Envoy: an inverted presence check on a missing header does not match.
  assert.equal(routed(invPresent, {}), 'miss');
});

test('treat_missing_header_as_empty matches a missing header as ""', () => {
  const t = withHeader({ name: 'x-v', string_match: { exact: '' }, treat_missing_header_as_empty: true });
  assert.equal(routed(t, {}), 'hit');
  assert.equal(routed(t, { headers: [['x-v', 'a']] }), 'miss');
  const inv = withHeader({ name: 'x-v', string_match: { prefix: 'a' }, invert_match: true, treat_missing_header_as_empty: true });
  assert.equal(routed(inv, {}), 'hit');
});

test('a repeated header is matched as its values joined with ","', () => {
  const t = withHeader({ name: 'x-tag', exact_match: 'a,b' });
  assert.equal(routed(t, { headers: [['x-tag', 'a'], ['x-other', 'z'], ['x-tag', 'b']] }), 'hit');
  assert.equal(routed(t, { headers: [['x-tag', 'a']] }), 'miss');
  const suffix = withHeader({ name: 'x-tag', suffix_match: ',c' });
  assert.equal(routed(suffix, { headers: [['x-tag', 'a'], ['x-tag', 'b'], ['x-tag', 'c']] }), 'hit');
});

test('several header matchers must all pass', () => {
  const t = one({ prefix: '/', headers: [{ name: 'a', exact_match: '1' }, { name: 'b', present_match: true }] });
  assert.equal(routed(t, { headers: [['a', '1'], ['b', '']] }), 'hit');
  assert.equal(routed(t, { headers: [['a', '1']] }), 'miss');
  assert.equal(routed(t, { headers: [['b', '1']] }), 'miss');
});

test('pseudo-headers :method, :authority and :path read the request line', () => {
  const m = withHeader({ name: ':method', exact_match: 'POST' });
  assert.equal(routed(m, { method: 'POST' }), 'hit');
  assert.equal(routed(m, { method: 'GET' }), 'miss');
  const a = withHeader({ name: ':authority', suffix_match: '.local' });
  assert.equal(routed(a, { host: 'db.local' }), 'hit');
  assert.equal(routed(a, { host: 'db.remote' }), 'miss');
  const p = withHeader({ name: ':path', safe_regex_match: { regex: '/q\\?id=[0-9]+' } });
  assert.equal(routed(p, { path: '/q?id=12' }), 'hit');
  assert.equal(routed(p, { path: '/q' }), 'miss');
});

test('query_parameters: string_match and present_match on the first parameter of that name', () => {
  const exact = withQuery({ name: 'debug', string_match: { exact: 'true' } });
  assert.equal(routed(exact, { path: '/x?debug=true' }), 'hit');
  assert.equal(routed(exact, { path: '/x?a=1&debug=true&b' }), 'hit');
  assert.equal(routed(exact, { path: '/x?debug=false&debug=true' }), 'miss');
  assert.equal(routed(exact, { path: '/x?debugx=true' }), 'miss');
  assert.equal(routed(exact, { path: '/x' }), 'miss');
  const ci = withQuery({ name: 'mode', string_match: { prefix: 'FA', ignore_case: true } });
  assert.equal(routed(ci, { path: '/?mode=fast' }), 'hit');
  const rx = withQuery({ name: 'id', string_match: { safe_regex: { regex: '[0-9]{3}' } } });
  assert.equal(routed(rx, { path: '/?id=123' }), 'hit');
  assert.equal(routed(rx, { path: '/?id=1234' }), 'miss');
  const present = withQuery({ name: 'flag', present_match: true });
  assert.equal(routed(present, { path: '/?flag' }), 'hit');
  assert.equal(routed(present, { path: '/?flag=' }), 'hit');
  assert.equal(routed(present, { path: '/?x=flag' }), 'miss');
  const empty = withQuery({ name: 'e', string_match: { exact: '' } });
  assert.equal(routed(empty, { path: '/?e' }), 'hit');
  assert.equal(routed(empty, { path: '/?e=1' }), 'miss');
});
