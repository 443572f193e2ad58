// Skiff's own Bolt frames against a real client over a socket on 127.0.0.1: a tiny server made of the wasm
// codec answers sofa-rpc-node's heartbeat and replies to its calls with Skiff's error replies; the client must
// read them as the errors they are. (Proxying real peers end to end is the x-protocol framework's suite.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import * as L from '../../../../src/wasm/layout.js';
import {
  XP_BOLT_V1, XP_NEED_MORE, decodeFrame, detectProtocol, encodeErrorReply, encodeHeartbeatReply, XFrameView,
} from '../../../../src/codec/xprotocol/index.js';
import { harness, require } from './harness.js';

const silent = { info() {}, warn() {}, error() {}, debug() {} };

/** Serves Bolt or Dubbo with the wasm codec: heartbeat replies, and an error reply with `status` to every request. */
function errorServer(status: number, message: string) {
  const h = harness();
  const seen: string[] = [];
  const sent = { heartbeatReplies: 0 };
  const sockets = new Set<Socket>();
  const server = createServer((sock) => {
    sockets.add(sock);
    sock.on('close', () => sockets.delete(sock));
    let pending = Buffer.alloc(0);
    sock.on('data', (chunk) => {
      pending = Buffer.concat([pending, chunk]);
      for (let guard = 0; guard < 1000 && pending.length > 0; guard++) {
        const len = h.load(pending);
        const proto = detectProtocol(h.wasm, h.buf, len);
        if (proto === XP_NEED_MORE) return;
        const n = decodeFrame(h.wasm, proto, h.buf, len, h.rec);
        if (n === XP_NEED_MORE) return;
        if (n < 0) { sock.destroy(); return; }
        const frame = new XFrameView(h.wasm, h.rec);
        seen.push(`${frame.kind} ${frame.service} ${frame.method}`.trim());
        let out = 0;
        if (frame.kind === 'heartbeat') { out = encodeHeartbeatReply(h.wasm, proto, h.rec, h.out, h.outCap); sent.heartbeatReplies++; }
        else if (frame.kind === 'request') {
          const msg = Buffer.from(message);
          out = encodeErrorReply(h.wasm, proto, h.rec, status, h.put(msg), msg.length, h.out, h.outCap);
        }
        if (out > 0) sock.write(h.bytesAt(h.out, out));
        pending = pending.subarray(n);
      }
    });
  });
  return { server, seen, sent, close: () => { for (const s of sockets) s.destroy(); server.close(); } };
}

test('sofa-rpc-node reads Skiff\'s Bolt error replies as failed calls, per status', async () => {
  const { RpcClient } = require('sofa-rpc-node').client as { RpcClient: new (o: object) => any };
  // sofa-bolt-node turns any non-success status without content into this one error (Java bolt's client maps
  // the status itself to InvokeTimeoutException, InvokeServerBusyException, ...); the status is on the wire.
  const expect = /^Server exception when invoke with callback/;
  for (const status of [L.BOLT_STATUS_TIMEOUT, L.BOLT_STATUS_SERVER_THREADPOOL_BUSY, L.BOLT_STATUS_NO_PROCESSOR]) {
    const s = errorServer(status, 'skiff: upstream unavailable');
    await new Promise<void>((resolve) => s.server.listen(0, '127.0.0.1', resolve));
    const port = (s.server.address() as AddressInfo).port;
    const client = new RpcClient({ logger: silent });
    try {
      const consumer = client.createConsumer({
        interfaceName: 'com.alipay.test.TestService', version: '1.0', serverHost: `127.0.0.1:${port}`,
        // the address group re-checks faulty addresses after this long, also once closed: keep it short
        retryFaultInterval: 50,
      });
      await consumer.ready();
      await assert.rejects(
        consumer.invoke('plus', [{ $class: 'int', $: 1 }, { $class: 'int', $: 2 }], { responseTimeout: 3000 }),
        (err: Error) => { assert.match(err.message, expect); return true; },
      );
      assert.ok(s.seen.includes('request com.alipay.test.TestService:1.0 plus'), s.seen.join(', '));
      // a heartbeat on the same connection is answered by the codec; the connection keeps working after it
      const conn = [...client.connectionManager.connections.values()][0];
      conn._lastActiveTime = 0;
      conn.heartbeat();
      await assert.rejects(consumer.invoke('minus', [{ $class: 'int', $: 1 }], { responseTimeout: 3000 }),
        (err: Error) => { assert.match(err.message, expect); return true; });
      assert.deepEqual(s.seen, ['request com.alipay.test.TestService:1.0 plus', 'heartbeat', 'request com.alipay.test.TestService:1.0 minus']);
      assert.equal(s.sent.heartbeatReplies, 1);
    } finally {
      await client.close();
      s.close();
    }
  }
});

test('dubbo2.js (DirectlyDubbo) reads Skiff\'s Dubbo error replies as errors carrying the message', async () => {
  const DirectlyDubbo = (require('dubbo2.js/es6/directly-dubbo.js') as { default: { from(p: object): any } }).default;
  const java = require('js-to-java') as { String(s: string): object };
  const s = errorServer(L.DUBBO_STATUS_SERVICE_NOT_FOUND, 'skiff: no route for org.demo.Hello');
  await new Promise<void>((resolve) => s.server.listen(0, '127.0.0.1', resolve));
  const port = (s.server.address() as AddressInfo).port;
  const dubbo = DirectlyDubbo.from({ dubboAddress: `127.0.0.1:${port}`, dubboVersion: '2.0.2', dubboInvokeTimeout: 3 });
  try {
    const hello = dubbo.proxyService({
      dubboInterface: 'org.demo.Hello', version: '1.0.0', timeout: 3,
      methods: { sayHello: (name: string) => [java.String(name)] },
    });
    const r = await hello.sayHello('ada');
    assert.ok(r.err instanceof Error, 'the call failed');
    assert.match(r.err.message, /skiff: no route for org\.demo\.Hello/);
    assert.deepEqual(s.seen, ['request org.demo.Hello sayHello']);
  } finally {
    // no reconnect attempts once the test is over: the worker retries a closed socket 20 times otherwise
    const worker = dubbo._socketWorker;
    worker._retry = 0;
    s.close();
    worker._socket?.destroy();
  }
});
