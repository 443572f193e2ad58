// The JS half of a route: actions, Envoy's defaults (15 s timeout, retry policy inheritance) and header
// mutations merged route -> virtual host -> route configuration.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InlineRouteResolver } from '../../../src/router/index.js';
import type { RouteEntry } from '../../../src/types/router.js';
import { writeHeadRecord } from '../../helpers/head-record.js';
import { compile, match, wasm } from './support.js';

const table = compile({
  request_headers_to_add: [{ header: { key: 'x-from', value: 'config' }, append: { value: false } }],
  request_headers_to_remove: ['x-config-drop'],
  response_headers_to_add: [{ header: { key: 'x-resp', value: 'config' } }],
  virtual_hosts: [{
    name: 'shop', domains: ['*'],
    retry_policy: { retry_on: '5xx', num_retries: { value: 2 } },
    request_headers_to_add: [{ header: { key: 'X-From', value: 'vhost' }, append_action: 'ADD_IF_ABSENT' }],
    request_headers_to_remove: ['x-vhost-drop'],
    response_headers_to_remove: ['server'],
    routes: [
      {
        name: 'weighted', match: { prefix: '/w' },
        route: { weighted_clusters: { clusters: [{ name: 'blue', weight: { value: 90 } }, { name: 'green', weight: { value: 10 } }] } },
      },
      {
        name: 'rewritten', match: { prefix: '/old' },
        route: {
          cluster: 'svc', prefix_rewrite: '/new', host_rewrite_literal: 'svc.internal', timeout: { seconds: 2, nanos: 500_000_000 },
          retry_policy: { retry_on: 'reset', num_retries: { value: 5 } }, hash_policy: [{ header: { header_name: 'X-User' } }],
        },
        request_headers_to_add: [{ header: { key: 'x-from', value: 'route' }, append_action: 'OVERWRITE_IF_EXISTS_OR_ADD' }],
        request_headers_to_remove: ['x-route-drop'],
      },
      { name: 'no-timeout', match: { path: '/stream' }, route: { cluster: 'svc', timeout: { seconds: 0 } } },
      { name: 'direct', match: { path: '/health' }, direct_response: { status: 200, body: { inline_string: 'ok' } } },
      {
        name: 'redirect', match: { prefix: '/http' },
        redirect: { https_redirect: true, host_redirect: 'secure.example', strip_query: true, response_code: 'PERMANENT_REDIRECT' },
      },
      { name: 'default', match: { prefix: '/' }, route: { cluster: 'svc' } },
    ],
  }],
});

const entry = (path: string): RouteEntry => {
  const e = match(table, { path });
  assert.ok(e, `no route for ${path}`);
  return e;
};

test('header mutations are merged route, then virtual host, then route configuration', () => {
  const e = entry('/old/x');
  assert.deepEqual(e.requestHeaders.add, [
    { name: 'x-from', value: 'route', mode: 'overwrite' },
    { name: 'x-from', value: 'vhost', mode: 'add_if_absent' },
    { name: 'x-from', value: 'config', mode: 'overwrite' },
  ]);
  assert.deepEqual(e.requestHeaders.remove, ['x-route-drop', 'x-vhost-drop', 'x-config-drop']);
  assert.deepEqual(e.responseHeaders.add, [{ name: 'x-resp', value: 'config', mode: 'append' }]);
  assert.deepEqual(e.responseHeaders.remove, ['server']);
  // A route without its own mutations gets the virtual host's then the configuration's.
  assert.deepEqual(entry('/other').requestHeaders.add.map((a) => a.value), ['vhost', 'config']);
});

test('an empty header value is dropped unless keep_empty_value is set', () => {
  const t = compile({ virtual_hosts: [{ name: 'v', domains: ['*'], request_headers_to_add: [
    { header: { key: 'x-empty', value: '' } },
    { header: { key: 'x-kept', value: '' }, keep_empty_value: true },
    { header: { key: 'x-none' } },
  ], routes: [{ match: { prefix: '/' }, route: { cluster: 'c' } }] }] });
  assert.deepEqual(match(t, {})?.requestHeaders.add, [{ name: 'x-kept', value: '', mode: 'append' }]);
});

test('weighted clusters keep their weights and total', () => {
  assert.deepEqual(entry('/w/1').action, {
    kind: 'weighted', clusters: [{ name: 'blue', weight: 90 }, { name: 'green', weight: 10 }], totalWeight: 100,
  });
});

test('route action fields: rewrites, timeout, retry policy, hash policy', () => {
  const e = entry('/old/page');
  assert.deepEqual(e.action, { kind: 'cluster', cluster: 'svc' });
  assert.equal(e.matchPrefix, '/old');
  assert.equal(e.prefixRewrite, '/new');
  assert.equal(e.hostRewrite, 'svc.internal');
  assert.equal(e.timeoutMs, 2500);
  assert.equal(e.retryPolicy?.retry_on, 'reset');
  assert.deepEqual(e.hashHeaders, ['x-user']);
  assert.equal(e.virtualHost, 'shop');
  assert.equal(e.name, 'rewritten');
});

test('Envoy defaults: 15 s timeout, 0 disables it, retry policy inherited from the virtual host', () => {
  const d = entry('/anything');
  assert.equal(d.timeoutMs, 15_000);
  assert.equal(d.retryPolicy?.retry_on, '5xx');
  assert.equal(entry('/stream').timeoutMs, 0);
});

test('direct responses and redirects', () => {
  assert.deepEqual(entry('/health').action, { kind: 'direct', status: 200, body: 'ok' });
  assert.deepEqual(entry('/http/x').action, {
    kind: 'redirect', status: 308, scheme: 'https', host: 'secure.example', port: undefined, path: undefined,
    prefixRewrite: undefined, stripQuery: true,
  });
});

test('entries are indexed by global route index across virtual hosts', () => {
  const t = compile({ virtual_hosts: [
    { name: 'a', domains: ['a'], routes: [{ name: 'a0', match: { prefix: '/' }, route: { cluster: 'a' } }] },
    { name: 'b', domains: ['b'], routes: [
      { name: 'b0', match: { path: '/x' }, route: { cluster: 'b' } },
      { name: 'b1', match: { prefix: '/' }, route: { cluster: 'b' } },
    ] },
  ] });
  assert.equal(t.routeCount, 3);
  assert.equal(match(t, { host: 'b', path: '/y' })?.index, 2);
  assert.equal(t.entryAt(2).name, 'b1');
  assert.throws(() => t.entryAt(3), RangeError);
});

test('InlineRouteResolver calls back synchronously with the match, and follows setTable', () => {
  const resolver = new InlineRouteResolver(table);
  const { head } = writeHeadRecord(wasm, { host: 'x', path: '/health' });
  let got: RouteEntry | null | undefined;
  resolver.resolve(head, (r) => { got = r; });
  assert.equal(got?.name, 'direct');
  resolver.setTable(null);
  resolver.resolve(head, (r) => { got = r; });
  assert.equal(got, null);
});
