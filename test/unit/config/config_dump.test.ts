// /config_dump as Envoy's admin ConfigDump: sections with @type, resources packed with their own @type,
// Envoy's JSON form for values.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildConfigDump, CONFIG_DUMP_TYPES, ConfigDumpQueryError, configDumpSection, queryConfigDump, RESOURCE_TYPES } from '../../../src/config/config_dump.js';
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

test('dynamic sections: error_state of a NACKed listener (alone or beside its active version), routes and endpoints with versions', () => {
  const loaded = load(bootstrap({}));
  const at = new Date('2026-01-02T03:04:05.678Z');
  const failedAt = new Date('2026-01-02T03:05:00.000Z');
  const entry = (name: string, json: Obj) => ({ name, version: 'v1', lastUpdated: at, json });
  const dump = buildConfigDump(loaded, at, {
    listenersVersion: 'v1', clustersVersion: 'v1',
    listeners: [{ ...entry('good', { name: 'good' }), state: 'active' }],
    clusters: [{ ...entry('c1', { name: 'c1' }), state: 'warming' }],
    routes: [entry('r1', { name: 'r1' })],
    endpoints: [entry('c1', { cluster_name: 'c1' })],
    errors: {
      listeners: new Map([
        ['good', { details: 'Listener "good".address: bad', lastUpdateAttempt: failedAt, versionInfo: 'v2', failedConfiguration: { name: 'good', '@type': 'x' } }],
        ['never', { details: 'Listener "never".name: bad', lastUpdateAttempt: failedAt, versionInfo: 'v2' }],
      ]),
      clusters: new Map(), routes: new Map([['r1', { details: 'RouteConfiguration "r1": bad', lastUpdateAttempt: failedAt, versionInfo: 'v3' }]]), endpoints: new Map(),
    },
  });
  const listeners = (configDumpSection(dump, CONFIG_DUMP_TYPES.listeners) as Obj).dynamic_listeners as Obj[];
  assert.deepEqual(listeners.map((l) => l.name), ['good', 'never']);
  assert.equal(listeners[0]!.active_state.version_info, 'v1');
  assert.deepEqual(listeners[0]!.error_state, {
    failed_configuration: { '@type': RESOURCE_TYPES.listener, name: 'good' },
    last_update_attempt: '2026-01-02T03:05:00.000Z', details: 'Listener "good".address: bad', version_info: 'v2',
  });
  assert.equal(listeners[1]!.active_state, undefined);
  assert.equal(listeners[1]!.error_state.details, 'Listener "never".name: bad');
  const clusters = configDumpSection(dump, CONFIG_DUMP_TYPES.clusters) as Obj;
  assert.deepEqual(clusters.dynamic_active_clusters, []);
  assert.equal(clusters.dynamic_warming_clusters[0].cluster.name, 'c1');
  const routes = (configDumpSection(dump, CONFIG_DUMP_TYPES.routes) as Obj).dynamic_route_configs as Obj[];
  assert.equal(routes[0]!.version_info, 'v1');
  assert.equal(routes[0]!.error_state.version_info, 'v3');
  const eps = (configDumpSection(dump, CONFIG_DUMP_TYPES.endpoints) as Obj).dynamic_endpoint_configs as Obj[];
  assert.deepEqual(eps, [{ version_info: 'v1', endpoint_config: { '@type': RESOURCE_TYPES.clusterLoadAssignment, cluster_name: 'c1' }, last_updated: at.toISOString() }]);
});

test('?resource= lists one repeated field across sections; ?mask= keeps the named fields; an unknown resource is an error', () => {
  const loaded = load(bootstrap({ static_resources: { clusters: [{ name: 'web', connect_timeout: '0.25s' }] } }));
  const dump = buildConfigDump(loaded, new Date(0));
  const only = queryConfigDump(dump, 'static_clusters', undefined);
  assert.deepEqual(only.configs.map((c) => [c['@type'], (c.cluster as Obj).name]), [['type.googleapis.com/envoy.admin.v3.ClustersConfigDump.StaticCluster', 'web']]);
  const masked = queryConfigDump(dump, 'static_clusters', 'last_updated');
  assert.deepEqual(masked.configs, [{ '@type': 'type.googleapis.com/envoy.admin.v3.ClustersConfigDump.StaticCluster', last_updated: '1970-01-01T00:00:00.000Z' }]);
  const sections = queryConfigDump(dump, undefined, 'static_clusters');
  assert.deepEqual(Object.keys(sections.configs[1]!), ['@type', 'static_clusters']);
  assert.deepEqual(Object.keys(sections.configs[0]!), ['@type'], 'the bootstrap section keeps only its @type');
  assert.throws(() => queryConfigDump(dump, 'nonsense', undefined), (e: unknown) => e instanceof ConfigDumpQueryError);
});
