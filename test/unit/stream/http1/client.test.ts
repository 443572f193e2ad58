import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { once } from 'node:events';
import { createClientConnection } from '../../../../src/stream/http1/client.js';
import type { ClientConnection, HeaderList, ResponseHandler, ResponseHead, ServerConnectionHandler } from '../../../../src/types/http.js';
import type { SkiffError } from '../../../../src/common/errors.js';
import { UpstreamResetError } from '../../../../src/stream/http1/errors.js';
import { connectSharedReads } from '../../../../src/stream/http1/socket-io.js';
import { RawClient, countSlabs, parseResponses, startServer, waitFor, wasm } from './helpers.js';
import { PATIENCE_MS } from '../../../helpers/wait.js';

/** What the upstream received so far on one connection, and the socket to answer on. */
interface UpstreamConn { socket: net.Socket; text: () => string }

/** A raw upstream: `onRequest` is called each time a request head (and its content-length body) is complete. */
async function fakeUpstream(onRequest: (req: string, conn: UpstreamConn, index: number) => void) {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
    socket.on('close', () => sockets.delete(socket));
    let buf = '';
    let served = 0;
    let count = 0;
    const conn: UpstreamConn = { socket, text: () => buf };
    socket.on('data', (d: Buffer) => {
      buf += d.toString('latin1');
      for (let guard = 0; guard < 100; guard++) {
        const end = buf.indexOf('\r\n\r\n', served);
        if (end < 0) return;
        const head = buf.slice(served, end);
        const cl = /content-length: *(\d+)/i.exec(head);
        const bodyLen = cl ? Number(cl[1]) : 0;
        if (/transfer-encoding: *chunked/i.test(head)) {
          const last = buf.indexOf('\r\n0\r\n\r\n', end);
          if (last < 0) return;
          onRequest(buf.slice(served, last + 7), conn, count++);
          served = last + 7;
          continue;
        }
        if (buf.length < end + 4 + bodyLen) return;
        onRequest(buf.slice(served, end + 4 + bodyLen), conn, count++);
        served = end + 4 + bodyLen;
      }
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as net.AddressInfo).port;
  const opened: net.Socket[] = [];
  return {
    port,
    async connect(): Promise<ClientConnection> {
      // client-shared-reads.test.ts runs this whole file again over sockets that read into one reused buffer.
      const s = process.env.SKIFF_TEST_SHARED_READS === '1' ? connectSharedReads('127.0.0.1', port) : net.connect(port, '127.0.0.1');
      opened.push(s);
      await once(s, 'connect');
      return createClientConnection(wasm, s);
    },
    async close() {
      for (const s of [...sockets, ...opened]) s.destroy();
      server.close();
      await once(server, 'close');
    },
  };
}

interface Collected {
  head?: ResponseHead;
  status?: number;
  headers?: Record<string, string>;
  body: Buffer[];
  trailers?: HeaderList;
  error?: SkiffError;
  continued: number;
  ended: boolean;
  done: Promise<void>;
}

function collector(): { handler: ResponseHandler; got: Collected } {
  let resolve!: () => void;
  const got: Collected = { body: [], continued: 0, ended: false, done: new Promise<void>((r) => { resolve = r; }) };
  const handler: ResponseHandler = {
    onHead(head) {
      got.head = head;
      got.status = head.status;
      got.headers = {};
      for (let i = 0; i < head.headers.size; i++) got.headers[head.headers.name(i)] = head.headers.value(i);
    },
    onContinue() { got.continued++; },
    onData(c) { got.body.push(Buffer.from(c)); },
    onEnd(t) { got.trailers = t; got.ended = true; resolve(); },
    onError(e) { got.error = e; resolve(); },
  };
  return { handler, got };
}

/** Sends a bodiless request and waits for its outcome (end or error). */
async function exchange(cc: ClientConnection, method: string, path: string): Promise<Collected> {
  const { handler, got } = collector();
  cc.requestLocal(method, path, [['host', 'up']], { bodyKind: 'none' }, handler).end();
  await got.done;
  return got;
}

const text = (g: Collected) => Buffer.concat(g.body).toString('latin1');

test('content-length responses on a kept-alive connection, and the request head on the wire', async () => {
  const slabs = countSlabs();
  const seen: string[] = [];
  const up = await fakeUpstream((req, conn) => {
    seen.push(req);
    conn.socket.write('HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-Up: 1\r\n\r\nhello');
  });
  try {
    const cc = await up.connect();
    for (let i = 0; i < 2; i++) {
      const { handler, got } = collector();
      const req = cc.requestLocal('GET', `/p${i}`, [['host', 'up'], ['x-req', 'v']], { bodyKind: 'none' }, handler);
      req.end();
      await got.done;
      assert.equal(got.error, undefined);
      assert.equal(got.status, 200);
      assert.equal(got.headers?.['x-up'], '1');
      assert.equal(text(got), 'hello');
      assert.equal(cc.reusable, true);
    }
    assert.match(seen[0], /^GET \/p0 HTTP\/1\.1\r\n/);
    assert.match(seen[0], /\r\nx-req: v\r\n/);
    assert.match(seen[1], /^GET \/p1 HTTP\/1\.1\r\n/);
    cc.close();
    await waitFor(() => slabs.outstanding() === 0, PATIENCE_MS, 'slabs returned');
  } finally { slabs.restore(); await up.close(); }
});

test('a chunked response with trailers', async () => {
  const up = await fakeUpstream((_req, conn) => {
    conn.socket.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;x=y\r\nhello\r\n7\r\n, world\r\n0\r\nx-sum: 12\r\n\r\n');
  });
  try {
    const cc = await up.connect();
    const got = await exchange(cc, 'GET', '/c');
    assert.equal(text(got), 'hello, world');
    assert.equal(got.head?.bodyKind, 'chunked');
    assert.equal(got.trailers?.get('x-sum'), '12');
    assert.equal(cc.reusable, true);
    cc.close();
  } finally { await up.close(); }
});

test('a close-delimited response ends when the upstream closes; the connection is not reusable', async () => {
  const up = await fakeUpstream((_req, conn) => {
    conn.socket.write('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil ');
    setTimeout(() => conn.socket.end('the end'), 20);
  });
  try {
    const cc = await up.connect();
    const got = await exchange(cc, 'GET', '/close');
    assert.equal(got.error, undefined);
    assert.equal(text(got), 'until the end');
    assert.equal(cc.reusable, false);
  } finally { await up.close(); }
});

test('HEAD, 204 and 304 responses have no body whatever their headers say', async () => {
  const up = await fakeUpstream((req, conn) => {
    if (req.startsWith('HEAD')) conn.socket.write('HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n');
    else if (req.includes('/204')) conn.socket.write('HTTP/1.1 204 No Content\r\n\r\n');
    else conn.socket.write('HTTP/1.1 304 Not Modified\r\nContent-Length: 50\r\nETag: "x"\r\n\r\n');
  });
  try {
    const cc = await up.connect();
    for (const [method, path, status] of [['HEAD', '/h', 200], ['GET', '/204', 204], ['GET', '/304', 304]] as const) {
      const got = await exchange(cc, method, path);
      assert.equal(got.error, undefined, `${method} ${path}`);
      assert.equal(got.status, status);
      assert.equal(got.body.length, 0);
      assert.equal(cc.reusable, true, `reusable after ${status}`);
    }
    cc.close();
  } finally { await up.close(); }
});

test('interim responses: 100 reaches onContinue, 103 is dropped, the final response follows', async () => {
  const up = await fakeUpstream((_req, conn) => {
    conn.socket.write('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </s.css>\r\n\r\n');
    setTimeout(() => conn.socket.write('HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok'), 10);
  });
  try {
    const cc = await up.connect();
    const { handler, got } = collector();
    const req = cc.requestLocal('POST', '/e', [['host', 'up']], { bodyKind: 'length', contentLength: 3 }, handler);
    req.writeBody(Buffer.from('abc'));
    req.end();
    await got.done;
    assert.equal(got.continued, 1);
    assert.equal(got.status, 201);
    assert.equal(text(got), 'ok');
    assert.equal(cc.reusable, true);
    cc.close();
  } finally { await up.close(); }
});

test('a chunked request body is framed on the wire', async () => {
  let seen = '';
  const up = await fakeUpstream((req, conn) => { seen = req; conn.socket.write('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n'); });
  try {
    const cc = await up.connect();
    const { handler, got } = collector();
    const req = cc.requestLocal('POST', '/up', [['host', 'up']], { bodyKind: 'chunked' }, handler);
    req.writeBody(Buffer.from('abc'));
    req.writeBody(Buffer.from('0123456789'));
    req.end();
    await got.done;
    assert.match(seen, /\r\ntransfer-encoding: chunked\r\n/i);
    assert.ok(seen.endsWith('\r\n\r\n3\r\nabc\r\na\r\n0123456789\r\n0\r\n\r\n'), JSON.stringify(seen));
    assert.equal(cc.reusable, true);
    cc.close();
  } finally { await up.close(); }
});

test('a garbage response is SKIFF_UPSTREAM_PROTOCOL_ERROR', async () => {
  const slabs = countSlabs();
  const up = await fakeUpstream((_req, conn) => conn.socket.write('SSH-2.0-OpenSSH_9.6\r\n\r\n'));
  try {
    const cc = await up.connect();
    const got = await exchange(cc, 'GET', '/');
    assert.equal(got.error?.code, 'SKIFF_UPSTREAM_PROTOCOL_ERROR');
    assert.equal(got.error?.source, 'upstream');
    assert.equal(got.ended, false);
    assert.equal(cc.reusable, false);
    await waitFor(() => slabs.outstanding() === 0, PATIENCE_MS, 'slabs returned');
  } finally { slabs.restore(); await up.close(); }
});

test('a broken chunked response body is SKIFF_UPSTREAM_PROTOCOL_ERROR', async () => {
  const up = await fakeUpstream((_req, conn) => conn.socket.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhelloXX'));
  try {
    const cc = await up.connect();
    const got = await exchange(cc, 'GET', '/');
    assert.equal(got.error?.code, 'SKIFF_UPSTREAM_PROTOCOL_ERROR');
    assert.equal(text(got), 'hello');
  } finally { await up.close(); }
});

test('an upstream reset mid-body is SKIFF_UPSTREAM_RESET, retryable, saying response bytes arrived', async () => {
  const slabs = countSlabs();
  const up = await fakeUpstream((_req, conn) => {
    conn.socket.write('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial');
    setTimeout(() => conn.socket.resetAndDestroy(), 20);
  });
  try {
    const cc = await up.connect();
    const got = await exchange(cc, 'GET', '/');
    assert.equal(got.error?.code, 'SKIFF_UPSTREAM_RESET');
    assert.equal(got.error?.retryable, true);
    assert.ok(got.error instanceof UpstreamResetError);
    assert.ok(got.error.responseBytes > 0);
    assert.match(got.error.message, /after \d+ response bytes/);
    assert.equal(text(got), 'partial');
    assert.equal(cc.reusable, false);
    await waitFor(() => slabs.outstanding() === 0, PATIENCE_MS, 'slabs returned');
  } finally { slabs.restore(); await up.close(); }
});

test('an upstream that closes before answering: SKIFF_UPSTREAM_RESET with no response bytes', async () => {
  const up = await fakeUpstream((_req, conn) => conn.socket.end());
  try {
    const cc = await up.connect();
    let closed = false;
    cc.onClose(() => { closed = true; });
    const got = await exchange(cc, 'GET', '/');
    assert.equal(got.error?.code, 'SKIFF_UPSTREAM_RESET');
    assert.equal((got.error as UpstreamResetError).responseBytes, 0);
    assert.match(got.error!.message, /before any response bytes/);
    await waitFor(() => closed, PATIENCE_MS, 'onClose');
  } finally { await up.close(); }
});

test('a busy connection refuses a second request', async () => {
  const up = await fakeUpstream(() => {});
  try {
    const cc = await up.connect();
    const { handler } = collector();
    cc.requestLocal('GET', '/', [['host', 'up']], { bodyKind: 'none' }, handler).end();
    assert.equal(cc.reusable, false);
    assert.throws(() => cc.requestLocal('GET', '/2', [['host', 'up']], { bodyKind: 'none' }, collector().handler),
      (e: SkiffError) => e.code === 'SKIFF_UPSTREAM_CONNECTION_BUSY');
    cc.close();
  } finally { await up.close(); }
});

test('pauseResponse holds the response body until resumeResponse', async () => {
  const MiB = 1024 * 1024;
  const up = await fakeUpstream((_req, conn) => {
    conn.socket.write(`HTTP/1.1 200 OK\r\nContent-Length: ${4 * MiB}\r\n\r\n`);
    conn.socket.write(Buffer.alloc(4 * MiB, 7));
  });
  try {
    const cc = await up.connect();
    const { handler, got } = collector();
    let received = 0;
    const req = cc.requestLocal('GET', '/big', [['host', 'up']], { bodyKind: 'none' }, {
      ...handler,
      onData(c) { received += c.length; req.pauseResponse(); },
    });
    req.end();
    await waitFor(() => received > 0, PATIENCE_MS, 'first bytes');
    await new Promise((r) => setTimeout(r, 50));
    const held = received;
    const socket = (cc as unknown as { socket: net.Socket }).socket;
    const readAtHold = socket.bytesRead;
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(received, held, 'nothing delivered while paused');
    assert.equal(socket.bytesRead, readAtHold, 'the upstream socket is not read while paused');
    assert.ok(readAtHold < 4 * MiB, 'the body was not read ahead in full');
    for (let i = 0; i < 4096 && !got.ended && !got.error; i++) {
      req.resumeResponse();
      await new Promise((r) => setImmediate(r));
    }
    await got.done;
    assert.equal(received, 4 * MiB);
    assert.equal(cc.reusable, true);
    cc.close();
  } finally { await up.close(); }
});

test('end to end: a downstream request forwarded upstream with rewritten heads, bodies both ways', async () => {
  const slabs = countSlabs();
  let upstreamSaw = '';
  const up = await fakeUpstream((req, conn) => {
    upstreamSaw = req;
    conn.socket.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-Up: yes\r\nConnection: keep-alive\r\n\r\n3\r\nabc\r\n3\r\ndef\r\n0\r\n\r\n');
  });
  const cc = await up.connect();
  const proxy: ServerConnectionHandler = {
    onRequest(stream) {
      const ureq = cc.request(stream.head, { bodyKind: stream.head.bodyKind, contentLength: stream.head.contentLength, add: [['x-via', 'skiff']] }, {
        onHead(head) { stream.writeHead(head, { bodyKind: head.bodyKind, add: [['x-proxied', '1']] }); },
        onData(c) { stream.writeBody(c); },
        onEnd() { stream.end(); },
        onError() { stream.reset(); },
      });
      stream.setBodyHandler({ onData: (c) => ureq.writeBody(c), onEnd: () => ureq.end(), onError: () => ureq.abort() });
    },
    onCodecError: (info, reply) => reply(info.status, info.code),
  };
  const server = await startServer(proxy);
  try {
    const c = await RawClient.connect(server.port);
    c.write('POST /fwd?q=1 HTTP/1.1\r\nHost: front\r\nContent-Length: 4\r\nConnection: keep-alive\r\n\r\nping');
    await c.until((t) => parseResponses(t).length === 1);
    const res = parseResponses(c.text)[0];
    assert.equal(res.status, 200);
    assert.equal(res.body, 'abcdef');
    assert.equal(res.headers['x-up'], 'yes');
    assert.equal(res.headers['x-proxied'], '1');
    assert.match(upstreamSaw, /^POST \/fwd\?q=1 HTTP\/1\.1\r\n/);
    assert.match(upstreamSaw, /\r\nx-via: skiff\r\n/);
    assert.match(upstreamSaw, /\r\ncontent-length: 4\r\n/i);
    assert.ok(upstreamSaw.endsWith('\r\n\r\nping'));
    assert.equal(cc.reusable, true);
    c.destroy();
    cc.close();
    await waitFor(() => server.connections.every((s) => s.closed), PATIENCE_MS, 'downstream closed');
    await waitFor(() => slabs.outstanding() === 0, PATIENCE_MS, 'slabs returned');
  } finally { slabs.restore(); await server.close(); await up.close(); }
});

test('abort() from onHead: no further callbacks, the connection is closed and not reusable', async () => {
  const slabs = countSlabs();
  const up = await fakeUpstream((_req, conn) => conn.socket.write('HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc'));
  try {
    const cc = await up.connect();
    let closed = false;
    cc.onClose(() => { closed = true; });
    const calls: string[] = [];
    const req = cc.requestLocal('GET', '/', [['host', 'up']], { bodyKind: 'none' }, {
      onHead() { calls.push('head'); req.abort(); },
      onData() { calls.push('data'); },
      onEnd() { calls.push('end'); },
      onError() { calls.push('error'); },
    });
    req.end();
    await waitFor(() => closed, PATIENCE_MS, 'connection closed');
    await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(calls, ['head']);
    assert.equal(cc.reusable, false);
    await waitFor(() => slabs.outstanding() === 0, PATIENCE_MS, 'slabs returned');
  } finally { slabs.restore(); await up.close(); }
});

test('an idle pooled connection closed by the upstream: onClose fires, no handler is called, not reusable', async () => {
  let upSocket: net.Socket | undefined;
  const up = await fakeUpstream((_req, conn) => { upSocket = conn.socket; conn.socket.write('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n'); });
  try {
    const cc = await up.connect();
    const got = await exchange(cc, 'GET', '/');
    assert.equal(cc.reusable, true);
    let closed = false;
    cc.onClose(() => { closed = true; });
    upSocket!.end();
    await waitFor(() => closed, PATIENCE_MS, 'onClose');
    assert.equal(cc.reusable, false);
    assert.equal(got.error, undefined);
  } finally { await up.close(); }
});

test('close() with a request in flight resets it with SKIFF_UPSTREAM_RESET (local close)', async () => {
  const up = await fakeUpstream(() => {});
  try {
    const cc = await up.connect();
    const { handler, got } = collector();
    cc.requestLocal('GET', '/', [['host', 'up']], { bodyKind: 'none' }, handler).end();
    cc.close();
    await got.done;
    assert.equal(got.error?.code, 'SKIFF_UPSTREAM_RESET');
    assert.match(got.error!.message, /closed locally/);
    assert.equal(cc.reusable, false);
  } finally { await up.close(); }
});

test('a large chunked response read in many pieces, paused and resumed, arrives byte for byte', async () => {
  const body = Buffer.alloc(3 * 1024 * 1024);
  for (let i = 0; i < body.length; i++) body[i] = (i * 31 + (i >> 11)) & 0xff;
  const up = await fakeUpstream((_req, conn) => {
    conn.socket.write('HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n');
    for (let at = 0; at < body.length; at += 100_000) {
      const piece = body.subarray(at, Math.min(body.length, at + 100_000));
      conn.socket.write(`${piece.length.toString(16)}\r\n`);
      conn.socket.write(piece);
      conn.socket.write('\r\n');
    }
    conn.socket.write('0\r\n\r\n');
  });
  try {
    const conn = await up.connect();
    const pieces: Buffer[] = [];
    let ended = false;
    let paused = 0;
    let req: ReturnType<ClientConnection['request']> | undefined;
    const handler: ResponseHandler = {
      onHead: () => {},
      onData: (c) => {
        // Keep the piece itself (not a copy): it must stay intact after the data event that delivered it.
        pieces.push(c as Buffer);
        if (pieces.length % 7 === 0 && req) {
          paused++;
          req.pauseResponse();
          setTimeout(() => req!.resumeResponse(), 1);
        }
      },
      onEnd: () => { ended = true; },
      onError: (e) => { throw e; },
    };
    req = conn.requestLocal('GET', '/big', [['host', 'up']], { bodyKind: 'none' }, handler);
    req.end();
    await waitFor(() => ended, 20_000, "the end of the response");
    assert.ok(paused > 0, 'the response was paused at least once');
    assert.ok(Buffer.concat(pieces).equals(body), 'the body arrived intact');
  } finally { await up.close(); }
});

test('a response paused at its head, with the body in the same read, keeps the bytes it has not delivered yet', async () => {
  const body = Buffer.alloc(200_000);
  for (let i = 0; i < body.length; i++) body[i] = (i * 7 + (i >> 9)) & 0xff;
  const up = await fakeUpstream((_req, conn) => {
    // One write: head and body leave together, so the first read holds both, more than the head slab takes.
    conn.socket.write(Buffer.concat([Buffer.from(`HTTP/1.1 200 OK\r\ncontent-length: ${body.length}\r\n\r\n`, 'latin1'), body]));
  });
  try {
    const conn = await up.connect();
    const pieces: Buffer[] = [];
    let ended = false;
    let req: ReturnType<ClientConnection['request']> | undefined;
    const handler: ResponseHandler = {
      onHead: () => {
        req!.pauseResponse();
        setTimeout(() => req!.resumeResponse(), 20);
      },
      onData: (c) => { pieces.push(c as Buffer); },
      onEnd: () => { ended = true; },
      onError: (e) => { throw e; },
    };
    req = conn.requestLocal('GET', '/one-read', [['host', 'up']], { bodyKind: 'none' }, handler);
    req.end();
    await waitFor(() => ended, 20_000, 'the end of the response');
    assert.ok(Buffer.concat(pieces).equals(body), 'the body arrived intact');
  } finally { await up.close(); }
});
