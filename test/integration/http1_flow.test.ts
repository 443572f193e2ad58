// Connection behaviour through the proxy: keep-alive, pipelining in order, bodies framed by
// content-length and chunked in both directions, a large upload streamed with flat memory,
// Expect: 100-continue, hop-by-hop headers, and the x-forwarded-* / x-request-id headers Envoy sets.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { once } from 'node:events';
import {
  allDomains, closeAll, httpUpstream, listen, listener, rawExchange, request, startProxy, staticCluster, statusLines,
  type Proxy, type Upstream,
} from './proxy_harness.js';
import { SLOW_PATIENCE_MS } from '../helpers/wait.js';

let echo: Upstream;
let sink: Upstream;
let sinkBytes = 0;
let proxy: Proxy;
let edge: Proxy;

before(async () => {
  echo = await httpUpstream((req, res, body) => {
    if (req.method === 'HEAD') { res.setHeader('content-length', '42'); res.end(); return; }
    if (req.url === '/chunked-reply') {
      res.write('part1-');
      setTimeout(() => res.end('part2'), 5);
      return;
    }
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ url: req.url, len: body.length, body: body.toString('latin1').slice(0, 100), te: req.headers['transfer-encoding'] ?? null }));
  });
  // Counts upload bytes without keeping them.
  const sinkServer = http.createServer((req, res) => {
    let n = 0;
    req.on('data', (c: Buffer) => { n += c.length; });
    req.on('end', () => { sinkBytes = n; res.end(String(n)); });
  });
  sink = await listen(sinkServer);
  const routes = allDomains([
    { match: { prefix: '/upload' }, route: { cluster: 'sink', timeout: { seconds: 120 } } },
    { match: { prefix: '/' }, route: { cluster: 'echo', timeout: { seconds: 7 } } },
  ]);
  const clusters = [staticCluster('echo', [echo.port]), staticCluster('sink', [sink.port])];
  proxy = await startProxy([
    listener('ingress', routes),
    listener('edge', routes, { use_remote_address: { value: true } }),
  ], clusters);
  edge = proxy;
});

after(() => closeAll(proxy, echo, sink));

test('keep-alive: several requests on one connection', async () => {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const before = proxy.counter('http.ingress.downstream_cx_total');
  for (let i = 0; i < 5; i++) {
    const r = await request(proxy.port('ingress'), { path: `/k${i}`, agent });
    assert.equal(JSON.parse(r.body).url, `/k${i}`);
  }
  agent.destroy();
  assert.equal(proxy.counter('http.ingress.downstream_cx_total'), before + 1);
});

test('pipelined requests are answered in order', async () => {
  const reqs = [1, 2, 3, 4].map((i) => `GET /p${i} HTTP/1.1\r\nHost: x\r\n\r\n`).join('');
  const raw = await rawExchange(proxy.port('ingress'), reqs, { untilIncludes: '"url"', count: 4 });
  const urls = [...raw.matchAll(/"url":"(\/p\d)"/g)].map((m) => m[1]);
  assert.deepEqual(urls, ['/p1', '/p2', '/p3', '/p4']);
  assert.deepEqual(statusLines(raw), [200, 200, 200, 200]);
});

test('content-length request body and response', async () => {
  const r = await request(proxy.port('ingress'), { method: 'POST', path: '/cl', body: 'hello body', headers: { 'content-length': '10' } });
  const j = JSON.parse(r.body);
  assert.equal(j.body, 'hello body');
  assert.equal(j.te, null);
  assert.equal(r.headers['content-length'], String(Buffer.byteLength(r.body)));
});

test('chunked request body and chunked response', async () => {
  const raw = await rawExchange(proxy.port('ingress'),
    'POST /ch HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n', { untilIncludes: '}' });
  assert.match(raw, /"body":"hello world"/);
  assert.match(raw, /"te":"chunked"/);
  const r = await request(proxy.port('ingress'), { path: '/chunked-reply' });
  assert.equal(r.body, 'part1-part2');
  assert.equal(r.headers['transfer-encoding'], 'chunked');
});

test('an HTTP/1.0 client gets a chunked upstream body close-delimited', async () => {
  const raw = await rawExchange(proxy.port('ingress'), 'GET /chunked-reply HTTP/1.0\r\nHost: x\r\n\r\n');
  assert.match(raw, /^HTTP\/1\.[01] 200/);
  const [head, body] = raw.split('\r\n\r\n');
  assert.doesNotMatch(head!, /transfer-encoding/i);
  assert.equal(body, 'part1-part2');
});

test('a 256 MiB upload streams through with flat memory', { timeout: 90_000 }, async () => {
  const total = 256 * 1024 * 1024;
  const chunk = Buffer.alloc(256 * 1024, 0x61);
  globalThis.gc?.();
  const rssBefore = process.memoryUsage().rss;
  let rssPeak = rssBefore;
  const sampler = setInterval(() => { rssPeak = Math.max(rssPeak, process.memoryUsage().rss); }, 50);
  const started = Date.now();
  try {
    const res = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port: proxy.port('ingress'), method: 'POST', path: '/upload', agent: false, headers: { 'content-length': String(total) } }, (r) => {
        let body = '';
        r.on('data', (c: Buffer) => { body += c.toString(); });
        r.on('end', () => resolve({ status: r.statusCode!, body }));
      });
      req.on('error', reject);
      let sent = 0;
      const pump = (): void => {
        while (sent < total) {
          sent += chunk.length;
          if (!req.write(chunk)) { req.once('drain', pump); return; }
        }
        req.end();
      };
      pump();
    });
    assert.equal(res.status, 200);
    assert.equal(res.body, String(total));
    assert.equal(sinkBytes, total);
  } finally {
    clearInterval(sampler);
  }
  const growthMiB = (rssPeak - rssBefore) / (1024 * 1024);
  const seconds = (Date.now() - started) / 1000;
  console.log(`# 256 MiB upload: ${seconds.toFixed(1)} s, ${(256 / seconds).toFixed(0)} MiB/s, peak RSS growth ${growthMiB.toFixed(1)} MiB`);
  // Client, proxy and upstream share this process: all of them together stay far below the body size.
  assert.ok(growthMiB < 96, `RSS grew ${growthMiB.toFixed(1)} MiB`);
});

test('Expect: 100-continue is answered by skiff, then the body flows', async () => {
  const socket = net.connect(proxy.port('ingress'), '127.0.0.1');
  await once(socket, 'connect');
  socket.write('POST /expect HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n');
  let data = '';
  socket.on('data', (c: Buffer) => { data += c.toString('latin1'); });
  const deadline = Date.now() + SLOW_PATIENCE_MS;
  while (!data.includes('100 Continue') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  assert.match(data, /^HTTP\/1\.1 100 Continue\r\n\r\n/);
  socket.write('ping');
  while (!data.includes('}') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  socket.destroy();
  assert.match(data, /"body":"ping"/);
  assert.equal(echo.seen.at(-1)!.headers.expect, undefined);
});

test('HEAD keeps the upstream content-length and carries no body', async () => {
  const r = await request(proxy.port('ingress'), { method: 'HEAD', path: '/head' });
  assert.equal(r.status, 200);
  assert.equal(r.body, '');
  assert.equal(r.headers['content-length'], '42');
  const again = await request(proxy.port('ingress'), { path: '/after-head' });
  assert.equal(JSON.parse(again.body).url, '/after-head');
});

test('hop-by-hop headers are not forwarded', async () => {
  await request(proxy.port('ingress'), {
    path: '/hop', headers: { connection: 'keep-alive, x-custom-hop', 'keep-alive': 'timeout=5', 'x-custom-hop': '1', te: 'trailers', 'proxy-connection': 'x', 'x-end-to-end': 'yes' },
  });
  const h = echo.seen.at(-1)!.headers;
  assert.equal(h['x-custom-hop'], undefined);
  assert.equal(h['keep-alive'], undefined);
  assert.equal(h['te'], undefined);
  assert.equal(h['proxy-connection'], undefined);
  assert.equal(h['x-end-to-end'], 'yes');
});

test('x-forwarded-proto, x-request-id and x-envoy-expected-rq-timeout-ms go upstream', async () => {
  await request(proxy.port('ingress'), { path: '/ids' });
  const h = echo.seen.at(-1)!.headers;
  assert.equal(h['x-forwarded-proto'], 'http');
  assert.match(String(h['x-request-id']), /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  assert.equal(h['x-envoy-expected-rq-timeout-ms'], '7000');
  assert.equal(h['x-forwarded-for'], undefined, 'without use_remote_address xff is left alone');
  await request(proxy.port('ingress'), { path: '/ids', headers: { 'x-request-id': 'given-id' } });
  assert.equal(echo.seen.at(-1)!.headers['x-request-id'], 'given-id');
});

test('use_remote_address appends the peer to x-forwarded-for', async () => {
  await request(edge.port('edge'), { path: '/xff', headers: { 'x-forwarded-for': '203.0.113.9', 'x-forwarded-proto': 'https' } });
  const h = echo.seen.at(-1)!.headers;
  assert.equal(h['x-forwarded-for'], '203.0.113.9, 127.0.0.1');
  assert.equal(h['x-forwarded-proto'], 'http');
  assert.equal(h['x-envoy-external-address'], '127.0.0.1', 'a relayed request is external');
  await request(edge.port('edge'), { path: '/xff', headers: { 'x-envoy-retry-on': '5xx' } });
  const direct = echo.seen.at(-1)!.headers;
  assert.equal(direct['x-forwarded-for'], '127.0.0.1');
  assert.equal(direct['x-envoy-internal'], 'true', 'loopback peer without xff is internal');
  assert.equal(direct['x-envoy-retry-on'], '5xx');
});
