// Large responses decoded on the xDS worker thread: the same updates, the same NACK texts and the same ACK/nonce
// order as inline decoding; an ignored (unsubscribed) resource is ignored there too; a stream reset while the
// worker is mid-job applies nothing; a worker that dies costs speed, not the response.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { setLogLevel } from '../../../src/common/logger.js';
import { StatsStore } from '../../../src/common/stats.js';
import { AdsClient, type AdsClientOptions } from '../../../src/xds/ads_client.js';
import type { XdsUpdate } from '../../../src/xds/types.js';
import { AdsPeer, CLUSTER, ENDPOINT, cluster, deltaResponse, loadAssignment, sotwResponse, until, type DeltaStream, type SotwStream } from './ads_peer.js';

setLogLevel('off');

const FIXTURES = new URL('./fixtures/gated_preparer.js', import.meta.url).href;

function clientOptions(target: string, apiType: 'GRPC' | 'DELTA_GRPC', offload: AdsClientOptions['offload']): AdsClientOptions {
  return {
    dynamicResources: { ads_config: { api_type: apiType, grpc_services: [{ google_grpc: { target_uri: target } }] }, cds_config: { ads: {} } },
    node: { id: 'n' }, stats: new StatsStore(), backoff: { baseMs: 20, maxMs: 100 }, offload,
  };
}

/** 200 clusters, one of them with an unsupported field at `bad` (or none). */
function clusters(bad?: number): Record<string, unknown>[] {
  return Array.from({ length: 200 }, (_, i) => cluster(`c${i}`, 8000 + i, i === bad ? { outlier_detection: {} } : {}));
}

interface Run { updates: XdsUpdate[]; acks: { version?: string; nonce?: string; error?: string }[]; worker: boolean }

/** One SotW client (offloading everything, or nothing) through the same three responses. */
async function sotwRun(t: { after(fn: () => void): void }, offload: AdsClientOptions['offload']): Promise<Run> {
  const peer = await AdsPeer.start();
  const client = new AdsClient(clientOptions(peer.target, 'GRPC', offload));
  t.after(() => { client.close(); peer.stop(); });
  const updates: XdsUpdate[] = [];
  client.onUpdate(CLUSTER, (u) => { updates.push(u); });
  client.start();
  const stream: SotwStream = await peer.sotw.take(5000, 'stream');
  await stream.next();
  const acks: Run['acks'] = [];
  const responses = [
    sotwResponse(CLUSTER, 'v1', 'n1', clusters()),
    sotwResponse(CLUSTER, 'v2', 'n2', clusters(150)),
    sotwResponse(CLUSTER, 'v3', 'n3', [...clusters().slice(0, 100), cluster('c100', 1)]),
  ];
  // All three at once: the worker may decode the next while this thread applies the one before.
  for (const r of responses) stream.send(r);
  for (let i = 0; i < responses.length; i++) {
    const a = await stream.next(20_000);
    acks.push({ version: a.version_info, nonce: a.response_nonce, error: a.error_detail?.message });
  }
  return { updates, acks, worker: client.offloadRunning() };
}

test('SotW through the worker: same updates, ACK/NACK order, versions and NACK text as inline', async (t) => {
  const inline = await sotwRun(t, false);
  const offloaded = await sotwRun(t, { minBytes: 0 });
  assert.equal(inline.worker, false);
  assert.equal(offloaded.worker, true);
  assert.deepEqual(offloaded.acks, inline.acks);
  assert.deepEqual(inline.acks.map((a) => [a.version, a.nonce]), [['v1', 'n1'], ['v1', 'n2'], ['v3', 'n3']]);
  assert.equal(inline.acks[1]!.error, 'Cluster "c150".outlier_detection: unsupported field');
  assert.equal(offloaded.updates.length, inline.updates.length);
  offloaded.updates.forEach((u, i) => {
    const ref = inline.updates[i]!;
    assert.deepEqual([...u.added.keys()], [...ref.added.keys()]);
    assert.deepEqual(u.removed, ref.removed);
    assert.equal(u.versionInfo, ref.versionInfo);
  });
  // v3 left 99 clusters out and changed one: the handler got exactly that one, decodable from its bytes.
  const last = offloaded.updates[1]!;
  assert.deepEqual([...last.added.keys()], ['c100']);
  assert.equal(last.removed.length, 99);
  assert.equal((last.added.get('c100')!.resource as { name: string }).name, 'c100');
});

test('delta through the worker: prepared results come from the worker; a resource not subscribed to is ignored even when invalid', async (t) => {
  const peer = await AdsPeer.start();
  const client = new AdsClient(clientOptions(peer.target, 'DELTA_GRPC', { minBytes: 0 }));
  t.after(() => { client.close(); peer.stop(); });
  const updates: XdsUpdate[] = [];
  client.onUpdate(CLUSTER, () => {});
  client.onUpdate(ENDPOINT, (u) => { updates.push(u); }, {
    prepare: () => 'inline',
    preparer: { url: FIXTURES, name: 'gated' },
  });
  client.subscribe(ENDPOINT, ['svc-a', 'svc-b']);
  client.start();
  const stream: DeltaStream = await peer.delta.take(5000, 'stream');
  const firstTypes = [(await stream.next()).type_url, (await stream.next()).type_url];
  assert.deepEqual(firstTypes, [CLUSTER, ENDPOINT]);
  const invalid = loadAssignment('svc-other', [8080]);
  (invalid.endpoints as { priority?: number; lb_endpoints: unknown[] }[])[0]!.lb_endpoints = [{ endpoint: { address: { socket_address: { address: '10.0.0.1' } } }, load_balancing_weight: { value: 0 } }];
  stream.send(deltaResponse(ENDPOINT, 'e1', [['1', loadAssignment('svc-a', [8080, 8081])], ['1', invalid], ['1', loadAssignment('svc-b', [9090])]]));
  const ack = await stream.next(20_000);
  assert.equal(ack.response_nonce, 'e1');
  assert.equal(ack.error_detail, undefined, ack.error_detail?.message);
  assert.deepEqual([...updates[0]!.added.keys()], ['svc-a', 'svc-b']);
  // The worker's preparer ran (its result, not the inline one's).
  assert.deepEqual(updates[0]!.added.get('svc-a')!.prepared, { endpoints: 1 });
  assert.equal(client.offloadRunning(), true);
});

test('a stream reset while the worker is mid-job applies nothing of that response; the next stream resumes from the last ACK', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'skiff-xds-gate-'));
  const gate = join(dir, 'open');
  process.env.XDS_TEST_GATE = gate;
  const peer = await AdsPeer.start();
  const client = new AdsClient(clientOptions(peer.target, 'DELTA_GRPC', { minBytes: 0 }));
  t.after(() => { client.close(); peer.stop(); delete process.env.XDS_TEST_GATE; rmSync(dir, { recursive: true, force: true }); });
  const updates: XdsUpdate[] = [];
  client.onUpdate(CLUSTER, () => {});
  client.onUpdate(ENDPOINT, (u) => { updates.push(u); }, { prepare: () => 'inline', preparer: { url: FIXTURES, name: 'gated' } });
  client.subscribe(ENDPOINT, ['svc-a']);
  client.start();
  const first: DeltaStream = await peer.delta.take(5000, 'stream');
  await first.next();
  await first.next();
  first.send(deltaResponse(ENDPOINT, 'e1', [['1', loadAssignment('svc-a', [8080])]]));
  // The worker holds every resource until the gate opens: the stream breaks while it is mid-job.
  first.fail();
  const second: DeltaStream = await peer.delta.take(5000, 'second stream');
  writeFileSync(gate, '');
  const again = [await second.next(), await second.next()];
  const eds = again.find((r) => r.type_url === ENDPOINT)!;
  assert.deepEqual(eds.initial_resource_versions ?? {}, {}, 'nothing of the cut response was kept');
  assert.equal(updates.length, 0);
  assert.equal(client.resources(ENDPOINT).size, 0);
  // The new stream's response goes through the worker as usual.
  second.send(deltaResponse(ENDPOINT, 'e2', [['2', loadAssignment('svc-a', [8080, 8082])]]));
  const ack = await second.next(20_000);
  assert.equal(ack.response_nonce, 'e2');
  assert.equal(updates.length, 1);
  assert.equal(client.resources(ENDPOINT).get('svc-a')!.version, '2');
});

test('a worker thread that dies: the response is decoded here instead, and applied whole', async (t) => {
  const peer = await AdsPeer.start();
  const client = new AdsClient(clientOptions(peer.target, 'GRPC', { minBytes: 0 }));
  t.after(() => { client.close(); peer.stop(); });
  const updates: XdsUpdate[] = [];
  client.onUpdate(CLUSTER, () => {});
  client.onUpdate(ENDPOINT, (u) => { updates.push(u); }, { prepare: (r) => `inline:${r.name}`, preparer: { url: FIXTURES, name: 'crash' } });
  client.subscribe(ENDPOINT, ['svc-a', 'svc-b']);
  client.start();
  const stream: SotwStream = await peer.sotw.take(5000, 'stream');
  await stream.next();
  await stream.next();
  stream.send(sotwResponse(ENDPOINT, 'e1', 'n1', [loadAssignment('svc-a', [8080]), loadAssignment('svc-b', [8081])]));
  const ack = await stream.next(20_000);
  assert.equal(ack.version_info, 'e1');
  assert.equal(ack.error_detail, undefined);
  assert.deepEqual([...updates[0]!.added.values()].map((r) => r.prepared), ['inline:svc-a', 'inline:svc-b']);
  await until(() => !client.offloadRunning(), 5000, 'the dead worker forgotten');
});
