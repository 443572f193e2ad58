// Every local reply the proxy makes, as Envoy makes it, with its counters; and retries per retry_policy.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import {
  allDomains, closeAll, httpUpstream, listener, rawUpstream, request, startProxy, staticCluster, waitFor, within,
  type Proxy, type Upstream,
} from './proxy_harness.js';
import { closedPort } from '../helpers/ports.js';

const CONNECT_FAILURE = 'upstream connect error or disconnect/reset before headers. reset reason: connection failure';

let proxy: Proxy;
let ok: Upstream;
let hang: Upstream;
let flaky: Upstream;
let flakyFailures = 0;
let garbage: Awaited<ReturnType<typeof rawUpstream>>;
let resetter: Awaited<ReturnType<typeof rawUpstream>>;
let dead: number;
const held: http.ServerResponse[] = [];

before(async () => {
  ok = await httpUpstream((req, res) => res.end(`ok ${req.url}`));
  hang = await httpUpstream((_req, res) => { held.push(res); });
  // Fails `flakyFailures` times with the status in the path (/s/503), then succeeds.
  flaky = await httpUpstream((req, res) => {
    if (flakyFailures > 0) { flakyFailures--; res.statusCode = Number(req.url!.split('/')[2] ?? 503); res.end('fail'); return; }
    res.end('recovered');
  });
  garbage = await rawUpstream((socket) => socket.once('data', () => socket.end('THIS IS NOT HTTP\r\n\r\n')));
  resetter = await rawUpstream((socket) => socket.once('data', () => socket.destroy()));
  dead = await closedPort();
  const retry = (retry_on: string, extra: Record<string, unknown> = {}) => ({ retry_on, num_retries: { value: 2 }, ...extra });
  const routes = allDomains([
    { match: { prefix: '/none' }, route: { cluster: 'empty' } },
    { match: { prefix: '/dead' }, route: { cluster: 'dead', retry_policy: retry('connect-failure') } },
    { match: { prefix: '/slow' }, route: { cluster: 'hang', timeout: { nanos: 200_000_000 } } },
    { match: { prefix: '/max-requests' }, route: { cluster: 'limited_rq' } },
    { match: { prefix: '/max-pending' }, route: { cluster: 'limited_pending' } },
    { match: { prefix: '/garbage' }, route: { cluster: 'garbage' } },
    { match: { prefix: '/s/' }, route: { cluster: 'flaky', retry_policy: retry('5xx') } },
    { match: { prefix: '/codes/' }, route: { cluster: 'flaky', retry_policy: retry('retriable-status-codes', { retriable_status_codes: [409] }) } },
    { match: { prefix: '/half-dead' }, route: { cluster: 'half_dead', retry_policy: retry('connect-failure') } },
    { match: { prefix: '/half-reset' }, route: { cluster: 'half_reset', retry_policy: retry('reset') } },
    { match: { prefix: '/reset-only' }, route: { cluster: 'resetter', retry_policy: retry('reset') } },
    { match: { prefix: '/per-try' }, route: { cluster: 'hang_then_ok', retry_policy: { retry_on: '5xx', num_retries: { value: 1 }, per_try_timeout: { seconds: 1 } } } },
  ]);
  const limits = (t: Record<string, number>) => ({ circuit_breakers: { thresholds: [Object.fromEntries(Object.entries(t).map(([k, v]) => [k, { value: v }]))] } });
  proxy = await startProxy([listener('ingress', routes)], [
    staticCluster('empty', []),
    staticCluster('dead', [dead]),
    staticCluster('hang', [hang.port]),
    staticCluster('limited_rq', [hang.port], limits({ max_requests: 1 }) as never),
    staticCluster('limited_pending', [hang.port], limits({ max_connections: 1, max_pending_requests: 1 }) as never),
    staticCluster('garbage', [garbage.port]),
    staticCluster('flaky', [flaky.port]),
    staticCluster('half_dead', [dead, ok.port]),
    staticCluster('half_reset', [resetter.port, ok.port]),
    staticCluster('resetter', [resetter.port]),
    staticCluster('hang_then_ok', [hang.port, ok.port]),
  ]);
});

after(async () => {
  for (const r of held) r.destroy();
  await closeAll(proxy, ok, hang, flaky, garbage, resetter);
});

function releaseHeld(): void { for (const r of held.splice(0)) r.end('late'); }

/** A request to `path` is refused by `cluster`'s circuit breaker: 503, x-envoy-overloaded, counted once. */
async function assertOverflows(path: string, cluster: string): Promise<void> {
  const r = await request(proxy.port(), { path });
  assert.equal(r.status, 503);
  assert.equal(r.headers['x-envoy-overloaded'], 'true');
  assert.equal(proxy.counter(`cluster.${cluster}.upstream_rq_pending_overflow`), 1);
}

test('503 no healthy upstream', async () => {
  const r = await request(proxy.port(), { path: '/none' });
  assert.equal(r.status, 503);
  assert.equal(r.body, 'no healthy upstream');
  assert.equal(r.headers['content-type'], 'text/plain');
  assert.equal(r.headers['content-length'], String('no healthy upstream'.length));
});

test('503 connection failure after retries, retries counted', async () => {
  const before = proxy.counter('cluster.dead.upstream_rq_retry');
  const r = await request(proxy.port(), { path: '/dead' });
  assert.equal(r.status, 503);
  assert.equal(r.body, CONNECT_FAILURE);
  assert.equal(proxy.counter('cluster.dead.upstream_rq_retry'), before + 2);
  assert.equal(proxy.counter('cluster.dead.upstream_rq_total'), 3);
});

test('504 upstream request timeout; the upstream request is aborted', async () => {
  const closed = new Promise<void>((resolve) => hang.server.once('request', (req) => req.socket.once('close', () => resolve())));
  const started = Date.now();
  const r = await request(proxy.port(), { path: '/slow' });
  assert.equal(r.status, 504);
  assert.equal(r.body, 'upstream request timeout');
  assert.ok(Date.now() - started >= 190);
  assert.equal(proxy.counter('cluster.hang.upstream_rq_timeout'), 1);
  await within(closed, 'the upstream connection to close');
  held.splice(0);
});

test('503 x-envoy-overloaded on max_requests overflow', async () => {
  const first = request(proxy.port(), { path: '/max-requests' });
  await waitFor(() => held.length > 0, 'the upstream to hold a request');
  await assertOverflows('/max-requests', 'limited_rq');
  releaseHeld();
  assert.equal((await first).status, 200);
});

test('503 x-envoy-overloaded on max_pending_requests overflow', async () => {
  const first = request(proxy.port(), { path: '/max-pending' });
  await waitFor(() => held.length > 0, 'the upstream to hold a request');
  const second = request(proxy.port(), { path: '/max-pending' }); // waits in the pending queue
  await waitFor(() => proxy.gauge('cluster.limited_pending.upstream_rq_pending_active') === 1, 'the second request to wait in the pending queue');
  await assertOverflows('/max-pending', 'limited_pending');
  releaseHeld();
  assert.equal((await first).status, 200);
  await waitFor(() => held.length > 0, 'the upstream to hold a request');
  releaseHeld();
  assert.equal((await second).status, 200);
});

test('502 on a garbage upstream response', async () => {
  const r = await request(proxy.port(), { path: '/garbage' });
  assert.equal(r.status, 502);
  assert.equal(proxy.counter('http.ingress.downstream_rq_5xx') >= 1, true);
});

test('retry on 5xx succeeds on the next try', async () => {
  flakyFailures = 1;
  const r = await request(proxy.port(), { path: '/s/503' });
  assert.equal(r.status, 200);
  assert.equal(r.body, 'recovered');
  assert.equal(proxy.counter('cluster.flaky.upstream_rq_retry'), 1);
  assert.equal(proxy.counter('cluster.flaky.upstream_rq_retry_success'), 1);
});

test('retries stop at num_retries and the last 5xx goes back', async () => {
  flakyFailures = 5;
  const before = proxy.counter('cluster.flaky.upstream_rq_total');
  const r = await request(proxy.port(), { path: '/s/500' });
  assert.equal(r.status, 500);
  assert.equal(proxy.counter('cluster.flaky.upstream_rq_total'), before + 3);
  flakyFailures = 0;
});

test('retriable status codes', async () => {
  flakyFailures = 1;
  assert.equal((await request(proxy.port(), { path: '/codes/409' })).status, 200);
  flakyFailures = 1;
  const r = await request(proxy.port(), { path: '/codes/418' });
  assert.equal(r.status, 418, 'a status not listed is not retried');
  flakyFailures = 0;
});

test('retry on connect-failure moves to the other host', async () => {
  for (let i = 0; i < 4; i++) {
    const r = await request(proxy.port(), { path: '/half-dead' });
    assert.equal(r.status, 200);
    assert.equal(r.body, 'ok /half-dead');
  }
  assert.ok(proxy.counter('cluster.half_dead.upstream_rq_retry') >= 1);
});

test('retry on reset moves to the other host; reset-only upstream gives 503 after num_retries', async () => {
  for (let i = 0; i < 4; i++) assert.equal((await request(proxy.port(), { path: '/half-reset' })).status, 200);
  assert.ok(proxy.counter('cluster.half_reset.upstream_rq_retry') >= 1);
  const before = resetter.connections;
  const r = await request(proxy.port(), { path: '/reset-only' });
  assert.equal(r.status, 503);
  assert.match(r.body, /^upstream connect error or disconnect\/reset before headers/);
  assert.equal(resetter.connections - before, 3);
});

test('per_try_timeout: a hung try is abandoned and the retry answers', async () => {
  for (let i = 0; i < 2; i++) {
    const r = await request(proxy.port(), { path: '/per-try' });
    assert.equal(r.status, 200);
    assert.equal(r.body, 'ok /per-try');
  }
  // Round robin may start either request on the hung host; each time that try times out and is retried.
  const timeouts = proxy.counter('cluster.hang_then_ok.upstream_rq_per_try_timeout');
  assert.ok(timeouts >= 1);
  assert.equal(proxy.counter('cluster.hang_then_ok.upstream_rq_retry'), timeouts);
  assert.equal(proxy.counter('cluster.hang_then_ok.upstream_rq_total'), 2 + timeouts);
  assert.equal(ok.seen.at(-1)!.headers['x-envoy-expected-rq-timeout-ms'], '1000');
  held.splice(0);
});

test('the proxy keeps serving after all of the above', async () => {
  assert.equal((await request(proxy.port(), { path: '/half-dead' })).status, 200);
  assert.equal(proxy.gauge('http.ingress.downstream_rq_active'), 0);
});
