import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError } from '../../../src/common/errors.js';
import { decodeResource } from '../../../src/config/resources.js';
import { anyToJson, packResource, unpackResource } from '../../../src/xds/any_json.js';
import { CLUSTER, LISTENER, ROUTE, cluster } from './ads_peer.js';

test('a Cluster survives pack and unpack in proto3 JSON: durations, enums, wrappers, Struct metadata, 64-bit ints', () => {
  const input = cluster('web', 8080, {
    connect_timeout: '1.5s',
    lb_policy: 'LEAST_REQUEST',
    per_connection_buffer_limit_bytes: 65536,
    metadata: { filter_metadata: { istio: { config: '/apis/networking', weights: [1, 2.5], on: true, none: null, nested: { a: 'b' } } } },
    common_http_protocol_options: { idle_timeout: '300s', max_requests_per_connection: 1000 },
    ring_hash_lb_config: { minimum_ring_size: '1024' },
  });
  const json = unpackResource(packResource(input), 'x');
  assert.equal(json['@type'], CLUSTER);
  assert.equal(json.connect_timeout, '1.500s');
  assert.equal(json.lb_policy, 'LEAST_REQUEST');
  assert.deepEqual(json.per_connection_buffer_limit_bytes, 65536, 'a UInt32Value is printed bare');
  assert.deepEqual(json.metadata, input.metadata);
  assert.deepEqual(json.common_http_protocol_options, { idle_timeout: '300s', max_requests_per_connection: 1000 });
  assert.deepEqual(json.ring_hash_lb_config, { minimum_ring_size: '1024' }, 'a UInt64Value is printed as a string');
  // What src/config makes of both is identical.
  assert.deepEqual(decodeResource(json, 'a').json, decodeResource(input, 'b').json);
});

test('nested Any (typed_config) unpacks with its @type and fields; an unloaded type keeps only its @type', () => {
  const listener = {
    '@type': LISTENER, name: 'l',
    address: { socket_address: { address: '0.0.0.0', port_value: 15006 } },
    filter_chains: [{ filters: [{ name: 'envoy.filters.network.http_connection_manager', typed_config: {
      '@type': 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager',
      stat_prefix: 'inbound', codec_type: 'HTTP1',
      route_config: { name: 'r', virtual_hosts: [{ name: 'v', domains: ['*'], routes: [{ match: { prefix: '/' }, direct_response: { status: 200 } }] }] },
      http_filters: [{ name: 'envoy.filters.http.router', typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router' } }],
    } }] }],
  };
  const json = unpackResource(packResource(listener), 'l');
  assert.deepEqual(decodeResource(json, 'a').json, decodeResource(listener, 'b').json);

  // An Any whose type the config Root does not load: kept as {"@type"} so validation can reject it by name.
  const opaque = anyToJson({ type_url: 'type.googleapis.com/istio.envoy.config.filter.http.alpn.v2alpha1.FilterConfig', value: Buffer.from([0x0a, 0x00]) });
  assert.deepEqual(opaque, { '@type': 'type.googleapis.com/istio.envoy.config.filter.http.alpn.v2alpha1.FilterConfig' });
});

test('bad bytes and unknown types fail as ConfigErrors, never crash', () => {
  assert.throws(() => unpackResource({ type_url: ROUTE, value: Buffer.from([0x0a, 0x7f]) }, 'resources[3]'),
    (e: unknown) => e instanceof ConfigError && /resources\[3\]: cannot decode/.test(e.message));
  assert.throws(() => packResource({ '@type': 'type.googleapis.com/nope.Nope' }), /unknown type URL/);
  assert.throws(() => packResource({ '@type': CLUSTER, no_such_field: 1 }), /no_such_field/);
  // Random bytes: either decoded into something or a ConfigError; nothing else escapes.
  let state = 7;
  for (let i = 0; i < 300; i++) {
    const bytes = Buffer.alloc(1 + (i % 64));
    for (let j = 0; j < bytes.length; j++) { state = (state * 1103515245 + 12345) >>> 0; bytes[j] = state >>> 24; }
    try { unpackResource({ type_url: CLUSTER, value: bytes }, 'fuzz'); } catch (e) { assert.ok(e instanceof ConfigError, String(e)); }
  }
});
