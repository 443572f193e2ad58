import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StatsStore } from '../../../src/common/stats.js';
import { ActiveRequest } from '../../../src/proxy/active_request.js';
import { ConnectionManagerStats } from '../../../src/proxy/stats.js';
import { REPLY } from '../../../src/proxy/local_reply.js';
import { SkiffError } from '../../../src/common/errors.js';
import type { RouteEntry } from '../../../src/types/router.js';
import type { ConnectionManagerConfig } from '../../../src/proxy/config.js';
import {
  clusterManager, eventually, FakeCluster, FakeHost, FakeStream, FixedResolver, hcmConfig, requestCount, requestHead, responseHead, route, sleep,
  tick,
} from './fakes.js';

interface Setup {
  stream: FakeStream; store: StatsStore; stats: ConnectionManagerStats; cluster: FakeCluster; hosts: FakeHost[]; done: () => boolean;
  counter(name: string): number;
}

function run(entry: RouteEntry | null, opts: { head?: ReturnType<typeof requestHead>; hosts?: number; draining?: boolean; cfg?: ConnectionManagerConfig; other?: FakeCluster[]; acquireMode?: string } = {}): Setup {
  const store = new StatsStore();
  const stats = new ConnectionManagerStats(store, 'ingress');
  const hosts = Array.from({ length: opts.hosts ?? 2 }, (_, i) => new FakeHost(`10.0.0.${i + 1}`, 80));
  for (const h of hosts) if (opts.acquireMode) h.acquireMode = opts.acquireMode;
  const cluster = new FakeCluster('web', hosts, store);
  const stream = new FakeStream(opts.head ?? requestHead());
  let finished = false;
  const req = new ActiveRequest(stream, opts.cfg ?? hcmConfig(), stats, {
    clusters: clusterManager([cluster, ...(opts.other ?? [])]), resolver: new FixedResolver(entry),
    hashKey: (v) => BigInt(v.length), draining: () => opts.draining ?? false,
  }, () => { finished = true; });
  req.start();
  return { stream, store, stats, cluster, hosts, done: () => finished, counter: (n) => store.counter(n).value };
}

const toWeb = (extra: Partial<RouteEntry> = {}): RouteEntry => route({ action: { kind: 'cluster', cluster: 'web' }, ...extra });

test('no route: 404 with an empty body, counted', () => {
  const s = run(null);
  assert.equal(s.stream.status, 404);
  assert.equal(s.stream.rewrite!.contentLength, 0);
  assert.equal(s.stream.header('server'), 'skiff');
  assert.ok(s.stream.ended);
  assert.ok(s.done());
  assert.equal(s.counter('http.ingress.no_route'), 1);
  assert.equal(s.counter('http.ingress.downstream_rq_4xx'), 1);
  assert.equal(s.counter('http.ingress.downstream_rq_completed'), 1);
  assert.equal(s.store.gauge('http.ingress.downstream_rq_active').value, 0);
});

test('direct_response: status, text/plain body and route response headers', () => {
  const s = run(route({
    action: { kind: 'direct', status: 200, body: 'hello' },
    responseHeaders: { remove: [], add: [{ name: 'x-vh', value: '1', mode: 'append' }] },
  }), { cfg: hcmConfig({ server_name: 'edge' }) });
  assert.equal(s.stream.status, 200);
  assert.equal(s.stream.bodyText(), 'hello');
  assert.equal(s.stream.rewrite!.contentLength, 5);
  assert.equal(s.stream.header('content-type'), 'text/plain');
  assert.equal(s.stream.header('server'), 'edge');
  assert.equal(s.stream.header('x-vh'), '1');
  assert.equal(s.counter('http.ingress.rq_direct_response'), 1);
});

test('redirect: location header', () => {
  const s = run(route({ action: { kind: 'redirect', status: 302, host: 'b.com', stripQuery: false } }), { head: requestHead({ path: '/p?x=1', host: 'a.com' }) });
  assert.equal(s.stream.status, 302);
  assert.equal(s.stream.header('location'), 'http://b.com/p?x=1');
});

test('a route to an unknown cluster is a 503, not a crash', () => {
  const s = run(route({ action: { kind: 'cluster', cluster: 'nope' } }));
  assert.equal(s.stream.status, 503);
  assert.equal(s.counter('http.ingress.no_cluster'), 1);
});

test('no healthy host: 503 no healthy upstream', () => {
  const s = run(toWeb(), { hosts: 0 });
  assert.equal(s.stream.status, 503);
  assert.equal(s.stream.bodyText(), REPLY.noHealthyUpstream);
  assert.equal(s.cluster.breakers.requests.current, 0);
});

test('proxied request: head rewrite, response forwarded with server header and mutations, connection released', async () => {
  const s = run(toWeb({
    timeoutMs: 3000,
    responseHeaders: { remove: ['x-secret'], add: [{ name: 'x-r', value: 'v', mode: 'append' }] },
  }));
  await tick();
  const up = s.hosts[0]!.last();
  assert.ok(up.ended);
  assert.equal(up.added('x-envoy-expected-rq-timeout-ms'), '3000');
  assert.equal(up.added('x-forwarded-proto'), 'http');
  assert.equal(s.counter('cluster.web.upstream_rq_total'), 1);
  assert.equal(s.store.gauge('cluster.web.upstream_rq_active').value, 1);
  up.handler.onHead(responseHead(200, [['server', 'origin'], ['x-secret', '1']], 'length', 2));
  assert.equal(s.stream.status, 200);
  const rw = s.stream.rewrite!;
  assert.deepEqual(new Set(rw.remove), new Set(['x-secret', 'server']));
  assert.deepEqual(rw.add, [['x-r', 'v'], ['server', 'skiff']]);
  assert.equal(rw.bodyKind, 'length');
  assert.equal(rw.contentLength, 2);
  assert.equal(rw.close, false);
  up.handler.onData(Buffer.from('ok'));
  up.handler.onEnd();
  assert.equal(s.stream.bodyText(), 'ok');
  assert.ok(s.stream.ended);
  assert.equal(s.hosts[0]!.released.length, 1);
  assert.equal(s.counter('cluster.web.upstream_rq_200'), 1);
  assert.equal(s.counter('http.ingress.downstream_rq_2xx'), 1);
  assert.equal(s.store.gauge('cluster.web.upstream_rq_active').value, 0);
  assert.equal(s.cluster.breakers.requests.current, 0);
});

test('responses while draining carry connection: close; close-delimited bodies become chunked', async () => {
  const s = run(toWeb(), { draining: true });
  await tick();
  s.hosts[0]!.last().handler.onHead(responseHead(200, [], 'close', -1));
  assert.equal(s.stream.rewrite!.close, true);
  assert.equal(s.stream.rewrite!.bodyKind, 'chunked');
});

test('request body streams with backpressure both ways', async () => {
  const s = run(toWeb(), { head: requestHead({ method: 'POST', bodyKind: 'length', contentLength: 6 }) });
  await tick();
  const up = s.hosts[0]!.last();
  assert.ok(s.stream.bodyHandler, 'body handler set once the upstream is ready');
  up.writable = false;
  s.stream.bodyHandler!.onData(Buffer.from('abc'));
  assert.equal(s.stream.paused, true);
  up.drain();
  assert.equal(s.stream.paused, false);
  s.stream.bodyHandler!.onData(Buffer.from('def'));
  s.stream.bodyHandler!.onEnd();
  assert.equal(Buffer.concat(up.body).toString(), 'abcdef');
  assert.ok(up.ended);
  up.handler.onHead(responseHead(200, [], 'chunked', -1));
  s.stream.writable = false;
  up.handler.onData(Buffer.from('x'));
  assert.equal(up.responsePaused, true);
  s.stream.drain();
  assert.equal(up.responsePaused, false);
  up.handler.onEnd();
  assert.ok(s.stream.ended);
});

test('Expect: 100-continue is answered by Skiff once the upstream is ready', async () => {
  const s = run(toWeb(), { head: requestHead({ method: 'POST', bodyKind: 'length', contentLength: 1, expectContinue: true }) });
  assert.equal(s.stream.continued, 0);
  await tick();
  assert.equal(s.stream.continued, 1);
  assert.ok(s.hosts[0]!.last().rewrite.remove!.includes('expect'));
});

test('retry on 5xx goes to another host (retry_host_predicate previous_hosts) and counts success', async () => {
  const s = run(toWeb({ retryPolicy: {
    retry_on: '5xx', num_retries: { value: 2 },
    retry_host_predicate: [{ name: 'envoy.retry_host_predicates.previous_hosts' }],
  } as never }));
  await tick();
  const first = s.hosts[0]!.last();
  first.handler.onHead(responseHead(503));
  await tick();
  assert.ok(first.aborted, 'aborted after the codec callback returned');
  await eventually(() => s.hosts[1]!.requests.length === 1, 'the retry (after its backoff timer)');
  const second = s.hosts[1]!.last();
  assert.ok(s.cluster.lastContext!.attempted!.has(s.hosts[0]!));
  second.handler.onHead(responseHead(200));
  second.handler.onEnd();
  assert.equal(s.stream.status, 200);
  assert.equal(s.counter('cluster.web.upstream_rq_retry'), 1);
  assert.equal(s.counter('cluster.web.upstream_rq_retry_success'), 1);
  assert.equal(s.counter('cluster.web.upstream_rq_503'), 1);
  assert.equal(s.counter('cluster.web.upstream_rq_total'), 2);
  assert.equal(s.cluster.breakers.retries.current, 0);
  assert.equal(s.cluster.breakers.requests.current, 0);
});

test('retries stop at num_retries and the last 5xx is returned', async () => {
  const s = run(toWeb({ retryPolicy: { retry_on: '5xx' } }));
  for (let i = 0; i < 2; i++) {
    await eventually(() => requestCount(s.hosts) === i + 1, `try ${i + 1}`);
    const host = s.hosts[i % 2]!;
    host.last().handler.onHead(responseHead(500));
  }
  assert.equal(s.stream.status, 500);
  assert.equal(s.counter('cluster.web.upstream_rq_total'), 2);
  assert.equal(s.counter('cluster.web.upstream_rq_retry'), 1);
  assert.equal(s.counter('cluster.web.upstream_rq_retry_success'), 0);
});

test('connect failure after retries: 503 with Envoy\'s text', async () => {
  const s = run(toWeb({ retryPolicy: { retry_on: 'connect-failure', num_retries: { value: 1 } } }), { acquireMode: 'SKIFF_UPSTREAM_CONNECT_FAILURE' });
  await eventually(() => s.stream.status !== 0, 'the local reply after the retry');
  assert.equal(s.stream.status, 503);
  assert.equal(s.stream.bodyText(), REPLY.connectFailure);
  assert.equal(s.counter('cluster.web.upstream_rq_retry'), 1);
  assert.equal(s.counter('cluster.web.upstream_rq_total'), 2);
});

test('retry circuit breaker overflow stops retries', async () => {
  const s = run(toWeb({ retryPolicy: { retry_on: 'reset', num_retries: { value: 3 } } }));
  s.cluster.breakers.retries.max = 0;
  await tick();
  s.hosts[0]!.last().handler.onError(new SkiffError('SKIFF_UPSTREAM_RESET', 'reset', 'upstream', true));
  assert.equal(s.stream.status, 503);
  assert.equal(s.stream.bodyText(), REPLY.connectionTermination);
  assert.equal(s.counter('cluster.web.upstream_rq_retry_overflow'), 1);
});

test('max_requests overflow: 503 x-envoy-overloaded', () => {
  const s = run(toWeb(), {});
  // A second request on a cluster whose request budget is used up.
  s.cluster.breakers.requests.max = 1;
  const stream = new FakeStream(requestHead());
  new ActiveRequest(stream, hcmConfig(), s.stats, {
    clusters: clusterManager([s.cluster]), resolver: new FixedResolver(toWeb()), hashKey: () => 0n, draining: () => false,
  }, () => {}).start();
  assert.equal(stream.status, 503);
  assert.equal(stream.header('x-envoy-overloaded'), 'true');
  assert.equal(s.counter('cluster.web.upstream_rq_pending_overflow'), 1);
});

test('pool overflow (max_pending_requests): 503 x-envoy-overloaded, not retried', async () => {
  const s = run(toWeb({ retryPolicy: { retry_on: '5xx' } }), { acquireMode: 'SKIFF_UPSTREAM_OVERFLOW' });
  await eventually(() => s.stream.status !== 0, 'the local reply');
  assert.equal(s.stream.status, 503);
  assert.equal(s.stream.header('x-envoy-overloaded'), 'true');
  assert.equal(s.counter('cluster.web.upstream_rq_total'), 1);
});

test('upstream protocol error: 502', async () => {
  const s = run(toWeb());
  await tick();
  s.hosts[0]!.last().handler.onError(new SkiffError('SKIFF_UPSTREAM_PROTOCOL_ERROR', 'garbage', 'upstream'));
  assert.equal(s.stream.status, 502);
});

test('route timeout: 504 upstream request timeout, upstream aborted', async () => {
  const s = run(toWeb({ timeoutMs: 30 }));
  await tick();
  const up = s.hosts[0]!.last();
  await eventually(() => s.stream.status !== 0, 'the route timeout');
  assert.equal(s.stream.status, 504);
  assert.equal(s.stream.bodyText(), REPLY.timeout);
  assert.ok(up.aborted);
  assert.equal(s.counter('cluster.web.upstream_rq_timeout'), 1);
});

test('per-try timeout retries then times out', async () => {
  const s = run(toWeb({ timeoutMs: 5000, retryPolicy: { retry_on: '5xx', num_retries: { value: 1 }, per_try_timeout: { nanos: 30_000_000 } } }));
  await tick();
  assert.equal(s.hosts[0]!.last().added('x-envoy-expected-rq-timeout-ms'), '30');
  // Two per-try timeouts and a backoff in between: each timer starts when the previous one fired.
  await eventually(() => s.stream.status !== 0, 'the second per-try timeout');
  assert.equal(s.stream.status, 504);
  assert.equal(s.counter('cluster.web.upstream_rq_per_try_timeout'), 2);
  assert.equal(s.counter('cluster.web.upstream_rq_total'), 2);
});

test('downstream disconnect aborts the upstream request', async () => {
  const s = run(toWeb());
  await tick();
  const up = s.hosts[0]!.last();
  s.stream.abort();
  assert.ok(up.aborted);
  assert.ok(s.done());
  assert.equal(s.counter('http.ingress.downstream_rq_rx_reset'), 1);
  assert.equal(s.store.gauge('http.ingress.downstream_rq_active').value, 0);
  assert.equal(s.cluster.breakers.requests.current, 0);
});

test('downstream disconnect while waiting for a connection cancels the acquire', async () => {
  const s = run(toWeb(), { acquireMode: 'hold' });
  await tick();
  s.stream.abort();
  const cancelled = s.hosts.reduce((n, h) => n + h.cancelled, 0);
  assert.equal(cancelled, 1);
});

test('upstream reset after the response started resets the downstream', async () => {
  const s = run(toWeb({ retryPolicy: { retry_on: 'reset' } }));
  await tick();
  const up = s.hosts[0]!.last();
  up.handler.onHead(responseHead(200, [], 'length', 10));
  up.handler.onError(new SkiffError('SKIFF_UPSTREAM_RESET', 'reset', 'upstream', true));
  assert.ok(s.stream.wasReset);
  assert.equal(s.counter('cluster.web.upstream_rq_total'), 1);
});

test('retry re-sends the buffered request body', async () => {
  const s = run(toWeb({ retryPolicy: { retry_on: 'reset' } }), { head: requestHead({ method: 'POST', bodyKind: 'length', contentLength: 4 }) });
  await tick();
  s.stream.bodyHandler!.onData(Buffer.from('ab'));
  s.stream.bodyHandler!.onData(Buffer.from('cd'));
  s.stream.bodyHandler!.onEnd();
  s.hosts[0]!.last().handler.onError(new SkiffError('SKIFF_UPSTREAM_RESET', 'reset', 'upstream', true));
  await eventually(() => s.hosts[1]!.requests.length === 1 && s.hosts[1]!.last().ended, 'the retry with the whole body');
  const second = s.hosts[1]!.last();
  assert.equal(Buffer.concat(second.body).toString(), 'abcd');
  assert.ok(second.ended);
});

test('a body past the retry buffer limit is not retried', async () => {
  const s = run(toWeb({ retryPolicy: { retry_on: 'reset' } }), { head: requestHead({ method: 'POST', bodyKind: 'chunked' }) });
  await tick();
  const big = Buffer.alloc(600 * 1024);
  s.stream.bodyHandler!.onData(big);
  s.stream.bodyHandler!.onData(big);
  s.hosts[0]!.last().handler.onError(new SkiffError('SKIFF_UPSTREAM_RESET', 'reset', 'upstream', true));
  assert.equal(s.stream.status, 503);
  assert.equal(s.stream.rewrite!.close, true, 'unread body: the connection closes');
  assert.equal(s.counter('cluster.web.upstream_rq_total'), 1);
});

test('hash_policy header feeds the load balancer context', async () => {
  const s = run(toWeb({ hashHeaders: ['x-user'] }), { head: requestHead({ headers: [['x-user', 'abcd']] }) });
  await tick();
  assert.equal(s.cluster.lastContext!.hash, 4n);
});

test('weighted clusters pick by weight', () => {
  const store = new StatsStore();
  const stats = new ConnectionManagerStats(store, 'ingress');
  const a = new FakeCluster('a', [], store);
  const b = new FakeCluster('b', [], store);
  const entry = route({ action: { kind: 'weighted', clusters: [{ name: 'a', weight: 1 }, { name: 'b', weight: 3 }], totalWeight: 4 } });
  for (let i = 0; i < 400; i++) {
    new ActiveRequest(new FakeStream(requestHead()), hcmConfig(), stats, {
      clusters: clusterManager([a, b]), resolver: new FixedResolver(entry), hashKey: () => 0n, draining: () => false,
    }, () => {}).start();
  }
  const na = store.counter('cluster.a.upstream_cx_none_healthy').value;
  const nb = store.counter('cluster.b.upstream_cx_none_healthy').value;
  assert.equal(na + nb, 400);
  assert.ok(na > 60 && na < 140, `a=${na} b=${nb}`);
});

test('stream_idle_timeout: 408 when nothing moves, the upstream try abandoned', async () => {
  const s = run(toWeb({ timeoutMs: 0 }), { cfg: hcmConfig({ stream_idle_timeout: { nanos: 40_000_000 } }), acquireMode: 'hold' });
  await eventually(() => s.stream.status !== 0, 'the stream idle timeout');
  assert.equal(s.stream.status, 408);
  assert.equal(s.stream.bodyText(), REPLY.streamTimeout);
  assert.equal(s.counter('http.ingress.downstream_rq_idle_timeout'), 1);
  assert.equal(s.hosts.reduce((n, h) => n + h.cancelled, 0), 1);
  assert.equal(s.cluster.breakers.requests.current, 0);
});

test('activity keeps the stream idle timer from firing', async () => {
  // The body trickles in for over three idle periods, one byte every 25 ms, so only re-arming keeps the stream
  // alive. The gaps are measured: a gap as long as the idle period (a stalled machine) lets the timer fire
  // rightly, and such a run proves nothing, so it is repeated (bounded) rather than asserted on.
  const IDLE_MS = 300;
  for (let attempt = 1; attempt <= 5; attempt++) {
    const started = Date.now(); // before the stream's first arming of the timer
    const s = run(toWeb({ timeoutMs: 0 }), { cfg: hcmConfig({ stream_idle_timeout: { nanos: IDLE_MS * 1_000_000 } }), head: requestHead({ method: 'POST', bodyKind: 'chunked' }) });
    await tick();
    let last = started;
    let longestGap = 0;
    for (let i = 0; i < 400 && Date.now() - started < 3 * IDLE_MS + 100; i++) {
      await sleep(25);
      const now = Date.now();
      longestGap = Math.max(longestGap, now - last);
      if (s.stream.status !== 0) break;
      s.stream.bodyHandler!.onData(Buffer.from('x'));
      last = now;
    }
    if (longestGap >= IDLE_MS - 5) { s.stream.abort(); continue; }
    assert.equal(s.stream.status, 0, `still running after ${Date.now() - started} ms of trickling body`);
    s.stream.bodyHandler!.onEnd();
    s.hosts[0]!.last().handler.onHead(responseHead(204, [], 'none'));
    s.hosts[0]!.last().handler.onEnd();
    assert.equal(s.stream.status, 204);
    assert.ok(s.done());
    return;
  }
  assert.fail('the event loop stalled for a whole idle period in each of 5 attempts');
});

test('an idle connection handed over synchronously is not cancelled later', () => {
  const s = run(toWeb(), { acquireMode: 'sync' });
  const up = s.hosts[0]!.last();
  assert.ok(up.ended);
  s.stream.abort();
  assert.ok(up.aborted);
  assert.equal(s.hosts[0]!.cancelled, 0);
  assert.equal(s.hosts[0]!.released.length, 1);
});

test('a throw inside the lifecycle is contained: the request is reset, budgets returned', async () => {
  const s = run(toWeb());
  await tick();
  s.stream.throwOnWriteHead = true;
  const up = s.hosts[0]!.last();
  assert.doesNotThrow(() => up.handler.onHead(responseHead(200)));
  assert.ok(s.stream.wasReset);
  assert.ok(s.done());
  assert.equal(s.cluster.breakers.requests.current, 0);
  assert.equal(s.store.gauge('http.ingress.downstream_rq_active').value, 0);
});
