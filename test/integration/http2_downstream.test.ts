// HTTP/2 clients through the real `skiff` process to an HTTP/1.1 upstream: Node's http2 client (h2c prior
// knowledge and AUTO detection), curl --http2-prior-knowledge, an h2load smoke run, and bad input over a raw
// socket answered with the right GOAWAY / RST_STREAM code while other connections keep being served.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import http2 from 'node:http2';
import net from 'node:net';
import { once } from 'node:events';
import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import { startSkiff, type RunningSkiff } from '../helpers/skiff.js';
import { HCM, adminAnyPort, loadAssignment, routerFilter } from '../helpers/envoy_config.js';
import { F, RawH2, T, frame, requestBlock } from '../helpers/h2raw.js';

const hpack = createRequire(import.meta.url)('hpack.js') as {
  decompressor: { create(o: { table: { maxSize: number } }): { write(b: Buffer): void; execute(): void; read(): unknown } };
};


function bootstrap(upstreamPort: number): object {
  const hcm = (name: string, codec: string) => ({
    name, address: { socket_address: { address: '127.0.0.1', port_value: 0 } },
    filter_chains: [{ filters: [{
      name: 'envoy.filters.network.http_connection_manager',
      typed_config: {
        '@type': HCM, stat_prefix: name, codec_type: codec,
        http2_protocol_options: { max_concurrent_streams: 256 },
        route_config: { virtual_hosts: [{ name: 'all', domains: ['*'], routes: [
          { match: { path: '/direct' }, direct_response: { status: 200, body: { inline_string: 'direct' } } },
          { match: { prefix: '/' }, route: { cluster: 'app', timeout: { seconds: 10 } } },
        ] }] },
        http_filters: [routerFilter()],
      },
    }] }],
  });
  return {
    admin: adminAnyPort(),
    static_resources: {
      listeners: [hcm('h2', 'HTTP2'), hcm('auto', 'AUTO')],
      clusters: [{
        name: 'app', type: 'STATIC', connect_timeout: '1s',
        load_assignment: loadAssignment('app', upstreamPort),
      }],
    },
  };
}

let upstream: http.Server;
let skiff: RunningSkiff;

before(async () => {
  upstream = http.createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', () => {
      const body = Buffer.concat(parts);
      if (req.url?.startsWith('/download/')) {
        const total = Number(req.url.slice(10));
        res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(total) });
        let sent = 0;
        const pump = (): void => {
          // Bounded by `total`: 64 KiB per pass, waiting for drain when the socket is full.
          while (sent < total) {
            const n = Math.min(65536, total - sent);
            sent += n;
            if (!res.write(Buffer.alloc(n, 7))) { res.once('drain', pump); return; }
          }
          res.end();
        };
        pump();
        return;
      }
      if (req.url === '/trailers') {
        res.writeHead(200, { 'content-type': 'text/plain', trailer: 'x-checksum' });
        res.write('with ');
        res.addTrailers({ 'x-checksum': 'c0ffee' });
        res.end('trailers');
        return;
      }
      res.setHeader('content-type', 'application/json');
      res.setHeader('connection', 'keep-alive'); // hop-by-hop: must not reach an HTTP/2 client
      res.end(JSON.stringify({
        method: req.method, url: req.url, host: req.headers.host, len: body.length, cookie: req.headers.cookie ?? null,
        te: req.headers['transfer-encoding'] ?? null, cl: req.headers['content-length'] ?? null,
        sum: body.reduce((a, b) => (a + b) & 0xffff, 0),
      }));
    });
  });
  upstream.listen(0, '127.0.0.1');
  await once(upstream, 'listening');
  skiff = await startSkiff({ config: bootstrap((upstream.address() as net.AddressInfo).port) });
});

after(async () => {
  await skiff?.stop();
  upstream?.close();
});

interface Reply { status: number; headers: http2.IncomingHttpHeaders; body: Buffer; trailers: http2.IncomingHttpHeaders }

function request(session: http2.ClientHttp2Session, headers: http2.OutgoingHttpHeaders, body?: Buffer): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = session.request(headers, { endStream: body === undefined });
    let h: http2.IncomingHttpHeaders = {};
    let t: http2.IncomingHttpHeaders = {};
    const parts: Buffer[] = [];
    req.on('response', (x) => { h = x; });
    req.on('trailers', (x) => { t = x; });
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', () => resolve({ status: Number(h[':status']), headers: h, body: Buffer.concat(parts), trailers: t }));
    req.on('error', reject);
    req.setTimeout(10_000, () => req.close(http2.constants.NGHTTP2_CANCEL));
    if (body !== undefined) req.end(body);
  });
}

async function withSession<T>(listenerName: string, fn: (s: http2.ClientHttp2Session) => Promise<T>,
  options: http2.ClientSessionOptions = {}): Promise<T> {
  const session = http2.connect(`http://127.0.0.1:${skiff.port(listenerName)}`, options);
  session.on('error', () => { /* surfaced through the requests */ });
  try { return await fn(session); } finally { session.close(); }
}

test('GET and a direct response over h2c prior knowledge; cookies joined for the HTTP/1 upstream', async () => {
  await withSession('h2', async (s) => {
    const r = await request(s, { ':path': '/hello?x=1', cookie: ['a=1', 'b=2'] });
    assert.equal(r.status, 200);
    const j = JSON.parse(r.body.toString());
    assert.equal(j.method, 'GET');
    assert.equal(j.url, '/hello?x=1');
    assert.equal(j.host, `127.0.0.1:${skiff.port('h2')}`);
    assert.equal(j.cookie, 'a=1; b=2');
    assert.equal(r.headers.connection, undefined);
    const d = await request(s, { ':path': '/direct' });
    assert.equal(d.status, 200);
    assert.equal(d.body.toString(), 'direct');
  });
});

test('POST bodies: with content-length, and streamed without (chunked to the HTTP/1 upstream)', async () => {
  await withSession('h2', async (s) => {
    const body = Buffer.alloc(300_000, 3);
    const a = JSON.parse((await request(s, { ':path': '/up', ':method': 'POST', 'content-length': String(body.length) }, body)).body.toString());
    assert.equal(a.len, body.length);
    assert.equal(a.cl, String(body.length));
    const b = JSON.parse((await request(s, { ':path': '/up', ':method': 'POST' }, body)).body.toString());
    assert.equal(b.len, body.length);
    assert.equal(b.te, 'chunked');
    assert.equal(b.sum, body.reduce((x, y) => (x + y) & 0xffff, 0));
  });
});

test('20 MB each way through HTTP/2 flow control and the proxy\'s backpressure', async () => {
  await withSession('h2', async (s) => {
    const up = Buffer.alloc(20 * 1024 * 1024, 5);
    const [u, d] = await Promise.all([
      request(s, { ':path': '/upload', ':method': 'POST' }, up),
      request(s, { ':path': `/download/${20 * 1024 * 1024}` }),
    ]);
    const j = JSON.parse(u.body.toString());
    assert.equal(j.len, up.length);
    assert.equal(d.body.length, 20 * 1024 * 1024);
    assert.equal(d.body[d.body.length - 1], 7);
  }, { maxSessionMemory: 200 }); // Node's client counts its own 20 MB send queue against its 10 MB default
});

test('response trailers of a chunked HTTP/1 upstream reach the HTTP/2 client', async () => {
  await withSession('h2', async (s) => {
    const r = await request(s, { ':path': '/trailers' });
    assert.equal(r.status, 200);
    assert.equal(r.body.toString(), 'with trailers');
    assert.equal(r.trailers['x-checksum'], 'c0ffee');
  });
});

test('many concurrent streams on one connection, and AUTO detecting the preface', async () => {
  for (const name of ['h2', 'auto']) {
    await withSession(name, async (s) => {
      const replies = await Promise.all(Array.from({ length: 100 }, (_, i) => request(s, { ':path': `/n/${i}` })));
      replies.forEach((r, i) => assert.equal(JSON.parse(r.body.toString()).url, `/n/${i}`));
    });
  }
  // AUTO still serves HTTP/1.1.
  const r = await fetch(`http://127.0.0.1:${skiff.port('auto')}/h1`);
  assert.equal(r.status, 200);
  assert.equal((await r.json() as { url: string }).url, '/h1');
});

function run(cmd: string, args: string[], timeoutMs = 30_000): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: timeoutMs, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

test('curl --http2-prior-knowledge', async () => {
  const r = await run('curl', ['-sS', '--http2-prior-knowledge', '-w', '\n%{http_version} %{http_code}', '-d', 'abc', `http://127.0.0.1:${skiff.port('h2')}/curl`]);
  assert.equal(r.code, 0, r.stderr);
  const [json, status] = r.stdout.split('\n');
  assert.equal(status, '2 200');
  assert.equal(JSON.parse(json).len, 3);
});

test('h2load smoke: 1000 requests over 4 connections, 16 streams each', async () => {
  const r = await run('h2load', ['-n', '1000', '-c', '4', '-m', '16', `http://127.0.0.1:${skiff.port('h2')}/load`], 60_000);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /1000 succeeded, 0 failed, 0 errored/);
  assert.match(r.stdout, /status codes: 1000 2xx/);
});

// ---- bad input ----

async function stillServes(): Promise<void> {
  await withSession('h2', async (s) => assert.equal((await request(s, { ':path': '/direct' })).status, 200));
}

const u32 = (v: number): number[] => [(v >>> 24) & 255, (v >>> 16) & 255, (v >>> 8) & 255, v & 255];

async function goawayFor(bytes: Buffer[]): Promise<number | undefined> {
  const c = await RawH2.connect(skiff.port('h2'));
  try {
    c.send(...bytes);
    return await c.goawayCode();
  } finally { c.close(); }
}

async function statValue(name: string): Promise<number> {
  const r = await fetch(`${skiff.adminUrl}/stats?format=json`);
  const text = await r.text();
  const m = new RegExp(`"${name.replace(/\./g, '\\.')}"\\s*,\\s*"value"\\s*:\\s*(\\d+)`).exec(text) ?? new RegExp(`${name.replace(/\./g, '\\.')}: (\\d+)`).exec(text);
  if (m) return Number(m[1]);
  const plain = await (await fetch(`${skiff.adminUrl}/stats`)).text();
  const p = new RegExp(`^${name.replace(/\./g, '\\.')}: (\\d+)$`, 'm').exec(plain);
  return p ? Number(p[1]) : 0;
}

const get = (sid: number, path = '/direct') => frame(T.HEADERS, F.END_HEADERS | F.END_STREAM, sid, requestBlock('GET', path));

test('bad input: stream id reuse, window overflow, floods and rapid reset get GOAWAY; other connections are served', async () => {
  assert.equal(await goawayFor([get(5), get(3)]), 1, 'stream id decrease: PROTOCOL_ERROR');
  await stillServes();
  const reuse = await RawH2.connect(skiff.port('h2'));
  try {
    reuse.send(get(1));
    assert.ok(await reuse.until((f) => f.some((x) => x.sid === 1 && (x.flags & F.END_STREAM) !== 0)), 'stream 1 completes');
    reuse.send(get(1));
    assert.equal(await reuse.goawayCode(), 1, 'stream id reuse: PROTOCOL_ERROR');
  } finally { reuse.close(); }
  await stillServes();
  assert.equal(await goawayFor([frame(T.WINDOW_UPDATE, 0, 0, u32(0x7fffffff))]), 3, 'window overflow: FLOW_CONTROL_ERROR');
  await stillServes();
  const ping = frame(T.PING, 0, 0, Buffer.alloc(8));
  assert.equal(await goawayFor(Array.from({ length: 2000 }, () => ping)), 11, 'PING flood: ENHANCE_YOUR_CALM');
  await stillServes();
  assert.equal(await goawayFor([frame(T.HEADERS, F.END_HEADERS, 1, requestBlock('POST', '/x')), ...Array.from({ length: 5 }, () => frame(T.DATA, 0, 1))]), 11, 'empty DATA flood');
  await stillServes();
  const cont = [frame(T.HEADERS, 0, 1, requestBlock('GET', '/x'))];
  for (let i = 0; i < 2000; i++) cont.push(frame(T.CONTINUATION, 0, 1, Buffer.alloc(100, 0x40)));
  assert.equal(await goawayFor(cont), 11, 'CONTINUATION flood');
  await stillServes();
  const rapid: Buffer[] = [];
  for (let i = 0; i < 250; i++) rapid.push(get(1 + 2 * i, '/slow'), frame(T.RST_STREAM, 0, 1 + 2 * i, u32(8)));
  assert.equal(await goawayFor(rapid), 11, 'rapid reset');
  await stillServes();
  assert.ok(await statValue('http2.rx_reset') >= 50);
  assert.equal(await statValue('http2.too_many_premature_resets'), 1);
  assert.equal(await statValue('http2.inbound_empty_frames_flood'), 1);
  assert.equal(await statValue('http2.header_overflow'), 1);
});

test('bad input: a header list beyond max_request_headers_kb is answered 431 on its stream', async () => {
  const overflowsBefore = await statValue('http2.header_overflow');
  const c = await RawH2.connect(skiff.port('h2'));
  try {
    // One 1000-byte field added to the dynamic table (literal with incremental indexing), then referenced 70
    // times by index (one byte each): a 1 KB block that decodes to ~70 KB, above the 60 KiB default.
    const name = Buffer.from('x-big');
    const indexed = Buffer.concat([Buffer.from([0x40, name.length]), name, Buffer.from([0x7f, 0xe9, 0x06]), Buffer.alloc(1000, 0x61)]);
    const block = Buffer.concat([requestBlock('GET', '/direct'), indexed, Buffer.alloc(70, 0x80 | 62)]);
    c.send(frame(T.HEADERS, F.END_HEADERS | F.END_STREAM, 1, block));
    assert.ok(await c.until((f) => f.some((x) => (x.type === T.HEADERS || x.type === T.RST_STREAM || x.type === T.GOAWAY))));
    const h = c.frames.find((x) => x.type === T.HEADERS && x.sid === 1);
    assert.ok(h, `a response on stream 1, got ${JSON.stringify(c.frames.map((x) => [x.type, x.sid]))}`);
    const dec = hpack.decompressor.create({ table: { maxSize: 4096 } });
    dec.write(h.payload);
    dec.execute();
    assert.deepEqual(dec.read(), { name: ':status', value: '431', neverIndex: false });
    c.send(get(3));
    assert.ok(await c.until((f) => f.some((x) => x.type === T.DATA && x.sid === 3)), 'the connection still serves');
    assert.equal(await statValue('http2.header_overflow'), overflowsBefore + 1);
  } finally { c.close(); }
});
