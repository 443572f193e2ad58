// Frames larger than one slab (256 KiB) and up to max_frame_bytes: a 4 MiB Bolt call and its 4 MiB answer through
// the proxy between sofa-rpc-node peers; Bolt v2 with CRC32 through the id patch on a big frame; a frame over
// max_frame_bytes (17 MiB against the 16 MiB default) refused with nothing buffered; the JS CRC32 and head split.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as net from 'node:net';
import { once } from 'node:events';
import { createRequire } from 'node:module';
import { boltClient, startBoltServer } from '../../helpers/rpc_peers.js';
import { waitFor, PATIENCE_MS } from '../../helpers/wait.js';
import { allTo, startXProxy, staticCluster } from './harness.js';
import { bigFrameHead, crc32 } from '../../../src/xprotocol/big_frame.js';
import { FrameReader, type Frame } from '../../../src/xprotocol/frame_reader.js';
import { mainInstance } from '../../../src/wasm/runtime.js';
import { slabPool } from '../../../src/wasm/slab.js';

const require = createRequire(import.meta.url);
const proto = require('sofa-bolt-node/lib/protocol') as {
  requestEncode(id: number, r: object, o: object): Buffer; responseEncode(id: number, r: object, o: object): Buffer;
  decode(b: Buffer, o?: object): { packetId: number; packetType: string; data?: { appResponse?: unknown; args?: unknown[] } };
};
const V1 = { protocolType: 'bolt', codecType: 'hessian2' };
const V2 = { protocolType: 'bolt2', boltVersion: 2, crcEnable: true, codecType: 'hessian2' };
const MiB = 1024 * 1024;

function bigRequest(id: number, bytes: number, opts: object): Buffer {
  return proto.requestEncode(id, { serverSignature: 'com.skiff.Echo:1.0', methodName: 'echo', args: [{ $class: 'java.lang.String', $: 'z'.repeat(bytes) }], timeout: 5000 }, opts);
}

test('crc32 in JS agrees with the known check value', () => {
  assert.equal(crc32(Buffer.from('123456789'), 9), 0xcbf43926);
});

test('the frame reader decodes a 1 MiB Bolt frame fed in 64 KiB chunks from its head, and patches the id in its own bytes', () => {
  const wasm = mainInstance();
  const slabs = slabPool(wasm);
  const bytes = bigRequest(77, MiB, V1);
  const frames: Frame[] = [];
  const errors: unknown[] = [];
  const reader = new FrameReader({ wasm, slabs, proto: 1, maxFrameBytes: 16 * MiB, onFrame: (f) => frames.push(f), onError: (e) => errors.push(e) });
  // Followed by a small frame in the same chunk: both come out, in order.
  const small = proto.requestEncode(78, { serverSignature: 'com.skiff.Other:1.0', methodName: 'ping', args: [], timeout: 1000 }, V1);
  const all = Buffer.concat([bytes, small]);
  for (let off = 0; off < all.length; off += 64 * 1024) reader.feed(all.subarray(off, off + 64 * 1024));
  assert.deepEqual(errors, []);
  assert.equal(frames.length, 2);
  const f = frames[0]!;
  assert.equal(f.isBig, true);
  assert.equal(f.frameLength, bytes.length);
  assert.equal(f.view.requestId, 77);
  assert.equal(f.view.method, 'echo');
  assert.ok(f.len < 4096, 'only the head went into wasm');
  f.setRequestId(9);
  const out = f.bytes();
  assert.equal(out.length, bytes.length);
  const decoded = proto.decode(Buffer.from(out));
  assert.equal(decoded.packetId, 9);
  assert.equal((decoded.data?.args?.[0] as string).length, MiB);
  assert.equal(frames[1]!.view.requestId, 78);
  assert.equal(reader.buffered, 0);
  for (const fr of frames) fr.release();
});

test('a big Bolt v2 frame with a wrong CRC32 is refused', () => {
  const wasm = mainInstance();
  const slabs = slabPool(wasm);
  const bytes = bigRequest(5, 512 * 1024, V2);
  bytes[bytes.length - 10] ^= 0xff;
  const errors: { code?: string }[] = [];
  const reader = new FrameReader({ wasm, slabs, proto: 2, maxFrameBytes: 16 * MiB, onFrame: (f) => { f.release(); assert.fail('decoded'); }, onError: (e) => errors.push(e) });
  reader.feed(bytes);
  assert.equal(errors.length, 1);
  assert.equal(reader.buffered, 0);
  assert.ok(bigFrameHead(2, bytes)?.crc);
});

test('a 4 MiB Bolt call and its 4 MiB answer go through the proxy between sofa-rpc-node peers', async () => {
  const server = await startBoltServer([{ interfaceName: 'com.skiff.Echo', methods: { echo: (s) => `${String(s)}!` } }]);
  const proxy = await startXProxy({ route_config: allTo('rpc'), request_timeout: { seconds: 20 } }, [staticCluster('rpc', [server.port])]);
  const client = boltClient(proxy.port);
  try {
    const arg = 'a'.repeat(4 * MiB);
    const reply = await client.invoke('com.skiff.Echo', 'echo', [arg], { timeoutMs: 20_000 }) as string;
    assert.equal(reply.length, arg.length + 1);
    assert.ok(reply.startsWith('aaaa') && reply.endsWith('a!'));
    // A small call on the same connections still works after it.
    assert.equal(await client.invoke('com.skiff.Echo', 'echo', ['b']), 'b!');
    assert.equal(proxy.counter('xprotocol.rpc.downstream_cx_protocol_error'), 0);
  } finally {
    await client.close();
    await proxy.close();
    await server.close();
  }
});

test('a big Bolt v2 frame with CRC32: id patched and CRC recomputed both ways, checked by sofa-bolt-node', async () => {
  const { startServer } = await import('../tcp_proxy/harness.js');
  let upstreamId = -1;
  const upstream = await startServer((s) => {
    const parts: Buffer[] = [];
    s.on('data', (d: Buffer) => {
      parts.push(d);
      const all = Buffer.concat(parts);
      if (all.length < 24 || all.length < all.readUInt32BE(20) + 24 + all.readUInt16BE(16) + all.readUInt16BE(18) + 4) return;
      const req = proto.decode(all, { crcEnable: true });
      upstreamId = req.packetId;
      s.write(proto.responseEncode(req.packetId, { isError: false, appResponse: { $class: 'java.lang.String', $: 'r'.repeat(MiB) } }, V2));
    });
  });
  const proxy = await startXProxy({ route_config: allTo('rpc') }, [staticCluster('rpc', [upstream.port])]);
  try {
    const c = net.connect({ port: proxy.port, host: '127.0.0.1' });
    c.on('error', () => {});
    await once(c, 'connect');
    c.write(bigRequest(31337, MiB, V2));
    const got: Buffer[] = [];
    c.on('data', (d: Buffer) => got.push(d));
    await waitFor(() => got.reduce((n, b) => n + b.length, 0) > MiB, 10_000, 'the big response');
    await waitFor(() => { try { proto.decode(Buffer.concat(got), { crcEnable: true }); return true; } catch { return false; } }, 5000, 'a whole response');
    const res = proto.decode(Buffer.concat(got), { crcEnable: true });
    assert.equal(res.packetId, 31337);
    assert.notEqual(upstreamId, 31337);
    assert.equal((res.data?.appResponse as string).length, MiB);
    c.destroy();
  } finally {
    await proxy.close();
    await upstream.close();
  }
});

test('a 17 MiB frame is refused from its header (counted), with nothing buffered past the limit', async () => {
  const proxy = await startXProxy({ route_config: allTo('none') }, []);
  try {
    // A Bolt v1 request header announcing 17 MiB of content, then 1 MiB of it.
    const head = bigRequest(1, 16, V1).subarray(0, 22);
    head.writeUInt32BE(17 * MiB, 18);
    const c = net.connect({ port: proxy.port, host: '127.0.0.1' });
    c.on('error', () => {});
    await once(c, 'connect');
    c.write(head);
    c.write(Buffer.alloc(MiB));
    // 'close' itself: a reset is a clean refusal too (events.once would reject on 'error').
    await Promise.race([new Promise((r) => c.once('close', r)), new Promise((_, rej) => setTimeout(() => rej(new Error('not closed')), 5000))]);
    assert.equal(proxy.counter('xprotocol.rpc.downstream_cx_protocol_error'), 1);
    await waitFor(() => proxy.filter.activeSessions === 0, PATIENCE_MS, 'session closed');
  } finally {
    await proxy.close();
  }
});

test('a 1 MiB Dubbo call (dubbo2.js -> dubbo-remoting provider) is routed by its attachments and answered through the proxy', async () => {
  const { dubboClient, startDubboServer } = await import('../../helpers/rpc_peers.js');
  const SVC = 'com.skiff.test.BigDubbo';
  const server = await startDubboServer([{ interfaceName: SVC, group: 'canary', methods: { echo: (s) => `${String(s).length}:${String(s).slice(-3)}` } }]);
  const other = await startDubboServer([{ interfaceName: SVC, group: 'canary', methods: { echo: () => 'wrong cluster' } }]);
  // Routed by the group and an attachment header (both in the attachments map behind the 1 MiB argument); the
  // catch-all goes to the other provider.
  const routes = { name: 'rpc', virtual_hosts: [
    { name: 'big', domains: [SVC], routes: [
      { match: { prefix: `/${SVC}/echo`, headers: [
        { name: 'x-protocol-group', string_match: { exact: 'canary' } }, { name: 'application', string_match: { exact: 'dubbo2.js' } },
      ] }, route: { cluster: 'rpc' } },
      { match: { prefix: '/' }, route: { cluster: 'other' } },
    ] },
  ] };
  const proxy = await startXProxy({ protocol: 'dubbo', route_config: routes, request_timeout: { seconds: 20 } }, [staticCluster('rpc', [server.port]), staticCluster('other', [other.port])]);
  const client = dubboClient(proxy.port, 20);
  try {
    const arg = 'q'.repeat(MiB - 3) + 'end';
    assert.equal(await client.invoke(SVC, 'echo', [arg], { group: 'canary' }), `${MiB}:end`);
    // Small calls on the same connections still work after it.
    assert.equal(await client.invoke(SVC, 'echo', ['abc'], { group: 'canary' }), '3:abc');
    assert.equal(proxy.counter('xprotocol.rpc.downstream_cx_protocol_error'), 0);
    assert.equal(proxy.counter('cluster.rpc.upstream_rq_200'), 2);
  } finally {
    client.close();
    await proxy.close();
    await server.close();
    await other.close();
  }
});

test('the frame reader splits a big Dubbo request: head strings and attachments decoded past its arguments, id patched in its bytes', () => {
  const wasm = mainInstance();
  const slabs = slabPool(wasm);
  // A hand-built Hessian2 request body: dubbo version, path, version, method, descriptor, one 300 KiB string, attachments.
  const str = (s: string): Buffer => (s.length < 32 ? Buffer.concat([Buffer.from([s.length]), Buffer.from(s)]) : Buffer.concat([Buffer.from([0x53, s.length >> 8, s.length & 0xff]), Buffer.from(s)]));
  const chunks: Buffer[] = [];
  const big = 'x'.repeat(300 * 1024);
  for (let off = 0; off < big.length; off += 0x8000) { // 'R' non-final chunks of 32 KiB, a final 'S' chunk
    const part = big.slice(off, off + 0x8000);
    const last = off + 0x8000 >= big.length;
    chunks.push(Buffer.from([last ? 0x53 : 0x52, part.length >> 8, part.length & 0xff]), Buffer.from(part));
  }
  const attachments = Buffer.concat([Buffer.from('H'), str('group'), str('blue'), str('path'), str('com.skiff.Big'), Buffer.from('Z')]);
  const body = Buffer.concat([str('2.0.2'), str('com.skiff.Big'), str('1.0'), str('put'), str('Ljava/lang/String;'), ...chunks, attachments]);
  const header = Buffer.alloc(16);
  header.writeUInt16BE(0xdabb, 0);
  header[2] = 0xc2; // request, two-way, hessian2
  header.writeUInt32BE(0, 4);
  header.writeUInt32BE(4242, 8);
  header.writeUInt32BE(body.length, 12);
  const frame = Buffer.concat([header, body]);
  const frames: Frame[] = [];
  const errors: unknown[] = [];
  const reader = new FrameReader({ wasm, slabs, proto: 3, maxFrameBytes: 16 * MiB, onFrame: (f) => frames.push(f), onError: (e) => errors.push(e) });
  for (let off = 0; off < frame.length; off += 64 * 1024) reader.feed(frame.subarray(off, off + 64 * 1024));
  assert.deepEqual(errors, []);
  assert.equal(frames.length, 1);
  const f = frames[0]!;
  assert.equal(f.isBig, true);
  assert.equal(f.frameLength, frame.length);
  assert.equal(f.view.requestId, 4242);
  assert.equal(f.view.service, 'com.skiff.Big');
  assert.equal(f.view.method, 'put');
  assert.equal(f.view.group, 'blue', 'the group attachment, behind the 300 KiB argument');
  assert.deepEqual(f.view.headers(), [['group', 'blue'], ['path', 'com.skiff.Big']]);
  assert.equal(f.view.argumentCount, 0, 'the arguments are not in wasm: no parameter route reads them');
  assert.ok(f.len <= 16 + 8192, 'only the head went into wasm');
  f.setRequestId(7);
  const out = f.bytes();
  assert.equal(out.length, frame.length);
  assert.equal(out.readUInt32BE(8), 7);
  assert.ok(out.subarray(16).equals(body), 'the body is forwarded untouched');
  f.release();
  assert.equal(reader.buffered, 0);
});

test('a Dubbo frame over max_frame_bytes is refused from its header, counted, with nothing buffered', async () => {
  const proxy = await startXProxy({ protocol: 'dubbo', route_config: allTo('none'), max_frame_bytes: { value: 2 * MiB } }, []);
  try {
    const head = Buffer.alloc(16);
    head.writeUInt16BE(0xdabb, 0);
    head[2] = 0xc2;
    head.writeUInt32BE(1, 8);
    head.writeUInt32BE(3 * MiB, 12);
    const c = net.connect({ port: proxy.port, host: '127.0.0.1' });
    c.on('error', () => {});
    await once(c, 'connect');
    c.write(head);
    c.write(Buffer.alloc(MiB));
    await Promise.race([new Promise((r) => c.once('close', r)), new Promise((_, rej) => setTimeout(() => rej(new Error('not closed')), 5000))]);
    assert.equal(proxy.counter('xprotocol.rpc.downstream_cx_protocol_error'), 1);
    await waitFor(() => proxy.filter.activeSessions === 0, PATIENCE_MS, 'session closed');
  } finally {
    await proxy.close();
  }
});

test('a big Dubbo request whose arguments cannot be walked is routed from its head strings only', () => {
  const wasm = mainInstance();
  const slabs = slabPool(wasm);
  const str = (s: string): Buffer => Buffer.concat([Buffer.from([s.length]), Buffer.from(s)]);
  // 0x40 is reserved in Hessian 2.0: the walk stops there, so the attachments behind it are not read.
  const attachments = Buffer.concat([Buffer.from('H'), str('group'), str('blue'), Buffer.from('Z')]);
  const body = Buffer.concat([str('2.0.2'), str('com.skiff.Big'), str('1.0'), str('put'), str('Ljava/lang/String;'), Buffer.from([0x40]), Buffer.alloc(300 * 1024, 0x41), attachments]);
  const header = Buffer.alloc(16);
  header.writeUInt16BE(0xdabb, 0);
  header[2] = 0xc2;
  header.writeUInt32BE(9, 8);
  header.writeUInt32BE(body.length, 12);
  const frames: Frame[] = [];
  const errors: unknown[] = [];
  const reader = new FrameReader({ wasm, slabs, proto: 3, maxFrameBytes: 16 * MiB, onFrame: (f) => frames.push(f), onError: (e) => errors.push(e) });
  reader.feed(Buffer.concat([header, body]));
  assert.deepEqual(errors, []);
  assert.equal(frames.length, 1);
  const f = frames[0]!;
  assert.equal(f.view.method, 'put');
  assert.equal(f.view.group, '');
  assert.equal(f.view.headerCount, 0);
  f.release();
  assert.equal(reader.buffered, 0);
});
