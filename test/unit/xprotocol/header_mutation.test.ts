// Route header mutations on Bolt frames: request_headers_to_add / _to_remove rewrite the frame's header map (length
// field fixed, v2's CRC32 recomputed) and response_headers_to_add the response's; frames of routes without
// mutations go on byte for byte. Peers: sofa-rpc-node client and server, and sofa-bolt-node's own encoder and
// header-map decoder on raw sockets.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as net from 'node:net';
import { createRequire } from 'node:module';
import type { RouteConfiguration } from '../../../src/types/envoy.js';
import { crc32 } from '../../../src/xprotocol/big_frame.js';
import { boltClient, startBoltServer } from '../../helpers/rpc_peers.js';
import { waitFor } from '../../helpers/wait.js';
import { startServer } from '../tcp_proxy/harness.js';
import { startXProxy, staticCluster } from './harness.js';

const require = createRequire(import.meta.url);
const bolt = require('sofa-bolt-node/lib/protocol') as {
  requestEncode(id: number, req: object, o: object): Buffer;
  responseEncode(id: number, res: object, o: object): Buffer;
};
const simpleMap = require('sofa-bolt-node/lib/simple_map_serializer') as { decode(b: Buffer): Record<string, string>; encode(m: Record<string, string>): Buffer };

const ECHO = 'com.skiff.test.EchoService';
const V1 = { protocolType: 'bolt', codecType: 'hessian2' };
const V2_CRC = { protocolType: 'bolt2', codecType: 'hessian2', boltVersion: 2, crcEnable: true };

function mutatingRoutes(): RouteConfiguration {
  return {
    name: 'rpc',
    request_headers_to_add: [{ header: { key: 'x-config', value: 'c' } }],
    virtual_hosts: [{
      name: 'all', domains: ['*'],
      request_headers_to_add: [{ header: { key: 'x-vhost', value: 'v' } }],
      routes: [
        { match: { prefix: `/${ECHO}/plain` }, route: { cluster: 'rpc' } },
        {
          match: { prefix: '/' }, route: { cluster: 'rpc' },
          request_headers_to_add: [
            { header: { key: 'x-tenant', value: 'blue' }, append_action: 'OVERWRITE_IF_EXISTS_OR_ADD' },
            { header: { key: 'sofa_head_target_service', value: 'ignored' }, append_action: 'ADD_IF_ABSENT' },
          ],
          request_headers_to_remove: ['sofa_head_target_app'],
          response_headers_to_add: [{ header: { key: 'x-served-by', value: 'skiff' }, append_action: 'OVERWRITE_IF_EXISTS_OR_ADD' }],
        },
      ],
    }],
  } as unknown as RouteConfiguration;
}

/** Bolt frame layout: fixed header length and the offset of classLen, by version and type. */
function regions(frame: Buffer): { header: Buffer; crcOk: boolean | null } {
  const v2 = frame[0] === 2;
  const type = frame[v2 ? 2 : 1]!;
  const fixed = (type === 0 ? 20 : 22) + (v2 ? 2 : 0);
  const lensAt = fixed - 8;
  const classLen = frame.readUInt16BE(lensAt);
  const headerLen = frame.readUInt16BE(lensAt + 2);
  const contentLen = frame.readUInt32BE(lensAt + 4);
  const hasCrc = v2 && frame[1]! > 1 && (frame[v2 ? 11 : 10]! & 1) !== 0;
  assert.equal(frame.length, fixed + classLen + headerLen + contentLen + (hasCrc ? 4 : 0), 'length fields add up');
  return {
    header: frame.subarray(fixed + classLen, fixed + classLen + headerLen),
    crcOk: hasCrc ? crc32(frame, frame.length - 4) === frame.readUInt32BE(frame.length - 4) : null,
  };
}

/** Reads whole Bolt frames off a socket (requests and responses, v1 and v2). */
function frameSplitter(onFrame: (f: Buffer) => void): (d: Buffer) => void {
  let pending = Buffer.alloc(0);
  return (d) => {
    pending = Buffer.concat([pending, d]);
    // Bounded: each pass takes one whole frame or stops.
    for (;;) {
      const v2 = pending[0] === 2;
      const fixed = pending.length < 3 ? 0 : (pending[v2 ? 2 : 1] === 0 ? 20 : 22) + (v2 ? 2 : 0);
      if (fixed === 0 || pending.length < fixed) return;
      const lensAt = fixed - 8;
      const crc = v2 && pending[1]! > 1 && (pending[11]! & 1) !== 0 ? 4 : 0;
      const len = fixed + pending.readUInt16BE(lensAt) + pending.readUInt16BE(lensAt + 2) + pending.readUInt32BE(lensAt + 4) + crc;
      if (pending.length < len) return;
      onFrame(Buffer.from(pending.subarray(0, len)));
      pending = pending.subarray(len);
    }
  };
}

/** An upstream that records each request frame and answers in the request's own Bolt version. */
async function recordingUpstream() {
  const frames: Buffer[] = [];
  const server = await startServer((s) => {
    s.on('error', () => {});
    s.on('data', frameSplitter((f) => {
      frames.push(f);
      const v2 = f[0] === 2;
      const id = f.readUInt32BE(v2 ? 6 : 5);
      s.write(bolt.responseEncode(id, { isError: false, appResponse: { $class: 'java.lang.String', $: 'ok' } }, v2 ? V2_CRC : V1));
    }));
  });
  return { server, frames };
}

function rawCall(port: number, frame: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const c = net.connect(port, '127.0.0.1');
    const timer = setTimeout(() => { c.destroy(); reject(new Error('no response within 10 s')); }, 10_000);
    c.on('error', reject);
    c.on('data', frameSplitter((f) => { clearTimeout(timer); c.destroy(); resolve(f); }));
    c.write(frame);
  });
}

/**
 * A hessian request from sofa-bolt-node whose header map (sofa-bolt-node writes only `service` for hessian) is
 * replaced by `headers` as Java's SofaRPC sends them, encoded by sofa-bolt-node's SimpleMapSerializer.
 */
function request(method: string, headers: Record<string, string>, o: object, id: number, arg = 'hi'): Buffer {
  // Java's ids are signed ints: an id of 2^31 or more goes on the wire as its negative two's complement.
  const f = bolt.requestEncode(id | 0, {
    serverSignature: `${ECHO}:1.0`, methodName: method, args: [{ $class: 'java.lang.String', $: arg }], timeout: 3000,
  }, o);
  const v2 = f[0] === 2;
  const lensAt = v2 ? 16 : 14;
  const headerAt = lensAt + 8 + f.readUInt16BE(lensAt);
  const map = simpleMap.encode({
    service: `${ECHO}:1.0`, sofa_head_target_service: `${ECHO}:1.0`, sofa_head_method_name: method, sofa_head_target_app: 'caller-app', ...headers,
  });
  const crc = v2 ? 4 : 0;
  const out = Buffer.concat([f.subarray(0, headerAt), map, f.subarray(headerAt + f.readUInt16BE(lensAt + 2), f.length - crc), Buffer.alloc(crc)]);
  out.writeUInt16BE(map.length, lensAt + 2);
  if (v2) out.writeUInt32BE(crc32(out, out.length - 4), out.length - 4);
  return out;
}

test('Bolt v1 and v2 (CRC32): route mutations rewrite the request and response header maps', async () => {
  const up = await recordingUpstream();
  const proxy = await startXProxy({ route_config: mutatingRoutes() }, [staticCluster('rpc', [up.server.port])]);
  try {
    // The v1 id sits above 2^31 (a Java client's id counter after it went negative): mapped back exactly.
    for (const [o, id] of [[V1, 0xffff_fff0], [V2_CRC, 77]] as const) {
      const before = up.frames.length;
      const reply = await rawCall(proxy.port, request('echo', { 'x-tenant': 'red', keep: 'me' }, o, id));
      await waitFor(() => up.frames.length === before + 1, 5000, 'the request upstream');
      const sent = regions(up.frames[before]!);
      if (o === V2_CRC) assert.equal(sent.crcOk, true, 'the rebuilt request carries a valid CRC32');
      const h = simpleMap.decode(sent.header);
      assert.equal(h['x-tenant'], 'blue', 'overwritten');
      assert.equal(h.keep, 'me', 'untouched entries kept');
      assert.equal(h['x-vhost'], 'v');
      assert.equal(h['x-config'], 'c');
      assert.equal(h.sofa_head_target_app, undefined, 'removed');
      assert.equal(h.sofa_head_target_service, `${ECHO}:1.0`, 'add_if_absent left the present key alone');
      // The response came back to the caller's id with the added header and, for v2, a valid CRC.
      assert.equal(reply.readUInt32BE(o === V2_CRC ? 6 : 5), id);
      const back = regions(reply);
      if (o === V2_CRC) assert.equal(back.crcOk, true, 'the rebuilt response carries a valid CRC32');
      assert.equal(simpleMap.decode(back.header)['x-served-by'], 'skiff');
    }
    assert.equal(proxy.counter('xprotocol.rpc.header_mutation_applied'), 4);
    assert.equal(proxy.counter('xprotocol.rpc.header_mutation_skipped'), 0);

    // A route with only the virtual-host and config mutations: still applied. The request's bytes otherwise
    // stay the client's (same length plus the added entries).
    const plain = request('plain', {}, V1, 5);
    const before = up.frames.length;
    await rawCall(proxy.port, plain);
    await waitFor(() => up.frames.length === before + 1, 5000, 'the plain request upstream');
    const h = simpleMap.decode(regions(up.frames[before]!).header);
    assert.deepEqual([h['x-vhost'], h['x-config'], h.sofa_head_target_app], ['v', 'c', 'caller-app']);
    assert.equal(up.frames[before]!.length, plain.length + (4 + 7 + 4 + 1) + (4 + 8 + 4 + 1));
  } finally {
    await proxy.close();
    await up.server.close();
  }
});

test('Bolt: a route without mutations forwards the frame byte for byte (id aside)', async () => {
  const up = await recordingUpstream();
  const routes = { name: 'rpc', virtual_hosts: [{ name: 'all', domains: ['*'], routes: [{ match: { prefix: '/' }, route: { cluster: 'rpc' } }] }] } as RouteConfiguration;
  const proxy = await startXProxy({ route_config: routes }, [staticCluster('rpc', [up.server.port])]);
  try {
    const frame = request('echo', { a: 'b' }, V2_CRC, 9);
    await rawCall(proxy.port, frame);
    await waitFor(() => up.frames.length === 1, 5000, 'the request upstream');
    const sent = up.frames[0]!;
    assert.equal(sent.length, frame.length);
    assert.deepEqual(sent.subarray(10, sent.length - 4), frame.subarray(10, frame.length - 4));
    assert.equal(proxy.counter('xprotocol.rpc.header_mutation_applied'), 0);
  } finally {
    await proxy.close();
    await up.server.close();
  }
});

test('Bolt: sofa-rpc-node client and server talk through a route that mutates both ways', async () => {
  const server = await startBoltServer([{ interfaceName: ECHO, methods: { echo: (x) => `echo:${String(x)}` } }]);
  const proxy = await startXProxy({ route_config: mutatingRoutes() }, [staticCluster('rpc', [server.port])]);
  const client = boltClient(proxy.port);
  try {
    for (let i = 0; i < 3; i++) assert.equal(await client.invoke(ECHO, 'echo', [`m${i}`]), `echo:m${i}`);
    assert.equal(proxy.counter('xprotocol.rpc.header_mutation_applied'), 6);
  } finally {
    await client.close();
    await proxy.close();
    await server.close();
  }
});

test('Bolt v2 (CRC32): a frame above one slab (big frame) gets its header map rewritten and a valid CRC32', async () => {
  const up = await recordingUpstream();
  const proxy = await startXProxy({ route_config: mutatingRoutes() }, [staticCluster('rpc', [up.server.port])]);
  try {
    const frame = request('echo', { keep: 'me' }, V2_CRC, 3, 'b'.repeat(400 * 1024));
    assert.ok(frame.length > 256 * 1024);
    const reply = await rawCall(proxy.port, frame);
    await waitFor(() => up.frames.length === 1, 5000, 'the big request upstream');
    const sent = regions(up.frames[0]!);
    assert.equal(sent.crcOk, true);
    const h = simpleMap.decode(sent.header);
    assert.deepEqual([h['x-tenant'], h.keep, h.sofa_head_target_app], ['blue', 'me', undefined]);
    assert.equal(up.frames[0]!.subarray(up.frames[0]!.length - 1000, up.frames[0]!.length - 4).toString('latin1'), 'b'.repeat(996), 'the content follows the new map');
    assert.equal(reply.readUInt32BE(6), 3);
    assert.equal(regions(reply).crcOk, true);
  } finally {
    await proxy.close();
    await up.server.close();
  }
});
