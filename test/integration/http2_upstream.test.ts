// HTTP/2 to the upstream, chosen per cluster by typed_extension_protocol_options (HttpProtocolOptions
// explicit_http_config.http2_protocol_options): an HTTP/1.1 client and an HTTP/2 client through the real
// `skiff` process to Node's http2 server (h2c), with bodies both ways, response trailers, many requests
// multiplexed on one upstream connection, and an upstream stream reset.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import http2 from 'node:http2';
import net from 'node:net';
import { once } from 'node:events';
import { startSkiff, type RunningSkiff } from '../helpers/skiff.js';
import { HCM, adminAnyPort, explicitHttp2, loadAssignment, routerFilter } from '../helpers/envoy_config.js';


function bootstrap(upstreamPort: number): object {
  return {
    admin: adminAnyPort(),
    static_resources: {
      listeners: [{
        name: 'ingress', address: { socket_address: { address: '127.0.0.1', port_value: 0 } },
        filter_chains: [{ filters: [{
          name: 'envoy.filters.network.http_connection_manager',
          typed_config: {
            '@type': HCM, stat_prefix: 'ingress', codec_type: 'AUTO',
            route_config: { virtual_hosts: [{ name: 'all', domains: ['*'], routes: [{ match: { prefix: '/' }, route: { cluster: 'h2app', timeout: { seconds: 10 } } }] }] },
            http_filters: [routerFilter()],
          },
        }] }],
      }],
      clusters: [{
        name: 'h2app', type: 'STATIC', connect_timeout: '1s',
        typed_extension_protocol_options: explicitHttp2(),
        load_assignment: loadAssignment('h2app', upstreamPort),
      }],
    },
  };
}

let upstream: http2.Http2Server;
let sessions = 0;
let skiff: RunningSkiff;

before(async () => {
  upstream = http2.createServer();
  upstream.on('session', () => { sessions++; });
  upstream.on('stream', (stream, headers) => {
    stream.on('error', () => { /* the /reset stream is closed with an error on purpose */ });
    const parts: Buffer[] = [];
    let reqTrailers: http2.IncomingHttpHeaders = {};
    stream.on('trailers', (t) => { reqTrailers = t; });
    stream.on('data', (c: Buffer) => parts.push(c));
    stream.on('end', () => {
      const body = Buffer.concat(parts);
      const path = String(headers[':path']);
      if (path === '/req-trailers') {
        stream.respond({ ':status': 200, 'x-got-trailer': String(reqTrailers['x-client-sum'] ?? 'none'), 'x-len': String(body.length) });
        stream.end();
        return;
      }
      if (path === '/reset') { stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR); return; }
      if (path === '/trailers') {
        stream.respond({ ':status': 200 }, { waitForTrailers: true });
        stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
        stream.end('t');
        return;
      }
      stream.respond({ ':status': 200, 'content-type': 'application/json', 'x-upstream-proto': 'h2' });
      stream.end(JSON.stringify({ method: headers[':method'], path, authority: headers[':authority'], len: body.length, scheme: headers[':scheme'] }));
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

function h1(method: string, path: string, body?: Buffer): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: skiff.port('ingress'), method, path, agent: false }, (res) => {
      let b = '';
      res.setEncoding('latin1');
      res.on('data', (c: string) => { b += c; });
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: b }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

test('an HTTP/1.1 client reaches an HTTP/2 upstream: GET and POST', async () => {
  const g = await h1('GET', '/a?b=c');
  assert.equal(g.status, 200);
  assert.equal(g.headers['x-upstream-proto'], 'h2');
  const j = JSON.parse(g.body);
  assert.equal(j.method, 'GET');
  assert.equal(j.path, '/a?b=c');
  assert.equal(j.authority, `127.0.0.1:${skiff.port('ingress')}`);
  const body = Buffer.alloc(200_000, 9);
  const p = JSON.parse((await h1('POST', '/up', body)).body);
  assert.equal(p.len, body.length);
});

test('an HTTP/2 client through Skiff to an HTTP/2 upstream: many streams share few upstream connections; trailers pass', async () => {
  const before = sessions;
  const session = http2.connect(`http://127.0.0.1:${skiff.port('ingress')}`);
  session.on('error', () => undefined);
  try {
    const get = (path: string) => new Promise<{ body: string; trailers: http2.IncomingHttpHeaders }>((resolve, reject) => {
      const req = session.request({ ':path': path });
      let body = '';
      let trailers: http2.IncomingHttpHeaders = {};
      req.setEncoding('latin1');
      req.on('data', (c: string) => { body += c; });
      req.on('trailers', (t) => { trailers = t; });
      req.on('end', () => resolve({ body, trailers }));
      req.on('error', reject);
    });
    const replies = await Promise.all(Array.from({ length: 50 }, (_, i) => get(`/m/${i}`)));
    replies.forEach((r, i) => assert.equal(JSON.parse(r.body).path, `/m/${i}`));
    assert.ok(sessions - before <= 2, `50 requests used ${sessions - before} upstream connections`);
    const t = await get('/trailers');
    assert.equal(t.body, 't');
    assert.equal(t.trailers['grpc-status'], '0');
  } finally { session.close(); }
});

test('request trailers of an HTTP/2 client reach the HTTP/2 upstream', async () => {
  const session = http2.connect(`http://127.0.0.1:${skiff.port('ingress')}`);
  session.on('error', () => undefined);
  try {
    const h = await new Promise<http2.IncomingHttpHeaders>((resolve, reject) => {
      const req = session.request({ ':path': '/req-trailers', ':method': 'POST' }, { waitForTrailers: true });
      req.on('wantTrailers', () => req.sendTrailers({ 'x-client-sum': '42' }));
      req.on('response', resolve);
      req.on('error', reject);
      req.end(Buffer.alloc(5000, 1));
      req.resume();
    });
    assert.equal(h['x-got-trailer'], '42');
    assert.equal(h['x-len'], '5000');
  } finally { session.close(); }
});

test('an upstream stream reset becomes a 503 for the client; the connection keeps serving', async () => {
  const r = await h1('GET', '/reset');
  assert.equal(r.status, 503);
  assert.equal((await h1('GET', '/after')).status, 200);
});
