// Http2ServerConnection against real peers: Node's http2 client (nghttp2) for requests, bodies, trailers,
// concurrency and both directions of flow control, and a raw socket for each kind of bad input. The
// header codec is the hpack.js stand-in, so these tests cover the connection state machine alone.
import { test, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import http2 from 'node:http2';
import { mainInstance } from '../../../../src/wasm/runtime.js';
import { slabStats } from '../../../../src/wasm/slab.js';
import { StatsStore } from '../../../../src/common/stats.js';
import type { CodecErrorInfo, DownstreamStream, ServerConnectionHandler } from '../../../../src/types/http.js';
import { Http2ServerConnection } from '../../../../src/stream/http2/server.js';
import type { Http2Options } from '../../../../src/stream/http2/options.js';
import * as L from '../../../../src/wasm/layout.js';
import { jsHeaderCodec } from './js_header_codec.js';
import { wasmServerHeaderCodec } from '../../../../src/stream/http2/hpack_codec.js';
import type { ServerHeaderCodecFactory } from '../../../../src/stream/http2/server.js';
import { F, RawH2, T, frame, literal, requestBlock } from '../../../helpers/h2raw.js';
import { waitFor } from '../../../helpers/wait.js';

const wasm = mainInstance();

interface TestServer { port: number; stats: StatsStore; aborted: number; conns: Http2ServerConnection[]; close(): Promise<void> }
const held: DownstreamStream[] = [];
const servers: net.Server[] = [];
after(() => { for (const s of servers) s.close(); });

/** Request handlers by path: the tests' little application. */
function handle(stream: DownstreamStream, counters: { aborted: number }): void {
  stream.onAbort(() => { counters.aborted++; });
  const path = stream.head.path;
  if (path === '/hello') {
    stream.writeLocalHead(200, [['content-type', 'text/plain']], { bodyKind: 'length', contentLength: 5 });
    stream.writeBody(Buffer.from('hello'));
    stream.end();
    return;
  }
  if (path === '/echo') {
    const parts: Buffer[] = [];
    stream.setBodyHandler({
      onData: (c) => parts.push(Buffer.from(c)),
      onEnd: (trailers) => {
        const body = Buffer.concat(parts);
        const cookie = stream.head.headers.getAll('cookie').join('; ');
        const headers: [string, string][] = [['x-method', stream.head.method]];
        if (cookie !== '') headers.push(['x-cookie', cookie]);
        stream.writeLocalHead(200, headers, { bodyKind: 'chunked' });
        stream.writeBody(body);
        const t = trailers?.get('x-checksum');
        stream.end(t === undefined ? undefined : listOf([['x-echo-checksum', t], ['x-length', String(body.length)]]));
      },
      onError: () => undefined,
    });
    return;
  }
  if (path.startsWith('/big/')) {
    const total = Number(path.slice(5));
    stream.writeLocalHead(200, [], { bodyKind: 'length', contentLength: total });
    let sent = 0;
    const pump = (): void => {
      // Bounded by `total`: each pass sends up to 64 KiB.
      while (sent < total) {
        const n = Math.min(65536, total - sent);
        const chunk = Buffer.alloc(n, sent & 255);
        sent += n;
        if (!stream.writeBody(chunk)) { stream.onDrain(pump); return; }
      }
      stream.end();
    };
    pump();
    return;
  }
  if (path === '/paused') {
    let got = 0;
    let gotWhilePaused = -1;
    stream.setBodyHandler({
      onData: (c) => { got += c.length; },
      onEnd: () => {
        stream.writeLocalHead(200, [['x-got', String(got)], ['x-got-while-paused', String(gotWhilePaused)]], { bodyKind: 'length', contentLength: 0 });
        stream.end();
      },
      onError: () => undefined,
    });
    stream.pauseBody();
    setTimeout(() => { gotWhilePaused = got; stream.resumeBody(); }, 300);
    return;
  }
  if (path === '/never') return; // answered never: the rapid-reset test resets it
  if (path === '/held') { held.push(stream); return; } // answered by the test
  stream.writeLocalHead(404, [], { bodyKind: 'length', contentLength: 0 });
  stream.end();
}

function listOf(list: [string, string][]) {
  return {
    size: list.length, name: (i: number) => list[i][0], value: (i: number) => list[i][1],
    get: (n: string) => list.find(([k]) => k === n)?.[1], getAll: (n: string) => list.filter(([k]) => k === n).map(([, v]) => v),
    has: (n: string) => list.some(([k]) => k === n),
  };
}

async function startServer(codec: ServerHeaderCodecFactory, options: Http2Options = {}): Promise<TestServer> {
  const stats = new StatsStore();
  const counters = { aborted: 0 };
  const handler: ServerConnectionHandler = {
    onRequest: (s) => handle(s, counters),
    onCodecError: (_info: CodecErrorInfo, reply) => reply(400, 'bad'),
  };
  const conns: Http2ServerConnection[] = [];
  const server = net.createServer((socket) => { conns.push(new Http2ServerConnection(wasm, socket, handler, codec, { stats, ...options })); });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  return {
    port, stats, conns, get aborted() { return counters.aborted; },
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

function request(session: http2.ClientHttp2Session, headers: http2.OutgoingHttpHeaders, body?: Buffer, trailers?: Record<string, string>):
  Promise<{ status: number; headers: http2.IncomingHttpHeaders; body: Buffer; trailers: http2.IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const req = session.request(headers, { endStream: body === undefined, waitForTrailers: trailers !== undefined });
    if (trailers) req.on('wantTrailers', () => req.sendTrailers(trailers));
    let resHeaders: http2.IncomingHttpHeaders = {};
    let resTrailers: http2.IncomingHttpHeaders = {};
    const parts: Buffer[] = [];
    req.on('response', (h) => { resHeaders = h; });
    req.on('trailers', (t) => { resTrailers = t; });
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', () => resolve({ status: Number(resHeaders[':status']), headers: resHeaders, body: Buffer.concat(parts), trailers: resTrailers }));
    req.on('error', reject);
    if (body !== undefined) req.end(body);
  });
}

// ---- bad input over a raw socket ----

async function expectGoaway(srv: TestServer, bytes: Buffer[], code: number): Promise<void> {
  const c = await RawH2.connect(srv.port);
  try {
    c.send(...bytes);
    assert.equal(await c.goawayCode(), code);
    assert.ok(await c.until(() => c.closed), 'the connection closes after GOAWAY');
  } finally { c.close(); }
  // The server keeps serving other connections.
  const session = http2.connect(`http://127.0.0.1:${srv.port}`);
  try { assert.equal((await request(session, { ':path': '/hello' })).status, 200); } finally { session.close(); }
}

const u32 = (v: number): number[] => [(v >>> 24) & 255, (v >>> 16) & 255, (v >>> 8) & 255, v & 255];
const hello = (sid: number) => frame(T.HEADERS, F.END_HEADERS | F.END_STREAM, sid, requestBlock('GET', '/hello'));

const CODECS: [string, ServerHeaderCodecFactory][] = [['wasm HPACK', wasmServerHeaderCodec], ['hpack.js stand-in', jsHeaderCodec]];

for (const [codecName, codec] of CODECS) describe(codecName, () => {
  const start = (o: Http2Options = {}): Promise<TestServer> => startServer(codec, o);

  test('GET over h2c prior knowledge', async () => {
    const srv = await start();
    const session = http2.connect(`http://127.0.0.1:${srv.port}`);
    try {
      const r = await request(session, { ':path': '/hello' });
      assert.equal(r.status, 200);
      assert.equal(r.body.toString(), 'hello');
      assert.equal(r.headers['content-type'], 'text/plain');
      assert.equal(r.headers['content-length'], '5');
    } finally { session.close(); await srv.close(); }
  });

  test('a body ended in the turn of its last DATA carries END_STREAM on that frame (no empty DATA after it)', async () => {
    const srv = await start();
    const c = await RawH2.connect(srv.port);
    try {
      c.send(hello(1));
      assert.ok(await c.until((f) => f.some((x) => x.type === T.DATA && x.sid === 1 && (x.flags & F.END_STREAM) !== 0)));
      const data = c.frames.filter((x) => x.type === T.DATA && x.sid === 1);
      assert.equal(data.length, 1, 'one DATA frame');
      assert.equal(data[0].payload.toString(), 'hello');
      assert.notEqual(data[0].flags & F.END_STREAM, 0);
    } finally { c.close(); await srv.close(); }
  });

  test('POST body and request trailers reach the handler; response trailers reach the client; cookies are joined', async () => {
    const srv = await start();
    const session = http2.connect(`http://127.0.0.1:${srv.port}`);
    try {
      const body = Buffer.alloc(200_000, 7);
      const r = await request(session, { ':path': '/echo', ':method': 'POST', cookie: ['a=1', 'b=2'] }, body, { 'x-checksum': 'abc' });
      assert.equal(r.status, 200);
      assert.equal(r.headers['x-method'], 'POST');
      assert.equal(r.headers['x-cookie'], 'a=1; b=2');
      assert.deepEqual(r.body, body);
      assert.equal(r.trailers['x-echo-checksum'], 'abc');
      assert.equal(r.trailers['x-length'], '200000');
    } finally { session.close(); await srv.close(); }
  });

  test('many concurrent streams on one connection', async () => {
    const srv = await start();
    const session = http2.connect(`http://127.0.0.1:${srv.port}`);
    try {
      const results = await Promise.all(Array.from({ length: 200 }, (_, i) =>
        request(session, { ':path': '/echo', ':method': 'POST' }, Buffer.from(`stream ${i}`))));
      results.forEach((r, i) => assert.equal(r.body.toString(), `stream ${i}`));
    } finally { session.close(); await srv.close(); }
  });

  test('a response larger than every window is sent as the client opens its windows', async () => {
    const srv = await start();
    const session = http2.connect(`http://127.0.0.1:${srv.port}`);
    try {
      const total = 3 * 1024 * 1024 + 17;
      const [a, b] = await Promise.all([request(session, { ':path': `/big/${total}` }), request(session, { ':path': '/big/100000' })]);
      assert.equal(a.body.length, total);
      assert.equal(a.body[65536], 65536 & 255);
      assert.equal(b.body.length, 100000);
    } finally { session.close(); await srv.close(); }
  });

  test('a paused request body stops the client once the stream window is used', async () => {
    const srv = await start({ initialStreamWindowSize: 65535 });
    const session = http2.connect(`http://127.0.0.1:${srv.port}`);
    try {
      const body = Buffer.alloc(1024 * 1024, 1);
      const req = session.request({ ':path': '/paused', ':method': 'POST' });
      let head: http2.IncomingHttpHeaders | undefined;
      req.on('response', (h) => { head = h; });
      req.end(body);
      await new Promise((r) => setTimeout(r, 150));
      assert.equal(req.writableFinished, false, 'the client could not send it all: no window');
      const done = new Promise<void>((resolve, reject) => { req.on('end', resolve); req.on('error', reject); req.resume(); });
      await done;
      assert.equal(head?.['x-got-while-paused'], '0');
      assert.equal(head?.['x-got'], String(body.length));
    } finally { session.close(); await srv.close(); }
  });

  test('stream id reuse and decrease are connection PROTOCOL_ERRORs', async () => {
    const srv = await start();
    try {
      await expectGoaway(srv, [hello(3), hello(3)], L.H2E_PROTOCOL_ERROR);
      await expectGoaway(srv, [hello(5), hello(3)], L.H2E_PROTOCOL_ERROR);
      await expectGoaway(srv, [hello(2)], L.H2E_PROTOCOL_ERROR);
      assert.ok(srv.stats.counter('http2.rx_messaging_error').value >= 3);
    } finally { await srv.close(); }
  });

  test('window overflow is a FLOW_CONTROL_ERROR: on the connection a GOAWAY, on a stream a RST_STREAM', async () => {
    const srv = await start();
    try {
      await expectGoaway(srv, [frame(T.WINDOW_UPDATE, 0, 0, u32(0x7fffffff))], L.H2E_FLOW_CONTROL_ERROR);
      const c = await RawH2.connect(srv.port);
      try {
        c.send(frame(T.HEADERS, F.END_HEADERS, 1, requestBlock('POST', '/never')), frame(T.WINDOW_UPDATE, 0, 1, u32(0x7fffffff)));
        assert.equal(await c.rstCode(1), L.H2E_FLOW_CONTROL_ERROR);
      } finally { c.close(); }
    } finally { await srv.close(); }
  });

  test('DATA beyond the stream window is reset; a frame above SETTINGS_MAX_FRAME_SIZE is a FRAME_SIZE_ERROR', async () => {
    const srv = await start({ initialStreamWindowSize: 65535 });
    try {
      const c = await RawH2.connect(srv.port);
      try {
        const chunk = Buffer.alloc(16384);
        c.send(frame(T.HEADERS, F.END_HEADERS, 1, requestBlock('POST', '/never')),
          ...Array.from({ length: 5 }, () => frame(T.DATA, 0, 1, chunk)));
        assert.equal(await c.rstCode(1), L.H2E_FLOW_CONTROL_ERROR);
      } finally { c.close(); }
      await expectGoaway(srv, [frame(T.DATA, 0, 1, Buffer.alloc(16385))], L.H2E_FRAME_SIZE_ERROR);
    } finally { await srv.close(); }
  });

  test('PING and SETTINGS floods get GOAWAY ENHANCE_YOUR_CALM', async () => {
    const srv = await start({ maxOutboundControlFrames: 100 });
    try {
      const ping = frame(T.PING, 0, 0, Buffer.alloc(8));
      await expectGoaway(srv, Array.from({ length: 300 }, () => ping), L.H2E_ENHANCE_YOUR_CALM);
      await expectGoaway(srv, Array.from({ length: 300 }, () => frame(T.SETTINGS, 0, 0)), L.H2E_ENHANCE_YOUR_CALM);
      assert.ok(srv.stats.counter('http2.outbound_control_flood').value >= 2);
    } finally { await srv.close(); }
  });

  test('empty DATA frames flood and PRIORITY flood get GOAWAY ENHANCE_YOUR_CALM', async () => {
    const srv = await start();
    try {
      const open = frame(T.HEADERS, F.END_HEADERS, 1, requestBlock('POST', '/never'));
      await expectGoaway(srv, [open, ...Array.from({ length: 10 }, () => frame(T.DATA, 0, 1))], L.H2E_ENHANCE_YOUR_CALM);
      assert.equal(srv.stats.counter('http2.inbound_empty_frames_flood').value, 1);
      await expectGoaway(srv, Array.from({ length: 300 }, () => frame(T.PRIORITY, 0, 3, [0, 0, 0, 1, 16])), L.H2E_ENHANCE_YOUR_CALM);
      assert.equal(srv.stats.counter('http2.inbound_priority_frames_flood').value, 1);
    } finally { await srv.close(); }
  });

  test('CONTINUATION flood: a header block beyond the bound ends the connection', async () => {
    const srv = await start({ maxRequestHeadersKb: 8 });
    try {
      const filler = literal('x-filler', 'y'.repeat(100));
      const frames = [frame(T.HEADERS, 0, 1, requestBlock('GET', '/hello'))];
      for (let i = 0; i < 200; i++) frames.push(frame(T.CONTINUATION, 0, 1, filler));
      await expectGoaway(srv, frames, L.H2E_ENHANCE_YOUR_CALM);
      assert.equal(srv.stats.counter('http2.header_overflow').value, 1);
    } finally { await srv.close(); }
  });

  test('a header list beyond max_request_headers_kb is answered 431 and the connection stays', async () => {
    const srv = await start({ maxRequestHeadersKb: 1 });
    const c = await RawH2.connect(srv.port);
    try {
      const extra: [string, string][] = Array.from({ length: 12 }, (_, i) => [`x-h${i}`, 'v'.repeat(100)]);
      c.send(frame(T.HEADERS, F.END_HEADERS | F.END_STREAM, 1, requestBlock('GET', '/hello', extra)));
      assert.ok(await c.until((f) => f.some((x) => x.type === T.HEADERS && x.sid === 1)));
      c.send(hello(3));
      assert.ok(await c.until((f) => f.some((x) => x.type === T.DATA && x.sid === 3)), 'a later stream is served');
      assert.equal(srv.stats.counter('http2.header_overflow').value, 1);
    } finally { c.close(); await srv.close(); }
  });

  test('rapid reset (CVE-2023-44487): streams opened and reset at once end the connection', async () => {
    const srv = await start();
    try {
      const frames: Buffer[] = [];
      for (let i = 0; i < 300; i++) {
        const sid = 1 + 2 * i;
        frames.push(frame(T.HEADERS, F.END_HEADERS | F.END_STREAM, sid, requestBlock('GET', '/never')), frame(T.RST_STREAM, 0, sid, u32(8)));
      }
      await expectGoaway(srv, frames, L.H2E_ENHANCE_YOUR_CALM);
      assert.equal(srv.stats.counter('http2.too_many_premature_resets').value, 1);
      assert.ok(srv.stats.counter('http2.rx_reset').value >= 50);
      assert.ok(srv.aborted >= 50, 'the proxy heard of every reset stream');
    } finally { await srv.close(); }
  });

  test('every slab goes back to the pool: requests with bodies, trailers, resets and closed connections', async () => {
    const leased = (): number[] => slabStats(wasm).map((c) => c.leased);
    await new Promise((r) => setImmediate(r));
    const before = leased();
    const srv = await start();
    for (let round = 0; round < 3; round++) {
      const session = http2.connect(`http://127.0.0.1:${srv.port}`);
      await Promise.all(Array.from({ length: 20 }, (_, i) =>
        request(session, { ':path': '/echo', ':method': 'POST' }, Buffer.alloc(30_000 + i), { 'x-checksum': 'x' })));
      const r = session.request({ ':path': '/never' });
      r.on('error', () => undefined);
      await new Promise((res) => setTimeout(res, 20));
      r.close(http2.constants.NGHTTP2_CANCEL);
      session.destroy();
    }
    await srv.close();
    // Earlier tests' connections may still be closing when `before` is read: none may be added, some may go.
    // Closed connections give their slabs back as their close events run: poll for it, then report per class.
    await waitFor(() => leased().every((n, i) => n <= before[i]!), undefined, 'slabs back').catch(() => undefined);
    leased().forEach((n, i) => assert.ok(n <= before[i], `class ${i}: ${n} leased after, ${before[i]} before`));
  });

  test('graceful drain: GOAWAY NO_ERROR names the last stream, in-flight streams finish, then the connection closes', async () => {
    const srv = await start();
    const c = await RawH2.connect(srv.port);
    try {
      held.length = 0;
      c.send(frame(T.HEADERS, F.END_HEADERS | F.END_STREAM, 1, requestBlock('GET', '/held')));
      assert.ok(await c.until(() => held.length === 1 && srv.conns.length === 1));
      srv.conns[0].drain();
      assert.equal(await c.goawayCode(), L.H2E_NO_ERROR);
      const g = c.frames.find((x) => x.type === T.GOAWAY)!;
      assert.equal(g.payload.readUInt32BE(0), 1, 'last stream id');
      assert.equal(c.closed, false, 'the in-flight stream keeps the connection');
      const s = held[0];
      s.writeLocalHead(200, [], { bodyKind: 'length', contentLength: 2 });
      s.writeBody(Buffer.from('ok'));
      s.end();
      assert.ok(await c.until((f) => f.some((x) => x.type === T.DATA && x.sid === 1 && (x.flags & F.END_STREAM) !== 0)));
      assert.ok(await c.until(() => c.closed), 'closed once the last stream finished');
    } finally { c.close(); await srv.close(); }
  });

  test('streams above max_concurrent_streams are refused with REFUSED_STREAM; later ones are served', async () => {
    const srv = await start({ maxConcurrentStreams: 2 });
    const c = await RawH2.connect(srv.port);
    try {
      const open = (sid: number) => frame(T.HEADERS, F.END_HEADERS | F.END_STREAM, sid, requestBlock('GET', '/never'));
      c.send(open(1), open(3), open(5));
      assert.equal(await c.rstCode(5), L.H2E_REFUSED_STREAM);
      assert.equal(c.frames.some((x) => x.type === T.RST_STREAM && x.sid !== 5), false);
      assert.equal(srv.stats.counter('http2.stream_refused_errors').value, 1);
      c.send(frame(T.RST_STREAM, 0, 1, [0, 0, 0, 8]), hello(7));
      assert.ok(await c.until((f) => f.some((x) => x.type === T.DATA && x.sid === 7)), 'a stream slot freed by a reset is used again');
    } finally { c.close(); await srv.close(); }
  });

  test('idle timeout: a connection without streams is sent GOAWAY NO_ERROR and closed', async () => {
    const srv = await start({ idleTimeoutMs: 150 });
    // Taken before the connection exists, so the idle timer (armed when the last stream ends) cannot fire
    // sooner than 150 ms from here, however late the client sees the response on a busy machine.
    const t0 = Date.now();
    const c = await RawH2.connect(srv.port);
    try {
      c.send(hello(1));
      assert.ok(await c.until((f) => f.some((x) => x.type === T.DATA && x.sid === 1)));
      assert.equal(await c.goawayCode(), L.H2E_NO_ERROR);
      assert.ok(Date.now() - t0 >= 149, 'not before the timeout');
      assert.ok(await c.until(() => c.closed));
    } finally { c.close(); await srv.close(); }
  });

  test('a bad preface closes the connection; PUSH_PROMISE from a client is a PROTOCOL_ERROR', async () => {
    const srv = await start();
    try {
      const c = await RawH2.connect(srv.port, false);
      c.send(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
      assert.ok(await c.until(() => c.closed));
      c.close();
      await expectGoaway(srv, [frame(T.PUSH_PROMISE, F.END_HEADERS, 1, [0, 0, 0, 2, 0x82])], L.H2E_PROTOCOL_ERROR);
    } finally { await srv.close(); }
  });

});
