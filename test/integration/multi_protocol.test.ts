// One listener port serving HTTP/1.1, HTTP/2 (h2c), SOFARPC Bolt and Dubbo, through the real `skiff` process
// running examples/multi-protocol.yaml (its fixed ports rewritten to ports this test owns): curl and fetch
// (undici), Node's http2 client, a sofa-rpc-node client and a dubbo2.js consumer all call at the same time on
// the same port, while raw sockets send garbage that is closed and counted without disturbing them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import http2 from 'node:http2';
import net from 'node:net';
import { once } from 'node:events';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { startSkiff, REPO_ROOT } from '../helpers/skiff.js';
import { boltClient, dubboClient, startBoltServer, startDubboServer } from '../helpers/rpc_peers.js';
import { SLOW_PATIENCE_MS } from '../helpers/wait.js';

const EXAMPLE = 'examples/multi-protocol.yaml';
const ADMIN_PORT = 9901;
const LISTENER_PORT = 10000;
const HTTP_PORT = 8080;
const BOLT_PORT = 12200;
const DUBBO_PORT = 20880;
const BOLT_SERVICE = 'com.example.Greeter';
const DUBBO_SERVICE = 'com.example.DubboGreeter';

/** The example with every port_value mapped through `ports`; a port the test does not know fails. */
function withPorts(text: string, ports: ReadonlyMap<number, number>): string {
  return text.replace(/port_value: (\d+)\b/g, (_whole, n: string) => {
    const to = ports.get(Number(n));
    if (to === undefined) throw new Error(`${EXAMPLE} uses port ${n}, which this test does not provide`);
    return `port_value: ${to}`;
  });
}

function stat(text: string, name: string): number {
  const m = new RegExp(`^${name.replace(/[.]/g, '\\.')}: (\\d+)$`, 'm').exec(text);
  return m === null ? 0 : Number(m[1]);
}

function curl(url: string, extra: string[] = []): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('curl', ['-sS', '--max-time', '10', ...extra, url], { timeout: 15_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`curl: ${err.message} ${stderr}`)); else resolve(stdout);
    });
  });
}

function h2Get(session: http2.ClientHttp2Session, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = session.request({ ':method': 'GET', ':path': path });
    let status = 0;
    let body = '';
    req.on('response', (h) => { status = Number(h[':status']); });
    req.setEncoding('utf8');
    req.on('data', (c: string) => { body += c; });
    req.on('end', () => resolve({ status, body }));
    req.on('error', reject);
    req.setTimeout(10_000, () => req.close(http2.constants.NGHTTP2_CANCEL));
  });
}

/** Sends `bytes` on a fresh connection; resolves what came back once the peer closes (bounded by a timer). */
async function sendRaw(port: number, bytes: Buffer): Promise<{ reply: string; closedByPeer: boolean }> {
  const s = net.connect(port, '127.0.0.1');
  s.on('error', () => {});
  let reply = '';
  s.on('data', (c: Buffer) => { reply += c.toString('latin1'); });
  await once(s, 'connect');
  s.write(bytes);
  let closedByPeer = true;
  const timer = setTimeout(() => { closedByPeer = false; s.destroy(); }, SLOW_PATIENCE_MS);
  await new Promise((r) => s.once('close', r));
  clearTimeout(timer);
  return { reply, closedByPeer };
}

test('one port serves HTTP/1.1, h2c, Bolt and Dubbo at once; garbage is closed and counted', async (t) => {
  const web = http.createServer((req, res) => {
    res.setHeader('x-seen-version', req.httpVersion);
    res.end(`web ${req.url}`);
  });
  web.listen(0, '127.0.0.1');
  await once(web, 'listening');
  t.after(() => new Promise((r) => web.close(r)));
  const bolt = await startBoltServer([{ interfaceName: BOLT_SERVICE, methods: { hello: (name) => `bolt hello ${String(name)}` } }]);
  t.after(() => bolt.close());
  const dubbo = await startDubboServer([{ interfaceName: DUBBO_SERVICE, methods: { hello: (name) => `dubbo hello ${String(name)}` } }]);
  t.after(() => dubbo.close());

  const ports = new Map([[ADMIN_PORT, 0], [LISTENER_PORT, 0], [HTTP_PORT, (web.address() as net.AddressInfo).port],
    [BOLT_PORT, bolt.port], [DUBBO_PORT, dubbo.port]]);
  const skiff = await startSkiff({ config: withPorts(readFileSync(`${REPO_ROOT}${EXAMPLE}`, 'utf8'), ports) });
  let stopped = false;
  t.after(async () => { if (!stopped) await skiff.stop(); });
  const port = skiff.port('mixed');
  const base = `http://127.0.0.1:${port}`;

  const boltC = boltClient(port);
  t.after(() => boltC.close());
  const dubboC = dubboClient(port);
  t.after(() => dubboC.close());
  const h2 = http2.connect(base);
  h2.on('error', () => {});
  t.after(() => h2.close());

  const ROUNDS = 20;
  const GARBAGE = [
    Buffer.from([0x00, 0x01, 0x02, 0x03, 0xff, 0xfe]),
    Buffer.from('\x16\x03\x01garbage-that-is-not-tls', 'latin1'),
    Buffer.from([0x01, 0x7f, 0x7f, 0x7f, 0x7f]), // Bolt's proto code with an unknown type
    Buffer.from('hello there\r\n\r\n'),
  ];
  const work: Promise<void>[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    work.push((async () => {
      const r = await fetch(`${base}/fetch/${i}`);
      assert.equal(r.status, 200);
      assert.equal(r.headers.get('x-seen-version'), '1.1');
      assert.equal(await r.text(), `web /fetch/${i}`);
    })());
    work.push((async () => {
      const r = await h2Get(h2, `/h2/${i}`);
      assert.deepEqual(r, { status: 200, body: `web /h2/${i}` });
    })());
    work.push((async () => assert.equal(await boltC.invoke(BOLT_SERVICE, 'hello', [`b${i}`], { timeoutMs: 10_000 }), `bolt hello b${i}`))());
    work.push((async () => assert.equal(await dubboC.invoke(DUBBO_SERVICE, 'hello', [`d${i}`]), `dubbo hello d${i}`))());
  }
  work.push((async () => assert.equal(await curl(`${base}/curl`), 'web /curl'))());
  work.push((async () => assert.equal(await curl(`${base}/curl-h2`, ['--http2-prior-knowledge']), 'web /curl-h2'))());
  const garbage = GARBAGE.map((g) => sendRaw(port, g));
  await Promise.all(work);
  for (const g of await Promise.all(garbage)) assert.deepEqual(g, { reply: '', closedByPeer: true });

  const text = await (await fetch(`${skiff.adminUrl}/stats`)).text();
  assert.equal(stat(text, `listener.127.0.0.1_${port}.no_filter_chain_match`), GARBAGE.length);
  assert.equal(stat(text, 'protocol_inspector.protocol_not_found'), GARBAGE.length);
  assert.ok(stat(text, 'protocol_inspector.bolt_found') >= 1);
  assert.ok(stat(text, 'protocol_inspector.dubbo_found') >= 1);
  assert.ok(stat(text, 'protocol_inspector.h2c_found') >= 2); // Node's session and curl's
  assert.ok(stat(text, 'protocol_inspector.http_1_1_found') >= 2);
  assert.equal(stat(text, 'xprotocol.rpc.downstream_rq_total'), 2 * ROUNDS);
  assert.equal(stat(text, 'cluster.bolt_greeter.upstream_rq_total'), ROUNDS);
  assert.equal(stat(text, 'cluster.dubbo_greeter.upstream_rq_total'), ROUNDS);
  assert.equal(stat(text, 'cluster.web.upstream_rq_total'), 2 * ROUNDS + 2);

  // The RPC connections stay usable after the garbage: one more call each on the same clients.
  assert.equal(await boltC.invoke(BOLT_SERVICE, 'hello', ['again']), 'bolt hello again');
  assert.equal(await dubboC.invoke(DUBBO_SERVICE, 'hello', ['again']), 'dubbo hello again');
  boltC.close();
  dubboC.close();
  h2.close();
  stopped = true;
  assert.equal(await skiff.stop(), 0);
});
