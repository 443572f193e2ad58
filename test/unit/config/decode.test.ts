// Decoding follows the proto3 JSON mapping Envoy accepts; the decoded form is the shape of
// src/types/envoy.ts and `raw` is Envoy's JSON form.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadBootstrapText } from '../../../src/config/bootstrap.js';
import { ConfigError } from '../../../src/config/../common/errors.js';
import { formatDuration, parseDuration } from '../../../src/config/decode.js';
import { hcmOf } from '../../../src/config/values.js';
import { bootstrap, cluster, HCM, listener, load, type Obj } from './fixtures.js';

function rejects(doc: Obj, path: string, message: RegExp): void {
  assert.throws(() => load(doc, { validate: false }), (err: unknown) => {
    assert.ok(err instanceof ConfigError, `not a ConfigError: ${String(err)}`);
    assert.equal(err.path, path);
    assert.match(err.message, message);
    return true;
  });
}

test('durations: proto3 strings decode to {seconds, nanos} and print back in Envoy form', () => {
  assert.deepEqual(parseDuration('0.25s', 'p'), { seconds: 0, nanos: 250_000_000 });
  assert.deepEqual(parseDuration('5s', 'p'), { seconds: 5, nanos: 0 });
  assert.deepEqual(parseDuration('1.000000001s', 'p'), { seconds: 1, nanos: 1 });
  assert.deepEqual(parseDuration('-1.5s', 'p'), { seconds: -1, nanos: -500_000_000 });
  assert.deepEqual(parseDuration({ seconds: 3, nanos: 5 }, 'p'), { seconds: 3, nanos: 5 });
  assert.equal(formatDuration({ seconds: 0, nanos: 250_000_000 }), '0.250s');
  assert.equal(formatDuration({ seconds: 5, nanos: 0 }), '5s');
  assert.equal(formatDuration({ seconds: 1, nanos: 1000 }), '1.000001s');
  assert.equal(formatDuration({ seconds: -1, nanos: -500_000_000 }), '-1.500s');
  const loaded = load(bootstrap({ static_resources: { clusters: [cluster({ connect_timeout: '0.25s' })] } }));
  assert.deepEqual(loaded.bootstrap.static_resources!.clusters![0].connect_timeout, { seconds: 0, nanos: 250_000_000 });
  assert.equal((loaded.raw as Obj).static_resources.clusters[0].connect_timeout, '0.250s');
});

test('an invalid duration names the field', () => {
  for (const bad of [5, '5', '5ms', '1.0000000001s', 's', { seconds: 1, millis: 2 }]) {
    rejects(bootstrap({ static_resources: { clusters: [cluster({ connect_timeout: bad })] } }),
      'static_resources.clusters[0].connect_timeout', /invalid duration/);
  }
  rejects(bootstrap({ static_resources: { clusters: [cluster({ connect_timeout: 5 })] } }),
    'static_resources.clusters[0].connect_timeout', /^static_resources\.clusters\[0\]\.connect_timeout: invalid duration "5"$/);
});

test('wrappers: bare values and {value} both decode to {value}; raw prints them bare', () => {
  const doc = bootstrap({ static_resources: { listeners: [listener({}, { max_request_headers_kb: 96, use_remote_address: true })],
    clusters: [cluster({ per_connection_buffer_limit_bytes: { value: 32768 } })] } });
  const loaded = load(doc);
  const h = hcmOf(loaded.bootstrap.static_resources!.listeners![0]);
  assert.deepEqual(h.max_request_headers_kb, { value: 96 });
  assert.deepEqual(h.use_remote_address, { value: true });
  assert.deepEqual(loaded.bootstrap.static_resources!.clusters![0].per_connection_buffer_limit_bytes, { value: 32768 });
  const rawHcm = (loaded.raw as Obj).static_resources.listeners[0].filter_chains[0].filters[0].typed_config;
  assert.equal(rawHcm.max_request_headers_kb, 96);
  assert.equal(rawHcm.use_remote_address, true);
  rejects(bootstrap({ static_resources: { listeners: [listener({}, { max_request_headers_kb: 'lots' })] } }),
    'static_resources.listeners[0].filter_chains[0].filters[0].typed_config.max_request_headers_kb', /expected an integer/);
  rejects(bootstrap({ static_resources: { listeners: [listener({}, { max_request_headers_kb: -1 })] } }),
    'static_resources.listeners[0].filter_chains[0].filters[0].typed_config.max_request_headers_kb', /out of range for uint32/);
});

test('enums by name, by number and case-insensitively; unknown names name the field', () => {
  const byNumber = load(bootstrap({ static_resources: { clusters: [cluster({ lb_policy: 2 })] } }), { validate: false });
  assert.equal(byNumber.bootstrap.static_resources!.clusters![0].lb_policy, 'RING_HASH');
  const lower = load(bootstrap({ static_resources: { listeners: [listener({}, { codec_type: 'auto' })] } }));
  assert.equal(hcmOf(lower.bootstrap.static_resources!.listeners![0]).codec_type, 'AUTO');
  rejects(bootstrap({ static_resources: { clusters: [cluster({ lb_policy: 'FASTEST' })] } }),
    'static_resources.clusters[0].lb_policy', /unknown value "FASTEST" of enum LbPolicy/);
});

test('snake_case and lowerCamelCase field names decode to the same snake_case shape', () => {
  const camel = {
    staticResources: {
      clusters: [{ name: 'web', type: 'STATIC', connectTimeout: '1s', lbPolicy: 'LEAST_REQUEST',
        leastRequestLbConfig: { choiceCount: 3 },
        loadAssignment: { clusterName: 'web', endpoints: [{ lbEndpoints: [{ endpoint: { address: { socketAddress: { address: '127.0.0.1', portValue: 80 } } } }] }] } }],
    },
  };
  const snake = {
    static_resources: {
      clusters: [{ name: 'web', type: 'STATIC', connect_timeout: '1s', lb_policy: 'LEAST_REQUEST',
        least_request_lb_config: { choice_count: 3 },
        load_assignment: { cluster_name: 'web', endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: '127.0.0.1', port_value: 80 } } } }] }] } }],
    },
  };
  const a = load(camel);
  const b = load(snake);
  assert.deepEqual(a.bootstrap, b.bootstrap);
  assert.deepEqual(a.raw, b.raw);
  assert.deepEqual(a.bootstrap.static_resources!.clusters![0].least_request_lb_config, { choice_count: { value: 3 } });
  rejects({ static_resources: { clusters: [{ name: 'a', connect_timeout: '1s', connectTimeout: '2s' }] } },
    'static_resources.clusters[0].connect_timeout', /set twice/);
});

test('Any: @type with the packed fields inline decodes with the packed type; unknown URLs name the field', () => {
  const loaded = load(bootstrap());
  const filter = loaded.bootstrap.static_resources!.listeners![0].filter_chains![0].filters![0];
  assert.equal(filter.typed_config!['@type'], HCM);
  assert.equal(filter.typed_config!.stat_prefix, 'ingress_http');
  rejects(bootstrap({ static_resources: { listeners: [listener({ filter_chains: [{ filters: [{ name: 'x', typed_config: { '@type': 'type.googleapis.com/acme.NoSuchFilter' } }] }] })] } }),
    'static_resources.listeners[0].filter_chains[0].filters[0].typed_config', /unknown type URL type\.googleapis\.com\/acme\.NoSuchFilter/);
  rejects(bootstrap({ static_resources: { listeners: [listener({ filter_chains: [{ filters: [{ name: 'x', typed_config: { stat_prefix: 'a' } }] }] })] } }),
    'static_resources.listeners[0].filter_chains[0].filters[0].typed_config', /without "@type"/);
  // A field of the packed message that does not exist is an error at its own path.
  rejects(bootstrap({ static_resources: { listeners: [listener({}, { no_such_option: 1 })] } }),
    'static_resources.listeners[0].filter_chains[0].filters[0].typed_config.no_such_option', /unknown field in envoy\.extensions/);
});

test('an Envoy extension Skiff does not load stays opaque until validation names it', () => {
  const cors = { name: 'envoy.filters.http.cors', typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.http.cors.v3.Cors' } };
  const doc = bootstrap({ static_resources: { listeners: [listener({}, { http_filters: [cors, { name: 'envoy.filters.http.router', typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router' } }] })] } });
  const loaded = load(doc, { validate: false });
  const h = hcmOf(loaded.bootstrap.static_resources!.listeners![0]);
  assert.deepEqual(h.http_filters![0].typed_config, { '@type': 'type.googleapis.com/envoy.extensions.filters.http.cors.v3.Cors' });
});

test('64-bit integers are numbers when decoded and strings in the JSON form', () => {
  const doc = bootstrap({ static_resources: { clusters: [cluster({ lb_policy: 'RING_HASH', ring_hash_lb_config: { minimum_ring_size: '2048', maximum_ring_size: 4096 } })] } });
  const loaded = load(doc);
  assert.deepEqual(loaded.bootstrap.static_resources!.clusters![0].ring_hash_lb_config, { minimum_ring_size: { value: 2048 }, maximum_ring_size: { value: 4096 } });
  assert.deepEqual((loaded.raw as Obj).static_resources.clusters[0].ring_hash_lb_config, { minimum_ring_size: '2048', maximum_ring_size: '4096' });
  const node = load({ node: { id: 'n1', metadata: { team: 'a', n: 3 } } });
  assert.deepEqual(node.bootstrap.node, { id: 'n1', metadata: { team: 'a', n: 3 } });
});

test('oneofs: two members set is an error naming the second', () => {
  rejects(bootstrap({ static_resources: { listeners: [listener({}, { route_config: { virtual_hosts: [{ name: 'v', domains: ['*'],
    routes: [{ match: { prefix: '/', path: '/x' }, route: { cluster: 'web' } }] }] } })] } }),
  'static_resources.listeners[0].filter_chains[0].filters[0].typed_config.route_config.virtual_hosts[0].routes[0].match.path',
  /only one of prefix and path may be set \(oneof path_specifier\)/);
});

test('type mismatches, unknown fields and null', () => {
  rejects({ static_resources: { clusters: 'web' } }, 'static_resources.clusters[0]', /expected an object \(Cluster\)/);
  rejects({ static_resources: { clusters: ['web'] } }, 'static_resources.clusters[0]', /expected an object \(Cluster\)/);
  rejects({ admin: { address: { socket_address: { address: 127001 } } } }, 'admin.address.socket_address.address', /expected a string/);
  rejects({ static_resources: { clusterz: [] } }, 'static_resources.clusterz', /unknown field in envoy\.config\.bootstrap\.v3\.Bootstrap\.StaticResources/);
  rejects({ static_resources: { listeners: [listener({}, { use_remote_address: 'yes' })] } },
    'static_resources.listeners[0].filter_chains[0].filters[0].typed_config.use_remote_address', /expected true or false/);
  // null means "not set", as in proto3 JSON.
  const loaded = load({ admin: null, static_resources: { listeners: null } });
  assert.deepEqual(loaded.bootstrap, { static_resources: {} });
});

test('a "__proto__" key in a Struct stays data and never changes a prototype', () => {
  const loaded = loadBootstrapText('{"node": {"id": "n", "metadata": {"__proto__": {"polluted": true}}}}', 'json');
  const metadata = loaded.bootstrap.node!.metadata!;
  assert.equal(Object.getPrototypeOf(metadata), Object.prototype);
  assert.deepEqual(Object.keys(metadata), ['__proto__']);
  assert.equal((metadata as Record<string, unknown>).polluted, undefined);
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
});

test('YAML: parse errors are ConfigErrors; anchors and merge keys work', () => {
  assert.throws(() => loadBootstrapText('static_resources: [\n', 'yaml'), (e: unknown) => e instanceof ConfigError && /invalid YAML/.test(e.message));
  assert.throws(() => loadBootstrapText('{"a":', 'json'), (e: unknown) => e instanceof ConfigError && /invalid JSON/.test(e.message));
  const yaml = [
    'static_resources:',
    '  clusters:',
    '  - &base',
    '    name: a',
    '    type: STATIC',
    '    connectTimeout: 2s',
    '  - <<: *base',
    '    name: b',
  ].join('\n');
  const loaded = loadBootstrapText(yaml, 'yaml');
  const clusters = loaded.bootstrap.static_resources!.clusters!;
  assert.deepEqual(clusters.map((c) => [c.name, c.connect_timeout?.seconds]), [['a', 2], ['b', 2]]);
  assert.deepEqual(loadBootstrapText('', 'yaml').bootstrap, {});
  assert.throws(() => loadBootstrapText('- a\n- b\n', 'yaml'), (e: unknown) => e instanceof ConfigError && e.message === '(root): expected an object (Bootstrap), got a list');
});

test('a single value for a list is read as a one-item list, as Envoy does, with a warning', () => {
  const loaded = load({ static_resources: { clusters: { name: 'a', connect_timeout: '1s' } } });
  assert.deepEqual(loaded.bootstrap.static_resources!.clusters!.map((c) => c.name), ['a']);
  assert.deepEqual(loaded.warnings, ['static_resources.clusters: a single value given for a list, read as a one-item list']);
});

test('deprecated fields load with a warning naming them', () => {
  const doc = bootstrap({ static_resources: { listeners: [listener({}, { route_config: { virtual_hosts: [{ name: 'v', domains: ['*'],
    routes: [{ match: { prefix: '/', headers: [{ name: 'x-a', exact_match: 'b' }] }, route: { cluster: 'web' } }] }] } })] } });
  const loaded = load(doc);
  assert.ok(loaded.warnings.some((w) => /headers\[0\]\.exact_match: deprecated field/.test(w)), loaded.warnings.join('\n'));
});
