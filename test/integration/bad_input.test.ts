// Hostile and broken downstream input: request smuggling (CL.TE, TE.CL, TE.TE) answered 400 without the
// upstream seeing a smuggled request, 431 for oversize heads, 408 for a slow client, and the proxy
// serving other connections after each.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import {
  allDomains, closeAll, httpUpstream, listener, rawExchange, request, startProxy, staticCluster, statusLines,
  type Proxy, type Upstream,
} from './proxy_harness.js';

let proxy: Proxy;
let up: Upstream;

before(async () => {
  up = await httpUpstream((req, res) => res.end(`ok ${req.url}`));
  const routes = allDomains([{ match: { prefix: '/' }, route: { cluster: 'app' } }]);
  proxy = await startProxy([
    listener('ingress', routes),
    listener('slow', routes, { request_headers_timeout: { nanos: 200_000_000 } }),
  ], [staticCluster('app', [up.port])]);
});

after(() => closeAll(proxy, up));

const SMUGGLED = 'GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n';

async function assertStillServing(): Promise<void> {
  const r = await request(proxy.port('ingress'), { path: '/alive' });
  assert.equal(r.status, 200);
  assert.equal(r.body, 'ok /alive');
}

function assertNoSmuggled(): void {
  assert.equal(up.seen.some((s) => s.url === '/smuggled'), false, 'the upstream saw a smuggled request');
}

const cases: [string, string][] = [
  ['CL.TE', `POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: ${5 + SMUGGLED.length}\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n${SMUGGLED}`],
  ['TE.CL', `POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n${(SMUGGLED.length + 2).toString(16)}\r\n\r\n${SMUGGLED}\r\n0\r\n\r\n`],
  ['TE.TE (second coding)', `POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: x\r\nContent-Length: 4\r\n\r\n0\r\n\r\n${SMUGGLED}`],
  ['TE.TE (space before colon)', `POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding : chunked\r\nContent-Length: 4\r\n\r\n0\r\n\r\n${SMUGGLED}`],
  ['duplicate content-length', `POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nContent-Length: 40\r\n\r\nbody${SMUGGLED}`],
];

for (const [name, bytes] of cases) {
  test(`request smuggling ${name}: 400, nothing smuggled`, async () => {
    const before = proxy.counter('http.ingress.downstream_cx_protocol_error');
    const raw = await rawExchange(proxy.port('ingress'), bytes);
    assert.deepEqual(statusLines(raw), [400], raw);
    assert.match(raw, /connection: close/i);
    assert.equal(proxy.counter('http.ingress.downstream_cx_protocol_error'), before + 1);
    assertNoSmuggled();
    await assertStillServing();
  });
}

test('431 for a head over max_request_headers_kb', async () => {
  const raw = await rawExchange(proxy.port('ingress'), `GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(70 * 1024)}\r\n\r\n`);
  assert.deepEqual(statusLines(raw), [431]);
  await assertStillServing();
});

test('431 for more than max_headers_count headers', async () => {
  const many = Array.from({ length: 120 }, (_, i) => `X-H${i}: v\r\n`).join('');
  const raw = await rawExchange(proxy.port('ingress'), `GET / HTTP/1.1\r\nHost: x\r\n${many}\r\n`);
  assert.deepEqual(statusLines(raw), [431]);
  await assertStillServing();
});

test('408 when the head does not arrive within request_headers_timeout', async () => {
  const before = proxy.counter('http.slow.downstream_rq_timeout');
  const started = Date.now();
  const raw = await rawExchange(proxy.port('slow'), 'GET / HTTP/1.1\r\nHost: x\r\n');
  assert.deepEqual(statusLines(raw), [408]);
  assert.ok(Date.now() - started >= 150);
  assert.equal(proxy.counter('http.slow.downstream_rq_timeout'), before + 1);
  const r = await request(proxy.port('slow'), { path: '/fast' });
  assert.equal(r.status, 200);
});

test('garbage bytes: 400 and the proxy keeps serving', async () => {
  const raw = await rawExchange(proxy.port('ingress'), '\x00\x01\x02 nonsense \r\n\r\n');
  assert.deepEqual(statusLines(raw), [400]);
  await assertStillServing();
});

test('a malformed chunked body after a good head resets the connection, upstream sees no smuggled request', async () => {
  const raw = await rawExchange(proxy.port('ingress'), `POST /mc HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n${SMUGGLED}`);
  assert.ok(!/HTTP\/1\.1 200/.test(raw), raw);
  assertNoSmuggled();
  await assertStillServing();
  assert.equal(proxy.gauge('http.ingress.downstream_rq_active'), 0);
});
