// gRPC through Skiff when Skiff answers itself: every local reply to a gRPC request is a trailers-only gRPC
// status (HTTP 200, content-type application/grpc, grpc-status mapped from the HTTP status Envoy's way,
// grpc-message), read here by @grpc/grpc-js clients: no route -> UNIMPLEMENTED, a cluster without endpoints,
// an upstream that refuses connections, an upstream slower than the route timeout or the request's
// grpc-timeout -> UNAVAILABLE. Server and client streaming calls pass through the same Skiff.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import * as grpc from '@grpc/grpc-js';
import { startSkiff, type RunningSkiff } from '../helpers/skiff.js';
import { closedPort } from '../helpers/ports.js';
import { SLOW_PATIENCE_MS } from '../helpers/wait.js';

const HCM = 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager';
const H2_OPTIONS = {
  'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': {
    '@type': 'type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions',
    explicit_http_config: { http2_protocol_options: {} },
  },
};
const raw = (b: Buffer): Buffer => b;
const method = (service: string, name: string, requestStream: boolean, responseStream: boolean): grpc.MethodDefinition<Buffer, Buffer> => ({
  path: `/${service}/${name}`, requestStream, responseStream,
  requestSerialize: raw, requestDeserialize: raw, responseSerialize: raw, responseDeserialize: raw,
});
const unaryService = (service: string): grpc.ServiceDefinition => ({ Call: method(service, 'Call', false, false) });
const ECHO: grpc.ServiceDefinition = {
  Call: method('skiff.test.Echo', 'Call', false, false),
  ServerStream: method('skiff.test.Echo', 'ServerStream', false, true),
  ClientStream: method('skiff.test.Echo', 'ClientStream', true, false),
};

/** How long the Slow service takes to answer: far beyond every timeout under test, even on a stalled machine. */
const SLOW_MS = 20_000;

type AnyClient = grpc.Client & Record<string, (...a: unknown[]) => unknown>;

let server: grpc.Server;
let silent: http2.Http2Server;
let skiff: RunningSkiff;
let target: string;
const clients: grpc.Client[] = [];
const slowTimers = new Set<NodeJS.Timeout>();

function clientFor(def: grpc.ServiceDefinition): AnyClient {
  const Ctor = grpc.makeGenericClientConstructor(def, 'Generic');
  const c = new Ctor(target, grpc.credentials.createInsecure()) as AnyClient;
  clients.push(c);
  return c;
}

before(async () => {
  server = new grpc.Server();
  server.addService(ECHO, {
    Call: (call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => cb(null, Buffer.from(`echo:${call.request.toString()}`)),
    ServerStream: (call: grpc.ServerWritableStream<Buffer, Buffer>) => {
      const n = Number(call.request.toString());
      for (let i = 0; i < n; i++) call.write(Buffer.from(`part${i}`));
      call.end();
    },
    ClientStream: (call: grpc.ServerReadableStream<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => {
      const got: string[] = [];
      call.on('data', (m: Buffer) => got.push(m.toString()));
      call.on('end', () => cb(null, Buffer.from(got.join(','))));
    },
  });
  const slow = (_call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>): void => {
    const t = setTimeout(() => { slowTimers.delete(t); cb(null, Buffer.from('late')); }, SLOW_MS);
    slowTimers.add(t);
  };
  server.addService(unaryService('skiff.test.Slow'), { Call: slow });
  // A gRPC server enforces grpc-timeout itself (DEADLINE_EXCEEDED, racing Skiff's timer): the grpc-timeout
  // case goes to an HTTP/2 server that holds every stream without answering instead.
  silent = http2.createServer();
  silent.on('stream', () => { /* never answered: Skiff's deadline must end the call */ });
  silent.listen(0, '127.0.0.1');
  await once(silent, 'listening');
  const silentPort = (silent.address() as AddressInfo).port;
  const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))));
  const down = await closedPort();
  const cluster = (name: string, ports: number[]): object => ({
    name, type: 'STATIC', connect_timeout: '1s', typed_extension_protocol_options: H2_OPTIONS,
    load_assignment: { cluster_name: name, endpoints: ports.length === 0 ? [] : [{ lb_endpoints: ports.map((p) => ({ endpoint: { address: { socket_address: { address: '127.0.0.1', port_value: p } } } })) }] },
  });
  skiff = await startSkiff({
    config: {
      admin: { address: { socket_address: { address: '127.0.0.1', port_value: 0 } } },
      static_resources: {
        listeners: [{
          name: 'grpc', address: { socket_address: { address: '127.0.0.1', port_value: 0 } },
          filter_chains: [{ filters: [{
            name: 'envoy.filters.network.http_connection_manager',
            typed_config: {
              '@type': HCM, stat_prefix: 'grpc', codec_type: 'AUTO',
              route_config: { virtual_hosts: [{ name: 'all', domains: ['*'], routes: [
                { match: { prefix: '/skiff.test.Echo/' }, route: { cluster: 'backend', timeout: { seconds: 0 } } },
                { match: { prefix: '/skiff.test.Slow/' }, route: { cluster: 'backend', timeout: { nanos: 300_000_000 } } },
                // The request's grpc-timeout replaces the route timeout (no cap), as istiod configures gRPC routes.
                { match: { prefix: '/skiff.test.Deadline/' }, route: { cluster: 'silent', timeout: { seconds: 0 }, max_stream_duration: { grpc_timeout_header_max: { seconds: 0 } } } },
                { match: { prefix: '/skiff.test.Empty/' }, route: { cluster: 'empty' } },
                { match: { prefix: '/skiff.test.Down/' }, route: { cluster: 'down' } },
              ] }] },
              http_filters: [{ name: 'envoy.filters.http.router', typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router' } }],
            },
          }] }],
        }],
        clusters: [cluster('backend', [port]), cluster('silent', [silentPort]), cluster('empty', []), cluster('down', [down])],
      },
    },
  });
  target = `127.0.0.1:${skiff.port('grpc')}`;
});

after(async () => {
  for (const c of clients) c.close();
  for (const t of slowTimers) clearTimeout(t);
  await skiff?.stop();
  server?.forceShutdown();
  await new Promise<void>((r) => (silent ? silent.close(() => r()) : r()));
});

interface Outcome { value?: Buffer; error?: grpc.ServiceError; ms: number }

function callUnary(client: AnyClient, name: string, msg: string, deadlineMs = SLOW_PATIENCE_MS): Promise<Outcome> {
  const started = Date.now();
  return new Promise((resolve) => {
    client[name]!(Buffer.from(msg), { deadline: Date.now() + deadlineMs }, (error: grpc.ServiceError | null, value?: Buffer) => {
      resolve({ value, error: error ?? undefined, ms: Date.now() - started });
    });
  });
}

async function counter(name: string): Promise<number> {
  const text = await (await fetch(`${skiff.adminUrl}/stats?filter=${encodeURIComponent(`^${name}$`)}`)).text();
  const m = new RegExp(`^${name.replace(/\./g, '\\.')}: (\\d+)$`, 'm').exec(text);
  return m ? Number(m[1]) : 0;
}

test('no route for a gRPC method: UNIMPLEMENTED as a trailers-only response', async () => {
  const before2xx = await counter('http.grpc.downstream_rq_2xx');
  const r = await callUnary(clientFor(unaryService('skiff.test.Nowhere')), 'Call', 'x');
  assert.equal(r.error?.code, grpc.status.UNIMPLEMENTED);
  assert.equal(r.value, undefined);
  // Envoy counts what went on the wire: HTTP 200.
  assert.equal(await counter('http.grpc.downstream_rq_2xx'), before2xx + 1);
  assert.ok(await counter('http.grpc.no_route') >= 1);
});

test('a client stream with no route: UNIMPLEMENTED while the client is still sending', async () => {
  const nowhere: grpc.ServiceDefinition = { Upload: method('skiff.test.Nowhere', 'Upload', true, false) };
  const client = clientFor(nowhere);
  const err = await new Promise<grpc.ServiceError | null>((resolve) => {
    const call = client.Upload!({ deadline: Date.now() + SLOW_PATIENCE_MS }, (e: grpc.ServiceError | null) => resolve(e)) as grpc.ClientWritableStream<Buffer>;
    // The stream stays open: Skiff answers without waiting for the request's end.
    call.write(Buffer.from('first'));
  });
  assert.equal(err?.code, grpc.status.UNIMPLEMENTED);
});

test('a cluster with no endpoints: UNAVAILABLE "no healthy upstream"', async () => {
  const r = await callUnary(clientFor(unaryService('skiff.test.Empty')), 'Call', 'x');
  assert.equal(r.error?.code, grpc.status.UNAVAILABLE);
  assert.equal(r.error?.details, 'no healthy upstream');
});

test('an upstream that refuses connections: UNAVAILABLE with the connect failure text', async () => {
  const r = await callUnary(clientFor(unaryService('skiff.test.Down')), 'Call', 'x');
  assert.equal(r.error?.code, grpc.status.UNAVAILABLE);
  assert.match(r.error?.details ?? '', /upstream connect error or disconnect\/reset before headers\. reset reason: connection failure/);
});

test('an upstream slower than the route timeout: UNAVAILABLE "upstream request timeout" at the route timeout', async () => {
  const r = await callUnary(clientFor(unaryService('skiff.test.Slow')), 'Call', 'x');
  assert.equal(r.error?.code, grpc.status.UNAVAILABLE);
  assert.equal(r.error?.details, 'upstream request timeout');
  // Not before the route timeout; the reply itself (not the upstream's 'late') shows it was Skiff's.
  assert.ok(r.ms >= 250, `answered after ${r.ms} ms`);
});

test('an upstream slower than the request\'s grpc-timeout: Skiff answers at the deadline the header set', async () => {
  // node:http2 sends grpc-timeout without a deadline of its own, so the answer can only come from Skiff.
  const session = http2.connect(`http://${target}`);
  try {
    const started = Date.now();
    const req = session.request({
      ':method': 'POST', ':path': '/skiff.test.Deadline/Call', 'content-type': 'application/grpc', te: 'trailers', 'grpc-timeout': '400m',
    });
    req.end(Buffer.from([0, 0, 0, 0, 1, 0x78]));
    const res = await new Promise<{ headers: http2.IncomingHttpHeaders; ended: boolean; body: number }>((resolve, reject) => {
      let headers: http2.IncomingHttpHeaders = {};
      let body = 0;
      req.on('response', (h) => { headers = h; });
      req.on('data', (c: Buffer) => { body += c.length; });
      req.on('end', () => resolve({ headers, ended: true, body }));
      req.on('error', reject);
      setTimeout(() => reject(new Error(`no answer within ${SLOW_PATIENCE_MS} ms`)), SLOW_PATIENCE_MS).unref();
    });
    const ms = Date.now() - started;
    assert.equal(res.headers[':status'], 200);
    assert.equal(res.headers['content-type'], 'application/grpc');
    assert.equal(res.headers['grpc-status'], '14');
    assert.equal(res.headers['grpc-message'], 'upstream request timeout');
    assert.equal(res.body, 0);
    assert.ok(ms >= 350, `answered after ${ms} ms`);
  } finally {
    session.close();
  }
});

test('server streaming through Skiff: every message in order, then OK', async () => {
  const client = clientFor(ECHO);
  const call = client.ServerStream!(Buffer.from('20'), { deadline: Date.now() + SLOW_PATIENCE_MS }) as grpc.ClientReadableStream<Buffer>;
  const got: string[] = [];
  const status = await new Promise<grpc.StatusObject>((resolve, reject) => {
    call.on('data', (m: Buffer) => got.push(m.toString()));
    call.on('status', resolve);
    call.on('error', reject);
  });
  assert.equal(status.code, grpc.status.OK);
  assert.deepEqual(got, Array.from({ length: 20 }, (_, i) => `part${i}`));
});

test('client streaming through Skiff: the server sees every message, the client its one reply', async () => {
  const client = clientFor(ECHO);
  const reply = await new Promise<Buffer>((resolve, reject) => {
    const call = client.ClientStream!({ deadline: Date.now() + SLOW_PATIENCE_MS }, (e: grpc.ServiceError | null, v?: Buffer) => (e ? reject(e) : resolve(v!))) as grpc.ClientWritableStream<Buffer>;
    for (let i = 0; i < 10; i++) call.write(Buffer.from(`c${i}`));
    call.end();
  });
  assert.equal(reply.toString(), Array.from({ length: 10 }, (_, i) => `c${i}`).join(','));
  const ok = await callUnary(client, 'Call', 'after');
  assert.equal(ok.value?.toString(), 'echo:after');
});

test('stats by protocol: HTTP/2 connections and requests in the http2 totals, HTTP/1.1 ones in the http1 totals', async () => {
  const rq = await counter('http.grpc.downstream_rq_total');
  const rq2 = await counter('http.grpc.downstream_rq_http2_total');
  const rq1 = await counter('http.grpc.downstream_rq_http1_total');
  assert.ok(rq2 > 0, 'the gRPC calls above counted as HTTP/2 requests');
  assert.equal(rq1 + rq2, rq);
  assert.ok(await counter('http.grpc.downstream_cx_http2_total') >= 1);
  assert.ok(await counter('cluster.backend.upstream_cx_http2_total') >= 1);
  const cx1 = await counter('http.grpc.downstream_cx_http1_total');
  // The AUTO listener serves an HTTP/1.1 request too (no route for it: 404).
  const res = await fetch(`http://${target}/plain`);
  await res.arrayBuffer();
  assert.equal(res.status, 404);
  assert.equal(await counter('http.grpc.downstream_rq_http1_total'), rq1 + 1);
  assert.equal(await counter('http.grpc.downstream_rq_http2_total'), rq2);
  assert.equal(await counter('http.grpc.downstream_cx_http1_total'), cx1 + 1);
});
