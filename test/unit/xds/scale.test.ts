// A large response is decoded in slices that yield to the event loop (traffic keeps flowing during a push), is
// still handed over whole and ACKed once, and a resend of the same resources decodes nothing again.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setLogLevel } from '../../../src/common/logger.js';
import { StatsStore } from '../../../src/common/stats.js';
import { AdsClient, Slicer } from '../../../src/xds/ads_client.js';
import { peekName } from '../../../src/xds/envelope.js';
import { packResource } from '../../../src/xds/any_json.js';
import type { XdsUpdate } from '../../../src/xds/types.js';
import { AdsPeer, CLUSTER, cluster } from './ads_peer.js';
import { PATIENCE_MS } from '../../helpers/wait.js';

setLogLevel('off');

const N = 3000;

test(`SotW: ${N} clusters in one response: timers keep firing while it is decoded; one update, one ACK; a resend changes nothing`, async (t) => {
  const peer = await AdsPeer.start();
  const client = new AdsClient({
    dynamicResources: { ads_config: { api_type: 'GRPC', grpc_services: [{ google_grpc: { target_uri: peer.target } }] }, cds_config: { ads: {} } },
    node: { id: 'n' }, stats: new StatsStore(), backoff: { baseMs: 20, maxMs: 100 },
  });
  t.after(() => { client.close(); peer.stop(); });
  const updates: XdsUpdate[] = [];
  client.onUpdate(CLUSTER, (u) => { updates.push(u); });
  client.start();
  const stream = await peer.sotw.take(PATIENCE_MS, 'stream');
  await stream.next();
  const resources = Array.from({ length: N }, (_, i) => packResource(cluster(`c${i}`, 8000 + (i % 1000)) as Record<string, unknown> & { '@type': string }));

  // Ticks of a 1 ms interval while the response is handled: a client that decoded it in one go would allow ~none.
  let ticks = 0;
  const interval = setInterval(() => { ticks++; }, 1);
  t.after(() => clearInterval(interval));
  const started = performance.now();
  stream.send({ version_info: 'v1', type_url: CLUSTER, nonce: 'n1', resources });
  const ack = await stream.next();
  const took = performance.now() - started;
  clearInterval(interval);
  assert.equal(ack.version_info, 'v1');
  assert.equal(ack.response_nonce, 'n1');
  assert.equal(ack.error_detail, undefined);
  assert.equal(updates.length, 1);
  assert.equal(updates[0]!.added.size, N);
  assert.equal(client.resources(CLUSTER).size, N);
  assert.ok(ticks >= Math.min(10, took / 20), `only ${ticks} timer ticks in ${took.toFixed(0)} ms of handling`);

  // The same resources again under a new version: nothing new for the handler, versions follow the response.
  stream.send({ version_info: 'v2', type_url: CLUSTER, nonce: 'n2', resources });
  const ack2 = await stream.next();
  assert.equal(ack2.version_info, 'v2');
  assert.equal(updates.length, 2);
  assert.equal(updates[1]!.added.size, 0);
  assert.equal(updates[1]!.removed.length, 0);
  assert.equal(client.resources(CLUSTER).get('c7')!.version, 'v2');
  // Released after apply, decoded again from the bytes on demand.
  assert.equal((client.resources(CLUSTER).get('c7')!.resource as { name: string }).name, 'c7');
});

test('peekName reads field 1 of a packed resource; malformed bytes give undefined', () => {
  const any = packResource(cluster('web-1') as Record<string, unknown> & { '@type': string });
  assert.equal(peekName(any.value), 'web-1');
  assert.equal(peekName(new Uint8Array([0x0a, 0x05, 0x61])), undefined); // length past the end
  assert.equal(peekName(new Uint8Array([0xff])), undefined); // truncated varint
  assert.equal(peekName(new Uint8Array([])), undefined);
});

test('Slicer: a yield during which other callbacks ran (requests waiting) halves the next slice, down to 1 ms', async () => {
  const slicer = new Slicer();
  assert.equal(slicer.slice, Slicer.SLICE_MS);
  for (let i = 0; i < 3; i++) {
    // Work queued before the yield's own callback: the event loop is busy for ~3 ms before the slicer gets it back.
    setImmediate(() => { const until = performance.now() + 3; while (performance.now() < until) { /* busy */ } });
    await slicer.yield();
  }
  assert.equal(slicer.slice, Slicer.MIN_SLICE_MS);
  assert.equal(slicer.yields, 3);
});
