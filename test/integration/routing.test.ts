// Routing through the proxy: by host, path, header and query; round robin; weighted clusters;
// direct_response, redirect, prefix_rewrite, host_rewrite_literal, header mutations at each level.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import {
  allDomains, closeAll, httpUpstream, listener, request, startProxy, staticCluster, type Proxy, type Upstream,
} from './proxy_harness.js';
import { SLOW_PATIENCE_MS } from '../helpers/wait.js';

let a: Upstream;
let b: Upstream;
let proxy: Proxy;

before(async () => {
  a = await httpUpstream((req, res) => { res.setHeader('x-from', 'a'); res.setHeader('x-secret', 's'); res.end(`a ${req.url}`); });
  b = await httpUpstream((req, res) => { res.setHeader('x-from', 'b'); res.end(`b ${req.url}`); });
  const routes = {
    request_headers_to_add: [{ header: { key: 'x-rc', value: 'rc' } }],
    response_headers_to_add: [{ header: { key: 'x-rc-resp', value: 'rc' } }],
    virtual_hosts: [
      { name: 'api', domains: ['api.example.com'], routes: [{ match: { prefix: '/' }, route: { cluster: 'b' } }] },
      {
        name: 'all', domains: ['*'],
        request_headers_to_add: [{ header: { key: 'x-vh', value: 'vh' } }],
        response_headers_to_remove: ['x-secret'],
        routes: [
          { match: { prefix: '/hdr', headers: [{ name: 'x-pick', string_match: { exact: 'b' } }] }, route: { cluster: 'b' } },
          { match: { prefix: '/q', query_parameters: [{ name: 'to', string_match: { exact: 'b' } }] }, route: { cluster: 'b' } },
          { match: { prefix: '/rr' }, route: { cluster: 'both' } },
          { match: { prefix: '/sticky' }, route: { cluster: 'both_hash', hash_policy: [{ header: { header_name: 'x-user' } }] } },
          { match: { prefix: '/weighted' }, route: { weighted_clusters: { clusters: [{ name: 'a', weight: { value: 30 } }, { name: 'b', weight: { value: 70 } }] } } },
          { match: { path: '/direct' }, direct_response: { status: 201, body: { inline_string: 'made here' } } },
          { match: { prefix: '/old/' }, redirect: { prefix_rewrite: '/new/', host_redirect: 'moved.example.com', response_code: 'FOUND' } },
          { match: { prefix: '/rewrite/' }, route: { cluster: 'a', prefix_rewrite: '/v2/', host_rewrite_literal: 'internal.svc' } },
          {
            match: { prefix: '/mut' }, route: { cluster: 'a' },
            request_headers_to_add: [{ header: { key: 'x-route', value: 'r' } }],
            request_headers_to_remove: ['x-drop-me'],
            response_headers_to_add: [{ header: { key: 'x-route-resp', value: 'r' } }],
          },
          { match: { prefix: '/ghost' }, route: { cluster: 'missing' } },
          { match: { prefix: '/a' }, route: { cluster: 'a' } },
        ],
      },
    ],
  };
  proxy = await startProxy([listener('ingress', routes as never)], [
    staticCluster('a', [a.port]), staticCluster('b', [b.port]), staticCluster('both', [a.port, b.port]),
    staticCluster('both_hash', [a.port, b.port], { lb_policy: 'RING_HASH' }),
  ]);
});

after(() => closeAll(proxy, a, b));

test('routes by host', async () => {
  const r = await request(proxy.port(), { path: '/a/x', headers: { host: 'api.example.com' } });
  assert.equal(r.body, 'b /a/x');
  const r2 = await request(proxy.port(), { path: '/a/x', headers: { host: 'other.example.com' } });
  assert.equal(r2.body, 'a /a/x');
});

test('routes by path, header and query', async () => {
  assert.equal((await request(proxy.port(), { path: '/hdr', headers: { 'x-pick': 'b' } })).body, 'b /hdr');
  assert.equal((await request(proxy.port(), { path: '/hdr', headers: { 'x-pick': 'a' } })).status, 404);
  assert.equal((await request(proxy.port(), { path: '/q?to=b' })).body, 'b /q?to=b');
  assert.equal((await request(proxy.port(), { path: '/q?to=c' })).status, 404);
});

test('no route is a 404 from skiff', async () => {
  const before = proxy.counter('http.ingress.no_route');
  const r = await request(proxy.port(), { path: '/nothing' });
  assert.equal(r.status, 404);
  assert.equal(r.headers.server, 'skiff');
  assert.equal(proxy.counter('http.ingress.no_route'), before + 1);
});

test('round robin alternates between two upstreams', async () => {
  const froms: string[] = [];
  for (let i = 0; i < 6; i++) froms.push(String((await request(proxy.port(), { path: '/rr' })).headers['x-from']));
  for (let i = 1; i < froms.length; i++) assert.notEqual(froms[i], froms[i - 1], froms.join(','));
});

test('hash_policy on a header keeps a user on one host (RING_HASH)', async () => {
  const hostsSeen = new Set<string>();
  for (let u = 0; u < 16; u++) {
    const froms = new Set<string>();
    for (let i = 0; i < 4; i++) froms.add(String((await request(proxy.port(), { path: '/sticky', headers: { 'x-user': `user-${u}` } })).headers['x-from']));
    assert.equal(froms.size, 1, `user-${u} moved between hosts`);
    hostsSeen.add([...froms][0]!);
  }
  assert.equal(hostsSeen.size, 2, 'different users spread over both hosts');
});

test('weighted clusters split by weight', async () => {
  const counts: Record<string, number> = { a: 0, b: 0 };
  for (let i = 0; i < 200; i++) counts[String((await request(proxy.port(), { path: '/weighted' })).headers['x-from'])]!++;
  assert.equal(counts.a! + counts.b!, 200);
  assert.ok(counts.a! > 30 && counts.a! < 95, JSON.stringify(counts));
});

test('direct_response', async () => {
  const before = proxy.counter('http.ingress.rq_direct_response');
  const r = await request(proxy.port(), { path: '/direct' });
  assert.equal(r.status, 201);
  assert.equal(r.body, 'made here');
  assert.equal(r.headers['content-type'], 'text/plain');
  assert.equal(r.headers['content-length'], '9');
  assert.ok(Math.abs(Date.parse(String(r.headers.date)) - Date.now()) < SLOW_PATIENCE_MS, `date: ${r.headers.date}`);
  assert.equal(proxy.counter('http.ingress.rq_direct_response'), before + 1);
});

test('redirect', async () => {
  const r = await request(proxy.port(), { path: '/old/page?x=1', headers: { host: 'www.example.com' } });
  assert.equal(r.status, 302);
  assert.equal(r.headers.location, 'http://moved.example.com/new/page?x=1');
});

test('prefix_rewrite and host_rewrite_literal', async () => {
  const r = await request(proxy.port(), { path: '/rewrite/users?id=7' });
  assert.equal(r.body, 'a /v2/users?id=7');
  assert.equal(a.seen.at(-1)!.headers.host, 'internal.svc');
});

test('header add/remove at route, virtual host and route config level', async () => {
  const r = await request(proxy.port(), { path: '/mut', headers: { 'x-drop-me': '1', 'x-keep': '2' } });
  const seen = a.seen.at(-1)!.headers;
  assert.equal(seen['x-route'], 'r');
  assert.equal(seen['x-vh'], 'vh');
  assert.equal(seen['x-rc'], 'rc');
  assert.equal(seen['x-drop-me'], undefined);
  assert.equal(seen['x-keep'], '2');
  assert.equal(r.headers['x-route-resp'], 'r');
  assert.equal(r.headers['x-rc-resp'], 'rc');
  assert.equal(r.headers['x-secret'], undefined);
  assert.equal(r.headers['x-from'], 'a');
  assert.equal(r.headers.server, 'skiff');
});

test('a route to an unknown cluster is a 503 and the proxy keeps serving', async () => {
  const before = proxy.counter('http.ingress.no_cluster');
  assert.equal((await request(proxy.port(), { path: '/ghost' })).status, 503);
  assert.equal(proxy.counter('http.ingress.no_cluster'), before + 1);
  assert.equal((await request(proxy.port(), { path: '/a' })).status, 200);
});

test('stats: requests and connections counted with Envoy names', async () => {
  const total = proxy.counter('http.ingress.downstream_rq_total');
  const cx = proxy.counter('http.ingress.downstream_cx_total');
  const rq2xx = proxy.counter('http.ingress.downstream_rq_2xx');
  const up = proxy.counter('cluster.a.upstream_rq_total');
  await request(proxy.port(), { path: '/a' });
  assert.equal(proxy.counter('http.ingress.downstream_rq_total'), total + 1);
  assert.equal(proxy.counter('http.ingress.downstream_rq_http1_total'), proxy.counter('http.ingress.downstream_rq_total'));
  assert.equal(proxy.counter('http.ingress.downstream_cx_http1_total'), proxy.counter('http.ingress.downstream_cx_total'));
  assert.equal(proxy.counter('http.ingress.downstream_cx_total'), cx + 1);
  assert.equal(proxy.counter('http.ingress.downstream_rq_2xx'), rq2xx + 1);
  assert.equal(proxy.counter('cluster.a.upstream_rq_total'), up + 1);
  assert.ok(proxy.counter('cluster.a.upstream_rq_200') >= 1);
  assert.ok(proxy.counter(`listener.127.0.0.1_${proxy.port()}.downstream_cx_total`) >= 1);
  assert.equal(proxy.gauge('http.ingress.downstream_rq_active'), 0);
});
