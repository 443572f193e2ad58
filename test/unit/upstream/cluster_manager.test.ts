import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ClusterLoadAssignment, Cluster as EnvoyCluster, LbEndpoint } from '../../../src/types/envoy.js';
import { StatsStore } from '../../../src/common/stats.js';
import { createClusterManager } from '../../../src/upstream/cluster_manager.js';
import type { Lookup } from '../../../src/upstream/dns.js';
import type { Http1Pool } from '../../../src/upstream/http1_pool.js';
import { recordHostResponse, recordHostTimeout } from '../../../src/upstream/host.js';
import { TestUpstream, acquireConnection, get, testConnectionFactory, waitFor } from './helpers.js';
import { seededRandom } from '../../helpers/random.js';
import { PATIENCE_MS } from '../../helpers/wait.js';

function endpoint(address: string, port: number, weight?: number) {
  return { endpoint: { address: { socket_address: { address, port_value: port } } }, ...(weight ? { load_balancing_weight: { value: weight } } : {}) };
}

function staticCluster(name: string, eps: ReturnType<typeof endpoint>[], extra: Partial<EnvoyCluster> = {}): EnvoyCluster {
  return { name, type: 'STATIC', connect_timeout: { seconds: 1 }, load_assignment: { cluster_name: name, endpoints: [{ lb_endpoints: eps }] }, ...extra };
}

test('a STATIC cluster balances requests over its hosts through their pools', async () => {
  const a = await new TestUpstream('a').start();
  const b = await new TestUpstream('b').start();
  const stats = new StatsStore();
  const cm = createClusterManager([staticCluster('web', [endpoint('127.0.0.1', a.port), endpoint('127.0.0.1', b.port)])], { stats, connect: testConnectionFactory, random: seededRandom(1) });
  try {
    await cm.ready();
    const web = cm.get('web')!;
    assert.equal(cm.all().length, 1);
    assert.equal(cm.get('nope'), undefined);
    assert.equal(stats.gauge('cluster.web.membership_total').value, 2);
    assert.equal(stats.gauge('cluster.web.membership_healthy').value, 2);
    const bodies: string[] = [];
    for (let i = 0; i < 4; i++) {
      const host = web.chooseHost({})!;
      const pool = web.pool(host);
      assert.equal(web.pool(host), pool, 'one pool per host');
      const conn = await acquireConnection(pool);
      const res = await get(conn);
      recordHostResponse(host, res.status);
      web.stats.responseCode(res.status);
      bodies.push(res.body.split(' ')[0]);
      pool.release(conn);
    }
    assert.deepEqual(bodies.filter((x) => x === 'a').length, 2);
    assert.deepEqual(bodies.filter((x) => x === 'b').length, 2);
    assert.equal(stats.counter('cluster.web.upstream_rq_200').value, 4);
    assert.equal(stats.counter('cluster.web.upstream_rq_2xx').value, 4);
    assert.equal(stats.counter('cluster.web.upstream_rq_completed').value, 4);
    const hs = web.hosts();
    assert.deepEqual(hs.map((h) => [h.stats.rq_total, h.stats.rq_success, h.stats.cx_active, h.weight]), [[2, 2, 1, 1], [2, 2, 1, 1]]);
    recordHostResponse(hs[0], 503);
    recordHostResponse(hs[0], 0);
    recordHostTimeout(hs[0]);
    assert.deepEqual([hs[0].stats.rq_error, hs[0].stats.rq_timeout, hs[0].stats.rq_success], [2, 1, 2]);
    assert.equal(a.connections + b.connections, 2, 'keep-alive connections reused');
    // Unhealthy hosts are skipped; none healthy means no host.
    hs[0].healthy = false;
    web.hostHealthChanged();
    assert.equal(stats.gauge('cluster.web.membership_healthy').value, 1);
    for (let i = 0; i < 5; i++) assert.equal(web.chooseHost({}), hs[1]);
    hs[1].healthy = false;
    assert.equal(web.chooseHost({}), null);
  } finally { cm.close(); await a.stop(); await b.stop(); }
});

test('a STRICT_DNS cluster resolves localhost', async () => {
  const up = await new TestUpstream().start();
  const stats = new StatsStore();
  const cm = createClusterManager([{
    name: 'dns', type: 'STRICT_DNS', dns_lookup_family: 'V4_ONLY', dns_refresh_rate: { seconds: 60 },
    load_assignment: { cluster_name: 'dns', endpoints: [{ lb_endpoints: [endpoint('localhost', up.port, 3)] }] },
  }], { stats, connect: testConnectionFactory });
  try {
    await cm.ready();
    const c = cm.get('dns')!;
    assert.deepEqual(c.hosts().map((h) => [h.address, h.port, h.weight, h.hostname]), [['127.0.0.1', up.port, 3, 'localhost']]);
    assert.equal(stats.counter('cluster.dns.update_success').value, 1);
    const conn = await acquireConnection(c.pool(c.chooseHost({})!));
    assert.equal((await get(conn)).status, 200);
    c.pool(c.hosts()[0]).release(conn);
  } finally { cm.close(); await up.stop(); }
});

test('DNS refresh updates hosts in place, drains removed hosts and keeps the last answer on failure', async () => {
  const up = await new TestUpstream('one').start();
  // The same port on a second loopback address: the host that will be removed.
  const up2 = await new TestUpstream('two').start('127.0.0.2', up.port);
  let answer: string[] | Error = ['127.0.0.1', '127.0.0.2'];
  let lookups = 0;
  const lookup: Lookup = async () => {
    lookups++;
    if (answer instanceof Error) throw answer;
    return answer.map((address) => ({ address, family: 4 }));
  };
  const stats = new StatsStore();
  const cm = createClusterManager([{
    name: 'svc', type: 'STRICT_DNS', dns_refresh_rate: { nanos: 50_000_000 }, connect_timeout: { seconds: 1 },
    load_assignment: { cluster_name: 'svc', endpoints: [{ lb_endpoints: [endpoint('svc.example', up.port)] }] },
  }], { stats, connect: testConnectionFactory, lookup });
  try {
    await cm.ready();
    const c = cm.get('svc')!;
    assert.deepEqual(c.hosts().map((h) => h.address), ['127.0.0.1', '127.0.0.2']);
    const [keep, gone] = c.hosts();
    const keepPool = c.pool(keep);
    const gonePool = c.pool(gone) as Http1Pool;
    // The soon-removed host has one busy and one idle connection.
    const busy = await acquireConnection(gonePool);
    const idle = await acquireConnection(gonePool);
    await get(idle);
    gonePool.release(idle);
    assert.equal(gonePool.activeConnections, 2);

    answer = ['127.0.0.1', '127.0.0.3'];
    await waitFor(() => c.hosts().some((h) => h.address === '127.0.0.3'), PATIENCE_MS, 'refresh');
    assert.equal(c.hosts()[0], keep, 'a host that stays is the same object');
    assert.equal(c.pool(keep), keepPool, 'and keeps its pool');
    assert.ok(!c.hosts().includes(gone));
    assert.equal(gonePool.isDraining, true);
    assert.equal(gonePool.activeConnections, 1, 'idle connection closed, busy one still serving');
    assert.equal((await get(busy)).body, 'two 1');
    gonePool.release(busy);
    assert.equal(gonePool.activeConnections, 0);
    for (let i = 0; i < 10; i++) assert.notEqual(c.chooseHost({}), gone);

    answer = Object.assign(new Error('SERVFAIL'), { code: 'ESERVFAIL' });
    const failuresBefore = stats.counter('cluster.svc.update_failure').value;
    const seen = lookups;
    await waitFor(() => lookups > seen + 1, PATIENCE_MS, 'failed refreshes');
    assert.ok(stats.counter('cluster.svc.update_failure').value > failuresBefore);
    assert.deepEqual(c.hosts().map((h) => h.address), ['127.0.0.1', '127.0.0.3'], 'last hosts kept');
    assert.equal(stats.gauge('cluster.svc.membership_total').value, 2);
  } finally { cm.close(); await up.stop(); await up2.stop(); }
  // close() stopped the refresh timer.
  const after = lookups;
  await new Promise((r) => setTimeout(r, 150));
  assert.equal(lookups, after);
});

test('configuration errors name the field', () => {
  const deps = { stats: new StatsStore(), connect: testConnectionFactory };
  const code = (c: EnvoyCluster[]): string => { try { createClusterManager(c, deps).close(); return 'ok'; } catch (e) { return `${(e as { code: string }).code} ${(e as Error).message}`; } };
  assert.match(code([{ name: 'x', type: 'ORIGINAL_DST' }]), /^SKIFF_CONFIG_UNSUPPORTED static_resources\.clusters\[0\]\.type/);
  assert.match(code([{ name: 'x', type: 'EDS' }]), /^SKIFF_CONFIG_UNSUPPORTED static_resources\.clusters\[0\]\.eds_cluster_config\.eds_config/);
  assert.match(code([staticCluster('x', []), staticCluster('x', [])]), /^SKIFF_CONFIG_INVALID static_resources\.clusters\[1\]\.name: duplicate/);
  assert.match(code([staticCluster('x', [endpoint('example.com', 80)])]), /socket_address\.address: STATIC clusters need an IP/);
  assert.match(code([staticCluster('x', [endpoint('10.0.0.1', 0)])]), /port_value/);
  assert.match(code([staticCluster('x', [], { circuit_breakers: { thresholds: [{ priority: 'HIGH' }] } })]), /^SKIFF_CONFIG_UNSUPPORTED .*thresholds\[0\]\.priority/);
  assert.match(code([staticCluster('x', [], { lb_policy: 'MAGLEV', maglev_lb_config: { table_size: { value: 100 } } })]), /table_size: 100 is not prime/);
  assert.match(code([staticCluster('x', [], { connect_timeout: { seconds: -1 } })]), /connect_timeout/);
  assert.equal(code([staticCluster('x', [endpoint('::1', 80)], { lb_policy: 'RING_HASH' })]), 'ok');
});

test('circuit breaker gauges start at Envoy defaults and follow configured thresholds', () => {
  const stats = new StatsStore();
  const cm = createClusterManager([
    staticCluster('d', []),
    staticCluster('t', [], { circuit_breakers: { thresholds: [{ priority: 'DEFAULT', max_connections: { value: 2 }, max_retries: { value: 1 } }] } }),
  ], { stats, connect: testConnectionFactory });
  const g = (n: string): number => stats.gauge(n).value;
  assert.deepEqual(['remaining_cx', 'remaining_pending', 'remaining_rq', 'remaining_retries'].map((n) => g(`cluster.d.circuit_breakers.default.${n}`)), [1024, 1024, 1024, 3]);
  assert.equal(g('cluster.d.circuit_breakers.default.cx_open'), 0);
  const t = cm.get('t')!;
  assert.equal(t.breakers.connections.max, 2);
  assert.equal(t.breakers.pendingRequests.max, 1024);
  assert.ok(t.breakers.retries.tryAcquire());
  assert.equal(g('cluster.t.circuit_breakers.default.rq_retry_open'), 1);
  assert.equal(t.breakers.retries.tryAcquire(), false);
  t.breakers.retries.release();
  t.breakers.retries.release(); // an extra release does not inflate the budget
  assert.equal(t.breakers.retries.current, 0);
  assert.equal(g('cluster.t.circuit_breakers.default.remaining_retries'), 1);
  assert.equal(g('cluster.t.circuit_breakers.default.rq_retry_open'), 0);
  assert.equal(cm.get('d')!.chooseHost({}), null, 'no hosts, no host');
  cm.close();
});

test('responseCode counts per code and per class; odd codes count as completed only', () => {
  const stats = new StatsStore();
  const cm = createClusterManager([staticCluster('s', [])], { stats, connect: testConnectionFactory });
  const s = cm.get('s')!.stats;
  for (const code of [200, 204, 503, 503, 404, 0, 999]) s.responseCode(code);
  const c = (n: string): number => stats.counter(`cluster.s.${n}`).value;
  assert.deepEqual([c('upstream_rq_200'), c('upstream_rq_204'), c('upstream_rq_2xx'), c('upstream_rq_503'), c('upstream_rq_5xx'), c('upstream_rq_404'), c('upstream_rq_4xx'), c('upstream_rq_completed')], [1, 1, 2, 2, 2, 1, 1, 7]);
  assert.ok(!stats.snapshot().counters.some((x) => x.name === 'cluster.s.upstream_rq_999'));
  cm.close();
});

test('clusters are added, replaced and removed at run time; replaced ones drain', async () => {
  const a = await new TestUpstream('a').start();
  const b = await new TestUpstream('b').start();
  const stats = new StatsStore();
  const cm = createClusterManager([], { stats, connect: testConnectionFactory });
  try {
    assert.equal(cm.addOrUpdateCluster(staticCluster('dyn', [endpoint('127.0.0.1', a.port)])), 'added');
    const v1 = cm.get('dyn')!;
    assert.equal(cm.addOrUpdateCluster(staticCluster('dyn', [endpoint('127.0.0.1', a.port)])), 'unchanged');
    assert.equal(cm.get('dyn'), v1);
    const hostA = v1.chooseHost({})!;
    const poolA = v1.pool(hostA) as Http1Pool;
    const busy = await acquireConnection(poolA);
    const idle = await acquireConnection(poolA);
    await get(idle);
    poolA.release(idle);

    // More than the endpoints changes: a new cluster replaces the old one.
    assert.equal(cm.addOrUpdateCluster(staticCluster('dyn', [endpoint('127.0.0.1', b.port)], { connect_timeout: { seconds: 2 } })), 'updated');
    const v2 = cm.get('dyn')!;
    assert.notEqual(v2, v1);
    assert.deepEqual(cm.all(), [v2]);
    assert.equal(poolA.activeConnections, 1, 'idle connection of the old cluster closed');
    assert.equal((await get(busy)).body, 'a 1', 'in-flight request finishes on the old cluster');
    poolA.release(busy);
    assert.equal(poolA.activeConnections, 0);
    const conn = await acquireConnection(v2.pool(v2.chooseHost({})!));
    assert.equal((await get(conn)).body, 'b 1');
    v2.pool(v2.hosts()[0]).release(conn);

    assert.throws(() => cm.addOrUpdateCluster({ ...staticCluster('dyn', []), type: 'EDS' }), /eds_cluster_config\.eds_config/);
    assert.equal(cm.get('dyn'), v2, 'an invalid update changes nothing');
    assert.equal(cm.removeCluster('dyn'), true);
    assert.equal(cm.removeCluster('dyn'), false);
    assert.equal(cm.get('dyn'), undefined);
    assert.deepEqual(cm.all(), []);
    await waitFor(() => b.sockets.size === 0, PATIENCE_MS, 'removed cluster closes its idle connection');
  } finally { cm.close(); await a.stop(); await b.stop(); }
});

function edsCluster(name: string, extra: Partial<EnvoyCluster> = {}): EnvoyCluster {
  return { name, type: 'EDS', connect_timeout: { seconds: 1 }, eds_cluster_config: { eds_config: { ads: {} }, service_name: `${name}.svc` }, ...extra };
}

function assignment(name: string, ...groups: LbEndpoint[][]): ClusterLoadAssignment {
  return { cluster_name: name, endpoints: groups.map((lb_endpoints) => ({ lb_endpoints })) };
}

test('an EDS cluster starts empty and uninitialized; updateEndpoints sets its hosts, keeps pools of hosts that stay and drains removed ones', async () => {
  const a = await new TestUpstream('a').start();
  const b = await new TestUpstream('b').start();
  const c = await new TestUpstream('c').start();
  const stats = new StatsStore();
  const cm = createClusterManager([edsCluster('svc')], { stats, connect: testConnectionFactory, random: seededRandom(3) });
  try {
    await cm.ready(); // does not wait for EDS
    const svc = cm.get('svc')!;
    assert.equal(svc.type, 'EDS');
    assert.equal(svc.edsServiceName, 'svc.svc');
    assert.equal(svc.initialized, false);
    assert.deepEqual(svc.hosts(), []);
    assert.equal(svc.chooseHost({}), null);
    let initialized = false;
    const warm = svc.whenInitialized().then(() => { initialized = true; });
    await new Promise((r) => setImmediate(r));
    assert.equal(initialized, false);

    // Two localities: every lb_endpoint of both is a host, with its weight.
    cm.updateEndpoints('svc', assignment('svc.svc', [endpoint('127.0.0.1', a.port, 3)], [endpoint('127.0.0.1', b.port)]));
    await warm;
    assert.equal(svc.initialized, true);
    assert.deepEqual(svc.hosts().map((h) => [h.port, h.weight]), [[a.port, 3], [b.port, 1]]);
    assert.equal(stats.gauge('cluster.svc.membership_total').value, 2);
    const hostA = svc.hosts()[0];
    const poolA = svc.pool(hostA) as Http1Pool;
    const hostB = svc.hosts()[1];
    const poolB = svc.pool(hostB) as Http1Pool;
    const connA = await acquireConnection(poolA);
    assert.equal((await get(connA)).body, 'a 1');
    poolA.release(connA);
    const busyB = await acquireConnection(poolB);

    // b leaves, c joins, a stays (new weight): a keeps its host object and pool, b's pool drains.
    cm.updateEndpoints('svc', assignment('svc.svc', [endpoint('127.0.0.1', a.port, 1), endpoint('127.0.0.1', c.port)]));
    assert.equal(svc.hosts()[0], hostA, 'a host that stays is the same object');
    assert.equal(hostA.weight, 1);
    assert.equal(svc.pool(hostA), poolA, 'and keeps its pool');
    assert.deepEqual(svc.hosts().map((h) => h.port), [a.port, c.port]);
    assert.equal(poolB.isDraining, true);
    assert.equal((await get(busyB)).body, 'b 1', 'a request in flight to a removed host finishes');
    poolB.release(busyB);
    await waitFor(() => b.sockets.size === 0, PATIENCE_MS, 'removed host\'s connection closes');
    const again = await acquireConnection(poolA);
    assert.equal((await get(again)).body, 'a 1', 'the kept pool reuses its keep-alive connection');
    poolA.release(again);
    assert.equal(a.connections, 1);

    // EDS health status: an UNHEALTHY host takes no new requests.
    cm.updateEndpoints('svc', assignment('svc.svc', [endpoint('127.0.0.1', a.port), { ...endpoint('127.0.0.1', c.port), health_status: 'UNHEALTHY' as const }]));
    assert.equal(stats.gauge('cluster.svc.membership_healthy').value, 1);
    for (let i = 0; i < 4; i++) assert.equal(svc.chooseHost({}), hostA);

    // Invalid assignments change nothing.
    assert.throws(() => cm.updateEndpoints('svc', { cluster_name: 'svc.svc', endpoints: [{ priority: 1, lb_endpoints: [endpoint('127.0.0.1', b.port)] }] }), /priority/);
    assert.throws(() => cm.updateEndpoints('svc', assignment('svc.svc', [endpoint('example.com', 80)])), /IP address/);
    assert.throws(() => cm.updateEndpoints('nope', assignment('nope', [])), /no cluster named/);
    assert.deepEqual(svc.hosts().map((h) => h.port), [a.port, c.port]);
  } finally { cm.close(); await a.stop(); await b.stop(); await c.stop(); }
});

test('addOrUpdateCluster: an endpoint-only change keeps the cluster and the pools of unchanged hosts; a replaced EDS cluster starts from the last assignment', async () => {
  const a = await new TestUpstream('a').start();
  const b = await new TestUpstream('b').start();
  const stats = new StatsStore();
  const cm = createClusterManager([], { stats, connect: testConnectionFactory });
  try {
    cm.addOrUpdateCluster(staticCluster('st', [endpoint('127.0.0.1', a.port)]));
    const st = cm.get('st')!;
    const hostA = st.hosts()[0];
    const poolA = st.pool(hostA);
    const conn = await acquireConnection(poolA);
    await get(conn);
    poolA.release(conn);
    assert.equal(cm.addOrUpdateCluster(staticCluster('st', [endpoint('127.0.0.1', a.port), endpoint('127.0.0.1', b.port)])), 'updated');
    assert.equal(cm.get('st'), st, 'same cluster');
    assert.equal(st.hosts()[0], hostA);
    assert.equal(st.pool(hostA), poolA);
    assert.equal(st.hosts().length, 2);
    const reused = await acquireConnection(poolA);
    assert.equal((await get(reused)).body, 'a 1');
    poolA.release(reused);
    assert.equal(a.connections, 1, 'no new connection to the unchanged host');
    assert.equal(cm.addOrUpdateCluster(staticCluster('st', [endpoint('127.0.0.1', a.port), endpoint('127.0.0.1', b.port)])), 'unchanged');

    cm.addOrUpdateCluster(edsCluster('e'));
    cm.updateEndpoints('e', assignment('e.svc', [endpoint('127.0.0.1', b.port)]));
    const e1 = cm.get('e')!;
    assert.equal(cm.addOrUpdateCluster(edsCluster('e', { connect_timeout: { seconds: 3 } })), 'updated');
    const e2 = cm.get('e')!;
    assert.notEqual(e2, e1);
    assert.equal(e2.initialized, true, 'warm at once from the last assignment');
    assert.deepEqual(e2.hosts().map((h) => h.port), [b.port]);
    assert.equal(cm.addOrUpdateCluster(edsCluster('e', { connect_timeout: { seconds: 3 }, eds_cluster_config: { eds_config: { ads: {} }, service_name: 'other' } })), 'updated');
    assert.equal(cm.get('e')!.initialized, false, 'a new service name waits for its own endpoints');
  } finally { cm.close(); await a.stop(); await b.stop(); }
});
