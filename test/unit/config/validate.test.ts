// Every kind of rejection, with the field path asserted: protoc-gen-validate rules from Envoy's protos,
// Skiff's supported subset, and cross-references.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, UnsupportedConfigError } from '../../../src/common/errors.js';
import { listUnsupported } from '../../../src/config/validate.js';
import { bootstrap, cluster, hcm, listener, load, ROUTER, type Obj } from './fixtures.js';

const HCM_PATH = 'static_resources.listeners[0].filter_chains[0].filters[0].typed_config';

function rejects(doc: Obj, expected: string, kind: 'invalid' | 'unsupported' = 'invalid'): void {
  assert.throws(() => load(doc), (err: unknown) => {
    assert.ok(err instanceof ConfigError, `not a ConfigError: ${String(err)}`);
    assert.equal(err instanceof UnsupportedConfigError, kind === 'unsupported', err.message);
    assert.equal(err.code, kind === 'unsupported' ? 'SKIFF_CONFIG_UNSUPPORTED' : 'SKIFF_CONFIG_INVALID');
    assert.equal(err.message, expected);
    return true;
  });
}

function withListener(l: Obj): Obj {
  return bootstrap({ static_resources: { listeners: [l], clusters: [cluster()] } });
}
function withHcm(overrides: Obj): Obj {
  return withListener(listener({}, overrides));
}
function withCluster(overrides: Obj): Obj {
  return bootstrap({ static_resources: { listeners: [listener()], clusters: [cluster(overrides)] } });
}
function withRoutes(routes: Obj[], vhost: Obj = {}): Obj {
  return withHcm({ route_config: { name: 'r', virtual_hosts: [{ name: 'v', domains: ['*'], routes, ...vhost }] } });
}

test('a complete supported bootstrap is accepted without warnings', () => {
  const loaded = load(bootstrap());
  assert.deepEqual(loaded.warnings, []);
});

test('PGV: string min_len, duration gt, uint32 range, enum defined_only, repeated min_items, required oneof and message', () => {
  rejects(withCluster({ name: '' }), 'static_resources.clusters[0].name: must be at least 1 characters long (string.min_len)');
  rejects(withCluster({ connect_timeout: '0s' }), 'static_resources.clusters[0].connect_timeout: must be greater than 0s (duration.gt)');
  rejects(withHcm({ stat_prefix: '' }), `${HCM_PATH}.stat_prefix: must be at least 1 characters long (string.min_len)`);
  rejects(withHcm({ max_request_headers_kb: 0 }), `${HCM_PATH}.max_request_headers_kb: must be greater than 0 (uint32.gt)`);
  rejects(withHcm({ max_request_headers_kb: 8193 }), `${HCM_PATH}.max_request_headers_kb: must be at most 8192 (uint32.lte)`);
  rejects(withHcm({ request_headers_timeout: '-1s' }), `${HCM_PATH}.request_headers_timeout: must be at least 0s (duration.gte)`);
  rejects(withCluster({ lb_policy: 42 }), 'static_resources.clusters[0].lb_policy: 42 is not a defined value of LbPolicy (enum.defined_only)');
  rejects(withRoutes([{ match: { prefix: '/' }, route: { cluster: 'web' } }], { domains: [] }),
    `${HCM_PATH}.route_config.virtual_hosts[0].domains: must have at least 1 items (repeated.min_items)`);
  rejects(withRoutes([{ match: {}, route: { cluster: 'web' } }]),
    `${HCM_PATH}.route_config.virtual_hosts[0].routes[0].match.path_specifier: one of prefix, path, safe_regex, connect_matcher, path_separated_prefix, path_match_policy must be set (validate.required)`);
  rejects(withRoutes([{ route: { cluster: 'web' } }]), `${HCM_PATH}.route_config.virtual_hosts[0].routes[0].match: is required (message.required)`);
  rejects(withRoutes([{ match: { prefix: '/' } }]),
    `${HCM_PATH}.route_config.virtual_hosts[0].routes[0].action: one of route, redirect, direct_response, filter_action, non_forwarding_action must be set (validate.required)`);
  rejects(withRoutes([{ match: { prefix: '/', headers: [{ name: 'x-a\nb', present_match: true }] }, route: { cluster: 'web' } }]),
    `${HCM_PATH}.route_config.virtual_hosts[0].routes[0].match.headers[0].name: is not a valid HTTP header name (string.well_known_regex)`);
  rejects(withRoutes([{ match: { prefix: '/' }, direct_response: { status: 199 } }]),
    `${HCM_PATH}.route_config.virtual_hosts[0].routes[0].direct_response.status: must be at least 200 (uint32.gte)`);
  rejects(withCluster({ lb_policy: 'MAGLEV', maglev_lb_config: { table_size: 5000012 } }),
    'static_resources.clusters[0].maglev_lb_config.table_size: must be at most 5000011 (uint64.lte)');
});

test('unsupported fields are named by their path', () => {
  rejects(withCluster({ health_checks: [{ timeout: '1s', interval: '1s', unhealthy_threshold: 1, healthy_threshold: 1, tcp_health_check: {} }] }),
    'static_resources.clusters[0].health_checks: unsupported field', 'unsupported');
  rejects(bootstrap({ hds_config: { api_type: 'GRPC' } }), 'hds_config: unsupported field', 'unsupported');
  // Sections Istio's bootstrap sets that change no forwarding are documented no-ops that warn.
  const noop = load(bootstrap({ layered_runtime: { layers: [] }, stats_config: { use_all_default_tags: false } }));
  assert.ok(noop.warnings.some((w) => w.startsWith('layered_runtime: accepted and ignored')), noop.warnings.join('; '));
  assert.ok(noop.warnings.some((w) => w.startsWith('stats_config: accepted and ignored')), noop.warnings.join('; '));
  rejects(withHcm({ strip_matching_host_port: true }), `${HCM_PATH}.strip_matching_host_port: unsupported field`, 'unsupported');
  rejects(withListener(listener({ tcp_backlog_size: 5 })), 'static_resources.listeners[0].tcp_backlog_size: unsupported field', 'unsupported');
  rejects(withRoutes([{ match: { prefix: '/', grpc: {} }, route: { cluster: 'web' } }]),
    `${HCM_PATH}.route_config.virtual_hosts[0].routes[0].match.grpc: unsupported field`, 'unsupported');
  rejects(withRoutes([{ match: { prefix: '/' }, route: { cluster: 'web', idle_timeout: '1s' } }]),
    `${HCM_PATH}.route_config.virtual_hosts[0].routes[0].route.idle_timeout: unsupported field`, 'unsupported');
  // The same message allows different fields under the HCM and under a cluster.
  rejects(withHcm({ common_http_protocol_options: { max_requests_per_connection: 5 } }),
    `${HCM_PATH}.common_http_protocol_options.max_requests_per_connection: unsupported field`, 'unsupported');
  rejects(withCluster({ common_http_protocol_options: { max_headers_count: 5 } }),
    'static_resources.clusters[0].common_http_protocol_options.max_headers_count: unsupported field', 'unsupported');
  assert.doesNotThrow(() => load(withHcm({ common_http_protocol_options: { max_headers_count: 50, idle_timeout: '30s' } })));
  assert.doesNotThrow(() => load(withCluster({ common_http_protocol_options: { max_requests_per_connection: 5, idle_timeout: '30s' } })));
});

test('unsupported enum values are named with the supported ones', () => {
  rejects(withCluster({ type: 'LOGICAL_DNS' }), 'static_resources.clusters[0].type: unsupported value LOGICAL_DNS (supported: STATIC, STRICT_DNS, EDS)', 'unsupported');
  rejects(withCluster({ lb_policy: 'CLUSTER_PROVIDED' }),
    'static_resources.clusters[0].lb_policy: unsupported value CLUSTER_PROVIDED (supported: ROUND_ROBIN, LEAST_REQUEST, RANDOM, RING_HASH, MAGLEV)', 'unsupported');
  rejects(withHcm({ codec_type: 'HTTP3' }), `${HCM_PATH}.codec_type: unsupported value HTTP3 (supported: AUTO, HTTP1, HTTP2)`, 'unsupported');
  rejects(withCluster({ dns_lookup_family: 'AUTO', type: 'ORIGINAL_DST' }),
    'static_resources.clusters[0].type: unsupported value ORIGINAL_DST (supported: STATIC, STRICT_DNS, EDS)', 'unsupported');
  // HIGH thresholds only govern HIGH-priority routes, which Skiff does not have: accepted, never applied.
  assert.doesNotThrow(() => load(withCluster({ circuit_breakers: { thresholds: [{ priority: 'HIGH', max_requests: 1 }] } })));
});

test('unsupported extensions are named with their type URL', () => {
  const buffer = { name: 'envoy.filters.http.buffer', typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.http.buffer.v3.Buffer' } };
  const router = { name: 'envoy.filters.http.router', typed_config: { '@type': ROUTER } };
  rejects(withHcm({ http_filters: [buffer, router] }),
    `${HCM_PATH}.http_filters[0]: unsupported extension envoy.filters.http.buffer (type.googleapis.com/envoy.extensions.filters.http.buffer.v3.Buffer)`, 'unsupported');
  const mongo = { name: 'envoy.filters.network.mongo_proxy', typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.network.mongo_proxy.v3.MongoProxy', stat_prefix: 't' } };
  rejects(withListener(listener({ filter_chains: [{ filters: [mongo] }] })),
    'static_resources.listeners[0].filter_chains[0].filters[0]: unsupported extension envoy.filters.network.mongo_proxy (type.googleapis.com/envoy.extensions.filters.network.mongo_proxy.v3.MongoProxy)', 'unsupported');
  // The type URL decides, as in Envoy: a router's name on a different type is still that type.
  rejects(withHcm({ http_filters: [{ name: 'envoy.filters.http.router', typed_config: buffer.typed_config }] }),
    `${HCM_PATH}.http_filters[0]: unsupported extension envoy.filters.http.router (type.googleapis.com/envoy.extensions.filters.http.buffer.v3.Buffer)`, 'unsupported');
  // Without typed_config the name decides.
  assert.doesNotThrow(() => load(withHcm({ http_filters: [{ name: 'envoy.filters.http.router' }] })));
  rejects(withHcm({ http_filters: [{ name: 'envoy.filters.http.buffer' }, router] }), `${HCM_PATH}.http_filters[0]: unsupported extension envoy.filters.http.buffer`, 'unsupported');
});

test('the router typed_config must be empty; several filter chains are accepted', () => {
  rejects(withHcm({ http_filters: [{ name: 'envoy.filters.http.router', typed_config: { '@type': ROUTER, suppress_envoy_headers: true } }] }),
    `${HCM_PATH}.http_filters[0].typed_config.suppress_envoy_headers: unsupported field`, 'unsupported');
  const chain = { filters: [{ name: 'envoy.filters.network.http_connection_manager', typed_config: hcm() }] };
  // Two chains with the same match are refused when the listener is built (src/listener), not here.
  assert.doesNotThrow(() => load(withListener(listener({ filter_chains: [chain, { ...chain, filter_chain_match: { server_names: ['a.example.com'] } }] }))));
});

test('admin.access_log is accepted as a no-op that warns', () => {
  assert.doesNotThrow(() => load(bootstrap({ admin: { access_log: [], address: { socket_address: { address: '127.0.0.1', port_value: 0 } } } })));
  const loaded = load(bootstrap({ admin: { access_log: [{ name: 'envoy.access_loggers.stdout', typed_config: { '@type': 'type.googleapis.com/envoy.extensions.access_loggers.stream.v3.StdoutAccessLog' } }] } }));
  assert.ok(loaded.warnings.some((w) => w.startsWith('admin.access_log: accepted and ignored')), loaded.warnings.join('; '));
});

test('an empty google_re2 (the default engine) is accepted; one with settings is not', () => {
  const loaded = load(withRoutes([{ match: { safe_regex: { google_re2: {}, regex: '/a.*' } }, route: { cluster: 'web' } }]));
  assert.ok(loaded.warnings.some((w) => /safe_regex\.google_re2: deprecated field/.test(w)));
  rejects(withRoutes([{ match: { safe_regex: { google_re2: { max_program_size: 100 }, regex: '/a.*' } }, route: { cluster: 'web' } }]),
    `${HCM_PATH}.route_config.virtual_hosts[0].routes[0].match.safe_regex.google_re2: unsupported field (accepted only when empty)`, 'unsupported');
});

test('hints are accepted with a warning', () => {
  const loaded = load(bootstrap({ node: { id: 'a', listening_addresses: [{ socket_address: { address: '10.0.0.1', port_value: 80 } }] } }));
  assert.ok(loaded.warnings.some((w) => w.startsWith('node.listening_addresses: accepted as a hint')), loaded.warnings.join('\n'));
});

test('listUnsupported reports every unsupported field in document order, not only the first', () => {
  const doc = bootstrap({ hds_config: {}, static_resources: { listeners: [listener({ tcp_backlog_size: 5 })], clusters: [cluster({ type: 'LOGICAL_DNS' })] } });
  const all = listUnsupported(load(doc, { validate: false })).map((e) => e.path);
  assert.deepEqual(all, ['static_resources.listeners[0].tcp_backlog_size', 'static_resources.clusters[0].type', 'hds_config']);
});

test('cross-references: duplicate names, two listeners on one address, router last', () => {
  rejects(bootstrap({ static_resources: { listeners: [listener(), listener({ address: { socket_address: { address: '127.0.0.1', port_value: 10001 } } })] } }),
    'static_resources.listeners[1].name: duplicate listener name "ingress" (also static_resources.listeners[0].name)');
  rejects(bootstrap({ static_resources: { clusters: [cluster(), cluster()] } }),
    'static_resources.clusters[1].name: duplicate cluster name "web" (also static_resources.clusters[0].name)');
  rejects(bootstrap({ static_resources: { listeners: [listener(), listener({ name: 'second' })] } }),
    'static_resources.listeners[1].address: two listeners on 127.0.0.1:10000 (also static_resources.listeners[0])');
  // Port 0 asks for an ephemeral port: never a clash.
  const zero = { socket_address: { address: '127.0.0.1', port_value: 0 } };
  assert.doesNotThrow(() => load(bootstrap({ static_resources: { listeners: [listener({ address: zero }), listener({ name: 'b', address: zero })] } })));
  rejects(bootstrap({ admin: { address: { socket_address: { address: '127.0.0.1', port_value: 10000 } } } }),
    'static_resources.listeners[0].address: 127.0.0.1:10000 is also the admin address');
  rejects(withCluster({ lb_policy: 'RING_HASH', ring_hash_lb_config: { minimum_ring_size: 4096, maximum_ring_size: 1024 } }),
    'static_resources.clusters[0].ring_hash_lb_config.minimum_ring_size: 4096 is above maximum_ring_size 1024');
  rejects(withListener(listener({ filter_chains: [] })), 'static_resources.listeners[0].filter_chains: a listener needs a filter chain');
  rejects(withListener(listener({ filter_chains: [{ filters: [] }] })),
    'static_resources.listeners[0].filter_chains[0].filters: a terminal network filter (http_connection_manager, tcp_proxy, ...) is required');
  rejects(withListener(listener({ filter_chains: [{ filters: [{ name: 'envoy.filters.network.http_connection_manager' }] }] })),
    'static_resources.listeners[0].filter_chains[0].filters: the http_connection_manager filter (with its typed_config) is required');
  rejects(withHcm({ http_filters: [] }),
    `${HCM_PATH}.http_filters: the router filter (envoy.filters.http.router) must be the last HTTP filter; none is configured`);
  const router = { name: 'envoy.filters.http.router', typed_config: { '@type': ROUTER } };
  rejects(withHcm({ http_filters: [router, router] }), `${HCM_PATH}.http_filters[0]: the router filter must be the last HTTP filter`);
  rejects(withHcm({ route_config: { virtual_hosts: [{ name: 'v', domains: ['a'] }, { name: 'v', domains: ['b'] }] } }),
    `${HCM_PATH}.route_config.virtual_hosts[1].name: duplicate virtual host name "v" (also ${HCM_PATH}.route_config.virtual_hosts[0].name)`);
});

test('addresses: listeners bind IPs, STATIC clusters need IP endpoints, STRICT_DNS may use names', () => {
  rejects(withListener(listener({ address: { socket_address: { address: 'localhost', port_value: 1 } } })),
    'static_resources.listeners[0].address.socket_address.address: must be an IP address to listen on, got "localhost"');
  rejects(withListener(listener({ address: undefined })), 'static_resources.listeners[0].address: is required');
  const named = { cluster_name: 'web', endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: 'backend.local', port_value: 80 } } } }] }] };
  rejects(withCluster({ load_assignment: named }),
    'static_resources.clusters[0].load_assignment.endpoints[0].lb_endpoints[0].endpoint.address.socket_address.address: a STATIC cluster needs IP addresses, got "backend.local" (use type STRICT_DNS for names)');
  assert.doesNotThrow(() => load(withCluster({ type: 'STRICT_DNS', load_assignment: named, dns_lookup_family: 'V4_ONLY', dns_refresh_rate: '10s' })));
});

test('a route to a cluster that is not defined is accepted (503 at run time)', () => {
  assert.doesNotThrow(() => load(withRoutes([{ match: { prefix: '/' }, route: { cluster: 'nowhere' } }])));
});

test('dynamic configuration: ADS bootstrap, HCM rds and EDS clusters are accepted; other sources are named', () => {
  const ads = { ads: {}, resource_api_version: 'V3', initial_fetch_timeout: '0s' };
  const dynamic = {
    node: { id: 'sidecar~10.0.0.1~a.ns~ns.svc.cluster.local', cluster: 'a.ns', locality: { region: 'r1', zone: 'z1' }, metadata: { ISTIO_VERSION: '1.24' } },
    dynamic_resources: {
      ads_config: { api_type: 'DELTA_GRPC', transport_api_version: 'V3', set_node_on_first_message_only: true, grpc_services: [{ envoy_grpc: { cluster_name: 'web' } }] },
      lds_config: ads, cds_config: ads,
    },
  };
  const rds = { rds: { config_source: ads, route_config_name: '8080' }, route_config: undefined };
  const eds = { type: 'EDS', eds_cluster_config: { eds_config: ads, service_name: 'outbound|80||web' }, load_assignment: undefined };
  const doc = (hcmOverrides: Obj, clusterOverrides: Obj, extra: Obj = {}): Obj =>
    ({ ...bootstrap({ static_resources: { listeners: [listener({}, hcmOverrides)], clusters: [cluster(clusterOverrides)] } }), ...dynamic, ...extra });
  const loaded = load(JSON.parse(JSON.stringify(doc(rds, eds))) as Obj);
  assert.equal(loaded.bootstrap.dynamic_resources?.ads_config?.api_type, 'DELTA_GRPC');
  assert.equal(loaded.bootstrap.static_resources?.clusters?.[0]?.eds_cluster_config?.service_name, 'outbound|80||web');
  rejects(JSON.parse(JSON.stringify(doc({ rds: { config_source: { path_config_source: { path: '/tmp/r.yaml' } }, route_config_name: 'r' }, route_config: undefined }, {}))) as Obj,
    `${HCM_PATH}.rds.config_source.path_config_source: unsupported field`, 'unsupported');
  rejects(JSON.parse(JSON.stringify(doc({}, {}, { dynamic_resources: { ...dynamic.dynamic_resources, ads_config: { ...dynamic.dynamic_resources.ads_config, api_type: 'REST' } } }))) as Obj,
    'dynamic_resources.ads_config.api_type: unsupported value REST (supported: GRPC, DELTA_GRPC, AGGREGATED_GRPC, AGGREGATED_DELTA_GRPC)', 'unsupported');
});
