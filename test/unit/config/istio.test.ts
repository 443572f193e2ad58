// Istio compatibility decisions (src/config/istio.ts) as the config layer, the connection manager and the
// router apply them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { UnsupportedConfigError } from '../../../src/common/errors.js';
import {
  effectiveTypeUrl, ISTIO_EXTENSIONS, judgeExtension, noopRegistryEntries, perRouteConfigIgnorable, resetIstioWarnings, warnNoopOnce,
} from '../../../src/config/istio.js';
import { decodeResource, validateResource } from '../../../src/config/resources.js';
import { connectionManagerConfig } from '../../../src/proxy/config.js';
import { compileRouteTable } from '../../../src/router/index.js';
import { mainInstance } from '../../../src/wasm/runtime.js';
import type { Logger } from '../../../src/common/logger.js';
import type { HttpConnectionManager } from '../../../src/types/envoy.js';
import { bootstrap, hcm, listener, load, ROUTER, type Obj } from './fixtures.js';

const T = 'type.googleapis.com/';
const typedStruct = (name: string, typeUrl: string, value: Obj = {}): Obj => ({ name, typed_config: { '@type': `${T}udpa.type.v1.TypedStruct`, type_url: typeUrl, value } });
const router = { name: 'envoy.filters.http.router', typed_config: { '@type': ROUTER } };

function captureLog(): { log: Logger; lines: string[] } {
  const lines: string[] = [];
  const push = (m: string): void => { lines.push(m); };
  return { lines, log: { trace: push, debug: push, info: push, warn: push, error: push, enabled: () => true } };
}

test('decisions: a TypedStruct is judged by its inner type_url, the Any by its @type, the name only without a config', () => {
  assert.equal(effectiveTypeUrl(typedStruct('istio.stats', `${T}stats.PluginConfig`)), `${T}stats.PluginConfig`);
  assert.equal(judgeExtension('http_filter', typedStruct('anything', `${T}stats.PluginConfig`)).accept, true, 'the type decides, not the name');
  assert.equal(judgeExtension('http_filter', { name: 'istio.stats' }).accept, true);
  assert.equal(judgeExtension('network_filter', { name: 'istio.metadata_exchange', typed_config: { '@type': `${T}envoy.tcp.metadataexchange.config.MetadataExchange`, protocol: 'istio-peer-exchange' } }).accept, true);
  const rbac = judgeExtension('http_filter', { name: 'envoy.filters.http.rbac', typed_config: { '@type': `${T}envoy.extensions.filters.http.rbac.v3.RBAC` } });
  assert.equal(rbac.accept, false);
  assert.match(!rbac.accept ? rbac.reason : '', /authorization/);
  const unknown = judgeExtension('http_filter', { name: 'x', typed_config: { '@type': `${T}x.y.Z` } });
  assert.deepEqual([unknown.accept, unknown.decision], [false, undefined]);
  // An empty fault or CORS filter passes everything; one with a policy would not be applied.
  assert.equal(judgeExtension('http_filter', { name: 'f', typed_config: { '@type': `${T}envoy.extensions.filters.http.fault.v3.HTTPFault` } }).accept, true);
  assert.equal(judgeExtension('http_filter', { name: 'f', typed_config: { '@type': `${T}envoy.extensions.filters.http.fault.v3.HTTPFault`, abort: { http_status: 503 } } }).accept, false);
  // Istio's stats plugin on the null VM is a no-op; a real Wasm module is not.
  const wasm = (runtime: string, code: string): Obj => ({ name: 'istio.stats', typed_config: { '@type': `${T}envoy.extensions.filters.http.wasm.v3.Wasm`,
    config: { root_id: 'stats_outbound', vm_config: { vm_id: 'stats_outbound', runtime, code: { local: { inline_string: code } } } } } });
  assert.equal(judgeExtension('http_filter', wasm('envoy.wasm.runtime.null', 'envoy.wasm.stats')).accept, true);
  assert.equal(judgeExtension('http_filter', wasm('envoy.wasm.runtime.v8', 'envoy.wasm.stats')).accept, false);
  assert.equal(judgeExtension('http_filter', wasm('envoy.wasm.runtime.null', 'something.else')).accept, false);
  // istiod's telemetry filters over ECDS: judged by the types they may be given.
  const ecds = (urls: string[]): Obj => ({ name: 'istio.io/telemetry/stats/prometheus/sidecar/Inbound/HTTP', config_discovery: { config_source: { ads: {} }, type_urls: urls } });
  assert.equal(judgeExtension('http_filter', ecds([`${T}stats.PluginConfig`])).accept, true);
  assert.equal(judgeExtension('http_filter', ecds([`${T}stats.PluginConfig`, `${T}envoy.extensions.filters.http.wasm.v3.Wasm`])).accept, false, 'a Wasm plugin may come');
  assert.equal(judgeExtension('http_filter', ecds([])).accept, false);
  const withEcds = load(bootstrap({ static_resources: { listeners: [listener({}, { http_filters: [ecds([`${T}stats.PluginConfig`]), router] })] } }));
  assert.ok(withEcds.bootstrap.static_resources);
  assert.equal(perRouteConfigIgnorable('istio.stats'), true);
  assert.equal(perRouteConfigIgnorable('envoy.filters.http.cors'), false);
  // Every extension has a name, a type URL and a reason; names are unique.
  assert.equal(new Set(ISTIO_EXTENSIONS.map((e) => e.name)).size, ISTIO_EXTENSIONS.length);
  for (const e of ISTIO_EXTENSIONS) assert.ok(e.typeUrls.length > 0 && e.why.length > 10, e.name);
  const network = new Map(noopRegistryEntries('network_filter'));
  assert.ok(network.has('istio.metadata_exchange') && network.has(`${T}envoy.tcp.metadataexchange.config.MetadataExchange`) && network.has('istio.stats'));
  assert.ok(!network.has('envoy.filters.network.rbac'));
});

test('an Istio HCM chain validates; rejected filters are named with the reason; per-route configs of policy filters are rejected', () => {
  const chain = [
    typedStruct('istio.stats', `${T}stats.PluginConfig`, { reporter: 'SERVER' }),
    typedStruct('istio.metadata_exchange', `${T}io.istio.http.peer_metadata.Config`),
    { name: 'envoy.filters.http.grpc_stats', typed_config: { '@type': `${T}envoy.extensions.filters.http.grpc_stats.v3.FilterConfig`, emit_filter_state: true } },
    { name: 'envoy.filters.http.cors', typed_config: { '@type': `${T}envoy.extensions.filters.http.cors.v3.Cors` } },
    router,
  ];
  const loaded = load(bootstrap({ static_resources: { listeners: [listener({}, { http_filters: chain, tracing: {}, access_log: [] })], clusters: [{ name: 'web', connect_timeout: '1s' }] } }));
  const hcmJson = (loaded.raw as Obj).static_resources.listeners[0].filter_chains[0].filters[0].typed_config;
  assert.equal(hcmJson.http_filters[0].typed_config.type_url, `${T}stats.PluginConfig`, 'kept as received for /config_dump');
  assert.deepEqual(hcmJson.http_filters[0].typed_config.value, { reporter: 'SERVER' });
  // The connection manager reads the same chain.
  const cfg = connectionManagerConfig(load(bootstrap({ static_resources: { listeners: [listener({}, { http_filters: chain })] } })).bootstrap.static_resources!.listeners![0]!.filter_chains![0]!.filters![0]!.typed_config as unknown as HttpConnectionManager, 'l');
  assert.equal(cfg.statPrefix, 'ingress_http');
  assert.throws(() => connectionManagerConfig(hcm({ http_filters: [{ name: 'envoy.filters.http.rbac', typed_config: { '@type': `${T}envoy.extensions.filters.http.rbac.v3.RBAC` } }, router] }) as unknown as HttpConnectionManager, 'l'),
    (e: unknown) => e instanceof UnsupportedConfigError && /http_filters\[0\].*rbac.*authorization/.test(e.message));

  const route = (perFilter: Obj): Obj => ({ '@type': `${T}envoy.config.route.v3.RouteConfiguration`, name: 'r', virtual_hosts: [{ name: 'v', domains: ['*'],
    routes: [{ match: { prefix: '/' }, route: { cluster: 'c' }, typed_per_filter_config: perFilter }] }] });
  const cors = decodeResource(route({ 'envoy.filters.http.cors': { '@type': `${T}envoy.extensions.filters.http.cors.v3.CorsPolicy` } }), 'R');
  assert.throws(() => validateResource(cors, 'R'), /R\.virtual_hosts\[0\]\.routes\[0\]\.typed_per_filter_config\["envoy\.filters\.http\.cors"\]: unsupported extension envoy\.filters\.http\.cors/);
  const stats = decodeResource(route({ 'istio.stats': { '@type': `${T}udpa.type.v1.TypedStruct`, type_url: `${T}stats.PluginConfig` } }), 'R');
  assert.doesNotThrow(() => validateResource(stats, 'R'));
});

test('a no-op extension is warned about once per name per process', () => {
  const { log, lines } = captureLog();
  resetIstioWarnings(log);
  const decision = ISTIO_EXTENSIONS.find((e) => e.name === 'istio.alpn')!;
  assert.equal(warnNoopOnce(decision, 'a'), true);
  assert.equal(warnNoopOnce(decision, 'b'), false);
  assert.equal(lines.length, 1);
  assert.match(lines[0]!, /^a: extension istio\.alpn accepted as a no-op/);
});

test('the route fields istiod sets compile into the route entry; a direct_response body over the limit is rejected', () => {
  const wasm = mainInstance();
  const table = compileRouteTable({
    name: 'r', max_direct_response_body_size_bytes: { value: 4 },
    virtual_hosts: [{ name: 'v', domains: ['*'], include_request_attempt_count: true, routes: [
      { name: 'a', match: { prefix: '/a' }, decorator: { operation: 'op' }, route: { cluster: 'c', max_stream_duration: { max_stream_duration: { seconds: 2 }, grpc_timeout_header_max: { seconds: 1 } }, cluster_not_found_response_code: 'NOT_FOUND' } },
      { name: 'b', match: { prefix: '/b' }, route: { cluster: 'c', max_grpc_timeout: { seconds: 0 }, grpc_timeout_offset: { nanos: 5_000_000 } } },
      { name: 'd', match: { prefix: '/d' }, direct_response: { status: 200, body: { inline_string: 'four' } } },
    ] }],
  } as never, wasm);
  const entries = (table as unknown as { entries: readonly Obj[] }).entries;
  const a = entries.find((e) => e.name === 'a')!;
  assert.deepEqual([a.maxStreamDurationMs, a.grpcTimeoutHeaderMaxMs, a.clusterNotFoundStatus, a.includeAttemptCount], [2000, 1000, 404, true]);
  const b = entries.find((e) => e.name === 'b')!;
  assert.deepEqual([b.maxStreamDurationMs, b.grpcTimeoutHeaderMaxMs, b.grpcTimeoutOffsetMs], [undefined, 0, 5]);
  table.retire?.(0);
  assert.throws(() => compileRouteTable({ name: 'r', max_direct_response_body_size_bytes: { value: 3 },
    virtual_hosts: [{ name: 'v', domains: ['*'], routes: [{ match: { prefix: '/' }, direct_response: { status: 200, body: { inline_string: 'four' } } }] }] } as never, wasm),
  /virtual_hosts\[0\]\.routes\[0\]\.direct_response\.body: longer than max_direct_response_body_size_bytes \(3\)/);
});
