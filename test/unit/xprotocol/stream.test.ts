// The x-protocol stream layer at the byte level: untrusted bytes (wrong magic, a length past max_frame_bytes,
// truncated frames, random bytes) end in a clean close or a wait, never a crash; one-way requests; a client that
// stops reading; Bolt v2 frames with CRC32 through the id rewrite.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as net from 'node:net';
import { once } from 'node:events';
import { createRequire } from 'node:module';
import { startBoltServer } from '../../helpers/rpc_peers.js';
import { seededRandom } from '../../helpers/random.js';
import { waitFor, PATIENCE_MS, SLOW_PATIENCE_MS } from '../../helpers/wait.js';
import { allTo, startXProxy, staticCluster } from './harness.js';

const require = createRequire(import.meta.url);
const bolt = require('sofa-bolt-node/lib/protocol') as { requestEncode(id: number, req: object, options: object): Buffer };
const V1 = { protocolType: 'bolt', codecType: 'hessian2' };

/**
 * A Bolt echo request. Its timeout is generous: sofa-rpc-node's server answers an error instead of the result
 * when a request waited longer than its timeout, which a busy machine queueing 150 large answers can reach.
 */
function request(id: number, extra: object = {}): Buffer {
  return bolt.requestEncode(id, { serverSignature: 'com.skiff.Echo:1.0', methodName: 'echo', args: [{ $class: 'java.lang.String', $: 'x' }], timeout: 120_000, ...extra }, V1);
}

/** Sends `bytes` and waits for the proxy to close the connection (bounded). */
async function sendAndAwaitClose(port: number, bytes: Buffer, ms = PATIENCE_MS): Promise<Buffer> {
  const c = net.connect({ port, host: '127.0.0.1' });
  c.on('error', () => {});
  const chunks: Buffer[] = [];
  c.on('data', (d: Buffer) => chunks.push(d));
  await once(c, 'connect');
  c.write(bytes);
  const closed = once(c, 'close');
  await Promise.race([closed, new Promise((_, rej) => setTimeout(() => { c.destroy(); rej(new Error('not closed')); }, ms))]);
  return Buffer.concat(chunks);
}

test('wrong magic, a frame over max_frame_bytes and random bytes close the connection cleanly', async () => {
  const proxy = await startXProxy({ route_config: allTo('none'), max_frame_bytes: { value: 1024 } }, []);
  try {
    await sendAndAwaitClose(proxy.port, Buffer.from('GET / HTTP/1.1\r\nhost: x\r\n\r\n'));
    const big = request(1, { args: [{ $class: 'java.lang.String', $: 'y'.repeat(4000) }] });
    await sendAndAwaitClose(proxy.port, big);
    const rnd = seededRandom(7);
    for (let i = 0; i < 20; i++) {
      const junk = Buffer.from(Array.from({ length: 64 }, () => Math.floor(rnd() * 256)));
      junk[0] = 1; // looks like Bolt v1 at first
      await sendAndAwaitClose(proxy.port, Buffer.concat([junk, Buffer.alloc(4096)])).catch(() => undefined);
    }
    assert.ok(proxy.counter('xprotocol.rpc.downstream_cx_protocol_error') >= 2);
    // Still serving: a truncated frame just waits; the connection stays open.
    const c = net.connect({ port: proxy.port, host: '127.0.0.1' });
    c.on('error', () => {});
    await once(c, 'connect');
    c.write(request(5).subarray(0, 30));
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(c.destroyed, false);
    c.destroy();
    await waitFor(() => proxy.filter.activeSessions === 0, PATIENCE_MS, 'sessions closed');
  } finally {
    await proxy.close();
  }
});

test('a one-way request is forwarded and nothing comes back', async () => {
  const server = await startBoltServer([{ interfaceName: 'com.skiff.Echo', methods: { echo: (x) => x } }]);
  const proxy = await startXProxy({ route_config: allTo('rpc') }, [staticCluster('rpc', [server.port])]);
  try {
    const c = net.connect({ port: proxy.port, host: '127.0.0.1' });
    c.on('error', () => {});
    const got: Buffer[] = [];
    c.on('data', (d: Buffer) => got.push(d));
    await once(c, 'connect');
    c.write(request(9, { oneway: true }));
    await waitFor(() => server.calls.get('echo') === 1, PATIENCE_MS, 'the server ran the one-way call');
    await waitFor(() => proxy.gauge('xprotocol.rpc.downstream_rq_active') === 0, PATIENCE_MS, 'the one-way request completed');
    assert.equal(proxy.counter('xprotocol.rpc.downstream_rq_oneway'), 1);
    assert.equal(Buffer.concat(got).length, 0, 'no reply to a one-way request');
    c.destroy();
  } finally {
    await proxy.close();
    await server.close();
  }
});

test('a client that stops reading its responses is not read from until it catches up', async () => {
  const big = 'r'.repeat(200_000);
  const server = await startBoltServer([{ interfaceName: 'com.skiff.Echo', methods: { echo: () => big } }]);
  const proxy = await startXProxy({ route_config: allTo('rpc') }, [staticCluster('rpc', [server.port])]);
  try {
    const c = net.connect({ port: proxy.port, host: '127.0.0.1' });
    c.on('error', () => {});
    await once(c, 'connect');
    c.pause();
    const total = 150;
    for (let i = 1; i <= total; i++) {
      c.write(request(i));
      await new Promise((r) => setTimeout(r, 4));
    }
    await new Promise((r) => setTimeout(r, 300));
    const readWhileStalled = proxy.counter('xprotocol.rpc.downstream_rq_total');
    assert.ok(readWhileStalled < total, `the proxy kept reading requests (${readWhileStalled} of ${total}) while responses piled up`);
    // Reading again: every response arrives (each ~200 kB).
    let bytes = 0;
    c.on('data', (d: Buffer) => { bytes += d.length; });
    c.resume();
    await waitFor(() => proxy.counter('xprotocol.rpc.downstream_rq_total') === total && bytes >= total * 200_000, SLOW_PATIENCE_MS, 'all responses')
      .catch((e: Error) => { throw new Error(`${e.message}: ${bytes} bytes, ${proxy.counter('xprotocol.rpc.downstream_rq_total')} requests read`); });
    c.destroy();
  } finally {
    await proxy.close();
    await server.close();
  }
});

test('Bolt v2 with CRC32: the request id is patched (CRC recomputed) on the way up and restored on the way down', async () => {
  const decoder = require('sofa-bolt-node/lib/protocol') as { decode(b: Buffer, o?: object): { packetId: number; packetType: string; data?: { appResponse?: unknown } } };
  const frames: Buffer[] = [];
  const { startServer } = await import('../tcp_proxy/harness.js');
  const v2 = { protocolType: 'bolt2', boltVersion: 2, crcEnable: true, codecType: 'hessian2' };
  const proto = require('sofa-bolt-node/lib/protocol') as { requestEncode(id: number, r: object, o: object): Buffer; responseEncode(id: number, r: object, o: object): Buffer };
  // A Bolt v2 upstream that checks every request with sofa-bolt-node's decoder (CRC included) and answers it.
  const upstream = await startServer((s) => {
    s.on('data', (d: Buffer) => {
      frames.push(d);
      const req = decoder.decode(d, { crcEnable: true });
      s.write(proto.responseEncode(req.packetId, { isError: false, appResponse: { $class: 'java.lang.String', $: `id ${req.packetId}` } }, v2));
    });
  });
  const proxy = await startXProxy({ route_config: allTo('rpc') }, [staticCluster('rpc', [upstream.port])]);
  try {
    const c = net.connect({ port: proxy.port, host: '127.0.0.1' });
    c.on('error', () => {});
    await once(c, 'connect');
    c.write(proto.requestEncode(424242, { serverSignature: 'com.skiff.Echo:1.0', methodName: 'echo', args: [{ $class: 'java.lang.String', $: 'x' }], timeout: 3000 }, v2));
    const [reply] = (await once(c, 'data')) as [Buffer];
    const res = decoder.decode(reply, { crcEnable: true });
    assert.equal(res.packetType, 'response');
    assert.equal(res.packetId, 424242, 'the caller gets its own id back');
    const upstreamId = decoder.decode(frames[0], { crcEnable: true }).packetId;
    assert.notEqual(upstreamId, 424242, 'the upstream saw the connection-unique id');
    assert.equal(res.data?.appResponse, `id ${upstreamId}`);
    c.destroy();
  } finally {
    await proxy.close();
    await upstream.close();
  }
});
