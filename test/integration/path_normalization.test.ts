// normalize_path, merge_slashes and path_with_escaped_slashes_action through a real listener: routing sees the
// normalized path, the upstream receives it, bad paths get 400 and escaped slashes a 307.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { registerBuiltinExtensions } from '../../src/server/extensions.js';
import { allDomains, closeAll, httpUpstream, listener, rawExchange, request, startProxy, staticCluster, type Proxy, type Upstream } from './proxy_harness.js';

let proxy: Proxy;
let upstreamB: Upstream;
let upstreamOther: Upstream;

before(async () => {
  // The in-process proxy registers what the server's composition root would (the HTTP/2 codec among them).
  registerBuiltinExtensions();
  upstreamB = await httpUpstream((req, res) => res.end(`b ${req.url}`));
  upstreamOther = await httpUpstream((req, res) => res.end(`other ${req.url}`));
  const routes = allDomains([
    { match: { prefix: '/b' }, route: { cluster: 'b' } },
    { match: { prefix: '/' }, route: { cluster: 'other' } },
  ]);
  proxy = await startProxy([
    listener('normalizing', routes, { normalize_path: { value: true }, merge_slashes: true }),
    listener('redirecting', routes, { normalize_path: { value: true }, path_with_escaped_slashes_action: 'UNESCAPE_AND_REDIRECT' }),
    listener('rejecting', routes, { path_with_escaped_slashes_action: 'REJECT_REQUEST' }),
    listener('plain', routes),
  ], [staticCluster('b', [upstreamB.port]), staticCluster('other', [upstreamOther.port])]);
});

after(async () => { await closeAll(proxy, upstreamB, upstreamOther); });

test('normalize_path routes /a/../b as /b and forwards the normalized path with its query', async () => {
  const r = await request(proxy.port('normalizing'), { path: '/a/../b/%7Ex//y?z=/../' });
  assert.equal(r.status, 200);
  assert.equal(r.body, 'b /b/~x/y?z=/../');
  // Without the option the same request goes by its literal path.
  const plain = await request(proxy.port('plain'), { path: '/a/../b' });
  assert.equal(plain.body, 'other /a/../b');
});

test('a malformed escape is a 400 and the connection still answers the next request', async () => {
  const raw = await rawExchange(proxy.port('normalizing'), 'GET /a%zz HTTP/1.1\r\nhost: x\r\n\r\nGET /x/../b HTTP/1.1\r\nhost: x\r\n\r\n',
    { untilIncludes: 'b /b', timeoutMs: 10_000 });
  assert.match(raw, /^HTTP\/1\.1 400 /);
  assert.match(raw, /b \/b/);
  assert.equal(proxy.counter('http.normalizing.downstream_rq_failed_path_normalization'), 1);
});

test('UNESCAPE_AND_REDIRECT answers 307 with the unescaped, normalized path; REJECT_REQUEST answers 400', async () => {
  const r = await request(proxy.port('redirecting'), { path: '/a%2F..%2Fb?q=1' });
  assert.equal(r.status, 307);
  assert.equal(r.headers.location, '/b?q=1');
  assert.equal(proxy.counter('http.redirecting.downstream_rq_redirected_with_normalized_path'), 1);
  const ok = await request(proxy.port('redirecting'), { path: '/b/c' });
  assert.equal(ok.body, 'b /b/c');
  const rejected = await request(proxy.port('rejecting'), { path: '/a%2fb' });
  assert.equal(rejected.status, 400);
  const kept = await request(proxy.port('plain'), { path: '/a%2fb' });
  assert.equal(kept.body, 'other /a%2fb');
});

test('HTTP/2 requests are normalized the same way (prior knowledge, AUTO codec)', async (t) => {
  const http2 = await import('node:http2');
  const session = http2.connect(`http://127.0.0.1:${proxy.port('normalizing')}`);
  t.after(() => session.close());
  session.on('error', () => {});
  const body = await new Promise<string>((resolve, reject) => {
    const req = session.request({ ':method': 'GET', ':path': '/x/./../b//c?q=/../' });
    let data = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => { data += c; });
    req.on('end', () => resolve(data));
    req.on('error', reject);
    req.setTimeout(10_000, () => req.close());
    req.end();
  });
  assert.equal(body, 'b /b/c?q=/../');
});
