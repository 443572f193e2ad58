// How Skiff picks the upstream protocol beyond explicit HTTP/2, end to end over TLS upstreams:
// - auto_config: a gRPC call (@grpc/grpc-js client, h2c to Skiff) reaches a TLS @grpc/grpc-js server over
//   HTTP/2 because ALPN negotiated h2; an HTTP/2 client reaches an HTTPS server without h2 over HTTP/1.1.
// - use_downstream_protocol_config: the same cluster carries HTTP/1.1 requests as HTTP/1.1 and HTTP/2
//   requests as HTTP/2 (each pool offering its protocol by ALPN).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import https from 'node:https';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import * as grpc from '@grpc/grpc-js';
import { startSkiff, type RunningSkiff } from '../helpers/skiff.js';
import { createTestCa, type TestCa } from '../helpers/certs.js';
import { SLOW_PATIENCE_MS } from '../helpers/wait.js';

const HCM = 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager';
const UPSTREAM_TLS = 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext';
const protocolOptions = (options: Record<string, unknown>): Record<string, unknown> => ({
  'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': {
    '@type': 'type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions', ...options,
  },
});
const raw = (b: Buffer): Buffer => b;
const ECHO: grpc.ServiceDefinition = {
  Call: { path: '/skiff.test.Echo/Call', requestStream: false, responseStream: false, requestSerialize: raw, requestDeserialize: raw, responseSerialize: raw, responseDeserialize: raw },
};

let ca: TestCa;
let grpcServer: grpc.Server;
/** Offers h2 and http/1.1 by ALPN; answers with the HTTP version the request came in. */
let both: http2.Http2SecureServer;
/** HTTPS without HTTP/2 (no ALPN). */
let h1only: https.Server;
let skiff: RunningSkiff;
let grpcClient: grpc.Client & Record<string, (...a: unknown[]) => unknown>;

function answer(req: { httpVersion: string }, res: { setHeader(n: string, v: string): void; end(b: string): void }): void {
  res.setHeader('x-version', req.httpVersion);
  res.end('ok');
}

async function listen(server: http2.Http2SecureServer | https.Server): Promise<number> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return (server.address() as AddressInfo).port;
}

before(async () => {
  ca = createTestCa();
  const leaf = ca.issue('upstream', 'upstream.test', ['DNS:upstream.test']);
  grpcServer = new grpc.Server();
  grpcServer.addService(ECHO, {
    Call: (call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => cb(null, Buffer.from(`tls:${call.request.toString()}`)),
  });
  const creds = grpc.ServerCredentials.createSsl(null, [{ cert_chain: Buffer.from(leaf.cert), private_key: Buffer.from(leaf.key) }], false);
  const grpcPort = await new Promise<number>((resolve, reject) => grpcServer.bindAsync('127.0.0.1:0', creds, (e, p) => (e ? reject(e) : resolve(p))));
  both = http2.createSecureServer({ cert: leaf.cert, key: leaf.key, allowHTTP1: true }, answer);
  h1only = https.createServer({ cert: leaf.cert, key: leaf.key }, answer);
  const bothPort = await listen(both);
  const h1Port = await listen(h1only);
  const tls = { name: 'envoy.transport_sockets.tls', typed_config: {
    '@type': UPSTREAM_TLS, sni: 'upstream.test', common_tls_context: { validation_context: { trusted_ca: { filename: ca.certPath } } },
  } };
  const cluster = (name: string, port: number, options: Record<string, unknown>): object => ({
    name, type: 'STATIC', connect_timeout: '2s', transport_socket: tls, typed_extension_protocol_options: protocolOptions(options),
    load_assignment: { cluster_name: name, endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: '127.0.0.1', port_value: port } } } }] }] },
  });
  skiff = await startSkiff({
    config: {
      admin: { address: { socket_address: { address: '127.0.0.1', port_value: 0 } } },
      static_resources: {
        listeners: [{
          name: 'edge', address: { socket_address: { address: '127.0.0.1', port_value: 0 } },
          filter_chains: [{ filters: [{
            name: 'envoy.filters.network.http_connection_manager',
            typed_config: {
              '@type': HCM, stat_prefix: 'edge', codec_type: 'AUTO',
              route_config: { virtual_hosts: [{ name: 'all', domains: ['*'], routes: [
                { match: { prefix: '/skiff.test.Echo/' }, route: { cluster: 'grpc_auto' } },
                { match: { prefix: '/auto-h1' }, route: { cluster: 'auto_h1' } },
                { match: { prefix: '/follow' }, route: { cluster: 'follow' } },
              ] }] },
              http_filters: [{ name: 'envoy.filters.http.router', typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router' } }],
            },
          }] }],
        }],
        clusters: [
          cluster('grpc_auto', grpcPort, { auto_config: { http_protocol_options: {}, http2_protocol_options: {} } }),
          cluster('auto_h1', h1Port, { auto_config: { http2_protocol_options: {} } }),
          cluster('follow', bothPort, { use_downstream_protocol_config: { http_protocol_options: {}, http2_protocol_options: {} } }),
        ],
      },
    },
  });
  const Ctor = grpc.makeGenericClientConstructor(ECHO, 'Echo');
  grpcClient = new Ctor(`127.0.0.1:${skiff.port('edge')}`, grpc.credentials.createInsecure()) as typeof grpcClient;
});

after(async () => {
  grpcClient?.close();
  await skiff?.stop();
  grpcServer?.forceShutdown();
  h1only?.closeAllConnections();
  for (const s of [both, h1only]) if (s) await new Promise<void>((r) => s.close(() => r()));
  ca?.cleanup();
});

async function counter(name: string): Promise<number> {
  const text = await (await fetch(`${skiff.adminUrl}/stats?filter=${encodeURIComponent(`^${name}$`)}`)).text();
  const m = new RegExp(`^${name.replace(/\./g, '\\.')}: (\\d+)$`, 'm').exec(text);
  return m ? Number(m[1]) : 0;
}

/** One GET over HTTP/2 (h2c, prior knowledge) to Skiff: status and the upstream's x-version. */
async function h2get(path: string): Promise<{ status: number; version: string }> {
  const session = http2.connect(`http://127.0.0.1:${skiff.port('edge')}`);
  try {
    const req = session.request({ ':path': path });
    req.end();
    const [headers] = (await once(req, 'response')) as [http2.IncomingHttpHeaders];
    req.resume();
    await once(req, 'end');
    return { status: Number(headers[':status']), version: String(headers['x-version'] ?? '') };
  } finally {
    session.close();
  }
}

test('auto_config: gRPC to a TLS gRPC server goes over HTTP/2 because ALPN said h2', async () => {
  const replies = await Promise.all(['a', 'b', 'c'].map((m) => new Promise<string>((resolve, reject) => {
    grpcClient.Call!(Buffer.from(m), { deadline: Date.now() + SLOW_PATIENCE_MS }, (e: grpc.ServiceError | null, v?: Buffer) => (e ? reject(e) : resolve(v!.toString())));
  })));
  assert.deepEqual(replies, ['tls:a', 'tls:b', 'tls:c']);
  assert.equal(await counter('cluster.grpc_auto.upstream_cx_http2_total'), 1);
  assert.equal(await counter('cluster.grpc_auto.upstream_cx_http1_total'), 0);
});

test('auto_config: an HTTPS server without h2 is spoken to in HTTP/1.1, also for HTTP/2 clients', async () => {
  const r = await h2get('/auto-h1');
  assert.equal(r.status, 200);
  assert.equal(r.version, '1.1');
  assert.equal(await counter('cluster.auto_h1.upstream_cx_http1_total'), 1);
  assert.equal(await counter('cluster.auto_h1.upstream_cx_http2_total'), 0);
});

test('use_downstream_protocol_config: HTTP/1.1 requests go upstream as HTTP/1.1, HTTP/2 ones as HTTP/2', async () => {
  const h1 = await fetch(`http://127.0.0.1:${skiff.port('edge')}/follow`);
  await h1.arrayBuffer();
  assert.equal(h1.status, 200);
  assert.equal(h1.headers.get('x-version'), '1.1');
  const h2 = await h2get('/follow');
  assert.equal(h2.status, 200);
  assert.equal(h2.version, '2.0');
  assert.equal(await counter('cluster.follow.upstream_cx_http1_total'), 1);
  assert.equal(await counter('cluster.follow.upstream_cx_http2_total'), 1);
});
