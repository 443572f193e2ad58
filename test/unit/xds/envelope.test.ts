// The envelope reader (raw DiscoveryResponse / DeltaDiscoveryResponse bytes, as grpc-js now hands them over) reads
// what protobufjs reads, and malformed bytes are an EnvelopeError, never another exception.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EnvelopeError, readDeltaResponse, readSotwResponse } from '../../../src/xds/envelope.js';
import { deltaDiscoveryResponse, discoveryResponse } from '../../../src/xds/protocol.js';
import { CLUSTER, ENDPOINT, cluster, deltaResponse, loadAssignment, sotwResponse } from './ads_peer.js';

test('SotW envelope: version, type URL, nonce and each resource Any as protobufjs reads them', () => {
  const msg = sotwResponse(CLUSTER, 'v-ünïcode', 'nonce-1', [cluster('a'), cluster('b', 9090)]);
  msg.resources!.push({ type_url: ENDPOINT, value: new Uint8Array(0) });
  const bytes = discoveryResponse.encode(msg);
  const env = readSotwResponse(bytes);
  const ref = discoveryResponse.decode(bytes);
  assert.equal(env.versionInfo, ref.version_info);
  assert.equal(env.typeUrl, CLUSTER);
  assert.equal(env.nonce, 'nonce-1');
  assert.equal(env.resources.length, 3);
  env.resources.forEach((r, i) => {
    assert.equal(r.typeUrl, ref.resources![i]!.type_url);
    assert.deepEqual(Buffer.from(bytes.subarray(r.start, r.end)), Buffer.from(ref.resources![i]!.value ?? new Uint8Array(0)));
  });
  // Empty response: every field at its default.
  assert.deepEqual(readSotwResponse(new Uint8Array(0)), { versionInfo: '', typeUrl: '', nonce: '', resources: [] });
});

test('delta envelope: system version, resources with name and version, removed names', () => {
  const msg = deltaResponse(ENDPOINT, 'd1', [['7', loadAssignment('svc', [8080, 8081])], ['8', loadAssignment('svc2', [80])]], ['gone-1', 'gone-2'], 'sys-3');
  msg.resources!.push({ name: 'no-body', version: '9' });
  const bytes = deltaDiscoveryResponse.encode(msg);
  const env = readDeltaResponse(bytes);
  assert.equal(env.systemVersionInfo, 'sys-3');
  assert.equal(env.typeUrl, ENDPOINT);
  assert.equal(env.nonce, 'd1');
  assert.deepEqual(env.removed, ['gone-1', 'gone-2']);
  assert.deepEqual(env.resources.map((r) => [r.name, r.version]), [['svc', '7'], ['svc2', '8'], ['no-body', '9']]);
  assert.equal(env.resources[2]!.resource, undefined);
  const ref = deltaDiscoveryResponse.decode(bytes);
  const first = env.resources[0]!.resource!;
  assert.equal(first.typeUrl, ENDPOINT);
  assert.deepEqual(Buffer.from(bytes.subarray(first.start, first.end)), Buffer.from(ref.resources![0]!.resource!.value));
});

test('malformed envelopes throw EnvelopeError (bounded: every truncation and 2000 mutations)', () => {
  const bytes = discoveryResponse.encode(sotwResponse(CLUSTER, 'v1', 'n1', [cluster('a'), cluster('b')]));
  const delta = deltaDiscoveryResponse.encode(deltaResponse(CLUSTER, 'd1', [['1', cluster('a')]], ['x']));
  const check = (b: Uint8Array): void => {
    for (const read of [readSotwResponse, readDeltaResponse]) {
      try { read(b); } catch (err) { assert.ok(err instanceof EnvelopeError, `not an EnvelopeError: ${String(err)}`); }
    }
  };
  for (const src of [bytes, delta]) for (let n = 0; n < src.length; n++) check(src.subarray(0, n));
  assert.throws(() => readSotwResponse(bytes.subarray(0, bytes.length - 1)), EnvelopeError);
  let seed = 7;
  const rnd = (n: number): number => { seed = (Math.imul(seed, 1103515245) + 12345) >>> 0; return seed % n; };
  for (let k = 0; k < 2000; k++) {
    const src = k % 2 === 0 ? bytes : delta;
    const m = Uint8Array.from(src);
    for (let j = 0; j < 3; j++) m[rnd(m.length)] = rnd(256);
    check(m);
  }
});
