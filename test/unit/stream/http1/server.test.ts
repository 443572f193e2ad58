import { test } from 'node:test';
import type net from 'node:net';
import assert from 'node:assert/strict';
import type { CodecErrorInfo, DownstreamStream, ServerConnectionHandler } from '../../../../src/types/http.js';
import type { SkiffError } from '../../../../src/common/errors.js';
import {
  RawClient, countSlabs, echoHandler, parseResponses, startServer, waitFor, type ReceivedRequest,
} from './helpers.js';
import { PATIENCE_MS } from '../../../helpers/wait.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
type WriteFn = (...args: unknown[]) => unknown;

test('keep-alive: several requests in turn on one connection', async () => {
  const slabs = countSlabs();
  const received: ReceivedRequest[] = [];
  const server = await startServer(echoHandler(received));
  try {
    const c = await RawClient.connect(server.port);
    for (let i = 1; i <= 3; i++) {
      c.write(`GET /r${i} HTTP/1.1\r\nhost: a\r\n\r\n`);
      await c.until((t) => parseResponses(t).length === i);
    }
    const res = parseResponses(c.text);
    assert.deepEqual(res.map((r) => r.body), ['GET /r1 0', 'GET /r2 0', 'GET /r3 0']);
    assert.ok(res.every((r) => r.status === 200 && r.headers.connection !== 'close'));
    assert.equal(c.closed, false);
    assert.equal(server.connections.length, 1);
    await waitFor(() => slabs.outstanding() === 0, PATIENCE_MS, 'an idle keep-alive connection to hold no slab');
    c.destroy();
    await waitFor(() => server.connections[0].closed, PATIENCE_MS, 'server side close');
    assert.equal(slabs.outstanding(), 0, 'every slab back in the pool');
    assert.ok(slabs.leased >= 2);
  } finally { slabs.restore(); await server.close(); }
});

test('pipelined requests in one chunk are answered in order even when the first is slowest', async () => {
  const order: string[] = [];
  const handler: ServerConnectionHandler = {
    onRequest(stream) {
      const path = stream.head.path;
      order.push(path);
      const parts: Buffer[] = [];
      stream.setBodyHandler({
        onData: (c) => parts.push(Buffer.from(c)),
        onEnd: () => {
          const delay = path === '/a' ? 40 : 0;
          setTimeout(() => {
            const body = Buffer.from(`${path}:${Buffer.concat(parts).toString()}`);
            stream.writeLocalHead(200, [], { bodyKind: 'length', contentLength: body.length });
            stream.writeBody(body);
            stream.end();
          }, delay);
        },
        onError: () => {},
      });
    },
    onCodecError: (info, reply) => reply(info.status, info.code),
  };
  const server = await startServer(handler);
  try {
    const c = await RawClient.connect(server.port);
    c.write('GET /a HTTP/1.1\r\nhost: x\r\n\r\n'
      + 'POST /b HTTP/1.1\r\nhost: x\r\ncontent-length: 5\r\n\r\nhello'
      + 'POST /c HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n');
    await c.until((t) => parseResponses(t).length === 3);
    assert.deepEqual(parseResponses(c.text).map((r) => r.body), ['/a:', '/b:hello', '/c:abc']);
    assert.deepEqual(order, ['/a', '/b', '/c']);
    c.destroy();
  } finally { await server.close(); }
});

test('content-length and chunked bodies arrive exactly, with chunk extensions and trailers', async () => {
  const received: ReceivedRequest[] = [];
  const server = await startServer(echoHandler(received, 'chunked'));
  try {
    const c = await RawClient.connect(server.port);
    const binary = Buffer.alloc(3000);
    for (let i = 0; i < binary.length; i++) binary[i] = (i * 7) & 0xff;
    c.write(Buffer.concat([Buffer.from(`PUT /bin HTTP/1.1\r\nhost: x\r\ncontent-length: ${binary.length}\r\n\r\n`), binary]));
    c.write('POST /chunked HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\n'
      + '4;name=value\r\nWiki\r\n5;quoted="a b"\r\npedia\r\nE\r\n in\r\n\r\nchunks.\r\n0\r\nx-checksum: abc\r\n\r\n');
    // A body larger than the head slab, in the same write as its head and the next pipelined request.
    const large = Buffer.alloc(100 * 1024);
    for (let i = 0; i < large.length; i++) large[i] = (i * 13 + 5) & 0xff;
    c.write(Buffer.concat([Buffer.from(`POST /large HTTP/1.1\r\nhost: x\r\ncontent-length: ${large.length}\r\n\r\n`), large,
      Buffer.from('GET /next HTTP/1.1\r\nhost: x\r\n\r\n')]));
    await c.until((t) => parseResponses(t).length === 4);
    assert.deepEqual(received[2].body, large);
    assert.equal(received[3].path, '/next');
    assert.deepEqual(received[0].body, binary);
    assert.equal(received[1].body.toString(), 'Wikipedia in\r\n\r\nchunks.');
    assert.equal(received[1].trailers?.get('x-checksum'), 'abc');
    const res = parseResponses(c.text);
    assert.equal(res[0].headers['transfer-encoding'], 'chunked');
    assert.equal(res[1].body, 'POST /chunked 23');
    c.destroy();
  } finally { await server.close(); }
});

test('a chunked request split at every byte boundary is decoded the same', async () => {
  const received: ReceivedRequest[] = [];
  const server = await startServer(echoHandler(received));
  try {
    const c = await RawClient.connect(server.port);
    c.socket.setNoDelay(true);
    const request = 'POST /split HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\n'
      + '3;ext=1\r\nabc\r\n10\r\n0123456789abcdef\r\n0\r\nx-t: 1\r\n\r\n';
    for (let cut = 1; cut < request.length; cut++) {
      c.write(request.slice(0, cut));
      await sleep(1);
      c.write(request.slice(cut));
      await c.until((t) => parseResponses(t).length === cut, PATIENCE_MS);
    }
    assert.equal(received.length, request.length - 1);
    for (const r of received) {
      assert.equal(r.body.toString(), 'abc0123456789abcdef');
      assert.equal(r.trailers?.get('x-t'), '1');
    }
    c.destroy();
  } finally { await server.close(); }
});

test('Expect: 100-continue gets an interim 100 before the body is sent', async () => {
  const received: ReceivedRequest[] = [];
  const server = await startServer(echoHandler(received, 'length', (s) => {
    if (s.head.expectContinue) s.sendContinue();
  }));
  try {
    const c = await RawClient.connect(server.port);
    c.write('POST /up HTTP/1.1\r\nhost: x\r\nexpect: 100-continue\r\ncontent-length: 4\r\n\r\n');
    await c.until((t) => t.includes('\r\n\r\n'));
    assert.match(c.text, /^HTTP\/1\.1 100 Continue\r\n\r\n$/);
    c.write('data');
    await c.until((t) => parseResponses(t).length === 2);
    const res = parseResponses(c.text);
    assert.deepEqual(res.map((r) => r.status), [100, 200]);
    assert.equal(res[1].body, 'POST /up 4');
    c.destroy();
  } finally { await server.close(); }
});

test('an HTTP/1.0 client gets a close-delimited body instead of chunked, and the connection closes', async () => {
  const handler: ServerConnectionHandler = {
    onRequest(stream) {
      stream.writeLocalHead(200, [['content-type', 'text/plain']], { bodyKind: 'chunked' });
      stream.writeBody(Buffer.from('part one, '));
      stream.writeBody(Buffer.from('part two'));
      stream.end();
    },
    onCodecError: (info, reply) => reply(info.status, info.code),
  };
  const server = await startServer(handler);
  try {
    const c = await RawClient.connect(server.port);
    c.write('GET /old HTTP/1.0\r\nhost: x\r\n\r\n');
    const text = await c.untilClosed();
    const [head, body] = text.split('\r\n\r\n');
    assert.match(head, /^HTTP\/1\.1 200 /);
    assert.doesNotMatch(head, /transfer-encoding/i);
    assert.doesNotMatch(head, /content-length/i);
    assert.equal(body, 'part one, part two');
  } finally { await server.close(); }
});

test('an HTTP/1.0 keep-alive client is told the connection stays open', async () => {
  const received: ReceivedRequest[] = [];
  const server = await startServer(echoHandler(received));
  try {
    const c = await RawClient.connect(server.port);
    c.write('GET /k1 HTTP/1.0\r\nconnection: keep-alive\r\n\r\n');
    await c.until((t) => parseResponses(t).length === 1);
    assert.equal(parseResponses(c.text)[0].headers.connection, 'keep-alive');
    c.write('GET /k2 HTTP/1.0\r\nconnection: keep-alive\r\n\r\n');
    await c.until((t) => parseResponses(t).length === 2);
    c.destroy();
  } finally { await server.close(); }
});

/** Sends `bytes` on a new connection, expects onCodecError with `status`, a reply with connection: close, and a clean close. */
async function expectHeadError(options: Parameters<typeof startServer>[1], send: (c: RawClient) => Promise<void>,
  status: number): Promise<CodecErrorInfo> {
  const slabs = countSlabs();
  const errors: CodecErrorInfo[] = [];
  const received: ReceivedRequest[] = [];
  const base = echoHandler(received);
  const server = await startServer({
    onRequest: base.onRequest,
    onCodecError(info, reply) { errors.push(info); reply(info.status, `${info.code}\n`); },
  }, options);
  try {
    const c = await RawClient.connect(server.port);
    await send(c);
    const text = await c.untilClosed();
    assert.equal(errors.length, 1, `one codec error, got ${JSON.stringify(errors)}`);
    assert.equal(errors[0].status, status);
    assert.match(errors[0].code, /^SKIFF_/);
    const res = parseResponses(text);
    assert.equal(res[0].status, status);
    assert.equal(res[0].headers.connection, 'close');
    assert.equal(res[0].body, `${errors[0].code}\n`);
    // The server still serves a new connection.
    const d = await RawClient.connect(server.port);
    d.write('GET /after HTTP/1.1\r\nhost: x\r\n\r\n');
    await d.until((t) => parseResponses(t).length === 1);
    assert.equal(parseResponses(d.text)[0].body, 'GET /after 0');
    d.destroy();
    await waitFor(() => server.connections.every((s) => s.closed), PATIENCE_MS, 'connections closed');
    assert.equal(slabs.outstanding(), 0, 'slabs returned after a head error');
    return errors[0];
  } finally { slabs.restore(); await server.close(); }
}

test('request smuggling (content-length with transfer-encoding) is a 400', async () => {
  await expectHeadError({}, async (c) => {
    c.write('POST / HTTP/1.1\r\nhost: x\r\ncontent-length: 5\r\ntransfer-encoding: chunked\r\n\r\n0\r\n\r\n');
  }, 400);
});

test('a head over max_request_headers_kb is a 431', async () => {
  await expectHeadError({ maxRequestHeadersKb: 8 }, async (c) => {
    c.write(`GET / HTTP/1.1\r\nhost: x\r\nx-big: ${'v'.repeat(10 * 1024)}\r\n\r\n`);
  }, 431);
});

test('a head over max_request_headers_kb arriving slowly in small pieces is a 431', async () => {
  await expectHeadError({ maxRequestHeadersKb: 2 }, async (c) => {
    c.write('GET / HTTP/1.1\r\nhost: x\r\n');
    for (let i = 0; i < 40 && !c.closed; i++) { c.write(`x-h${i}: ${'v'.repeat(100)}\r\n`); await sleep(1); }
  }, 431);
});

test('a slow client that does not finish its head in time gets a 408', async () => {
  const info = await expectHeadError({ requestHeadersTimeoutMs: 100 }, async (c) => {
    c.write('GET /slow HTTP/1.1\r\nhost: x\r\n');
  }, 408);
  assert.equal(info.code, 'SKIFF_HTTP1_REQUEST_HEADERS_TIMEOUT');
});

test('a malformed chunked body after the head reaches the body handler as an error', async () => {
  const slabs = countSlabs();
  const received: ReceivedRequest[] = [];
  let aborted: SkiffError | undefined;
  const server = await startServer(echoHandler(received, 'length', (s) => s.onAbort((e) => { aborted = e; })));
  try {
    const c = await RawClient.connect(server.port);
    c.write('POST /bad HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\nZZ\r\n');
    await c.untilClosed();
    assert.equal(received.length, 1);
    assert.equal(received[0].error?.code, 'SKIFF_HTTP1_INVALID_CHUNK_SIZE');
    assert.equal(aborted?.code, 'SKIFF_HTTP1_INVALID_CHUNK_SIZE');
    await waitFor(() => server.connections.every((s) => s.closed), PATIENCE_MS, 'connection closed');
    assert.equal(slabs.outstanding(), 0);
  } finally { slabs.restore(); await server.close(); }
});

test('a client that disconnects mid-body: the body handler and onAbort hear it', async () => {
  const received: ReceivedRequest[] = [];
  let aborted: SkiffError | undefined;
  const server = await startServer(echoHandler(received, 'length', (s) => s.onAbort((e) => { aborted = e; })));
  try {
    const c = await RawClient.connect(server.port);
    c.write('POST /cut HTTP/1.1\r\nhost: x\r\ncontent-length: 100\r\n\r\nonly-some');
    await waitFor(() => received.length === 1, PATIENCE_MS, 'request');
    c.socket.end();
    await waitFor(() => received[0].error !== undefined, PATIENCE_MS, 'body error');
    assert.equal(received[0].error?.code, 'SKIFF_DOWNSTREAM_RESET');
    assert.equal(aborted?.code, 'SKIFF_DOWNSTREAM_RESET');
  } finally { await server.close(); }
});

test('an idle keep-alive connection is closed after idle_timeout', async () => {
  const received: ReceivedRequest[] = [];
  const server = await startServer(echoHandler(received), { idleTimeoutMs: 80 });
  try {
    // Taken before the connection exists, so every arming of the idle timer comes after it: the close cannot
    // come sooner than 80 ms from here however slowly the response reached the client.
    const t0 = Date.now();
    const c = await RawClient.connect(server.port);
    c.write('GET / HTTP/1.1\r\nhost: x\r\n\r\n');
    await c.until((t) => parseResponses(t).length === 1);
    await c.untilClosed();
    assert.ok(Date.now() - t0 >= 79, 'not closed before the idle timeout');
  } finally { await server.close(); }
});

test('max_requests_per_connection: the last allowed response says connection: close', async () => {
  const received: ReceivedRequest[] = [];
  const server = await startServer(echoHandler(received), { maxRequestsPerConnection: 2 });
  try {
    const c = await RawClient.connect(server.port);
    c.write('GET /1 HTTP/1.1\r\nhost: x\r\n\r\nGET /2 HTTP/1.1\r\nhost: x\r\n\r\nGET /3 HTTP/1.1\r\nhost: x\r\n\r\n');
    const text = await c.untilClosed();
    const res = parseResponses(text);
    assert.equal(res.length, 2);
    assert.equal(res[0].headers.connection, undefined);
    assert.equal(res[1].headers.connection, 'close');
    assert.equal(received.length, 2);
  } finally { await server.close(); }
});

test('a handler that throws is contained to its connection', async () => {
  const received: ReceivedRequest[] = [];
  const echo = echoHandler(received);
  const server = await startServer({
    onRequest(stream: DownstreamStream) {
      if (stream.head.path === '/boom') throw new Error('handler bug');
      echo.onRequest(stream);
    },
    onCodecError: echo.onCodecError,
  });
  try {
    const c = await RawClient.connect(server.port);
    c.write('GET /boom HTTP/1.1\r\nhost: x\r\n\r\n');
    await c.untilClosed();
    const d = await RawClient.connect(server.port);
    d.write('GET /fine HTTP/1.1\r\nhost: x\r\n\r\n');
    await d.until((t) => parseResponses(t).length === 1);
    d.destroy();
  } finally { await server.close(); }
});

test('regression: a response written as head then body leaves in one write, so Nagle cannot hold the body back', async () => {
  const received: ReceivedRequest[] = [];
  const server = await startServer(echoHandler(received));
  try {
    const c = await RawClient.connect(server.port);
    c.socket.setNoDelay(true);
    await waitFor(() => server.connections.length === 1, PATIENCE_MS, 'the server side of the connection');
    // Count the server socket's writes (one writev carries every chunk buffered while corked). With the head
    // and the body in separate writes, the body waits for the delayed ACK of the head (about 40 ms on Linux).
    // Counting writes instead of timing the requests keeps the check exact on a machine of any speed.
    const socket = server.connections[0]!.socket as net.Socket & { _write: WriteFn; _writev: WriteFn };
    let writes = 0;
    const plainWrite = socket._write;
    const vectorWrite = socket._writev;
    socket._write = function (this: net.Socket, ...args: unknown[]) { writes++; return plainWrite.apply(this, args); };
    socket._writev = function (this: net.Socket, ...args: unknown[]) { writes++; return vectorWrite.apply(this, args); };
    for (let i = 1; i <= 10; i++) {
      c.write(`GET /n${i} HTTP/1.1\r\nhost: x\r\n\r\n`);
      await c.until((t) => parseResponses(t).length === i);
      assert.equal(writes, i, `response ${i}: head and body in one socket write`);
    }
    c.destroy();
  } finally { await server.close(); }
});

test('a pipelined burst larger than the head slab is served in order while responses are slow', async () => {
  const slabs = countSlabs();
  const handler: ServerConnectionHandler = {
    onRequest(stream) {
      const path = stream.head.path;
      setTimeout(() => {
        const body = Buffer.from(path);
        stream.writeLocalHead(200, [], { bodyKind: 'length', contentLength: body.length });
        stream.writeBody(body);
        stream.end();
      }, path === '/0' ? 30 : 1);
    },
    onCodecError: (info, reply) => reply(info.status, info.code),
  };
  const server = await startServer(handler);
  try {
    const c = await RawClient.connect(server.port);
    const N = 60;
    let burst = '';
    for (let i = 0; i < N; i++) burst += `GET /${i} HTTP/1.1\r\nhost: x\r\nx-pad: ${'p'.repeat(200)}\r\n\r\n`;
    assert.ok(burst.length > 12 * 1024);
    c.write(burst);
    await c.until((t) => parseResponses(t).length === N, 10000);
    assert.deepEqual(parseResponses(c.text).map((r) => r.body), Array.from({ length: N }, (_, i) => `/${i}`));
    c.destroy();
    await waitFor(() => server.connections.every((s) => s.closed), PATIENCE_MS, 'closed');
    assert.equal(slabs.outstanding(), 0);
  } finally { slabs.restore(); await server.close(); }
});
