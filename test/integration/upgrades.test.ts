// HTTP upgrades and CONNECT termination through the real skiff process, with real clients: the `ws` package
// (WebSocket over HTTP/1.1 to a ws echo server), Node's http2 client sending CONNECT, Node's http CONNECT; and
// the refusals (upgrade not enabled: 403; no connect route: 404; dead cluster: 503), after which the process
// still serves.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as http from 'node:http';
import * as http2 from 'node:http2';
import type * as net from 'node:net';
import { connect as netConnect } from 'node:net';
import { once } from 'node:events';
import { WebSocket, WebSocketServer } from 'ws';
import { startSkiff, type RunningSkiff } from '../helpers/skiff.js';
import { closedPort } from '../helpers/ports.js';
import { waitFor } from '../helpers/wait.js';
import { DOWNSTREAM_TLS, HCM, routerFilter } from '../helpers/envoy_config.js';
import { createTestCa } from '../helpers/certs.js';
import { readFileSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { startServer, staticCluster } from '../unit/tcp_proxy/harness.js';

const WAIT_MS = 10_000;
const GOLDEN_DUMP = fileURLToPath(new URL('../../../../shared/conformance/istio-golden/istioctl/pkg/writer/compare/testdata/configdump.json', import.meta.url));

function withTimeout<T>(p: Promise<T>, what: string, ms = WAIT_MS): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`timed out: ${what}`)), ms); });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

function hcmListener(name: string, hcm: Record<string, unknown>) {
  return {
    name, address: { socket_address: { address: '127.0.0.1', port_value: 0 } },
    filter_chains: [{ filters: [{ name: 'envoy.filters.network.http_connection_manager', typed_config: { '@type': HCM, http_filters: [routerFilter()], ...hcm } }] }],
  };
}

const CONNECT_ROUTE = (cluster: string) => ({
  match: { connect_matcher: {} },
  route: { cluster, upgrade_configs: [{ upgrade_type: 'CONNECT', connect_config: {} }] },
});

interface Peers {
  wsPort: number;
  /** A plain HTTP server that answers an upgrade request as a normal request. */
  webPort: number;
  echoPort: number;
  deadPort: number;
  wsCloseCodes: number[];
  close(): Promise<void>;
}

/** A ws echo server (also answering plain HTTP), and a TCP echo server that half-closes when its client does. */
async function startPeers(): Promise<Peers> {
  const httpServer = http.createServer((req, res) => { res.setHeader('content-type', 'text/plain'); res.end(`plain ${req.url}`); });
  const wss = new WebSocketServer({ server: httpServer });
  const wsCloseCodes: number[] = [];
  wss.on('connection', (ws) => {
    ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
    ws.on('close', (code) => wsCloseCodes.push(code));
    ws.send('welcome');
  });
  httpServer.listen(0, '127.0.0.1');
  await once(httpServer, 'listening');
  const echo = await startServer((s) => {
    s.on('data', (d: Buffer) => s.write(d));
    s.on('end', () => s.end());
  });
  const deadPort = await closedPort();
  const web = http.createServer((req, res) => { res.setHeader('content-type', 'text/plain'); res.end(`no upgrade for ${req.url}`); });
  web.listen(0, '127.0.0.1');
  await once(web, 'listening');
  return {
    wsPort: (httpServer.address() as net.AddressInfo).port, webPort: (web.address() as net.AddressInfo).port, echoPort: echo.port, deadPort, wsCloseCodes,
    async close() {
      web.closeAllConnections();
      await new Promise<void>((r) => web.close(() => r()));
      for (const c of wss.clients) c.terminate();
      wss.close();
      httpServer.closeAllConnections();
      await new Promise<void>((r) => httpServer.close(() => r()));
      await echo.close();
    },
  };
}

function config(p: Peers): Record<string, unknown> {
  return {
    admin: { address: { socket_address: { address: '127.0.0.1', port_value: 0 } } },
    static_resources: {
      listeners: [
        hcmListener('ws', {
          stat_prefix: 'ws', upgrade_configs: [{ upgrade_type: 'websocket' }],
          route_config: { virtual_hosts: [{ name: 'ws', domains: ['*'], routes: [
            { match: { prefix: '/nows' }, route: { cluster: 'ws', upgrade_configs: [{ upgrade_type: 'websocket', enabled: false }] } },
            { match: { prefix: '/web' }, route: { cluster: 'web' } },
            { match: { prefix: '/' }, route: { cluster: 'ws' } },
          ] }] },
        }),
        hcmListener('plain', {
          stat_prefix: 'plain',
          route_config: { virtual_hosts: [{ name: 'p', domains: ['*'], routes: [
            { match: { prefix: '/' }, route: { cluster: 'ws' } },
          ] }] },
        }),
        // The shape of Istio's connect_terminate listener (without its mTLS).
        hcmListener('connect', {
          stat_prefix: 'connect_terminate', server_name: 'istio-envoy', stream_idle_timeout: '0s',
          upgrade_configs: [{ upgrade_type: 'CONNECT' }], http2_protocol_options: { max_concurrent_streams: 100, allow_connect: true },
          route_config: { virtual_hosts: [
            { name: 'nocon', domains: ['nocon.test', 'nocon.test:*'], routes: [{ match: { prefix: '/' }, route: { cluster: 'ws' } }] },
            { name: 'dead', domains: ['dead.test:*'], routes: [CONNECT_ROUTE('dead')] },
            { name: 'default', domains: ['*'], routes: [CONNECT_ROUTE('echo'), { match: { prefix: '/' }, route: { cluster: 'ws' } }] },
          ] },
        }),
        hcmListener('noconnect', {
          stat_prefix: 'noconnect',
          // CONNECT is enabled neither here nor on the route: refused with 403.
          route_config: { virtual_hosts: [{ name: 'd', domains: ['*'], routes: [{ match: { connect_matcher: {} }, route: { cluster: 'echo' } }] }] },
        }),
      ],
      clusters: [staticCluster('ws', [p.wsPort]), staticCluster('web', [p.webPort]), staticCluster('echo', [p.echoPort]), staticCluster('dead', [p.deadPort])],
    },
  };
}

async function statsText(skiff: RunningSkiff): Promise<string> {
  return (await fetch(`${skiff.adminUrl}/stats`)).text();
}

function stat(text: string, name: string): number {
  const m = new RegExp(`^${name.replace(/[.|]/g, '\\$&')}: (\\d+)$`, 'm').exec(text);
  return m === null ? NaN : Number(m[1]);
}

async function plainGet(port: number, path: string): Promise<{ status: number; body: string }> {
  const res = await withTimeout(fetch(`http://127.0.0.1:${port}${path}`), `GET ${path}`);
  return { status: res.status, body: await res.text() };
}

type Message = { data: Buffer; binary: boolean };
/** Messages received and not yet taken, per client (a message may arrive with the handshake's last bytes). */
const inbox = new WeakMap<WebSocket, { queue: Message[]; waiter?: (m: Message) => void }>();

/** A WebSocket through Skiff: resolves with the client once open, or the HTTP status of a refusal. */
function openWs(url: string): Promise<{ ws?: WebSocket; status?: number; body?: Promise<string> }> {
  return withTimeout(new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    const box: { queue: Message[]; waiter?: (m: Message) => void } = { queue: [] };
    inbox.set(ws, box);
    ws.on('message', (data, binary) => {
      const m = { data: data as Buffer, binary };
      const w = box.waiter;
      box.waiter = undefined;
      if (w) w(m); else box.queue.push(m);
    });
    ws.once('open', () => resolve({ ws }));
    ws.once('unexpected-response', (_req, res) => {
      const chunks: Buffer[] = [];
      res.on('data', (d: Buffer) => chunks.push(d));
      const body = withTimeout(once(res, 'end').then(() => Buffer.concat(chunks).toString()), 'refusal body');
      body.catch(() => {}).finally(() => ws.terminate());
      resolve({ status: res.statusCode, body });
    });
    ws.once('error', (e) => reject(e));
  }), `websocket ${url}`);
}

function nextMessage(ws: WebSocket): Promise<Message> {
  const box = inbox.get(ws)!;
  const queued = box.queue.shift();
  if (queued) return Promise.resolve(queued);
  return withTimeout(new Promise((resolve) => { box.waiter = resolve; }), 'websocket message');
}

test('WebSocket over HTTP/1.1 through Skiff: handshake, messages both ways, close frames; refused where not enabled', async () => {
  const peers = await startPeers();
  let skiff: RunningSkiff | undefined;
  try {
    skiff = await startSkiff({ config: config(peers) });
    const port = skiff.port('ws');
    const { ws } = await openWs(`ws://127.0.0.1:${port}/chat`);
    assert.ok(ws);
    const welcome = nextMessage(ws);
    assert.equal((await welcome).data.toString(), 'welcome');
    const text = nextMessage(ws);
    ws.send('hello through skiff');
    assert.equal((await text).data.toString(), 'hello through skiff');
    // A large binary message crosses both relays in many chunks.
    const big = Buffer.alloc(300_000, 7);
    big[12345] = 9;
    const echoed = nextMessage(ws);
    ws.send(big);
    const got = await echoed;
    assert.equal(got.binary, true);
    assert.ok(got.data.equals(big));
    const closed = withTimeout(once(ws, 'close'), 'websocket close');
    ws.close(4001, 'bye');
    const [code] = await closed as [number];
    assert.equal(code, 4001);
    // The close frame reached the server with its code.
    for (let i = 0; i < 200 && !peers.wsCloseCodes.includes(4001); i++) await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(peers.wsCloseCodes, [4001]);

    // Disabled on the route, and not configured on the plain listener: 403 (Envoy's answer).
    assert.equal((await openWs(`ws://127.0.0.1:${port}/nows`)).status, 403);
    assert.equal((await openWs(`ws://127.0.0.1:${skiff.port('plain')}/chat`)).status, 403);
    // An upstream that answers the upgrade request as a normal request: its answer is relayed as it is.
    const normal = await openWs(`ws://127.0.0.1:${port}/web`);
    assert.equal(normal.status, 200);
    assert.equal(await normal.body, 'no upgrade for /web');
    // Plain requests on the same listeners still work.
    assert.deepEqual(await plainGet(port, '/x'), { status: 200, body: 'plain /x' });
    assert.deepEqual(await plainGet(skiff.port('plain'), '/y'), { status: 200, body: 'plain /y' });

    let stats = '';
    for (let i = 0; i < 200; i++) {
      stats = await statsText(skiff);
      if (stat(stats, 'http.ws.downstream_cx_upgrades_active') === 0) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal(stat(stats, 'http.ws.downstream_cx_upgrades_total'), 1);
    assert.equal(stat(stats, 'http.ws.downstream_cx_upgrades_active'), 0);
    assert.equal(stat(stats, 'http.ws.downstream_rq_ws_on_non_ws_route'), 1);
    assert.equal(stat(stats, 'http.plain.downstream_rq_ws_on_non_ws_route'), 1);
  } finally {
    if (skiff) assert.equal(await skiff.stop(), 0);
    await peers.close();
  }
});

/** Sends an HTTP/2 CONNECT for `authority` on `session`; resolves with the response headers and the stream. */
function h2Connect(session: http2.ClientHttp2Session, authority: string): Promise<{ headers: http2.IncomingHttpHeaders; stream: http2.ClientHttp2Stream }> {
  const stream = session.request({ ':method': 'CONNECT', ':authority': authority });
  return withTimeout(new Promise((resolve, reject) => {
    stream.once('response', (headers) => resolve({ headers, stream }));
    stream.once('error', reject);
  }), `CONNECT ${authority}`);
}

function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  stream.on('data', (d: Buffer) => chunks.push(d));
  return withTimeout(once(stream, 'end').then(() => Buffer.concat(chunks).toString()), 'stream end');
}

test('HTTP/2 CONNECT terminated by Skiff: 200, DATA <-> TCP both ways, END_STREAM <-> FIN; 404 / 503 / 403 refusals', async () => {
  const peers = await startPeers();
  let skiff: RunningSkiff | undefined;
  let session: http2.ClientHttp2Session | undefined;
  try {
    skiff = await startSkiff({ config: config(peers) });
    const port = skiff.port('connect');
    session = http2.connect(`http://127.0.0.1:${port}`);
    session.on('error', () => {});
    const { headers, stream } = await h2Connect(session, 'echo.test:443');
    assert.equal(headers[':status'], 200);
    assert.equal(headers.server, 'istio-envoy');
    const all = readAll(stream);
    // Bytes go up, come back through the echo; our END_STREAM becomes the echo's FIN, whose FIN ends our stream.
    stream.write('ping ');
    stream.write(Buffer.alloc(200_000, 0x61));
    stream.end('pong');
    const reply = await all;
    assert.equal(reply.length, 5 + 200_000 + 4);
    assert.ok(reply.startsWith('ping aaa') && reply.endsWith('apong'));

    // Two tunnels at once on one connection.
    const a = await h2Connect(session, 'echo.test:1');
    const b = await h2Connect(session, 'echo.test:2');
    const ra = readAll(a.stream);
    const rb = readAll(b.stream);
    a.stream.end('first');
    b.stream.end('second');
    assert.deepEqual([await ra, await rb], ['first', 'second']);

    const noRoute = await h2Connect(session, 'nocon.test:443');
    assert.equal(noRoute.headers[':status'], 404);
    const dead = await h2Connect(session, 'dead.test:443');
    assert.equal(dead.headers[':status'], 503);
    dead.stream.resume();
    noRoute.stream.resume();

    const other = http2.connect(`http://127.0.0.1:${skiff.port('noconnect')}`);
    other.on('error', () => {});
    try {
      const refused = await h2Connect(other, 'echo.test:443');
      assert.equal(refused.headers[':status'], 403);
      refused.stream.resume();
    } finally {
      other.close();
    }

    // The same connection still serves plain requests.
    const get = session.request({ ':path': '/after', ':authority': 'x.test' });
    const [getHeaders] = await withTimeout(once(get, 'response'), 'GET after CONNECT') as [http2.IncomingHttpHeaders];
    assert.equal(getHeaders[':status'], 200);
    assert.equal(await readAll(get), 'plain /after');

    let stats = '';
    for (let i = 0; i < 200; i++) {
      stats = await statsText(skiff);
      if (stat(stats, 'http.connect_terminate.downstream_cx_upgrades_active') === 0 && stat(stats, 'http.connect_terminate.downstream_rq_active') === 0) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal(stat(stats, 'http.connect_terminate.downstream_cx_upgrades_total'), 3);
    assert.equal(stat(stats, 'http.connect_terminate.downstream_cx_upgrades_active'), 0);
    assert.equal(stat(stats, 'http.connect_terminate.downstream_rq_active'), 0);
    assert.equal(stat(stats, 'cluster.echo.upstream_cx_tx_bytes_total'), 5 + 200_000 + 4 + 5 + 6);
    assert.equal(stat(stats, 'cluster.echo.upstream_cx_rx_bytes_total'), 5 + 200_000 + 4 + 5 + 6);
  } finally {
    session?.close();
    if (skiff) assert.equal(await skiff.stop(), 0);
    await peers.close();
  }
});

/** An HTTP/1.1 CONNECT through Node's http client: the status and, for a 200, the tunnel's socket. */
function h1Connect(port: number, target: string): Promise<{ status: number; socket: net.Socket; head: Buffer }> {
  return withTimeout(new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method: 'CONNECT', path: target, agent: false });
    req.once('connect', (res: http.IncomingMessage, socket: net.Socket, head: Buffer) => resolve({ status: res.statusCode ?? 0, socket, head }));
    req.once('response', (res: http.IncomingMessage) => { res.resume(); resolve({ status: res.statusCode ?? 0, socket: res.socket, head: Buffer.alloc(0) }); });
    req.once('error', reject);
    req.end();
  }), `HTTP/1.1 CONNECT ${target}`);
}

test('HTTP/1.1 CONNECT terminated by Skiff: 200 then raw bytes both ways with half-close; 403 where not enabled', async () => {
  const peers = await startPeers();
  let skiff: RunningSkiff | undefined;
  try {
    skiff = await startSkiff({ config: config(peers) });
    const port = skiff.port('connect');
    const { status, socket, head } = await h1Connect(port, 'echo.test:443');
    assert.equal(status, 200);
    assert.equal(head.length, 0);
    const chunks: Buffer[] = [];
    socket.on('data', (d: Buffer) => chunks.push(d));
    const ended = withTimeout(once(socket, 'end'), 'tunnel FIN');
    socket.write('over http/1.1 ');
    socket.end(Buffer.alloc(100_000, 0x62));
    await ended;
    const reply = Buffer.concat(chunks).toString();
    assert.equal(reply.length, 14 + 100_000);
    assert.ok(reply.startsWith('over http/1.1 bbb'));
    socket.destroy();

    // Bytes sent right behind the CONNECT head, before the 200 (in the same write): kept and relayed first.
    const raw = netConnect({ port, host: '127.0.0.1', allowHalfOpen: true });
    raw.on('error', () => {});
    const rawChunks: Buffer[] = [];
    raw.on('data', (d: Buffer) => rawChunks.push(d));
    raw.write('CONNECT echo.test:443 HTTP/1.1\r\nhost: echo.test:443\r\n\r\nearly bytes');
    await waitFor(() => Buffer.concat(rawChunks).toString('latin1').endsWith('early bytes'), WAIT_MS, 'the early bytes echoed');
    const rawEnded = withTimeout(once(raw, 'end'), 'early-data tunnel FIN');
    raw.end();
    await rawEnded;
    const rawReply = Buffer.concat(rawChunks).toString('latin1');
    assert.match(rawReply, /^HTTP\/1\.1 200 OK\r\n/);
    assert.ok(rawReply.endsWith('\r\n\r\nearly bytes'), rawReply);
    raw.destroy();

    const refused = await h1Connect(skiff.port('noconnect'), 'echo.test:443');
    assert.equal(refused.status, 403);
    refused.socket.destroy();
    const noRoute = await h1Connect(port, 'nocon.test:443');
    assert.equal(noRoute.status, 404);
    noRoute.socket.destroy();
    const dead = await h1Connect(port, 'dead.test:443');
    assert.equal(dead.status, 503);
    dead.socket.destroy();
    assert.deepEqual(await plainGet(port, '/still'), { status: 200, body: 'plain /still' });
  } finally {
    if (skiff) assert.equal(await skiff.stop(), 0);
    await peers.close();
  }
});

test('HBONE: Istio\'s connect_terminate connection manager, verbatim, terminates HTTP/2 CONNECT over mTLS (TLS 1.3, h2) to a TCP echo', async () => {
  const peers = await startPeers();
  const ca = createTestCa();
  const server = ca.issue('hbone', 'hbone.skiff.test', ['DNS:hbone.skiff.test']);
  const client = ca.issue('workload', 'workload', ['URI:spiffe://cluster.local/ns/default/sa/client'], 'client');
  // Istio's connect_terminate listener as istiod sends it (its HCM verbatim: set_filter_state, XFCC, peer metadata),
  // with certificates from files instead of SDS; its cluster main_internal is the TCP echo here.
  const dump = JSON.parse(readFileSync(GOLDEN_DUMP, 'utf8')) as { configs: { dynamic_listeners?: { name: string; active_state: { listener: unknown } }[] }[] };
  const golden = dump.configs.flatMap((c) => c.dynamic_listeners ?? []).find((l) => l.name === 'connect_terminate')!.active_state.listener as {
    filter_chains: { filters: { name: string; typed_config: Record<string, unknown> }[] }[];
  };
  const hbone = {
    name: 'hbone', address: { socket_address: { address: '127.0.0.1', port_value: 0 } },
    filter_chains: [{ filters: golden.filter_chains[0].filters }],
  };
  const mtls = { name: 'tls', typed_config: {
    '@type': DOWNSTREAM_TLS, require_client_certificate: true,
    common_tls_context: {
      tls_params: { tls_minimum_protocol_version: 'TLSv1_3', tls_maximum_protocol_version: 'TLSv1_3' },
      alpn_protocols: ['h2'],
      tls_certificates: [{ certificate_chain: { filename: server.certPath }, private_key: { filename: server.keyPath } }],
      validation_context: { trusted_ca: { filename: ca.certPath } },
    },
  } };
  let skiff: RunningSkiff | undefined;
  let session: http2.ClientHttp2Session | undefined;
  try {
    skiff = await startSkiff({
      config: {
        admin: { address: { socket_address: { address: '127.0.0.1', port_value: 0 } } },
        static_resources: {
          listeners: [{ ...hbone, filter_chains: [{ ...hbone.filter_chains[0], transport_socket: mtls }] }],
          clusters: [staticCluster('main_internal', [peers.echoPort])],
        },
      },
    });
    session = http2.connect(`https://127.0.0.1:${skiff.port('hbone')}`, { ca: ca.cert, cert: client.cert, key: client.key, servername: 'hbone.skiff.test' });
    session.on('error', () => {});
    const { headers, stream } = await h2Connect(session, '10.0.0.7:9080');
    assert.equal(headers[':status'], 200);
    assert.equal(headers.server, 'istio-envoy');
    const all = readAll(stream);
    stream.end('tunnelled over mTLS');
    assert.equal(await all, 'tunnelled over mTLS');
  } finally {
    session?.close();
    if (skiff) assert.equal(await skiff.stop(), 0);
    await peers.close();
    rmSync(ca.dir, { recursive: true, force: true });
  }
});
