// /config_dump of an xDS-fed server: the dynamic sections in Envoy's v3 admin shapes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildConfigDump, configDumpSection, CONFIG_DUMP_TYPES } from '../../../src/config/config_dump.js';

const at = new Date('2026-01-02T03:04:05.000Z');
const later = new Date('2026-01-02T03:04:06.000Z');

test('dynamic listeners, clusters, routes and endpoints, each with version_info and last_updated', () => {
  const dump = buildConfigDump({ bootstrap: {}, raw: { static_resources: {} }, warnings: [] } as never, at, {
    listenersVersion: '7', clustersVersion: '3',
    listeners: [
      { name: 'in', state: 'active', version: '7', lastUpdated: later, json: { '@type': 'x', name: 'in', address: { socket_address: { port_value: 1 } } } },
      { name: 'in', state: 'draining', version: '6', lastUpdated: at, json: { name: 'in' } },
      { name: 'next', state: 'warming', version: '7', lastUpdated: later, json: { name: 'next' } },
    ],
    clusters: [
      { name: 'a', state: 'active', version: '3', lastUpdated: at, json: { name: 'a' } },
      { name: 'b', state: 'warming', version: '3', lastUpdated: at, json: { name: 'b', type: 'EDS' } },
    ],
    routes: [{ name: 'r', version: 'v9', lastUpdated: later, json: { name: 'r' } }],
    endpoints: [{ name: 'b', version: 'e1', lastUpdated: later, json: { cluster_name: 'b' } }],
  });
  const listeners = configDumpSection(dump, CONFIG_DUMP_TYPES.listeners)!;
  assert.equal(listeners.version_info, '7');
  assert.deepEqual(listeners.dynamic_listeners, [
    {
      name: 'in',
      active_state: { version_info: '7', listener: { '@type': 'type.googleapis.com/envoy.config.listener.v3.Listener', name: 'in', address: { socket_address: { port_value: 1 } } }, last_updated: later.toISOString() },
      draining_state: { version_info: '6', listener: { '@type': 'type.googleapis.com/envoy.config.listener.v3.Listener', name: 'in' }, last_updated: at.toISOString() },
    },
    { name: 'next', warming_state: { version_info: '7', listener: { '@type': 'type.googleapis.com/envoy.config.listener.v3.Listener', name: 'next' }, last_updated: later.toISOString() } },
  ]);
  const clusters = configDumpSection(dump, CONFIG_DUMP_TYPES.clusters)!;
  assert.equal(clusters.version_info, '3');
  assert.deepEqual((clusters.dynamic_active_clusters as { cluster: { name: string } }[]).map((c) => c.cluster.name), ['a']);
  assert.deepEqual((clusters.dynamic_warming_clusters as { cluster: { name: string } }[]).map((c) => c.cluster.name), ['b']);
  const routes = configDumpSection(dump, CONFIG_DUMP_TYPES.routes)!;
  assert.deepEqual(routes.dynamic_route_configs, [{
    version_info: 'v9', route_config: { '@type': 'type.googleapis.com/envoy.config.route.v3.RouteConfiguration', name: 'r' }, last_updated: later.toISOString(),
  }]);
  const endpoints = configDumpSection(dump, CONFIG_DUMP_TYPES.endpoints)!;
  assert.deepEqual(endpoints.dynamic_endpoint_configs, [{
    version_info: 'e1', endpoint_config: { '@type': 'type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment', cluster_name: 'b' }, last_updated: later.toISOString(),
  }]);
});

test('a static bootstrap has no dynamic sections and no endpoints section', () => {
  const dump = buildConfigDump({ bootstrap: {}, raw: {}, warnings: [] } as never, at);
  assert.equal(configDumpSection(dump, CONFIG_DUMP_TYPES.endpoints), undefined);
  assert.equal(configDumpSection(dump, CONFIG_DUMP_TYPES.listeners)!.dynamic_listeners, undefined);
});
