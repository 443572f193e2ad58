import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setLogLevel } from '../../../src/common/logger.js';
import { StatsStore } from '../../../src/common/stats.js';
import { AdsClient } from '../../../src/xds/ads_client.js';
import type { XdsUpdate } from '../../../src/xds/types.js';
import { AdsPeer, CLUSTER, ENDPOINT, cluster, deltaResponse, loadAssignment, type DeltaStream } from './ads_peer.js';
import { PATIENCE_MS } from '../../helpers/wait.js';

setLogLevel('off');

interface Harness { peer: AdsPeer; client: AdsClient; stats: StatsStore; clusters: XdsUpdate[]; endpoints: XdsUpdate[]; stream: DeltaStream }

async function harness(t: { after(fn: () => void): void }): Promise<Harness> {
  const peer = await AdsPeer.start();
  const stats = new StatsStore();
  const client = new AdsClient({
    dynamicResources: {
      ads_config: { api_type: 'DELTA_GRPC', grpc_services: [{ google_grpc: { target_uri: peer.target } }] },
      cds_config: { ads: {} },
    },
    node: { id: 'node-1', cluster: 'app' },
    stats,
    statPrefixes: { [ENDPOINT]: 'cluster.web.' },
    backoff: { baseMs: 20, maxMs: 100 },
  });
  t.after(() => { client.close(); peer.stop(); });
  const clusters: XdsUpdate[] = [];
  const endpoints: XdsUpdate[] = [];
  client.onUpdate(CLUSTER, (u) => { clusters.push(u); });
  client.onUpdate(ENDPOINT, (u) => { endpoints.push(u); });
  client.start();
  const stream = await peer.delta.take(PATIENCE_MS, 'delta stream');
  return { peer, client, stats, clusters, endpoints, stream };
}

test('delta: wildcard subscribe, add, update and remove, each ACKed by nonce', async (t) => {
  const { stream, client, stats, clusters } = await harness(t);
  const first = await stream.next();
  assert.equal(first.type_url, CLUSTER);
  assert.deepEqual(first.resource_names_subscribe ?? [], [], 'an empty first subscribe is the wildcard');
  assert.deepEqual(first.initial_resource_versions ?? {}, {});
  assert.equal((first.node as { id: string }).id, 'node-1');

  stream.send(deltaResponse(CLUSTER, 'd1', [['1', cluster('a')], ['1', cluster('b')]], [], 'sys-1'));
  const ack = await stream.next();
  assert.equal(ack.response_nonce, 'd1');
  assert.equal(ack.error_detail, undefined);
  assert.deepEqual([...clusters[0]!.added.keys()].sort(), ['a', 'b']);
  assert.equal(clusters[0]!.versionInfo, 'sys-1');

  stream.send(deltaResponse(CLUSTER, 'd2', [['2', cluster('a', 9090)]], ['b', 'never-had']));
  const ack2 = await stream.next();
  assert.equal(ack2.response_nonce, 'd2');
  assert.deepEqual([...clusters[1]!.added.keys()], ['a']);
  assert.equal(clusters[1]!.added.get('a')!.version, '2');
  assert.deepEqual(clusters[1]!.removed, ['b'], 'only names it had are reported removed');
  assert.deepEqual([...client.resources(CLUSTER).keys()], ['a']);
  assert.equal(client.resources(CLUSTER).get('a')!.version, '2');
  assert.equal(stats.counter('cluster_manager.cds.update_success').value, 2);
});

test('delta: a bad resource NACKs by nonce naming it; nothing of that response applies', async (t) => {
  const { stream, client, stats, clusters } = await harness(t);
  await stream.next();
  stream.send(deltaResponse(CLUSTER, 'd1', [['1', cluster('a')], ['1', cluster('b')]]));
  await stream.next();
  // Removing b and adding a broken c in one response: neither half may apply.
  stream.send(deltaResponse(CLUSTER, 'd2', [['2', cluster('c', 8080, { connect_timeout: '-1s' })]], ['b']));
  const nack = await stream.next();
  assert.equal(nack.response_nonce, 'd2');
  assert.equal(nack.error_detail?.code, 3);
  assert.match(nack.error_detail!.message, /Cluster "c"\.connect_timeout/);
  assert.deepEqual([...client.resources(CLUSTER).keys()].sort(), ['a', 'b']);
  assert.equal(clusters.length, 1);
  assert.equal(stats.counter('cluster_manager.cds.update_rejected').value, 1);

  stream.send(deltaResponse(CLUSTER, 'd3', [['3', cluster('x')], ['4', cluster('x', 1)]]));
  assert.match((await stream.next()).error_detail!.message, /Cluster "x".*duplicate/);
  const misnamed = deltaResponse(CLUSTER, 'd4', [['5', cluster('y')]]);
  misnamed.resources![0]!.name = 'z';
  stream.send(misnamed);
  assert.match((await stream.next()).error_detail!.message, /Cluster "y".*"z"/);
});

test('delta: EDS names are subscribed and unsubscribed incrementally; stats under the caller\'s prefix', async (t) => {
  const { stream, client, stats, endpoints } = await harness(t);
  await stream.next();
  client.subscribe(ENDPOINT, ['web', 'api']);
  const sub = await stream.next();
  assert.equal(sub.type_url, ENDPOINT);
  assert.deepEqual([...sub.resource_names_subscribe!].sort(), ['api', 'web']);
  stream.send(deltaResponse(ENDPOINT, 'e1', [['1', loadAssignment('web', [8001, 8002])], ['1', loadAssignment('api', [9001])]]));
  assert.equal((await stream.next()).response_nonce, 'e1');
  assert.equal(endpoints[0]!.added.size, 2);
  assert.equal(stats.counter('cluster.web.update_success').value, 1);

  client.subscribe(ENDPOINT, ['web', 'db']);
  const change = await stream.next();
  assert.deepEqual(change.resource_names_subscribe, ['db']);
  assert.deepEqual(change.resource_names_unsubscribe, ['api']);
  assert.deepEqual([...client.resources(ENDPOINT).keys()], ['web']);
});

test('delta: after a reset the new stream resubscribes with initial_resource_versions', async (t) => {
  const { peer, stream, client } = await harness(t);
  await stream.next();
  client.subscribe(ENDPOINT, ['web']);
  await stream.next();
  stream.send(deltaResponse(CLUSTER, 'd1', [['c7', cluster('web')]]));
  await stream.next();
  stream.send(deltaResponse(ENDPOINT, 'e1', [['e3', loadAssignment('web', [8001])]]));
  await stream.next();

  stream.fail();
  const again = await peer.delta.take(PATIENCE_MS, 'reconnected delta stream');
  const cds = await again.next();
  assert.equal(cds.type_url, CLUSTER);
  assert.deepEqual(cds.resource_names_subscribe ?? [], []);
  assert.deepEqual(cds.initial_resource_versions, { web: 'c7' });
  assert.equal(cds.response_nonce ?? '', '');
  const eds = await again.next();
  assert.equal(eds.type_url, ENDPOINT);
  assert.deepEqual(eds.resource_names_subscribe, ['web']);
  assert.deepEqual(eds.initial_resource_versions, { web: 'e3' });
  assert.equal(client.resources(ENDPOINT).get('web')!.version, 'e3', 'kept across the reset');
});
