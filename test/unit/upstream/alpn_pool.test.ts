// auto_config upstreams (HttpProtocolOptions.auto_config) through a real ClusterImpl over TLS: the protocol
// of each host is what ALPN negotiates (h2 -> HTTP/2 pool, http/1.1 or no ALPN -> HTTP/1.1 pool), the
// handshake that asked is the connection the first request uses (one handshake, not two), plaintext
// auto_config is HTTP/1.1, a refused connect fails the waiting requests, and HTTP/3 is refused by name.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { once } from 'node:events';
import type { Cluster as EnvoyCluster } from '../../../src/types/envoy.js';
import type { ClientConnection, ResponseHead } from '../../../src/types/http.js';
import type { HttpConnectionPool } from '../../../src/types/upstream.js';
import { SkiffError, UnsupportedConfigError } from '../../../src/common/errors.js';
import { StatsStore } from '../../../src/common/stats.js';
import { ClusterImpl } from '../../../src/upstream/cluster.js';
import { AlpnPool } from '../../../src/upstream/alpn_pool.js';
import { Http1Pool } from '../../../src/upstream/http1_pool.js';
import { createClientConnection } from '../../../src/stream/http1/client.js';
import { mainInstance } from '../../../src/wasm/runtime.js';
import { createTestCa, type TestCa } from '../../helpers/certs.js';
import { closedPort } from './helpers.js';

const AUTO = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': {
    '@type': 'type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions',
    auto_config: { http2_protocol_options: {}, ...extra },
  },
});
const UPSTREAM_TLS = 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext';

let ca: TestCa;
/** Offers h2 and http/1.1 (Node's default for a secure HTTP/2 server with allowHTTP1). */
let both: http2.Http2SecureServer;
/** HTTP/1.1 only, no ALPN at all. */
let h1only: https.Server;
/** HTTP/1.1 only, ALPN says so. */
let h1alpn: https.Server;
const handshakes = new Map<object, number>();
const ports = new Map<object, number>();

async function listen(server: http2.Http2SecureServer | https.Server): Promise<void> {
  handshakes.set(server, 0);
  server.on('secureConnection', () => handshakes.set(server, handshakes.get(server)! + 1));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  ports.set(server, (server.address() as AddressInfo).port);
}

/** Answers with the HTTP version the request arrived in. */
function answer(req: { httpVersion: string }, res: { setHeader(n: string, v: string): void; end(b: string): void }): void {
  res.setHeader('x-version', req.httpVersion);
  res.end('ok');
}

before(async () => {
  ca = createTestCa();
  const leaf = ca.issue('server', 'upstream.test', ['DNS:upstream.test']);
  both = http2.createSecureServer({ cert: leaf.cert, key: leaf.key, allowHTTP1: true }, answer);
  h1only = https.createServer({ cert: leaf.cert, key: leaf.key }, answer);
  h1alpn = https.createServer({ cert: leaf.cert, key: leaf.key, ALPNProtocols: ['http/1.1'] }, answer);
  for (const s of [both, h1only, h1alpn]) await listen(s);
});

after(async () => {
  for (const s of [both, h1only, h1alpn]) {
    if (s instanceof https.Server) s.closeAllConnections();
    await new Promise<void>((r) => s.close(() => r()));
  }
  ca?.cleanup();
});

function cluster(port: number, opts: { tls?: boolean; alpn?: string[]; protocol?: Record<string, unknown> } = {}): { cluster: ClusterImpl; stats: StatsStore } {
  const stats = new StatsStore();
  const wasm = mainInstance();
  const config = {
    name: 'auto', type: 'STATIC', connect_timeout: { seconds: 2 },
    typed_extension_protocol_options: opts.protocol ?? AUTO(),
    ...(opts.tls === false ? {} : {
      transport_socket: { name: 'envoy.transport_sockets.tls', typed_config: {
        '@type': UPSTREAM_TLS, sni: 'upstream.test',
        common_tls_context: { validation_context: { trusted_ca: { filename: ca.certPath } }, ...(opts.alpn ? { alpn_protocols: opts.alpn } : {}) },
      } },
    }),
    load_assignment: { cluster_name: 'auto', endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: '127.0.0.1', port_value: port } } } }] }] },
  } as unknown as EnvoyCluster;
  return { cluster: new ClusterImpl(config, 'clusters[0]', { stats, connect: (socket) => createClientConnection(wasm, socket) }), stats };
}

function acquire(pool: HttpConnectionPool): Promise<ClientConnection> {
  return new Promise((resolve, reject) => pool.acquire((e, c) => (e ? reject(e) : resolve(c!))));
}

/** One GET; resolves with the HTTP version the server saw. */
async function version(pool: HttpConnectionPool): Promise<string> {
  const conn = await acquire(pool);
  try {
    return await new Promise<string>((resolve, reject) => {
      let v = '';
      const req = conn.requestLocal('GET', '/', [['host', 'upstream.test']], { bodyKind: 'none' }, {
        onHead: (h: ResponseHead) => { v = h.headers.get('x-version') ?? ''; },
        onData: () => undefined,
        onEnd: () => resolve(v),
        onError: reject,
      });
      req.end();
    });
  } finally {
    pool.release(conn);
  }
}

test('a host whose ALPN picks h2: HTTP/2, on the connection that asked (one handshake for many requests)', async () => {
  const { cluster: c, stats } = cluster(ports.get(both)!);
  try {
    const before = handshakes.get(both)!;
    const pool = c.pool(c.hosts()[0]);
    assert.ok(pool instanceof AlpnPool);
    const versions = await Promise.all(Array.from({ length: 6 }, () => version(pool)));
    assert.deepEqual(versions, Array(6).fill('2.0'));
    assert.equal(pool.protocol, 'http2');
    assert.equal(handshakes.get(both)! - before, 1);
    assert.equal(stats.counter('cluster.auto.upstream_cx_http2_total').value, 1);
    assert.equal(stats.counter('cluster.auto.upstream_cx_http1_total').value, 0);
    assert.equal(await version(pool), '2.0');
  } finally {
    c.close();
  }
});

test('a host without ALPN, or whose ALPN picks http/1.1: HTTP/1.1, first request on the probing connection', async () => {
  for (const server of [h1only, h1alpn]) {
    const { cluster: c, stats } = cluster(ports.get(server)!);
    try {
      const before = handshakes.get(server)!;
      const pool = c.pool(c.hosts()[0]) as AlpnPool;
      assert.equal(await version(pool), '1.1');
      assert.equal(pool.protocol, 'http1');
      assert.equal(handshakes.get(server)! - before, 1);
      assert.equal(stats.counter('cluster.auto.upstream_cx_http1_total').value, 1);
      // Keep-alive: the next request reuses it.
      assert.equal(await version(pool), '1.1');
      assert.equal(handshakes.get(server)! - before, 1);
    } finally {
      c.close();
    }
  }
});

test('the cluster\'s own alpn_protocols are what is offered: http/1.1 only keeps an h2-capable host on HTTP/1.1', async () => {
  const { cluster: c } = cluster(ports.get(both)!, { alpn: ['http/1.1'] });
  try {
    const pool = c.pool(c.hosts()[0]) as AlpnPool;
    assert.equal(await version(pool), '1.1');
    assert.equal(pool.protocol, 'http1');
  } finally {
    c.close();
  }
});

test('plaintext auto_config has no ALPN to ask: HTTP/1.1', () => {
  const { cluster: c } = cluster(ports.get(h1only)!, { tls: false });
  try {
    assert.ok(c.pool(c.hosts()[0]) instanceof Http1Pool);
  } finally {
    c.close();
  }
});

test('a refused connect fails every waiting request; the next acquire tries again', async () => {
  const { cluster: c, stats } = cluster(await closedPort());
  try {
    const pool = c.pool(c.hosts()[0]);
    const errors = await Promise.all([acquire(pool), acquire(pool)].map((p) => p.then(() => undefined, (e: unknown) => e)));
    for (const e of errors) assert.equal((e as SkiffError).code, 'SKIFF_UPSTREAM_CONNECT_FAILURE');
    assert.equal(stats.counter('cluster.auto.upstream_cx_connect_fail').value, 1);
    await assert.rejects(acquire(pool), (e: SkiffError) => e.code === 'SKIFF_UPSTREAM_CONNECT_FAILURE');
    assert.equal(stats.counter('cluster.auto.upstream_cx_connect_fail').value, 2);
  } finally {
    c.close();
  }
});

test('auto_config with HTTP/3 options is refused by name', () => {
  assert.throws(() => cluster(ports.get(both)!, { protocol: AUTO({ http3_protocol_options: {} }) }),
    (e: unknown) => e instanceof UnsupportedConfigError && /auto_config\.http3_protocol_options/.test(e.message));
});
