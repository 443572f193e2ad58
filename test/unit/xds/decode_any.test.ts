// decodeAnyResource (protobuf bytes straight to the decoded shape) must give exactly what the reflection path
// (Any -> proto3 JSON -> decodeResource) gives, value, JSON form and warnings, for every kind of field.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { packResource, unpackResource } from '../../../src/xds/any_json.js';
import { decodeAnyResource } from '../../../src/xds/decode_any.js';
import { decodeResource } from '../../../src/config/resources.js';
import { ConfigError } from '../../../src/common/errors.js';
import { seededRandom } from '../../helpers/random.js';

const HCM = 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager';
const ROUTER = 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router';

const resources: Record<string, unknown>[] = [
  {
    '@type': 'type.googleapis.com/envoy.config.cluster.v3.Cluster', name: 'c1', type: 'EDS', connect_timeout: '1.250s',
    lb_policy: 'RING_HASH', ring_hash_lb_config: { minimum_ring_size: '1024', maximum_ring_size: 4096 },
    per_connection_buffer_limit_bytes: 32768,
    eds_cluster_config: { service_name: 'svc', eds_config: { ads: {}, resource_api_version: 'V3', initial_fetch_timeout: '0s' } },
    circuit_breakers: { thresholds: [{ priority: 'DEFAULT', max_connections: 10, max_retries: 0 }] },
    common_http_protocol_options: { idle_timeout: '-0.000000001s', max_requests_per_connection: 7 },
    metadata: { filter_metadata: { istio: { a: 1, b: [true, null, 'x', { c: 2.5 }], d: {} } } },
    dns_lookup_family: 'V4_ONLY',
  },
  {
    '@type': 'type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment', cluster_name: 'svc',
    endpoints: [
      { locality: { region: 'r', zone: 'z' }, load_balancing_weight: 3, lb_endpoints: [
        { endpoint: { address: { socket_address: { address: '10.0.0.1', port_value: 80 } } }, health_status: 'HEALTHY', load_balancing_weight: 2 },
        { endpoint: { address: { socket_address: { address: '10.0.0.2', port_value: 81 } }, hostname: 'h' }, health_status: 'DRAINING' },
      ] },
      { priority: 1, lb_endpoints: [] },
    ],
    policy: { overprovisioning_factor: 140 },
  },
  {
    '@type': 'type.googleapis.com/envoy.config.listener.v3.Listener', name: 'l', address: { socket_address: { address: '0.0.0.0', port_value: 8080 } },
    filter_chains: [{ filters: [{ name: 'envoy.filters.network.http_connection_manager', typed_config: {
      '@type': HCM, stat_prefix: 'in', codec_type: 'AUTO', stream_idle_timeout: '300s',
      rds: { route_config_name: 'r', config_source: { ads: {}, resource_api_version: 'V3' } },
      http_filters: [{ name: 'envoy.filters.http.router', typed_config: { '@type': ROUTER, suppress_envoy_headers: true } }],
      use_remote_address: true, xff_num_trusted_hops: 1,
    } }] }],
  },
  {
    '@type': 'type.googleapis.com/envoy.config.route.v3.RouteConfiguration', name: 'r',
    virtual_hosts: [{ name: 'v', domains: ['*'], routes: [
      { match: { safe_regex: { regex: '^/a.*' }, headers: [{ name: 'x', string_match: { exact: 'y' } }] }, route: { cluster: 'c1', timeout: '0s', retry_policy: { retry_on: '5xx', num_retries: 2 } } },
      { match: { prefix: '/' }, direct_response: { status: 200, body: { inline_bytes: 'aGVsbG8=' } } },
    ] }],
    typed_per_filter_config: {},
  },
];

for (const json of resources) {
  test(`decodeAnyResource equals the reflection path: ${String(json['@type']).split('.').pop()}`, () => {
    const any = packResource(json);
    const slow = decodeResource(unpackResource(any, 'x'), 'x');
    const fast = decodeAnyResource(any, 'x');
    assert.deepEqual(fast.value, slow.value);
    assert.deepEqual(fast.json, slow.json);
    assert.deepEqual(fast.warnings, slow.warnings);
    assert.equal(fast.typeUrl, slow.typeUrl);
  });
}

test('decodeAnyResource: bad bytes and unknown nested type URLs are ConfigErrors naming the resource', () => {
  const bad = { type_url: 'type.googleapis.com/envoy.config.cluster.v3.Cluster', value: Uint8Array.from([0x0a, 0xff, 0x01]) };
  assert.throws(() => decodeAnyResource(bad, 'Cluster "x"'), (e: unknown) => e instanceof ConfigError && /Cluster "x"/.test(e.message));
  // A Listener whose filter's typed_config names a type that is not Envoy's at all.
  const listener = packResource(resources[2]);
  const unknownType = packResource({ ...resources[2], filter_chains: [] });
  assert.ok(decodeAnyResource(unknownType, 'l').value);
  const bogus = { type_url: 'type.googleapis.com/no.such.Type', value: listener.value };
  assert.throws(() => decodeAnyResource(bogus, 'l'), /not loaded/);
});

test('decodeAnyResource: mutated bytes give a value or a ConfigError, never another exception (bounded fuzz)', () => {
  const rand = seededRandom(0x5eed);
  let ok = 0;
  let rejected = 0;
  for (const json of resources) {
    const any = packResource(json);
    for (let round = 0; round < 300; round++) {
      const bytes = Uint8Array.from(any.value);
      const flips = 1 + Math.floor(rand() * 4);
      for (let f = 0; f < flips; f++) bytes[Math.floor(rand() * bytes.length)] = Math.floor(rand() * 256);
      const cut = rand() < 0.2 ? bytes.subarray(0, Math.floor(rand() * bytes.length)) : bytes;
      try {
        decodeAnyResource({ type_url: any.type_url, value: cut }, 'fuzz');
        ok++;
      } catch (e) {
        assert.ok(e instanceof ConfigError, `not a ConfigError: ${(e as Error).stack}`);
        rejected++;
      }
    }
  }
  assert.ok(ok > 0 && rejected > 0, `${ok} decoded, ${rejected} rejected`);
});
