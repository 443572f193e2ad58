// /config_dump as Envoy's admin ConfigDump: sections with @type, resources packed with their own @type,
// Envoy's JSON form for values.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildConfigDump, CONFIG_DUMP_TYPES, configDumpSection, RESOURCE_TYPES } from '../../../src/config/config_dump.js';
import { bootstrap, listener, load, type Obj } from './fixtures.js';

test('the dump has Envoy\'s sections in Envoy\'s order, each resource with its @type', () => {
  const loaded = load(bootstrap({ static_resources: { listeners: [listener({}, { stream_idle_timeout: '0.5s' }), listener({ name: 'two', address: { socket_address: { address: '127.0.0.1', port_value: 10001 } } })],
    clusters: [{ name: 'web', connect_timeout: '0.25s', lb_policy: 'RING_HASH', ring_hash_lb_config: { minimum_ring_size: 64 } }] } }));
  const at = new Date('2026-01-02T03:04:05.678Z');
  const dump = buildConfigDump(loaded, at);
  assert.deepEqual(dump.configs.map((c) => c['@type']), [
    CONFIG_DUMP_TYPES.bootstrap, CONFIG_DUMP_TYPES.clusters, CONFIG_DUMP_TYPES.listeners, CONFIG_DUMP_TYPES.routes,
  ]);
  assert.equal(CONFIG_DUMP_TYPES.listeners, 'type.googleapis.com/envoy.admin.v3.ListenersConfigDump');

  const boot = configDumpSection(dump, CONFIG_DUMP_TYPES.bootstrap) as Obj;
  assert.equal(boot.last_updated, '2026-01-02T03:04:05.678Z');
  assert.deepEqual(boot.bootstrap, loaded.raw);

  const clusters = (configDumpSection(dump, CONFIG_DUMP_TYPES.clusters) as Obj).static_clusters;
  assert.deepEqual(clusters, [{
    cluster: { '@type': RESOURCE_TYPES.cluster, name: 'web', connect_timeout: '0.250s', lb_policy: 'RING_HASH', ring_hash_lb_config: { minimum_ring_size: '64' } },
    last_updated: '2026-01-02T03:04:05.678Z',
  }]);

  const listeners = (configDumpSection(dump, CONFIG_DUMP_TYPES.listeners) as Obj).static_listeners;
  assert.deepEqual(listeners.map((l: Obj) => [l.listener['@type'], l.listener.name]), [[RESOURCE_TYPES.listener, 'ingress'], [RESOURCE_TYPES.listener, 'two']]);
  const hcm = listeners[0].listener.filter_chains[0].filters[0].typed_config;
  assert.equal(hcm['@type'], 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager');
  assert.equal(hcm.stream_idle_timeout, '0.500s');

  const routes = (configDumpSection(dump, CONFIG_DUMP_TYPES.routes) as Obj).static_route_configs;
  assert.equal(routes.length, 2);
  assert.equal(routes[0].route_config['@type'], RESOURCE_TYPES.routeConfiguration);
  assert.equal(routes[0].route_config.name, 'local');
  assert.deepEqual(routes[0].route_config.virtual_hosts[0].domains, ['*']);
  // The dump is plain JSON.
  assert.deepEqual(JSON.parse(JSON.stringify(dump)), dump);
});

test('an empty bootstrap dumps empty sections', () => {
  const dump = buildConfigDump(load({}), new Date(0));
  assert.deepEqual((configDumpSection(dump, CONFIG_DUMP_TYPES.listeners) as Obj).static_listeners, []);
  assert.deepEqual((configDumpSection(dump, CONFIG_DUMP_TYPES.clusters) as Obj).static_clusters, []);
  assert.deepEqual((configDumpSection(dump, CONFIG_DUMP_TYPES.routes) as Obj).static_route_configs, []);
});
