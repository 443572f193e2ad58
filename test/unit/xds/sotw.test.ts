import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setLogLevel } from '../../../src/common/logger.js';
import { ConfigError } from '../../../src/common/errors.js';
import { StatsStore } from '../../../src/common/stats.js';
import { AdsClient, type AdsClientOptions } from '../../../src/xds/ads_client.js';
import type { XdsUpdate } from '../../../src/xds/types.js';
import {
  AdsPeer, CLUSTER, LISTENER, ROUTE, cluster, routeConfig, sotwResponse, until, type SotwStream,
} from './ads_peer.js';
import { PATIENCE_MS } from '../../helpers/wait.js';

setLogLevel('off');

function options(target: string, extra: Partial<AdsClientOptions> = {}): AdsClientOptions {
  return {
    dynamicResources: {
      ads_config: { api_type: 'GRPC', grpc_services: [{ google_grpc: { target_uri: target } }] },
      cds_config: { ads: {} },
      lds_config: { ads: {} },
    },
    node: { id: 'sidecar~10.0.0.1~app-1.default~default.svc.cluster.local', cluster: 'app', metadata: { ISTIO_VERSION: '1.20.0', LABELS: { app: 'web' } } },
    backoff: { baseMs: 20, maxMs: 100 },
    ...extra,
  };
}

interface Harness { peer: AdsPeer; client: AdsClient; stats: StatsStore; updates: XdsUpdate[]; stream: SotwStream }

/** Starts a peer and a client following CDS and LDS, and takes the stream's first two requests (CDS, LDS). */
async function harness(t: { after(fn: () => void): void }, extra: Partial<AdsClientOptions> = {}): Promise<Harness> {
  const peer = await AdsPeer.start();
  const stats = new StatsStore();
  const client = new AdsClient(options(peer.target, { stats, ...extra }));
  t.after(() => { client.close(); peer.stop(); });
  const updates: XdsUpdate[] = [];
  client.onUpdate(CLUSTER, (u) => { updates.push(u); });
  client.onUpdate(LISTENER, (u) => { updates.push(u); });
  client.start();
  const stream = await peer.sotw.take(PATIENCE_MS, 'stream');
  return { peer, client, stats, updates, stream };
}

test('first requests: CDS then LDS, wildcard, with the node; connected_state goes to 1', async (t) => {
  const { stream, stats } = await harness(t);
  const cds = await stream.next();
  assert.equal(cds.type_url, CLUSTER);
  assert.deepEqual(cds.resource_names ?? [], []);
  assert.equal(cds.version_info ?? '', '');
  assert.equal(cds.response_nonce ?? '', '');
  const node = cds.node as { id: string; cluster: string; user_agent_name: string; metadata: { fields: Record<string, unknown> } };
  assert.equal(node.id, 'sidecar~10.0.0.1~app-1.default~default.svc.cluster.local');
  assert.equal(node.cluster, 'app');
  assert.equal(node.user_agent_name, 'skiff');
  assert.ok(node.metadata.fields.ISTIO_VERSION);
  const lds = await stream.next();
  assert.equal(lds.type_url, LISTENER);
  stream.send(sotwResponse(CLUSTER, 'v1', 'n1', [cluster('a')]));
  await stream.next();
  assert.equal(stats.gauge('control_plane.connected_state').value, 1);
});

test('ACK carries the accepted version and nonce; the handler gets the whole response; a later one reports changes and removals', async (t) => {
  const { stream, client, stats, updates } = await harness(t);
  await stream.next();
  await stream.next();
  stream.send(sotwResponse(CLUSTER, 'v1', 'n1', [cluster('a', 8081), cluster('b', 8082), cluster('c', 8083)]));
  const ack = await stream.next();
  assert.equal(ack.type_url, CLUSTER);
  assert.equal(ack.version_info, 'v1');
  assert.equal(ack.response_nonce, 'n1');
  assert.equal(ack.error_detail, undefined);
  assert.equal(updates.length, 1);
  assert.deepEqual([...updates[0]!.added.keys()].sort(), ['a', 'b', 'c']);
  assert.equal(updates[0]!.versionInfo, 'v1');
  const a = updates[0]!.added.get('a')!;
  assert.equal(a.version, 'v1');
  assert.equal((a.resource as { connect_timeout: { nanos: number } }).connect_timeout.nanos, 250_000_000);
  assert.equal((a.json as { connect_timeout: string }).connect_timeout, '0.250s');
  assert.equal(stats.counter('cluster_manager.cds.update_success').value, 1);
  assert.notEqual(stats.gauge('cluster_manager.cds.version').value, 0);

  // b changes, c goes, a stays the same: only b is reported as added, c as removed.
  stream.send(sotwResponse(CLUSTER, 'v2', 'n2', [cluster('a', 8081), cluster('b', 9999)]));
  const ack2 = await stream.next();
  assert.equal(ack2.version_info, 'v2');
  assert.equal(ack2.response_nonce, 'n2');
  assert.equal(updates.length, 2);
  assert.deepEqual([...updates[1]!.added.keys()], ['b']);
  assert.deepEqual(updates[1]!.removed, ['c']);
  assert.deepEqual([...client.resources(CLUSTER).keys()].sort(), ['a', 'b']);
  assert.equal(client.versionInfo(CLUSTER), 'v2');
  assert.equal(stats.counter('cluster_manager.cds.update_attempt').value, 2);
});

test('a malformed resource NACKs the response naming it and the field; the last good set stays', async (t) => {
  const { stream, client, stats, updates } = await harness(t);
  await stream.next();
  await stream.next();
  stream.send(sotwResponse(CLUSTER, 'v1', 'n1', [cluster('a')]));
  await stream.next();
  stream.send(sotwResponse(CLUSTER, 'v2', 'n2', [cluster('a', 7000), cluster('bad', 8080, { lb_policy: 'CLUSTER_PROVIDED' })]));
  const nack = await stream.next();
  assert.equal(nack.type_url, CLUSTER);
  assert.equal(nack.version_info, 'v1', 'a NACK repeats the last accepted version');
  assert.equal(nack.response_nonce, 'n2');
  assert.equal(nack.error_detail?.code, 3);
  assert.match(nack.error_detail!.message, /Cluster "bad"\.lb_policy/);
  assert.equal(updates.length, 1, 'nothing of the rejected response reached the handler');
  assert.equal(client.versionInfo(CLUSTER), 'v1');
  const kept = client.resources(CLUSTER).get('a')!;
  assert.equal((kept.json as { load_assignment: { endpoints: { lb_endpoints: { endpoint: { address: { socket_address: { port_value: number } } } }[] }[] } })
    .load_assignment.endpoints[0]!.lb_endpoints[0]!.endpoint.address.socket_address.port_value, 8080);
  assert.equal(stats.counter('cluster_manager.cds.update_rejected').value, 1);

  // A bad value in a well-typed field (a negative duration) is named the same way.
  stream.send(sotwResponse(CLUSTER, 'v3', 'n3', [cluster('worse', 8080, { connect_timeout: '-1s' })]));
  const nack2 = await stream.next();
  assert.equal(nack2.version_info, 'v1');
  assert.match(nack2.error_detail!.message, /Cluster "worse"\.connect_timeout/);
});

test('duplicate names, undecodable bytes and an unknown type URL are NACKed', async (t) => {
  const { stream, client, updates } = await harness(t);
  await stream.next();
  await stream.next();
  stream.send(sotwResponse(CLUSTER, 'v1', 'n1', [cluster('a'), cluster('a', 9000)]));
  const dup = await stream.next();
  assert.equal(dup.error_detail?.code, 3);
  assert.match(dup.error_detail!.message, /Cluster "a".*duplicate/);

  stream.send({ type_url: CLUSTER, version_info: 'v2', nonce: 'n2', resources: [{ type_url: CLUSTER, value: Buffer.from([0x0a, 0xff, 0x01]) }] });
  const garbage = await stream.next();
  assert.equal(garbage.response_nonce, 'n2');
  assert.match(garbage.error_detail!.message, /resources\[0\]/);

  stream.send({ type_url: CLUSTER, version_info: 'v3', nonce: 'n3', resources: [{ type_url: LISTENER, value: Buffer.alloc(0) }] });
  const mismatch = await stream.next();
  assert.match(mismatch.error_detail!.message, /type URL .*Listener in a response for .*Cluster/);

  // Secrets are followed since SDS (istio2); the runtime discovery type is not.
  const unknown = 'type.googleapis.com/envoy.service.runtime.v3.Runtime';
  stream.send({ type_url: unknown, version_info: 'x', nonce: 'n4', resources: [] });
  const nackUnknown = await stream.next();
  assert.equal(nackUnknown.type_url, unknown);
  assert.equal(nackUnknown.response_nonce, 'n4');
  assert.match(nackUnknown.error_detail!.message, /unknown type URL .*Runtime/);
  assert.equal(updates.length, 0);
  assert.equal(client.resources(CLUSTER).size, 0);
});

test('a handler that throws a ConfigError NACKs the response with its message; nothing is kept', async (t) => {
  const peer = await AdsPeer.start();
  const client = new AdsClient(options(peer.target));
  t.after(() => { client.close(); peer.stop(); });
  client.onUpdate(CLUSTER, (u) => {
    if (u.added.has('forbidden')) throw new ConfigError('Cluster "forbidden".name', 'reserved by the test');
  });
  client.start();
  const stream = await peer.sotw.take();
  await stream.next();
  await stream.next();
  stream.send(sotwResponse(CLUSTER, 'v1', 'n1', [cluster('ok')]));
  assert.equal((await stream.next()).version_info, 'v1');
  stream.send(sotwResponse(CLUSTER, 'v2', 'n2', [cluster('ok', 1234), cluster('forbidden')]));
  const nack = await stream.next();
  assert.equal(nack.version_info, 'v1');
  assert.match(nack.error_detail!.message, /Cluster "forbidden"\.name: reserved by the test/);
  assert.deepEqual([...client.resources(CLUSTER).keys()], ['ok']);
  assert.equal(client.versionInfo(CLUSTER), 'v1');
});

test('RDS names follow subscribe(): each change re-requests with the last version and nonce', async (t) => {
  const { stream, client } = await harness(t);
  await stream.next();
  await stream.next();
  const routes: XdsUpdate[] = [];
  client.onUpdate(ROUTE, (u) => { routes.push(u); });
  client.subscribe(ROUTE, ['r1']);
  const first = await stream.next();
  assert.equal(first.type_url, ROUTE);
  assert.deepEqual(first.resource_names, ['r1']);
  stream.send(sotwResponse(ROUTE, '7', 'rn1', [routeConfig('r1', 'a')]));
  const ack = await stream.next();
  assert.equal(ack.version_info, '7');
  assert.equal(ack.response_nonce, 'rn1');
  client.subscribe(ROUTE, ['r1', 'r2']);
  const more = await stream.next();
  assert.deepEqual([...more.resource_names!].sort(), ['r1', 'r2']);
  assert.equal(more.version_info, '7');
  assert.equal(more.response_nonce, 'rn1');
  // A response naming only r2 keeps r1 (a named subscription need not repeat every name); r9 was not asked for.
  stream.send(sotwResponse(ROUTE, '8', 'rn2', [routeConfig('r2', 'b'), routeConfig('r9', 'b')]));
  await stream.next();
  assert.deepEqual([...client.resources(ROUTE).keys()].sort(), ['r1', 'r2']);
  assert.deepEqual(routes[1]!.removed, []);
  client.subscribe(ROUTE, ['r2']);
  const fewer = await stream.next();
  assert.deepEqual(fewer.resource_names, ['r2']);
  assert.deepEqual([...client.resources(ROUTE).keys()], ['r2']);
});

test('initial_fetch_timeout settles a type the server never answers, and counts it', async (t) => {
  const peer = await AdsPeer.start();
  const stats = new StatsStore();
  const opts = options(peer.target, { stats });
  opts.dynamicResources.cds_config = { ads: {}, initial_fetch_timeout: { nanos: 150_000_000 } };
  opts.dynamicResources.lds_config = { ads: {}, initial_fetch_timeout: { seconds: 5 } };
  const client = new AdsClient(opts);
  t.after(() => { client.close(); peer.stop(); });
  const started = Date.now();
  client.start();
  const stream = await peer.sotw.take();
  await stream.next();
  await stream.next();
  stream.send(sotwResponse(LISTENER, 'l1', 'ln1', []));
  assert.equal(await client.initialFetch(LISTENER), 'accepted');
  assert.equal(await client.initialFetch(CLUSTER), 'timeout');
  const waited = Date.now() - started;
  // At least the 150 ms; the upper bound only tells the timeout from a fetch that never settles.
  assert.ok(waited >= 140 && waited < PATIENCE_MS, `timed out after ${waited} ms`);
  assert.equal(stats.counter('cluster_manager.cds.init_fetch_timeout').value, 1);
  assert.equal(stats.counter('listener_manager.lds.init_fetch_timeout').value, 0);
});

test('control plane down: connected_state 0, resources kept; after restart it reconnects with backoff and asks with the accepted version', async (t) => {
  const peer = await AdsPeer.start();
  const port = peer.port;
  const stats = new StatsStore();
  const client = new AdsClient(options(peer.target, { stats, backoff: { baseMs: 50, maxMs: 200 } }));
  let restarted: AdsPeer | undefined;
  t.after(() => { client.close(); peer.stop(); restarted?.stop(); });
  client.start();
  const stream = await peer.sotw.take();
  await stream.next();
  await stream.next();
  stream.send(sotwResponse(CLUSTER, 'v1', 'n1', [cluster('a')]));
  await stream.next();
  assert.equal(stats.gauge('control_plane.connected_state').value, 1);

  peer.stop();
  await until(() => stats.gauge('control_plane.connected_state').value === 0, PATIENCE_MS, 'disconnect seen');
  assert.deepEqual([...client.resources(CLUSTER).keys()], ['a'], 'the last accepted clusters keep serving');
  assert.ok(stats.counter('cluster_manager.cds.update_failure').value >= 1);
  // Let a few attempts fail against the closed port, then come back on the same port.
  await new Promise((r) => setTimeout(r, 300));
  restarted = await AdsPeer.start(port);
  const again = await restarted.sotw.take(PATIENCE_MS, 'reconnected stream');
  const cds = await again.next();
  assert.equal(cds.type_url, CLUSTER);
  assert.equal(cds.version_info, 'v1', 'the new stream starts from the last accepted version');
  assert.equal(cds.response_nonce ?? '', '', 'nonces do not outlive their stream');
  assert.ok(cds.node, 'the node goes on the first request of every stream');
  assert.equal((await again.next()).type_url, LISTENER);
  again.send(sotwResponse(CLUSTER, 'v2', 'm1', [cluster('a'), cluster('b')]));
  assert.equal((await again.next()).version_info, 'v2');
  assert.equal(stats.gauge('control_plane.connected_state').value, 1);
  assert.deepEqual([...client.resources(CLUSTER).keys()].sort(), ['a', 'b']);
});

test('envoy_grpc: the cluster name is resolved through the caller\'s callback on every attempt', async (t) => {
  const peer = await AdsPeer.start();
  const asked: string[] = [];
  let known = false;
  const client = new AdsClient({
    ...options(peer.target),
    dynamicResources: {
      ads_config: { api_type: 'GRPC', grpc_services: [{ envoy_grpc: { cluster_name: 'xds_cluster' } }] },
      cds_config: { ads: {} },
    },
    resolveCluster: (name) => { asked.push(name); return known ? peer.target : undefined; },
  });
  t.after(() => { client.close(); peer.stop(); });
  client.start();
  await until(() => asked.length >= 2, PATIENCE_MS, 'retries while the cluster is unknown');
  known = true;
  const stream = await peer.sotw.take();
  assert.equal((await stream.next()).type_url, CLUSTER);
  assert.ok(asked.every((n) => n === 'xds_cluster'));
});

test('bootstrap shapes Skiff does not follow are rejected by field', () => {
  assert.throws(() => new AdsClient({ dynamicResources: { cds_config: { ads: {} } }, node: {} }), /dynamic_resources\.ads_config/);
  assert.throws(() => new AdsClient({
    dynamicResources: { ads_config: { api_type: 'REST', grpc_services: [{ google_grpc: { target_uri: 'x' } }] } }, node: {},
  }), /api_type/);
  assert.throws(() => new AdsClient({
    dynamicResources: { ads_config: { api_type: 'GRPC', grpc_services: [{ google_grpc: { target_uri: 'x' } }] }, lds_config: { path: '/etc/lds.yaml' } },
    node: {},
  }), /lds_config\.path/);
  assert.throws(() => new AdsClient({
    dynamicResources: { ads_config: { api_type: 'GRPC', grpc_services: [{ envoy_grpc: { cluster_name: 'x' } }] } }, node: {},
  }), /cluster resolver/);
});

test('rate_limit_settings: requests beyond the bucket wait their turn, in order, and are counted', async (t) => {
  const peer = await AdsPeer.start();
  const stats = new StatsStore();
  const opts = options(peer.target, { stats });
  opts.dynamicResources.ads_config!.rate_limit_settings = { max_tokens: { value: 2 }, fill_rate: { value: 10 } };
  const client = new AdsClient(opts);
  t.after(() => { client.close(); peer.stop(); });
  client.start();
  const stream = await peer.sotw.take();
  await stream.next();
  await stream.next();
  const sent = Date.now();
  stream.send(sotwResponse(CLUSTER, 'v1', 'n1', [cluster('a')]));
  stream.send(sotwResponse(LISTENER, 'l1', 'ln1', []));
  const first = await stream.next();
  const second = await stream.next();
  const waited = Date.now() - sent;
  assert.deepEqual([first.response_nonce, second.response_nonce], ['n1', 'ln1']);
  assert.ok(waited >= 150, `two ACKs at 10/s after an empty bucket took ${waited} ms`);
  assert.equal(stats.counter('control_plane.rate_limit_enforced').value, 2);
  assert.equal(stats.gauge('control_plane.pending_requests').value, 0);
});
