import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deltaDiscoveryResponse, discoveryResponse } from '../../../src/xds/protocol.js';
import { WireFormatError, decodeDeltaDiscoveryResponse, decodeDiscoveryResponse } from '../../../src/xds/response_wire.js';

const T = 'type.googleapis.com/envoy.config.cluster.v3.Cluster';
const any = (n: number): { type_url: string; value: Uint8Array } => ({ type_url: T, value: Uint8Array.from([10, 2, 0x61 + n, 0x62]) });

/** The fields the ADS client reads (the rest, e.g. canary and control_plane, are skipped on purpose). */
const READ = ['version_info', 'system_version_info', 'resources', 'type_url', 'nonce', 'removed_resources'];
function readFields(x: object): object {
  return Object.fromEntries(Object.entries(x).filter(([k]) => READ.includes(k)));
}

/** Comparable form (bytes as hex) of the reference reading: protobufjs decode + toObject, as the client did before. */
function plain(x: unknown): unknown {
  return JSON.parse(JSON.stringify(x, (_k, v) => (v instanceof Uint8Array || (v && v.type === 'Buffer') ? Buffer.from(v.data ?? v).toString('hex') : v)));
}

test('DiscoveryResponse: same fields as protobufjs, resources as views, unknown fields skipped', () => {
  const buf = discoveryResponse.encode({ version_info: 'v7', type_url: T, nonce: 'n3', resources: [any(0), any(1), any(2)],
    ...({ canary: true, control_plane: { identifier: 'cp' } } as object) });
  const mine = decodeDiscoveryResponse(buf);
  assert.deepEqual(plain(mine), plain(readFields(discoveryResponse.decode(buf))));
  assert.equal(mine.resources!.length, 3);
  assert.equal(mine.resources![1].value.buffer, buf.buffer, 'a view on the received bytes, not a copy');
  // An empty message: absent strings undefined, the list empty.
  const empty = decodeDiscoveryResponse(Buffer.alloc(0));
  assert.equal(empty.version_info, undefined);
  assert.deepEqual(empty.resources, []);
});

test('DeltaDiscoveryResponse: resources with name/version/aliases, removed names, the same as protobufjs', () => {
  const buf = deltaDiscoveryResponse.encode({
    system_version_info: '9', type_url: T, nonce: 'n1', removed_resources: ['gone', 'old'],
    resources: [{ name: 'a', version: 'va', resource: any(0), aliases: ['x'] }, { name: 'b', version: 'vb', resource: any(1) }],
    ...({ control_plane: { identifier: 'cp' } } as object),
  } as never);
  const mine = decodeDeltaDiscoveryResponse(buf);
  assert.deepEqual(plain(mine), plain(readFields(deltaDiscoveryResponse.decode(buf))));
  assert.deepEqual(mine.removed_resources, ['gone', 'old']);
  assert.equal(mine.resources![0].name, 'a');
  assert.deepEqual(mine.resources![0].aliases, ['x']);
});

test('malformed envelopes throw WireFormatError, never read past the end', () => {
  const good = discoveryResponse.encode({ version_info: 'v1', type_url: T, nonce: 'n', resources: [any(0)] });
  for (let cut = 1; cut < good.length; cut++) {
    const part = good.subarray(0, cut);
    try { decodeDiscoveryResponse(part); } catch (e) { assert.ok(e instanceof WireFormatError, `cut at ${cut}: ${String(e)}`); }
  }
  // A length that points past the end, an endless varint, a group wire type.
  assert.throws(() => decodeDiscoveryResponse(Buffer.from([0x0a, 0x7f, 0x61])), WireFormatError);
  assert.throws(() => decodeDeltaDiscoveryResponse(Buffer.from([0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01])), WireFormatError);
  assert.throws(() => decodeDiscoveryResponse(Buffer.from([0x0b])), WireFormatError);
  // Random bytes: either a result or WireFormatError, nothing else (bounded: 2000 tries).
  let seed = 7;
  const rnd = (): number => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed & 0xff; };
  for (let i = 0; i < 2000; i++) {
    const b = Buffer.from(Array.from({ length: 1 + (i % 40) }, rnd));
    for (const decode of [decodeDiscoveryResponse, decodeDeltaDiscoveryResponse]) {
      try { decode(b); } catch (e) { assert.ok(e instanceof WireFormatError, String(e)); }
    }
  }
});

test('a 10 000-resource response decodes in well under the time protobufjs took', () => {
  const resources = Array.from({ length: 10_000 }, (_, i) => any(i % 20));
  const buf = discoveryResponse.encode({ version_info: '2', type_url: T, nonce: '1', resources });
  const t0 = performance.now();
  const res = decodeDiscoveryResponse(buf);
  const ms = performance.now() - t0;
  assert.equal(res.resources!.length, 10_000);
  assert.equal(res.resources![9_999].type_url, T);
  // Generous for a shared machine: the point is no tens-of-ms synchronous block per push.
  assert.ok(ms < 200, `decoded in ${ms.toFixed(1)} ms`);
});
