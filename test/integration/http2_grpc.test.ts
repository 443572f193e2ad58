// gRPC through Skiff over HTTP/2 on both sides: an @grpc/grpc-js client -> Skiff -> an @grpc/grpc-js server,
// unary and bidirectional streaming, with grpc-status carried in trailers (and trailers-only responses for
// errors), routed by /package.Service/Method prefix.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { startSkiff, type RunningSkiff } from '../helpers/skiff.js';
import { HCM, adminAnyPort, explicitHttp2, loadAssignment, routerFilter } from '../helpers/envoy_config.js';
import { SLOW_PATIENCE_MS } from '../helpers/wait.js';

const raw = (b: Buffer): Buffer => b;

const SERVICE: grpc.ServiceDefinition = {
  Unary: { path: '/skiff.test.Echo/Unary', requestStream: false, responseStream: false, requestSerialize: raw, requestDeserialize: raw, responseSerialize: raw, responseDeserialize: raw },
  Bidi: { path: '/skiff.test.Echo/Bidi', requestStream: true, responseStream: true, requestSerialize: raw, requestDeserialize: raw, responseSerialize: raw, responseDeserialize: raw },
};

let server: grpc.Server;
let skiff: RunningSkiff;
let client: grpc.Client & Record<string, (...a: unknown[]) => unknown>;

before(async () => {
  server = new grpc.Server();
  server.addService(SERVICE, {
    Unary: (call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => {
      const s = call.request.toString();
      if (s === 'fail') { cb({ code: grpc.status.NOT_FOUND, details: 'no such thing' }); return; }
      const initial = new grpc.Metadata();
      initial.set('x-echo', s);
      call.sendMetadata(initial);
      const trailing = new grpc.Metadata();
      trailing.set('x-trailer', `t-${s}`);
      cb(null, Buffer.from(`echo:${s}`), trailing);
    },
    Bidi: (call: grpc.ServerDuplexStream<Buffer, Buffer>) => {
      call.on('data', (m: Buffer) => call.write(Buffer.from(`re:${m.toString()}`)));
      call.on('end', () => call.end());
    },
  });
  const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))));
  skiff = await startSkiff({
    config: {
      admin: adminAnyPort(),
      static_resources: {
        listeners: [{
          name: 'grpc', address: { socket_address: { address: '127.0.0.1', port_value: 0 } },
          filter_chains: [{ filters: [{
            name: 'envoy.filters.network.http_connection_manager',
            typed_config: {
              '@type': HCM, stat_prefix: 'grpc', codec_type: 'AUTO',
              route_config: { virtual_hosts: [{ name: 'all', domains: ['*'], routes: [
                { match: { prefix: '/skiff.test.Echo/' }, route: { cluster: 'grpc_backend', timeout: { seconds: 0 } } },
              ] }] },
              http_filters: [routerFilter()],
            },
          }] }],
        }],
        clusters: [{
          name: 'grpc_backend', type: 'STATIC', connect_timeout: '1s',
          typed_extension_protocol_options: explicitHttp2(),
          load_assignment: loadAssignment('grpc_backend', port),
        }],
      },
    },
  });
  const Ctor = grpc.makeGenericClientConstructor(SERVICE, 'Echo');
  client = new Ctor(`127.0.0.1:${skiff.port('grpc')}`, grpc.credentials.createInsecure()) as typeof client;
});

after(async () => {
  client?.close();
  await skiff?.stop();
  server?.forceShutdown();
});

interface UnaryResult { value?: Buffer; error?: grpc.ServiceError; md?: grpc.Metadata; trailers?: grpc.Metadata }

function unary(msg: string): Promise<UnaryResult> {
  return new Promise((resolve) => {
    const r: UnaryResult = {};
    let pending = 2;
    const settle = (): void => { if (--pending === 0) resolve(r); };
    const call = client.Unary(Buffer.from(msg), { deadline: Date.now() + SLOW_PATIENCE_MS }, (error: grpc.ServiceError | null, value?: Buffer) => {
      r.value = value; r.error = error ?? undefined; settle();
    }) as grpc.ClientUnaryCall;
    call.on('metadata', (m: grpc.Metadata) => { r.md = m; });
    call.on('status', (st: grpc.StatusObject) => { r.trailers = st.metadata; settle(); });
  });
}

test('gRPC unary through Skiff: message, metadata, grpc-status OK in trailers; an error status passes as-is', async () => {
  const ok = await unary('hi');
  assert.equal(ok.error, undefined);
  assert.equal(ok.value?.toString(), 'echo:hi');
  assert.deepEqual(ok.md?.get('x-echo'), ['hi']);
  assert.deepEqual(ok.trailers?.get('x-trailer'), ['t-hi']);
  const many = await Promise.all(Array.from({ length: 50 }, (_, i) => unary(`m${i}`)));
  many.forEach((r, i) => assert.equal(r.value?.toString(), `echo:m${i}`));
  const bad = await unary('fail');
  assert.equal(bad.error?.code, grpc.status.NOT_FOUND);
  assert.equal(bad.error?.details, 'no such thing');
});

test('gRPC bidirectional streaming through Skiff', async () => {
  const call = client.Bidi({ deadline: Date.now() + SLOW_PATIENCE_MS }) as grpc.ClientDuplexStream<Buffer, Buffer>;
  const got: string[] = [];
  const done = new Promise<void>((resolve, reject) => {
    call.on('data', (m: Buffer) => {
      got.push(m.toString());
      // Ping-pong: the next message goes only after the previous reply came back through the proxy.
      if (got.length < 5) call.write(Buffer.from(`n${got.length}`));
      else call.end();
    });
    call.on('end', resolve);
    call.on('error', reject);
  });
  call.write(Buffer.from('n0'));
  await done;
  assert.deepEqual(got, ['re:n0', 're:n1', 're:n2', 're:n3', 're:n4']);
});
