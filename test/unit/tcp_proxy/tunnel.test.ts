// tcp_proxy tunneling_config: the downstream's bytes inside an HTTP CONNECT to a real peer (Node's http2 server
// over h2c and over TLS with ALPN h2, Node's http server for HTTP/1.1 CONNECT): echo through the tunnel,
// half-close both ways, headers and hostname formats, and a refusing peer (403) closing the client.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import * as net from 'node:net';
import * as http from 'node:http';
import * as http2 from 'node:http2';
import { once } from 'node:events';
import { createTestCa } from '../../helpers/certs.js';
import { waitFor } from '../../helpers/wait.js';
import { exchange, roundTrip, startProxy, staticCluster } from './harness.js';

/** `p`, or a failure after `ms` (every wait in these tests is bounded). */
function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms); });
  return Promise.race([p, limit]).finally(() => clearTimeout(timer));
}


const UPSTREAM_TLS = 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext';
const HTTP_OPTIONS = 'type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions';
const H2_OPTIONS = { 'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': { '@type': HTTP_OPTIONS, explicit_http_config: { http2_protocol_options: {} } } };
const ca = createTestCa();
const serverCert = ca.issue('server', 'waypoint.internal', ['DNS:waypoint.internal']);
after(() => ca.cleanup());

interface Seen { method: string; authority: string; path: string | undefined; scheme: string | undefined; tag: string | undefined }

/** An HTTP/2 peer: CONNECT (or POST) streams answered with `status`; on 2xx it echoes and ends after the client ends. */
async function startH2Peer(status: number, secure: boolean): Promise<{ port: number; seen: Seen[]; close(): Promise<void> }> {
  const seen: Seen[] = [];
  const onStream = (stream: http2.ServerHttp2Stream, h: http2.IncomingHttpHeaders): void => {
    seen.push({ method: String(h[':method']), authority: String(h[':authority']), path: h[':path'] as string | undefined, scheme: h[':scheme'] as string | undefined, tag: h['x-tunnel-tag'] as string | undefined });
    stream.on('error', () => {});
    if (status < 200 || status > 299) { stream.respond({ ':status': status }, { endStream: true }); return; }
    stream.respond({ ':status': status });
    // Authority `first.fin`: the peer speaks first and half-closes at once, then reports what it read afterwards.
    if (h[':authority'] === 'first.fin') {
      let got = '';
      stream.end('server first');
      stream.on('data', (d: Buffer) => { got += d.toString(); });
      stream.on('end', () => { seen.push({ method: 'after-fin', authority: got, path: undefined, scheme: undefined, tag: undefined }); });
      return;
    }
    // `reset!` makes the peer reset the stream (RST_STREAM CANCEL); anything else is echoed.
    stream.on('data', (d: Buffer) => { if (d.toString() === 'reset!') stream.close(http2.constants.NGHTTP2_CANCEL); else stream.write(d); });
    stream.on('end', () => stream.end('|end'));
  };
  const server = secure
    ? http2.createSecureServer({ cert: serverCert.cert, key: serverCert.key, ALPNProtocols: ['h2'] })
    : http2.createServer();
  const sessions = new Set<http2.ServerHttp2Session>();
  server.on('session', (s: http2.ServerHttp2Session) => { sessions.add(s); s.on('error', () => {}); s.once('close', () => sessions.delete(s)); });
  server.on('stream', onStream);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as net.AddressInfo).port, seen,
    close: async () => { for (const s of sessions) s.destroy(); await new Promise<void>((r) => server.close(() => r())); },
  };
}

/** An HTTP/1.1 peer answering CONNECT with `status`; on 2xx it echoes. */
async function startH1Peer(status: number): Promise<{ port: number; seen: string[]; close(): Promise<void> }> {
  const seen: string[] = [];
  const sockets = new Set<net.Socket>();
  const server = http.createServer((_req, res) => { res.statusCode = 405; res.end(); });
  server.on('connect', (req: http.IncomingMessage, socket: net.Socket, head: Buffer) => {
    sockets.add(socket);
    socket.on('error', () => {});
    socket.once('close', () => sockets.delete(socket));
    seen.push(`${req.url} host=${req.headers.host} tag=${String(req.headers['x-tunnel-tag'])}`);
    if (status < 200 || status > 299) { socket.end(`HTTP/1.1 ${status} Nope\r\ncontent-length: 0\r\n\r\n`); return; }
    socket.write(`HTTP/1.1 ${status} Connection Established\r\n\r\n`);
    if (head.length > 0) socket.write(head);
    socket.on('data', (d: Buffer) => socket.write(d));
    socket.on('end', () => socket.end('|end'));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as net.AddressInfo).port, seen,
    close: async () => { for (const s of sockets) s.destroy(); server.closeAllConnections(); await new Promise<void>((r) => server.close(() => r())); },
  };
}

/** A TCP peer run by `onSocket` (bytes no HTTP server would send). */
async function startRawPeer(onSocket: (s: net.Socket) => void): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((sock) => { sockets.add(sock); sock.on('error', () => {}); sock.once('close', () => sockets.delete(sock)); sock.resume(); onSocket(sock); });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as net.AddressInfo).port,
    close: async () => { for (const s of sockets) s.destroy(); await new Promise<void>((r) => server.close(() => r())); },
  };
}

const TUNNEL = { hostname: '%UPSTREAM_CLUSTER%.svc:%DOWNSTREAM_LOCAL_PORT%', headers_to_add: [{ header: { key: 'x-tunnel-tag', value: 'from-%UPSTREAM_CLUSTER%' } }] };

test('HTTP/2 CONNECT over h2c: echo through the tunnel, FIN as END_STREAM both ways, authority and headers from formats', async (t) => {
  const peer = await startH2Peer(200, false);
  t.after(() => peer.close());
  const proxy = await startProxy({ cluster: 'h2c', tunneling_config: TUNNEL }, [staticCluster('h2c', [peer.port], { typed_extension_protocol_options: H2_OPTIONS } as never)]);
  t.after(() => proxy.close());
  const c = net.connect({ port: proxy.port, host: '127.0.0.1', allowHalfOpen: true });
  await within(once(c, 'connect'), 10_000, 'c connect');
  assert.equal(await exchange(c, 'ping through h2', 15, 10_000), 'ping through h2');
  const big = 'z'.repeat(300_000); // several windows' worth: flow control both ways
  assert.equal((await exchange(c, big, big.length, 10_000)).length, big.length);
  // Half-close: the client's FIN reaches the peer as END_STREAM; the peer's reply after it, then its END_STREAM, come back.
  let tail = '';
  c.on('data', (d: Buffer) => { tail += d.toString(); });
  c.end();
  await within(once(c, 'close'), 10_000, 'c close');
  assert.equal(tail, '|end');
  assert.deepEqual(peer.seen, [{ method: 'CONNECT', authority: 'h2c.svc:0', path: undefined, scheme: undefined, tag: 'from-h2c' }]);
  await waitFor(() => proxy.filter.activeSessions === 0, 5000, 'the session ended');
  assert.equal(proxy.counter('cluster.h2c.upstream_cx_total'), 1);
  assert.equal(proxy.counter('cluster.h2c.upstream_cx_connect_fail'), 0);
  assert.equal(proxy.counter('tcp.tp.downstream_cx_rx_bytes_total'), 15 + big.length);
});

test('HTTP/2 CONNECT over TLS with ALPN h2 (as Istio connect_originate), and use_post', async (t) => {
  const peer = await startH2Peer(200, true);
  t.after(() => peer.close());
  const tlsCluster = (name: string) => staticCluster(name, [peer.port], {
    typed_extension_protocol_options: H2_OPTIONS,
    transport_socket: { name: 'envoy.transport_sockets.tls', typed_config: {
      '@type': UPSTREAM_TLS, sni: 'waypoint.internal',
      common_tls_context: { alpn_protocols: ['h2'], validation_context: { trusted_ca: { filename: ca.certPath } } },
    } },
  } as never);
  const proxy = await startProxy({ cluster: 'mtls', tunneling_config: { hostname: '10.0.0.9:9080' } }, [tlsCluster('mtls')]);
  t.after(() => proxy.close());
  assert.equal((await roundTrip(proxy.port, 'secret bytes', 10_000)).reply, 'secret bytes|end');
  assert.deepEqual(peer.seen[0], { method: 'CONNECT', authority: '10.0.0.9:9080', path: undefined, scheme: undefined, tag: undefined });

  const post = await startProxy({ cluster: 'mtls_post', tunneling_config: { hostname: 'svc.example', use_post: true, post_path: '/tunnel' } }, [tlsCluster('mtls_post')]);
  t.after(() => post.close());
  assert.equal((await roundTrip(post.port, 'posted', 10_000)).reply, 'posted|end');
  assert.deepEqual(peer.seen[1], { method: 'POST', authority: 'svc.example', path: '/tunnel', scheme: 'https', tag: undefined });
});

test('tunnels to one host share an HTTP/2 connection; a peer reset closes only its own client', async (t) => {
  const peer = await startH2Peer(200, false);
  t.after(() => peer.close());
  const proxy = await startProxy({ cluster: 'shared', tunneling_config: { hostname: 'svc:80' } },
    [staticCluster('shared', [peer.port], { typed_extension_protocol_options: H2_OPTIONS } as never)]);
  t.after(() => proxy.close());
  const a = net.connect({ port: proxy.port, host: '127.0.0.1' });
  const b = net.connect({ port: proxy.port, host: '127.0.0.1' });
  await within(Promise.all([once(a, 'connect'), once(b, 'connect')]), 10_000, 'both connect');
  assert.equal(await exchange(a, 'from a', 6, 10_000), 'from a');
  assert.equal(await exchange(b, 'from b', 6, 10_000), 'from b');
  assert.equal(proxy.counter('cluster.shared.upstream_cx_total'), 1, 'both tunnels on one connection');
  const aClosed = once(a, 'close');
  a.write('reset!');
  await within(aClosed, 10_000, 'the reset client closed');
  assert.equal(await exchange(b, 'b lives', 7, 10_000), 'b lives', 'the other tunnel is untouched');
  b.destroy();
  await waitFor(() => proxy.filter.activeSessions === 0, 10_000, 'sessions ended');
});

test('idle_timeout closes the client and resets the tunnel stream', async (t) => {
  const peer = await startH2Peer(200, false);
  t.after(() => peer.close());
  const proxy = await startProxy({ cluster: 'idle', tunneling_config: { hostname: 'svc:80' }, idle_timeout: { seconds: 1 } },
    [staticCluster('idle', [peer.port], { typed_extension_protocol_options: H2_OPTIONS } as never)]);
  t.after(() => proxy.close());
  const c = net.connect({ port: proxy.port, host: '127.0.0.1' });
  const closed = once(c, 'close');
  c.on('error', () => {});
  c.resume(); // reads (and drops) the echo: a socket that does not read never sees the close
  // Whatever the tunnel got done before it (a loaded machine may be slow to open it), silence ends it.
  c.write('then silence');
  await within(closed, 10_000, 'the idle client closed');
  await waitFor(() => proxy.counter('tcp.tp.idle_timeout') === 1 && proxy.filter.activeSessions === 0, 10_000, 'idle timeout counted');
});

test('the peer half-closes first (END_STREAM): the client reads EOF and may still send until it ends too', async (t) => {
  const peer = await startH2Peer(200, false);
  t.after(() => peer.close());
  const proxy = await startProxy({ cluster: 'fin', tunneling_config: { hostname: 'first.fin' } },
    [staticCluster('fin', [peer.port], { typed_extension_protocol_options: H2_OPTIONS } as never)]);
  t.after(() => proxy.close());
  const c = net.connect({ port: proxy.port, host: '127.0.0.1', allowHalfOpen: true });
  let got = '';
  c.on('data', (d: Buffer) => { got += d.toString(); });
  await within(once(c, 'end'), 10_000, 'the peer FIN at the client');
  assert.equal(got, 'server first');
  c.end('client after FIN');
  await within(once(c, 'close'), 10_000, 'client close');
  await waitFor(() => peer.seen.some((s) => s.method === 'after-fin'), 10_000, 'the peer read the rest');
  assert.equal(peer.seen.find((s) => s.method === 'after-fin')!.authority, 'client after FIN');
});

test('HTTP/1.1 CONNECT: echo through the tunnel with half-close', async (t) => {
  const peer = await startH1Peer(200);
  t.after(() => peer.close());
  const proxy = await startProxy({ cluster: 'h1', tunneling_config: TUNNEL }, [staticCluster('h1', [peer.port])]);
  t.after(() => proxy.close());
  assert.equal((await roundTrip(proxy.port, 'over http/1.1', 10_000)).reply, 'over http/1.1|end');
  assert.deepEqual(peer.seen, ['h1.svc:0 host=h1.svc:0 tag=from-h1']);
});

test('a refusing CONNECT peer (403) closes the client and counts a connect failure, over HTTP/2 and HTTP/1.1', async (t) => {
  const h2 = await startH2Peer(403, false);
  const h1 = await startH1Peer(403);
  t.after(async () => { await h2.close(); await h1.close(); });
  const proxy = await startProxy({ cluster: 'deny2', tunneling_config: { hostname: 'x:1' } }, [staticCluster('deny2', [h2.port], { typed_extension_protocol_options: H2_OPTIONS } as never)]);
  t.after(() => proxy.close());
  const r2 = await roundTrip(proxy.port, 'let me in', 10_000);
  assert.equal(r2.reply, '');
  assert.equal(h2.seen.length, 1);
  assert.equal(proxy.counter('cluster.deny2.upstream_cx_connect_fail'), 1);
  assert.equal(proxy.counter('cluster.deny2.upstream_cx_connect_attempts_exceeded'), 1);

  const proxy1 = await startProxy({ cluster: 'deny1', tunneling_config: { hostname: 'x:1' } }, [staticCluster('deny1', [h1.port])]);
  t.after(() => proxy1.close());
  assert.equal((await roundTrip(proxy1.port, 'let me in', 10_000)).reply, '');
  assert.equal(proxy1.counter('cluster.deny1.upstream_cx_connect_fail'), 1);
  await waitFor(() => proxy.filter.activeSessions === 0 && proxy1.filter.activeSessions === 0, 5000, 'sessions ended');
});

test('an HTTP/1.1 peer answering garbage, or an endless head, fails the tunnel without crashing', async (t) => {
  const garbage = await startRawPeer((sock) => sock.end('SSH-2.0-not-http\r\n\r\n'));
  const endless = await startRawPeer((sock) => { const line = `x-filler: ${'a'.repeat(1000)}\r\n`; sock.write('HTTP/1.1 200 OK\r\n'); for (let i = 0; i < 40; i++) sock.write(line); });
  t.after(async () => { await garbage.close(); await endless.close(); });
  const proxy = await startProxy({ cluster: 'g', tunneling_config: { hostname: 'x:1' } }, [staticCluster('g', [garbage.port])]);
  t.after(() => proxy.close());
  assert.equal((await roundTrip(proxy.port, 'hi', 10_000)).reply, '');
  assert.equal(proxy.counter('cluster.g.upstream_cx_connect_fail'), 1);
  const proxy2 = await startProxy({ cluster: 'e', tunneling_config: { hostname: 'x:1' } }, [staticCluster('e', [endless.port])]);
  t.after(() => proxy2.close());
  assert.equal((await roundTrip(proxy2.port, 'hi', 10_000)).reply, '');
  assert.equal(proxy2.counter('cluster.e.upstream_cx_connect_fail'), 1);
});

test('tunneling_config is checked: hostname required, post_path only with use_post, reserved headers refused', async () => {
  await assert.rejects(startProxy({ cluster: 'c', tunneling_config: {} }, [staticCluster('c', [1])]), /tunneling_config\.hostname/);
  await assert.rejects(startProxy({ cluster: 'c', tunneling_config: { hostname: 'h', post_path: '/p' } }, [staticCluster('c', [1])]), /post_path/);
  await assert.rejects(startProxy({ cluster: 'c', tunneling_config: { hostname: 'h', headers_to_add: [{ header: { key: 'Host', value: 'x' } }] } }, [staticCluster('c', [1])]), /headers_to_add\[0\]\.header\.key/);
  await assert.rejects(startProxy({ cluster: 'c', tunneling_config: { hostname: '%NOPE%' } }, [staticCluster('c', [1])]), /tunneling_config\.hostname/);
});
