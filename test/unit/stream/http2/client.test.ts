// Http2ClientConnection against Node's http2 server (nghttp2): requests multiplexed on one connection, request
// and response bodies larger than every window, trailers, a server RST_STREAM and a server GOAWAY, each seen
// by the proxy-facing ResponseHandler as it should.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import http2 from 'node:http2';
import { once } from 'node:events';
import { mainInstance } from '../../../../src/wasm/runtime.js';
import type { HeaderList, ResponseHead } from '../../../../src/types/http.js';
import { Http2ClientConnection } from '../../../../src/stream/http2/client.js';
import { wasmClientHeaderCodec } from '../../../../src/stream/http2/hpack_codec.js';
import type { SkiffError } from '../../../../src/common/errors.js';

const wasm = mainInstance();
let goawayAfter = -1;
let served = 0;

const server = http2.createServer();
server.on('stream', (stream, headers) => {
  stream.on('error', () => undefined);
  served++;
  const path = String(headers[':path']);
  if (goawayAfter >= 0 && served > goawayAfter) { stream.session?.goaway(http2.constants.NGHTTP2_NO_ERROR, 1); }
  const parts: Buffer[] = [];
  stream.on('data', (c: Buffer) => parts.push(c));
  stream.on('end', () => {
    const body = Buffer.concat(parts);
    if (path === '/reset') { stream.close(http2.constants.NGHTTP2_REFUSED_STREAM); return; }
    if (path.startsWith('/big/')) {
      stream.respond({ ':status': 200 });
      stream.end(Buffer.alloc(Number(path.slice(5)), 5));
      return;
    }
    stream.respond({ ':status': 201, 'x-len': String(body.length), 'x-method': String(headers[':method']) }, { waitForTrailers: true });
    stream.on('wantTrailers', () => stream.sendTrailers({ 'x-sum': String(body.reduce((a, b) => (a + b) & 0xffff, 0)) }));
    stream.end('done');
  });
});
server.listen(0, '127.0.0.1');
await once(server, 'listening');
const port = (server.address() as net.AddressInfo).port;
after(() => server.close());

async function connect(): Promise<Http2ClientConnection> {
  const socket = net.connect(port, '127.0.0.1');
  await once(socket, 'connect');
  return new Http2ClientConnection(wasm, socket, wasmClientHeaderCodec, {});
}

interface Result { head?: ResponseHead & { x?: string }; status?: number; headers: Record<string, string>; body: Buffer; trailers?: Record<string, string>; error?: SkiffError }

function exchange(conn: Http2ClientConnection, method: string, path: string, body?: Buffer): Promise<Result> {
  return new Promise((resolve) => {
    const r: Result = { headers: {}, body: Buffer.alloc(0) };
    const parts: Buffer[] = [];
    const toObj = (h: HeaderList): Record<string, string> => {
      const o: Record<string, string> = {};
      for (let i = 0; i < h.size; i++) o[h.name(i)] = h.value(i);
      return o;
    };
    const req = conn.requestLocal(method, path, [['host', 'test.local']], body ? { bodyKind: 'length', contentLength: body.length } : { bodyKind: 'none' }, {
      onHead: (h) => { r.status = h.status; r.headers = toObj(h.headers); },
      onData: (c) => parts.push(Buffer.from(c)),
      onEnd: (t) => { r.body = Buffer.concat(parts); r.trailers = t ? toObj(t) : undefined; resolve(r); },
      onError: (e) => { r.error = e; resolve(r); },
    });
    if (body) { req.writeBody(body); req.end(); }
  });
}

test('requests multiplexed on one connection, bodies beyond the windows both ways, trailers', async () => {
  const conn = await connect();
  try {
    const up = Buffer.alloc(300_000, 3);
    const results = await Promise.all([
      exchange(conn, 'POST', '/echo', up),
      exchange(conn, 'GET', '/big/500000'),
      ...Array.from({ length: 20 }, () => exchange(conn, 'GET', '/small')),
    ]);
    assert.equal(results[0].status, 201);
    assert.equal(results[0].headers['x-len'], String(up.length));
    assert.equal(results[0].headers['x-method'], 'POST');
    assert.equal(results[0].body.toString(), 'done');
    assert.equal(results[0].trailers?.['x-sum'], String(up.reduce((a, b) => (a + b) & 0xffff, 0)));
    assert.equal(results[1].body.length, 500_000);
    for (const r of results.slice(2)) assert.equal(r.status, 201);
    assert.equal(conn.activeStreams, 0);
    assert.ok(conn.usable);
  } finally { conn.close(); }
});

test('a server RST_STREAM fails only that request, with a retryable reset', async () => {
  const conn = await connect();
  try {
    const [bad, good] = await Promise.all([exchange(conn, 'GET', '/reset'), exchange(conn, 'GET', '/ok')]);
    assert.equal(bad.error?.code, 'SKIFF_UPSTREAM_RESET');
    assert.equal(bad.error?.retryable, true);
    assert.equal(good.status, 201);
    assert.ok(conn.usable);
  } finally { conn.close(); }
});

test('a server GOAWAY fails the streams above its last stream id and makes the connection unusable', async () => {
  const conn = await connect();
  try {
    served = 0;
    goawayAfter = 1;
    const first = await exchange(conn, 'GET', '/one');
    assert.equal(first.status, 201);
    const second = await exchange(conn, 'GET', '/two');
    // The server answered GOAWAY(last=1) while opening stream 3: that stream is refused.
    assert.equal(second.error?.code, 'SKIFF_UPSTREAM_RESET');
    assert.equal(conn.usable, false);
  } finally { goawayAfter = -1; conn.close(); }
});
