// The xDS wiring in one process: a real `skiff control-plane` server (ControlPlaneServer) over a temp dir,
// Skiff's cluster and listener managers, real node:http upstreams, and traffic through the listener that LDS
// created. Uses STATIC clusters and inline routes (what the config subset accepts without EDS/RDS).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { waitForValue as waitFor, getStatusAndBody as get, PATIENCE_MS, SLOW_PATIENCE_MS } from '../../helpers/wait.js';
import http from 'node:http';
import { once } from 'node:events';
import { StatsStore } from '../../../src/common/stats.js';
import { logger } from '../../../src/common/logger.js';
import { mainInstance } from '../../../src/wasm/runtime.js';
import { ListenerManager } from '../../../src/listener/listener_manager.js';
import { InlineRouteResolver } from '../../../src/router/index.js';
import { createClusterManager } from '../../../src/upstream/cluster_manager.js';
import { createClientConnection } from '../../../src/stream/http1/client.js';
import { ControlPlaneServer } from '../../../src/control_plane/server.js';
import { XdsConfig } from '../../../src/server/xds_config.js';
import { buildConfigDump, configDumpSection, CONFIG_DUMP_TYPES } from '../../../src/config/config_dump.js';
import type { Cluster } from '../../../src/types/envoy.js';
import { tempDir, writeResourceFile } from '../control_plane/helpers.js';

const HCM = 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager';

function staticCluster(name: string, port: number): Record<string, unknown> {
  return {
    name, type: 'STATIC', connect_timeout: '1s',
    load_assignment: { cluster_name: name, endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: '127.0.0.1', port_value: port } } } }] }] },
  };
}

function ingress(cluster: string, extraHcm: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name: 'ingress', address: { socket_address: { address: '127.0.0.1', port_value: 0 } },
    filter_chains: [{ filters: [{ name: 'envoy.filters.network.http_connection_manager', typed_config: {
      '@type': HCM, stat_prefix: 'ingress',
      route_config: { name: 'local', virtual_hosts: [{ name: 'all', domains: ['*'], routes: [{ match: { prefix: '/' }, route: { cluster } }] }] },
      http_filters: [{ name: 'envoy.filters.http.router', typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router' } }],
      ...extraHcm,
    } }] }],
  };
}

async function upstream(body: string): Promise<{ port: number; close(): Promise<void> }> {
  const server = http.createServer((_req, res) => { res.end(body); });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { port: (server.address() as { port: number }).port, close: () => { server.closeAllConnections(); return new Promise((r) => server.close(() => r())); } };
}

for (const apiType of ['GRPC', 'DELTA_GRPC'] as const) {
  test(`${apiType}: routes by what the control plane serves, follows edits, NACKs a bad listener, survives a control-plane restart`, async (t) => {
    const { dir, cleanup } = tempDir();
    t.after(cleanup);
    const a = await upstream('from a');
    const b = await upstream('from b');
    t.after(() => a.close());
    t.after(() => b.close());
    writeResourceFile(dir, 'clusters.yaml', [staticCluster('a', a.port), staticCluster('b', b.port)]);
    writeResourceFile(dir, 'listeners.yaml', [ingress('a')]);
    let cp = new ControlPlaneServer({ dir, port: 0, healthPort: 0, watcher: { debounceMs: 20, rescanMs: 200 } });
    const { grpcPort } = await cp.start();
    t.after(() => cp.stop());

    const wasm = mainInstance();
    const stats = new StatsStore();
    const xdsCluster = staticCluster('xds', grpcPort) as unknown as Cluster;
    const clusters = createClusterManager([xdsCluster], { stats, connect: (s) => createClientConnection(wasm, s), log: logger('upstream') });
    const listeners = new ListenerManager([], { wasm, stats, clusters, resolverFor: (table) => new InlineRouteResolver(table), drainTimeMs: 1000 });
    await listeners.start();
    const xds = new XdsConfig({
      dynamicResources: {
        ads_config: { api_type: apiType, transport_api_version: 'V3', grpc_services: [{ envoy_grpc: { cluster_name: 'xds' } }] },
        lds_config: { ads: {}, resource_api_version: 'V3' }, cds_config: { ads: {}, resource_api_version: 'V3' },
      },
      node: { id: `test-${apiType}`, cluster: 'test' }, staticClusters: [xdsCluster], clusters, listeners, wasm, stats, log: logger('xds'),
    });
    t.after(() => { xds.close(); listeners.close(); clusters.close(); });
    await xds.start();

    const port = await waitFor(() => listeners.addresses().find((l) => l.name === 'ingress')?.port, 'the LDS listener to bind');
    assert.equal(await get(port), '200 from a');
    assert.equal(stats.gauge('control_plane.connected_state').value, 1);
    assert.equal(stats.counter('cluster_manager.cds.update_success').value >= 1, true);
    assert.equal(stats.gauge('cluster_manager.active_clusters').value, 3);
    assert.equal(stats.gauge('listener_manager.total_listeners_active').value, 1);

    // Edit: the route now goes to b; the same socket keeps serving (requested port 0 both times).
    const edited = Date.now();
    writeResourceFile(dir, 'listeners.yaml', [ingress('b')]);
    await waitFor(async () => ((await get(port)) === '200 from b' ? true : undefined), 'the edit to apply', PATIENCE_MS);
    const latency = Date.now() - edited;
    t.diagnostic(`edit to applied: ${latency} ms`);

    const dump = buildConfigDump({ bootstrap: {}, raw: {}, warnings: [] } as never, new Date(), xds.dump());
    const ls = configDumpSection(dump, CONFIG_DUMP_TYPES.listeners)!;
    const dyn = ls.dynamic_listeners as { name: string; active_state?: { version_info: string; last_updated: string; listener: Record<string, unknown> } }[];
    assert.equal(dyn.length, 1);
    assert.equal(dyn[0]!.name, 'ingress');
    assert.equal(dyn[0]!.active_state!.listener['@type'], 'type.googleapis.com/envoy.config.listener.v3.Listener');
    assert.ok(dyn[0]!.active_state!.version_info !== '');
    assert.ok(!Number.isNaN(Date.parse(dyn[0]!.active_state!.last_updated)));
    const cs = configDumpSection(dump, CONFIG_DUMP_TYPES.clusters)!;
    assert.deepEqual((cs.dynamic_active_clusters as { cluster: { name: string } }[]).map((c) => c.cluster.name).sort(), ['a', 'b']);
    assert.deepEqual(cs.dynamic_warming_clusters, []);

    // A listener Skiff cannot run (two filter chains): NACKed, naming the resource and field; b keeps serving.
    const rejectedBefore = stats.counter('listener_manager.lds.update_rejected').value;
    const bad = ingress('a');
    (bad.filter_chains as unknown[]).push((bad.filter_chains as unknown[])[0]);
    writeResourceFile(dir, 'listeners.yaml', [bad]);
    await waitFor(() => (stats.counter('listener_manager.lds.update_rejected').value > rejectedBefore ? true : undefined), 'the NACK');
    await waitFor(() => (cp.recentNacks.length > 0 ? true : undefined), 'the control plane to record the NACK');
    assert.match(cp.recentNacks.at(-1)!.message, /ingress.*filter_chains/);
    assert.equal(await get(port), '200 from b');

    writeResourceFile(dir, 'listeners.yaml', [ingress('b')]);
    // Control plane down: still serving; restarted on the same port: reconnects and follows a new edit.
    await cp.stop();
    await waitFor(() => (stats.gauge('control_plane.connected_state').value === 0 ? true : undefined), 'the disconnect');
    assert.equal(await get(port), '200 from b');
    writeResourceFile(dir, 'listeners.yaml', [ingress('a')]);
    cp = new ControlPlaneServer({ dir, port: grpcPort, healthPort: 0, watcher: { debounceMs: 20, rescanMs: 200 } });
    await cp.start();
    await waitFor(async () => ((await get(port)) === '200 from a' ? true : undefined), 'the edit after the restart', SLOW_PATIENCE_MS);
    assert.equal(stats.gauge('control_plane.connected_state').value, 1);

    // A cluster removed over CDS: its route answers 503 (unknown cluster), the process keeps running.
    writeResourceFile(dir, 'clusters.yaml', [staticCluster('b', b.port)]);
    await waitFor(async () => ((await get(port))?.startsWith('503') ? true : undefined), 'the removal to apply');
    assert.equal(clusters.get('a'), undefined);
  });
}

test('a CDS response is applied whole or not at all; a static cluster cannot be replaced over CDS', async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const a = await upstream('from a');
  t.after(() => a.close());
  writeResourceFile(dir, 'clusters.yaml', [staticCluster('a', a.port)]);
  writeResourceFile(dir, 'listeners.yaml', [ingress('a')]);
  const cp = new ControlPlaneServer({ dir, port: 0, healthPort: 0, watcher: { debounceMs: 20, rescanMs: 200 } });
  const { grpcPort } = await cp.start();
  t.after(() => cp.stop());
  const wasm = mainInstance();
  const stats = new StatsStore();
  const xdsCluster = staticCluster('xds', grpcPort) as unknown as Cluster;
  const clusters = createClusterManager([xdsCluster], { stats, connect: (s) => createClientConnection(wasm, s), log: logger('upstream') });
  const listeners = new ListenerManager([], { wasm, stats, clusters, resolverFor: (table) => new InlineRouteResolver(table), drainTimeMs: 1000 });
  await listeners.start();
  const xds = new XdsConfig({
    dynamicResources: {
      ads_config: { api_type: 'GRPC', grpc_services: [{ envoy_grpc: { cluster_name: 'xds' } }] },
      lds_config: { ads: {} }, cds_config: { ads: {} },
    },
    node: { id: 'atomic' }, staticClusters: [xdsCluster], clusters, listeners, wasm, stats, log: logger('xds'),
  });
  t.after(() => { xds.close(); listeners.close(); clusters.close(); });
  await xds.start();
  const port = await waitFor(() => listeners.addresses()[0]?.port, 'the listener');
  assert.equal(await get(port), '200 from a');

  const rejected = (): number => stats.counter('cluster_manager.cds.update_rejected').value;
  // `fresh` is valid and comes first (so it is applied, then rolled back); `zz-bad` is STATIC with a host name (the cluster manager rejects it, not the subset check).
  const bad = staticCluster('zz-bad', 80);
  ((bad.load_assignment as { endpoints: { lb_endpoints: { endpoint: { address: { socket_address: { address: string } } } }[] }[] })
    .endpoints[0]!.lb_endpoints[0]!.endpoint.address.socket_address).address = 'localhost';
  writeResourceFile(dir, 'clusters.yaml', [staticCluster('a', a.port), staticCluster('fresh', a.port), bad]);
  await waitFor(() => (rejected() === 1 && cp.recentNacks.length === 1 ? true : undefined), 'the NACK');
  assert.equal(clusters.get('fresh'), undefined, 'nothing of the rejected response was kept');
  assert.equal(stats.counter('cluster_manager.cluster_added').value, 1, 'only the first response\'s cluster counts');
  assert.match(cp.recentNacks.at(-1)!.message, /Cluster "zz-bad".*socket_address\.address/);

  writeResourceFile(dir, 'clusters.yaml', [staticCluster('a', a.port), staticCluster('xds', 1)]);
  await waitFor(() => (rejected() === 2 && cp.recentNacks.length === 2 ? true : undefined), 'the NACK of a static name');
  assert.match(cp.recentNacks.at(-1)!.message, /Cluster "xds"\.name: .*static/);
  assert.equal(await get(port), '200 from a');
  assert.equal(stats.gauge('cluster_manager.active_clusters').value, 2);
});

test('warming: an EDS cluster until its endpoints (or its initial_fetch_timeout), an RDS listener until its routes', async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const c = await upstream('from c');
  t.after(() => c.close());
  const eds = (name: string, timeout: string): Record<string, unknown> => ({
    name, type: 'EDS', connect_timeout: '1s', eds_cluster_config: { eds_config: { ads: {}, initial_fetch_timeout: timeout } },
  });
  const rdsListener = {
    name: 'ingress', address: { socket_address: { address: '127.0.0.1', port_value: 0 } },
    filter_chains: [{ filters: [{ name: 'envoy.filters.network.http_connection_manager', typed_config: {
      '@type': HCM, stat_prefix: 'ingress', rds: { route_config_name: 'r', config_source: { ads: {} } },
      http_filters: [{ name: 'envoy.filters.http.router', typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router' } }],
    } }] }],
  };
  const routeTo = (cluster: string): Record<string, unknown> => ({ name: 'r', virtual_hosts: [{ name: 'all', domains: ['*'], routes: [{ match: { prefix: '/' }, route: { cluster } }] }] });
  // `empty` must still be warming when CDS and LDS are first seen below: 3 s leaves a slow machine room for that.
  writeResourceFile(dir, 'clusters.yaml', [eds('c', '60s'), eds('empty', '3s')]);
  writeResourceFile(dir, 'listeners.yaml', [rdsListener]);
  const cp = new ControlPlaneServer({ dir, port: 0, healthPort: 0, watcher: { debounceMs: 20, rescanMs: 200 } });
  const { grpcPort } = await cp.start();
  t.after(() => cp.stop());
  const wasm = mainInstance();
  const stats = new StatsStore();
  const xdsCluster = staticCluster('xds', grpcPort) as unknown as Cluster;
  const clusters = createClusterManager([xdsCluster], { stats, connect: (s) => createClientConnection(wasm, s), log: logger('upstream') });
  const listeners = new ListenerManager([], { wasm, stats, clusters, resolverFor: (table) => new InlineRouteResolver(table), drainTimeMs: 1000 });
  await listeners.start();
  const xds = new XdsConfig({
    dynamicResources: { ads_config: { api_type: 'DELTA_GRPC', grpc_services: [{ envoy_grpc: { cluster_name: 'xds' } }] }, lds_config: { ads: {} }, cds_config: { ads: {} } },
    node: { id: 'warming' }, staticClusters: [xdsCluster], clusters, listeners, wasm, stats, log: logger('xds'),
  });
  t.after(() => { xds.close(); listeners.close(); clusters.close(); });
  const dumpNow = () => buildConfigDump({ bootstrap: {}, raw: {}, warnings: [] } as never, new Date(), xds.dump());
  const clusterNames = (key: string): string[] =>
    ((configDumpSection(dumpNow(), CONFIG_DUMP_TYPES.clusters)![key] ?? []) as { cluster: { name: string } }[]).map((x) => x.cluster.name).sort();
  xds.client.start();

  await waitFor(() => (clusters.get('c') !== undefined && listeners.dynamicListeners().length === 1 ? true : undefined), 'CDS and LDS');
  assert.deepEqual(clusterNames('dynamic_warming_clusters'), ['c', 'empty']);
  assert.equal(stats.gauge('cluster_manager.warming_clusters').value, 2);
  assert.deepEqual(listeners.dynamicListeners().map((l) => l.state), ['warming']);
  assert.deepEqual(listeners.addresses(), [], 'a listener waiting for its routes is not bound');
  const warmingListener = (configDumpSection(dumpNow(), CONFIG_DUMP_TYPES.listeners)!.dynamic_listeners as Record<string, unknown>[])[0]!;
  assert.ok(warmingListener.warming_state !== undefined && warmingListener.active_state === undefined);

  // `empty` times out and goes active with no hosts; `c` keeps warming (its timeout is 60 s).
  await waitFor(() => (clusterNames('dynamic_warming_clusters').join() === 'c' ? true : undefined), 'the initial fetch timeout of "empty"');
  assert.deepEqual(clusterNames('dynamic_active_clusters'), ['empty']);

  writeResourceFile(dir, 'routes.yaml', [routeTo('c')]);
  const port = await waitFor(() => listeners.addresses()[0]?.port, 'the listener to bind once its routes came');
  assert.equal(await get(port), '503 no healthy upstream');
  writeResourceFile(dir, 'endpoints.yaml', [{ cluster_name: 'c', endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: '127.0.0.1', port_value: c.port } } } }] }] }]);
  await waitFor(async () => ((await get(port)) === '200 from c' ? true : undefined), 'the endpoints');
  assert.deepEqual(clusterNames('dynamic_active_clusters'), ['c', 'empty']);
  assert.equal(stats.gauge('cluster_manager.warming_clusters').value, 0);
  const endpoints = configDumpSection(dumpNow(), CONFIG_DUMP_TYPES.endpoints)!.dynamic_endpoint_configs as { endpoint_config: { cluster_name: string } }[];
  assert.deepEqual(endpoints.map((e) => e.endpoint_config.cluster_name), ['c']);
});
