// Http2Pool through a real ClusterImpl (typed_extension_protocol_options explicit http2) against Node's http2
// server: many acquires share one connection up to the server's SETTINGS_MAX_CONCURRENT_STREAMS, a second
// connection opens beyond it, idle connections close after idle_timeout, a refused connect fails the waiters,
// and unsupported protocol options are rejected by name.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import http2 from 'node:http2';
import { once } from 'node:events';
import type { Cluster as EnvoyCluster } from '../../../src/types/envoy.js';
import type { ClientConnection, ResponseHead } from '../../../src/types/http.js';
import type { SkiffError } from '../../../src/common/errors.js';
import { StatsStore } from '../../../src/common/stats.js';
import { ClusterImpl } from '../../../src/upstream/cluster.js';
import { Http2Pool } from '../../../src/upstream/http2_pool.js';
import { closedPort, testConnectionFactory, waitFor } from './helpers.js';
import { PATIENCE_MS } from '../../helpers/wait.js';

let sessions = 0;
let openSessions = 0;
const server = http2.createServer({ settings: { maxConcurrentStreams: 4 } });
server.on('session', (s) => { sessions++; openSessions++; s.on('close', () => { openSessions--; }); });
server.on('stream', (stream) => {
  stream.on('error', () => undefined);
  setTimeout(() => { if (stream.destroyed) return; stream.respond({ ':status': 200 }); stream.end('ok'); }, 30);
});
server.listen(0, '127.0.0.1');
await once(server, 'listening');
const port = (server.address() as net.AddressInfo).port;
after(() => server.close());

const H2_OPTIONS = {
  'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': {
    '@type': 'type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions',
    explicit_http_config: { http2_protocol_options: {} },
  },
};

function cluster(p: number, extra: Record<string, unknown> = {}): { cluster: ClusterImpl; pool: Http2Pool; stats: StatsStore } {
  const stats = new StatsStore();
  const config = {
    name: 'h2', type: 'STATIC', connect_timeout: { seconds: 1 },
    typed_extension_protocol_options: H2_OPTIONS,
    load_assignment: { cluster_name: 'h2', endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: '127.0.0.1', port_value: p } } } }] }] },
    ...extra,
  } as unknown as EnvoyCluster;
  const c = new ClusterImpl(config, 'clusters[0]', { stats, connect: testConnectionFactory });
  return { cluster: c, pool: c.pool(c.hosts()[0]) as Http2Pool, stats };
}

function get(conn: ClientConnection): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = conn.requestLocal('GET', '/', [['host', 'h2.test']], { bodyKind: 'none' }, {
      onHead: (h: ResponseHead) => { status = h.status; },
      onData: () => undefined,
      onEnd: () => resolve(status),
      onError: reject,
    });
    let status = 0;
    req.end();
  });
}

async function oneRequest(pool: Http2Pool): Promise<number> {
  const conn = await new Promise<ClientConnection>((resolve, reject) => pool.acquire((e, c) => (e ? reject(e) : resolve(c!))));
  try { return await get(conn); } finally { pool.release(conn); }
}

test('requests share a connection up to the server stream limit, then a second connection opens', async () => {
  const s = cluster(port);
  try {
    const before = sessions;
    const statuses = await Promise.all(Array.from({ length: 8 }, () => oneRequest(s.pool)));
    assert.deepEqual(statuses, Array(8).fill(200));
    assert.ok(sessions - before >= 1 && sessions - before <= 3, `${sessions - before} connections for 8 requests at 4 streams each`);
    assert.equal(s.stats.counter('cluster.h2.upstream_cx_http2_total').value, sessions - before);
    const again = sessions;
    assert.deepEqual(await Promise.all(Array.from({ length: 3 }, () => oneRequest(s.pool))), [200, 200, 200]);
    assert.equal(sessions, again, 'an open connection with room is reused');
  } finally { s.cluster.close(); }
});

test('an idle connection closes after idle_timeout', async () => {
  const s = cluster(port, { common_http_protocol_options: { idle_timeout: { nanos: 150_000_000 } } });
  try {
    await oneRequest(s.pool);
    assert.equal(s.pool.activeConnections, 1);
    await waitFor(() => s.pool.activeConnections === 0, PATIENCE_MS, 'idle close');
    assert.equal(s.stats.counter('cluster.h2.upstream_cx_idle_timeout').value, 1);
  } finally { s.cluster.close(); }
});

test('a refused connect fails the waiting requests', async () => {
  const s = cluster(await closedPort());
  try {
    const errs = await Promise.all(Array.from({ length: 3 }, () => new Promise<SkiffError | null>((resolve) => s.pool.acquire((e) => resolve(e)))));
    for (const e of errs) assert.equal(e?.code, 'SKIFF_UPSTREAM_CONNECT_FAILURE');
  } finally { s.cluster.close(); }
});

test('protocol options other than HttpProtocolOptions, or HTTP/3 under use_downstream_protocol_config, are rejected by name', () => {
  assert.throws(() => cluster(port, { typed_extension_protocol_options: { 'envoy.extensions.upstreams.tcp.v3.TcpProtocolOptions': { '@type': 'type.googleapis.com/envoy.extensions.upstreams.tcp.v3.TcpProtocolOptions' } } }),
    /typed_extension_protocol_options\["envoy.extensions.upstreams.tcp.v3.TcpProtocolOptions"\]/);
  assert.throws(() => cluster(port, { typed_extension_protocol_options: { 'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': {
    '@type': 'type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions', use_downstream_protocol_config: { http3_protocol_options: {} } } } }), /use_downstream_protocol_config\.http3_protocol_options/);
  assert.throws(() => cluster(port, { typed_extension_protocol_options: { 'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': {
    '@type': 'type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions', explicit_http_config: { http2_protocol_options: { allow_connect: true } } } } }), /allow_connect/);
});
