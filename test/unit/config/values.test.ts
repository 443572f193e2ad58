// Reading config with Envoy's documented defaults.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError } from '../../../src/common/errors.js';
import {
  bool, breakerLimits, clusterEndpoints, clusterSettings, durationMs, hcmOf, hcmSettings, listenerName, retrySettings,
  routeTimeoutMs, socketAddressOf, u32,
} from '../../../src/config/values.js';
import { bootstrap, cluster, listener, load } from './fixtures.js';

test('durationMs, u32 and bool fall back to the default only when the field is absent', () => {
  assert.equal(durationMs(undefined, 15000), 15000);
  assert.equal(durationMs({ seconds: 0, nanos: 0 }, 15000), 0);
  assert.equal(durationMs({ seconds: 1, nanos: 500_000_000 }, 0), 1500);
  assert.equal(durationMs({ nanos: 250_000 }, 0), 0.25);
  assert.equal(u32(undefined, 60), 60);
  assert.equal(u32({ value: 0 }, 60), 0);
  assert.equal(u32({ value: 7 }, 60), 7);
  assert.equal(bool(undefined, true), true);
  assert.equal(bool({ value: false }, true), false);
});

test('durationMs and u32 given a path reject invalid values there, and read valid ones as without it', () => {
  assert.equal(durationMs({ seconds: 2 }, 0, 'c.connect_timeout'), 2000);
  assert.equal(durationMs(undefined, 5000, 'c.connect_timeout'), 5000);
  assert.throws(() => durationMs({ seconds: -1 }, 0, 'c.connect_timeout'),
    (e: unknown) => e instanceof ConfigError && e.message.includes('c.connect_timeout'));
  assert.throws(() => durationMs({ seconds: Number.POSITIVE_INFINITY }, 0, 'c.t'), ConfigError);
  assert.equal(durationMs({ seconds: -1 }, 0), -1000); // without a path the caller validates
  assert.equal(u32({ value: 0xffffffff }, 1, 'c.w'), 0xffffffff);
  assert.equal(u32(undefined, 1, 'c.w'), 1);
  assert.throws(() => u32({ value: 2 ** 32 }, 1, 'c.w'), (e: unknown) => e instanceof ConfigError && e.message.includes('c.w'));
  assert.throws(() => u32({ value: 1.5 }, 1, 'c.w'), ConfigError);
  assert.throws(() => u32({ value: -1 }, 1, 'c.w'), ConfigError);
});

test('hcmOf returns the decoded connection manager and fails clearly without one', () => {
  const loaded = load(bootstrap());
  const l = loaded.bootstrap.static_resources!.listeners![0];
  assert.equal(hcmOf(l, 0).stat_prefix, 'ingress_http');
  assert.throws(() => hcmOf(l, 1), ConfigError);
  assert.throws(() => hcmOf({ name: 'x', filter_chains: [{ filters: [] }] }), /no http_connection_manager filter/);
});

test('hcmSettings applies Envoy defaults and reads set values', () => {
  const defaults = hcmSettings(hcmOf(load(bootstrap()).bootstrap.static_resources!.listeners![0]));
  assert.deepEqual(defaults, {
    statPrefix: 'ingress_http', codecType: 'AUTO', requestHeadersTimeoutMs: 0, streamIdleTimeoutMs: 300_000,
    maxRequestHeadersKb: 60, maxHeadersCount: 100, idleTimeoutMs: 3_600_000, useRemoteAddress: false,
    xffNumTrustedHops: 0, generateRequestId: true, serverName: undefined,
  });
  const set = load(bootstrap({ static_resources: { listeners: [listener({}, {
    codec_type: 'HTTP1', request_headers_timeout: '2s', stream_idle_timeout: '0s', max_request_headers_kb: 96,
    common_http_protocol_options: { max_headers_count: 50, idle_timeout: '30s' }, use_remote_address: true,
    xff_num_trusted_hops: 1, generate_request_id: false, server_name: 'edge',
  })], clusters: [cluster()] } }));
  assert.deepEqual(hcmSettings(hcmOf(set.bootstrap.static_resources!.listeners![0])), {
    statPrefix: 'ingress_http', codecType: 'HTTP1', requestHeadersTimeoutMs: 2000, streamIdleTimeoutMs: 0,
    maxRequestHeadersKb: 96, maxHeadersCount: 50, idleTimeoutMs: 30_000, useRemoteAddress: true,
    xffNumTrustedHops: 1, generateRequestId: false, serverName: 'edge',
  });
});

test('clusterSettings and breakerLimits apply Envoy defaults', () => {
  const c = load(bootstrap()).bootstrap.static_resources!.clusters![0];
  const s = clusterSettings({ ...c, connect_timeout: undefined });
  assert.equal(s.connectTimeoutMs, 5000);
  assert.equal(s.type, 'STATIC');
  assert.equal(s.lbPolicy, 'ROUND_ROBIN');
  assert.equal(s.dnsLookupFamily, 'AUTO');
  assert.equal(s.maxRequestsPerConnection, 0);
  assert.equal(s.perConnectionBufferLimitBytes, 1024 * 1024);
  assert.deepEqual(s.ringHash, { minimumRingSize: 1024, maximumRingSize: 8 * 1024 * 1024 });
  assert.equal(s.maglevTableSize, 65537);
  assert.equal(s.leastRequestChoiceCount, 2);
  assert.deepEqual(s.breakers, { maxConnections: 1024, maxPendingRequests: 1024, maxRequests: 1024, maxRetries: 3 });
  assert.equal(clusterSettings(c).connectTimeoutMs, 250);
  const limited = load(bootstrap({ static_resources: { clusters: [cluster({ circuit_breakers: { thresholds: [{ max_requests: 1, max_retries: 0 }] } })] } }));
  assert.deepEqual(breakerLimits(limited.bootstrap.static_resources!.clusters![0]),
    { maxConnections: 1024, maxPendingRequests: 1024, maxRequests: 1, maxRetries: 0 });
});

test('clusterEndpoints flattens localities with weights and priorities', () => {
  const doc = bootstrap({ static_resources: { clusters: [cluster({ load_assignment: { cluster_name: 'web', endpoints: [
    { lb_endpoints: [
      { endpoint: { address: { socket_address: { address: '127.0.0.1', port_value: 18080 } } }, load_balancing_weight: 3 },
      { endpoint: { address: { socket_address: { address: '127.0.0.1', port_value: 18081 } } } },
    ] },
    { priority: 1, lb_endpoints: [{ endpoint: { address: { socket_address: { address: '127.0.0.2', port_value: 80 } } } }] },
  ] } })] } });
  assert.deepEqual(clusterEndpoints(load(doc).bootstrap.static_resources!.clusters![0]), [
    { address: '127.0.0.1', port: 18080, weight: 3, priority: 0 },
    { address: '127.0.0.1', port: 18081, weight: 1, priority: 0 },
    { address: '127.0.0.2', port: 80, weight: 1, priority: 1 },
  ]);
});

test('addresses, listener names, route timeout and retry defaults', () => {
  assert.deepEqual(socketAddressOf({ socket_address: { address: '::1' } }), { address: '::1', port: 0 });
  assert.equal(socketAddressOf(undefined), undefined);
  assert.equal(listenerName({ address: { socket_address: { address: '127.0.0.1', port_value: 80 } } }), '127.0.0.1:80');
  assert.equal(listenerName({ name: 'x' }), 'x');
  assert.equal(routeTimeoutMs({ cluster: 'a' }), 15_000);
  assert.equal(routeTimeoutMs({ cluster: 'a', timeout: { seconds: 0, nanos: 0 } }), 0);
  assert.deepEqual(retrySettings(undefined), { retryOn: [], numRetries: 0, perTryTimeoutMs: 0, retriableStatusCodes: [] });
  assert.deepEqual(retrySettings({ retry_on: '5xx, connect-failure' }), { retryOn: ['5xx', 'connect-failure'], numRetries: 1, perTryTimeoutMs: 0, retriableStatusCodes: [] });
  assert.equal(retrySettings({ retry_on: '5xx', num_retries: { value: 3 }, per_try_timeout: { seconds: 1 } }).perTryTimeoutMs, 1000);
});
