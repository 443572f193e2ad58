// The route fields istiod sets on every route, as the proxy applies them: retry_host_predicate previous_hosts,
// include_request_attempt_count, max_stream_duration, grpc-timeout honouring, cluster_not_found_response_code.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StatsStore } from '../../../src/common/stats.js';
import { ActiveRequest } from '../../../src/proxy/active_request.js';
import { ConnectionManagerStats } from '../../../src/proxy/stats.js';
import { REPLY } from '../../../src/proxy/local_reply.js';
import { effectiveTimeoutMs, parseGrpcTimeout } from '../../../src/proxy/stream_limits.js';
import { parseRetryPolicy } from '../../../src/proxy/retry_state.js';
import type { RouteEntry } from '../../../src/types/router.js';
import type { RetryPolicy } from '../../../src/types/envoy.js';
import {
  clusterManager, eventually, FakeCluster, FakeHost, FakeStream, FixedResolver, hcmConfig, requestCount, requestHead, responseHead, route, sleep,
  tick,
} from './fakes.js';

function run(entry: RouteEntry, head = requestHead()) {
  const store = new StatsStore();
  const stats = new ConnectionManagerStats(store, 'ingress');
  const hosts = [new FakeHost('10.0.0.1', 80), new FakeHost('10.0.0.2', 80)];
  const cluster = new FakeCluster('web', hosts, store);
  const stream = new FakeStream(head);
  const req = new ActiveRequest(stream, hcmConfig(), stats, {
    clusters: clusterManager([cluster]), resolver: new FixedResolver(entry),
    hashKey: (v) => BigInt(v.length), draining: () => false,
  }, () => {});
  req.start();
  return { stream, cluster, hosts, counter: (n: string) => store.counter(n).value };
}

const toWeb = (extra: Partial<RouteEntry> = {}): RouteEntry => route({ action: { kind: 'cluster', cluster: 'web' }, ...extra });
const PREVIOUS_HOSTS = [{ name: 'envoy.retry_host_predicates.previous_hosts',
  typed_config: { '@type': 'type.googleapis.com/envoy.extensions.retry.host.previous_hosts.v3.PreviousHostsPredicate' } }];

test('retry_host_predicate previous_hosts: parsed by type URL; without it retries are not steered', async () => {
  const withPredicate = parseRetryPolicy({ retry_on: '5xx', retry_host_predicate: PREVIOUS_HOSTS, host_selection_retry_max_attempts: 5 } as RetryPolicy)!;
  assert.equal(withPredicate.avoidPreviousHosts, true);
  assert.equal(withPredicate.hostSelectionMaxAttempts, 5);
  const without = parseRetryPolicy({ retry_on: '5xx' })!;
  assert.equal(without.avoidPreviousHosts, false);
  assert.equal(without.hostSelectionMaxAttempts, 1);

  const s = run(toWeb({ retryPolicy: { retry_on: '5xx', num_retries: { value: 1 } } }));
  await tick();
  s.hosts[0]!.last().handler.onHead(responseHead(503));
  await eventually(() => requestCount(s.hosts) === 2, 'the retry');
  assert.equal(s.cluster.lastContext!.attempted, undefined, 'no predicate: the load balancer is not told the tried hosts');

  const p = run(toWeb({ retryPolicy: { retry_on: '5xx', num_retries: { value: 1 }, retry_host_predicate: PREVIOUS_HOSTS } as RetryPolicy }));
  await tick();
  p.hosts[0]!.last().handler.onHead(responseHead(503));
  await eventually(() => p.hosts[1]!.requests.length === 1, 'the retry on the other host');
  assert.ok(p.cluster.lastContext!.attempted!.has(p.hosts[0]!));
  const second = p.hosts[1]!.last();
  second.handler.onHead(responseHead(200));
  second.handler.onEnd();
  assert.equal(p.stream.status, 200);
});

test('include_request_attempt_count: x-envoy-attempt-count numbers each try and replaces the client value', async () => {
  const s = run(toWeb({ includeAttemptCount: true, retryPolicy: { retry_on: '5xx', num_retries: { value: 1 } } }),
    requestHead({ headers: [['x-envoy-attempt-count', '7']] }));
  await tick();
  const first = s.hosts[0]!.last();
  assert.equal(first.added('x-envoy-attempt-count'), '1');
  assert.ok(first.rewrite.remove!.includes('x-envoy-attempt-count'));
  first.handler.onHead(responseHead(503));
  await eventually(() => requestCount(s.hosts) === 2, 'the retry');
  const second = [...s.hosts[0]!.requests, ...s.hosts[1]!.requests].at(-1)!;
  assert.equal(second.added('x-envoy-attempt-count'), '2');
  const plain = run(toWeb());
  await tick();
  assert.equal(plain.hosts[0]!.last().added('x-envoy-attempt-count'), undefined);
});

test('max_stream_duration: 408 before the response head, counted on the cluster', async () => {
  const s = run(toWeb({ timeoutMs: 0, maxStreamDurationMs: 30 }));
  await tick();
  const up = s.hosts[0]!.last();
  await eventually(() => s.stream.status !== 0, 'max_stream_duration');
  assert.equal(s.stream.status, 408);
  assert.equal(s.stream.bodyText(), REPLY.maxStreamDuration);
  assert.ok(up.aborted);
  assert.equal(s.counter('cluster.web.upstream_rq_max_duration_reached'), 1);
});

test('max_stream_duration: a stream that ends in time is not touched', async () => {
  const s = run(toWeb({ maxStreamDurationMs: 60 }));
  await tick();
  const up = s.hosts[0]!.last();
  up.handler.onHead(responseHead(200));
  up.handler.onEnd();
  await sleep(90);
  assert.equal(s.stream.status, 200);
  assert.equal(s.counter('cluster.web.upstream_rq_max_duration_reached'), 0);
});

test('grpc-timeout: parsed per the gRPC spec; honoured only when the route asks, capped by its maximum', async () => {
  assert.equal(parseGrpcTimeout('2S'), 2000);
  assert.equal(parseGrpcTimeout('150m'), 150);
  assert.equal(parseGrpcTimeout('1M'), 60_000);
  assert.equal(parseGrpcTimeout('5000u'), 5);
  assert.equal(parseGrpcTimeout('123456789S'), undefined, 'more than 8 digits');
  assert.equal(parseGrpcTimeout('10x'), undefined);
  const h = (v: string) => requestHead({ headers: [['grpc-timeout', v]] }).headers;
  assert.equal(effectiveTimeoutMs(toWeb({ timeoutMs: 15000 }), h('2S')), 15000, 'not honoured without a maximum');
  assert.equal(effectiveTimeoutMs(toWeb({ timeoutMs: 15000, grpcTimeoutHeaderMaxMs: 0 }), h('2S')), 2000, '0: no cap');
  assert.equal(effectiveTimeoutMs(toWeb({ timeoutMs: 15000, grpcTimeoutHeaderMaxMs: 500 }), h('2S')), 500);
  assert.equal(effectiveTimeoutMs(toWeb({ timeoutMs: 15000, grpcTimeoutHeaderMaxMs: 0, grpcTimeoutOffsetMs: 100 }), h('2S')), 1900);
  assert.equal(effectiveTimeoutMs(toWeb({ timeoutMs: 15000, grpcTimeoutHeaderMaxMs: 0 }), requestHead().headers), 15000, 'no header');

  const s = run(toWeb({ timeoutMs: 0, grpcTimeoutHeaderMaxMs: 0 }), requestHead({ headers: [['grpc-timeout', '30m']] }));
  await tick();
  assert.equal(s.hosts[0]!.last().added('x-envoy-expected-rq-timeout-ms'), '30');
  await eventually(() => s.stream.status !== 0, 'the timeout from grpc-timeout');
  assert.equal(s.stream.status, 504);
});

test('cluster_not_found_response_code: the configured status for a route to an unknown cluster', () => {
  const s = run(route({ action: { kind: 'cluster', cluster: 'gone' }, clusterNotFoundStatus: 500 }));
  assert.equal(s.stream.status, 500);
  const d = run(route({ action: { kind: 'cluster', cluster: 'gone' } }));
  assert.equal(d.stream.status, 503);
});
