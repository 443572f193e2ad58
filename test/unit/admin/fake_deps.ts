/**
 * Small fake deps for the admin tests: plain data for clusters and listeners over a real StatsStore,
 * and a record of every action the admin asked for.
 */
import { StatsStore } from '../../../src/common/stats.js';
import type { AdminDeps, ServerInfoSource } from '../../../src/admin/types.js';
import type { Cluster, ClusterManager, ClusterStats, Host, ResourceLimit } from '../../../src/types/upstream.js';

function limit(max: number): ResourceLimit {
  return { max, current: 0, tryAcquire: () => true, release: () => {} };
}

function clusterStats(store: StatsStore, name: string): ClusterStats {
  const scope = store.scope(`cluster.${name}.`);
  return {
    scope,
    upstream_rq_total: scope.counter('upstream_rq_total'),
    upstream_rq_active: scope.gauge('upstream_rq_active'),
    upstream_rq_pending_total: scope.counter('upstream_rq_pending_total'),
    upstream_rq_pending_active: scope.gauge('upstream_rq_pending_active'),
    upstream_rq_pending_overflow: scope.counter('upstream_rq_pending_overflow'),
    upstream_rq_retry: scope.counter('upstream_rq_retry'),
    upstream_rq_retry_overflow: scope.counter('upstream_rq_retry_overflow'),
    upstream_rq_timeout: scope.counter('upstream_rq_timeout'),
    upstream_rq_per_try_timeout: scope.counter('upstream_rq_per_try_timeout'),
    upstream_cx_total: scope.counter('upstream_cx_total'),
    upstream_cx_active: scope.gauge('upstream_cx_active'),
    upstream_cx_connect_fail: scope.counter('upstream_cx_connect_fail'),
    upstream_cx_connect_timeout: scope.counter('upstream_cx_connect_timeout'),
    upstream_cx_overflow: scope.counter('upstream_cx_overflow'),
    upstream_cx_destroy: scope.counter('upstream_cx_destroy'),
    upstream_rq_rx_reset: scope.counter('upstream_rq_rx_reset'),
    responseCode(status: number) {
      scope.counter(`upstream_rq_${status}`).inc();
      scope.counter(`upstream_rq_${Math.floor(status / 100)}xx`).inc();
    },
  };
}

export function fakeCluster(store: StatsStore, name: string, hosts: Host[], maxConnections = 1024): Cluster {
  return {
    name,
    stats: clusterStats(store, name),
    breakers: { connections: limit(maxConnections), pendingRequests: limit(1024), requests: limit(1024), retries: limit(3) },
    connectTimeoutMs: 5000,
    hosts: () => hosts,
    chooseHost: () => hosts[0] ?? null,
    pool: () => { throw new Error('the admin never asks for a pool'); },
    close: () => {},
  };
}

export interface FakeWorld {
  store: StatsStore;
  deps: AdminDeps;
  actions: string[];
  info: ServerInfoSource;
  ready: { value: boolean };
  clusters: Cluster[];
}

export function fakeWorld(): FakeWorld {
  const store = new StatsStore();
  const actions: string[] = [];
  const web: Host[] = [
    { address: '127.0.0.1', port: 8080, weight: 1, activeRequests: 2, healthy: true,
      stats: { cx_total: 7, cx_active: 3, cx_connect_fail: 1, rq_total: 40, rq_error: 4, rq_success: 36, rq_timeout: 0 } },
    { address: '::1', port: 8081, weight: 5, activeRequests: 0, healthy: false },
  ];
  const clusters = [
    fakeCluster(store, 'web', web, 100),
    fakeCluster(store, 'outbound|80||api.ns.svc.cluster.local', [{ address: '10.0.0.9', port: 80, weight: 1, activeRequests: 0, healthy: true }]),
  ];
  const cm: ClusterManager = { get: (n) => clusters.find((c) => c.name === n), all: () => clusters, close: () => {} };
  const info: ServerInfoSource = {
    version: '0.1.0', state: 'LIVE', uptimeSeconds: 12.7,
    commandLine: ['bin/skiff.js', '-c', '/etc/skiff.yaml', '--concurrency', '2', '--log-level=warn', '--drain-time-s', '30'],
    concurrency: 2,
  };
  const ready = { value: true };
  const deps: AdminDeps = {
    stats: store,
    clusters: () => cm,
    listeners: () => [{ name: 'ingress', address: '127.0.0.1', port: 10000 }, { name: 'v6', address: '::1', port: 10001 }],
    configDump: () => ({ configs: [{ '@type': 'type.googleapis.com/envoy.admin.v3.BootstrapConfigDump', bootstrap: { node: { id: 'n1' } } }] }),
    serverInfo: () => info,
    isReady: () => ready.value,
    quit: () => { actions.push('quit'); },
    drainListeners: () => { actions.push('drain'); },
    setLogLevel: (level) => { actions.push(`log:${level}`); return true; },
    healthcheckFail: (failed) => { actions.push(`hc:${failed}`); },
  };
  return { store, deps, actions, info, ready, clusters };
}
