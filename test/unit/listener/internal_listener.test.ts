// Internal listeners: bound to no port, reached in-process by cluster endpoints with an envoy_internal_address,
// from tcp_proxy (raw connections) and from an HTTP route (the HTTP/1.1 pool); added, updated and removed like
// any listener; passthrough metadata restores the original destination for original_dst.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { once } from 'node:events';
import { StatsStore } from '../../../src/common/stats.js';
import { mainInstance } from '../../../src/wasm/runtime.js';
import { ListenerManager, originalDestination } from '../../../src/listener/listener_manager.js';
import { InlineRouteResolver } from '../../../src/router/index.js';
import { createClusterManager } from '../../../src/upstream/cluster_manager.js';
import { createClientConnection } from '../../../src/stream/http1/client.js';
import { registerBuiltinExtensions } from '../../../src/server/extensions.js';
import { internalListeners } from '../../../src/upstream/internal_listeners.js';
import type { Cluster, Listener } from '../../../src/types/envoy.js';
import { exchange, startEcho } from '../tcp_proxy/harness.js';
import { waitFor } from '../../helpers/wait.js';
import { createTestCa } from '../../helpers/certs.js';
import { FilterStateStore, stringObject } from '../../../src/common/filter_state.js';
import { ORIGINAL_DST_LOCAL_IP_KEY } from '../../../src/listener/original_dst_state.js';

/** `p`, or a failure after `ms` (every wait in these tests is bounded). */
function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms); });
  return Promise.race([p, limit]).finally(() => clearTimeout(timer));
}


const HCM = 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager';
const TCP_PROXY = 'type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy';
const INTERNAL_UPSTREAM = 'type.googleapis.com/envoy.extensions.transport_sockets.internal_upstream.v3.InternalUpstreamTransport';
const RAW_BUFFER = 'type.googleapis.com/envoy.extensions.transport_sockets.raw_buffer.v3.RawBuffer';

registerBuiltinExtensions();

function tcpProxyListener(name: string, cluster: string, extra: Record<string, unknown> = {}): Listener {
  return {
    name, filter_chains: [{ filters: [{ name: 'envoy.filters.network.tcp_proxy', typed_config: { '@type': TCP_PROXY, stat_prefix: name, cluster } }] }],
    ...extra,
  } as Listener;
}

function httpListener(name: string, route: Record<string, unknown>, extra: Record<string, unknown> = {}): Listener {
  return {
    name,
    filter_chains: [{ filters: [{
      name: 'envoy.filters.network.http_connection_manager',
      typed_config: { '@type': HCM, stat_prefix: name, route_config: { virtual_hosts: [{ name: 'v', domains: ['*'], routes: [{ match: { prefix: '/' }, ...route }] }] } },
    }] }],
    ...extra,
  } as Listener;
}

const LOOPBACK = { address: { socket_address: { address: '127.0.0.1', port_value: 0 } } };
const INTERNAL = { internal_listener: {} };

function internalCluster(name: string, listenerName: string, extra: Record<string, unknown> = {}): Cluster {
  return {
    name, type: 'STATIC', connect_timeout: { seconds: 2 },
    load_assignment: { cluster_name: name, endpoints: [{ lb_endpoints: [{ endpoint: { address: { envoy_internal_address: { server_listener_name: listenerName } } } }] }] },
    ...extra,
  } as unknown as Cluster;
}

function tcpCluster(name: string, port: number): Cluster {
  return { name, type: 'STATIC', connect_timeout: { seconds: 2 }, load_assignment: { cluster_name: name, endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: '127.0.0.1', port_value: port } } } }] }] } } as Cluster;
}

async function setup(listeners: Listener[], clusters: Cluster[]): Promise<{ lm: ListenerManager; stats: StatsStore; port(name: string): number; close(): void }> {
  const stats = new StatsStore();
  const wasm = mainInstance();
  const cm = createClusterManager(clusters, { stats, connect: (socket) => createClientConnection(wasm, socket) });
  await cm.ready();
  const lm = new ListenerManager(listeners, { wasm, stats, clusters: cm, resolverFor: (t) => new InlineRouteResolver(t), drainTimeMs: 2000 });
  await lm.start();
  return {
    lm, stats,
    port: (name) => lm.addresses().find((a) => a.name === name)!.port,
    close: () => { lm.close(); cm.close(); },
  };
}

async function get(port: number, path = '/'): Promise<{ status: number; body: string }> {
  const r = await fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(5000) });
  return { status: r.status, body: await r.text() };
}

test('tcp_proxy reaches an internal listener (its own tcp_proxy to an echo server); the internal listener binds no port', async (t) => {
  const echo = await startEcho();
  t.after(() => echo.close());
  const s = await setup(
    [tcpProxyListener('front', 'to_internal', LOOPBACK), tcpProxyListener('inner_tcp', 'echo', INTERNAL)],
    [internalCluster('to_internal', 'inner_tcp'), tcpCluster('echo', echo.port)],
  );
  t.after(() => s.close());
  assert.deepEqual(s.lm.addresses().map((a) => a.name), ['front'], 'the internal listener is bound to no address');
  assert.ok(internalListeners.has('inner_tcp'));
  const c = net.connect(s.port('front'), '127.0.0.1');
  await within(once(c, 'connect'), 10_000, 'c connect');
  assert.equal(await exchange(c, 'through the internal listener', 29, 5000), 'through the internal listener');
  c.end();
  await within(once(c, 'close'), 10_000, 'c close');
  assert.equal(s.stats.counter('listener.inner_tcp.downstream_cx_total').value, 1);
  assert.equal(s.stats.counter('cluster.to_internal.upstream_cx_total').value, 1);
  assert.equal(s.stats.gauge('listener_manager.total_listeners_active').value, 2);
  await waitFor(() => s.stats.gauge('listener.inner_tcp.downstream_cx_active').value === 0, 5000, 'the internal connection closed after the client');
});

test('an HTTP route reaches an internal listener through the HTTP/1.1 pool; LDS updates and removes it', async (t) => {
  const s = await setup(
    [httpListener('front_http', { route: { cluster: 'to_inner_http' } }, LOOPBACK),
      httpListener('inner_http', { direct_response: { status: 200, body: { inline_string: 'inner v1' } } }, INTERNAL)],
    [internalCluster('to_inner_http', 'inner_http')],
  );
  t.after(() => s.close());
  const front = s.port('front_http');
  assert.deepEqual(await get(front), { status: 200, body: 'inner v1' });
  // Several requests reuse the pooled in-process connection (keep-alive over the socket pair).
  for (let i = 0; i < 3; i++) assert.equal((await get(front)).body, 'inner v1');
  assert.equal(s.stats.counter('cluster.to_inner_http.upstream_cx_total').value, 1, 'keep-alive over the internal connection');

  const meta = { version: '2', lastUpdated: new Date(), json: {} };
  const v2 = httpListener('inner_http', { direct_response: { status: 200, body: { inline_string: 'inner v2' } } }, INTERNAL);
  assert.equal(s.lm.addOrUpdateListener(s.lm.buildSpec(v2, 'Listener "inner_http"'), meta), 'updated');
  // The pooled connection belongs to v1 (draining: its next response says connection: close); new ones go to v2.
  const bodies: string[] = [];
  for (let i = 0; i < 10 && bodies.at(-1) !== 'inner v2'; i++) bodies.push((await get(front)).body);
  assert.equal(bodies.at(-1), 'inner v2');
  assert.ok(s.lm.dynamicListeners().some((d) => d.name === 'inner_http' && d.state === 'active'), 'shown in the dump as active');

  assert.equal(s.lm.removeListener('inner_http'), true);
  assert.equal(internalListeners.has('inner_http'), false);
  let last = { status: 0, body: '' };
  for (let i = 0; i < 10 && last.status !== 503; i++) last = await get(front);
  assert.equal(last.status, 503, 'no listener: the connect fails, 503');
  assert.ok(s.stats.counter('cluster.to_inner_http.upstream_cx_connect_fail').value >= 1);
});

test('an HTTP/2 cluster (h2c prior knowledge) reaches an internal listener through the HTTP/2 pool', async (t) => {
  const h2 = { 'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': {
    '@type': 'type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions', explicit_http_config: { http2_protocol_options: {} },
  } };
  const s = await setup(
    [httpListener('front_h2', { route: { cluster: 'to_inner_h2' } }, LOOPBACK),
      httpListener('inner_h2', { direct_response: { status: 200, body: { inline_string: 'inner over h2' } } }, INTERNAL)],
    [internalCluster('to_inner_h2', 'inner_h2', { typed_extension_protocol_options: h2 })],
  );
  t.after(() => s.close());
  const front = s.port('front_h2');
  for (let i = 0; i < 3; i++) assert.deepEqual(await get(front), { status: 200, body: 'inner over h2' });
  assert.equal(s.stats.counter('cluster.to_inner_h2.upstream_cx_total').value, 1, 'one multiplexed in-process connection');
  assert.equal(s.stats.counter('http.inner_h2.downstream_rq_total').value, 3);
});

test('passthrough metadata reaches the internal connection; original_dst restores the destination from it', async (t) => {
  const seen: string[] = [];
  const s = await setup(
    [tcpProxyListener('front_md', 'to_md', LOOPBACK)],
    [internalCluster('to_md', 'inner_md', {
      transport_socket: { name: 'internal_upstream', typed_config: { '@type': INTERNAL_UPSTREAM,
        passthrough_metadata: [{ kind: { host: {} }, name: 'envoy.filters.listener.original_dst' }, { kind: { cluster: {} }, name: 'istio' }],
        transport_socket: { name: 'raw_buffer', typed_config: { '@type': RAW_BUFFER } } } },
      metadata: { filter_metadata: { istio: { services: ['ratings'] } } },
      load_assignment: { cluster_name: 'to_md', endpoints: [{ lb_endpoints: [{
        endpoint: { address: { envoy_internal_address: { server_listener_name: 'inner_md', endpoint_id: '10.0.0.7:9080' } } },
        metadata: { filter_metadata: { 'envoy.filters.listener.original_dst': { local: '10.0.0.7:9080' } } },
      }] }] },
    })],
  );
  t.after(() => s.close());
  // A stand-in for the internal listener that reports what its connection carries.
  const acceptor = (conn: Parameters<Parameters<typeof internalListeners.register>[1]>[0]): void => {
    seen.push(JSON.stringify(Object.fromEntries(conn.dynamicMetadata)));
    seen.push(JSON.stringify(originalDestination(conn.dynamicMetadata)));
    conn.socket.end('ok');
  };
  internalListeners.register('inner_md', acceptor);
  t.after(() => internalListeners.unregister('inner_md', acceptor));
  const c = net.connect(s.port('front_md'), '127.0.0.1');
  let reply = '';
  c.on('data', (d: Buffer) => { reply += d.toString(); });
  await within(once(c, 'close'), 10_000, 'c close');
  assert.equal(reply, 'ok');
  assert.deepEqual(seen, [
    '{"envoy.filters.listener.original_dst":{"local":"10.0.0.7:9080"},"istio":{"services":["ratings"]}}',
    '{"address":"10.0.0.7","port":9080}',
  ]);
});

test('TLS to an internal listener is refused at connect (never sent in plain text)', async (t) => {
  const ca = createTestCa();
  t.after(() => ca.cleanup());
  const s = await setup(
    [tcpProxyListener('front_tls', 'to_tls', LOOPBACK), tcpProxyListener('inner_tls', 'nowhere', INTERNAL)],
    [internalCluster('to_tls', 'inner_tls', { transport_socket: { name: 'envoy.transport_sockets.tls', typed_config: {
      '@type': 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext',
      common_tls_context: { validation_context: { trusted_ca: { filename: ca.certPath } } },
    } } })],
  );
  t.after(() => s.close());
  const c = net.connect(s.port('front_tls'), '127.0.0.1');
  c.on('error', () => {});
  c.resume();
  await within(once(c, 'close'), 10_000, 'the client closed');
  assert.equal(s.stats.counter('cluster.to_tls.upstream_cx_connect_fail').value, 1);
  assert.equal(s.stats.counter('listener.inner_tls.downstream_cx_total').value, 0, 'nothing reached the internal listener');
});

test('original_dst on an internal listener restores the destination from shared filter state; chains match on it', async (t) => {
  const chain = (body: string, match?: Record<string, unknown>) => ({
    ...(match ? { filter_chain_match: match } : {}),
    filters: [{ name: 'envoy.filters.network.http_connection_manager', typed_config: { '@type': HCM, stat_prefix: 'od',
      route_config: { virtual_hosts: [{ name: 'v', domains: ['*'], routes: [{ match: { prefix: '/' }, direct_response: { status: 200, body: { inline_string: body } } }] }] } } }],
  });
  const s = await setup([{
    name: 'inner_od', internal_listener: {},
    listener_filters: [{ name: 'envoy.filters.listener.original_dst', typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.listener.original_dst.v3.OriginalDst' } }],
    filter_chains: [chain('to 8080', { destination_port: { value: 8080 } })], default_filter_chain: chain('elsewhere'),
  } as unknown as Listener], []);
  t.after(() => s.close());
  const ask = async (shared: FilterStateStore): Promise<string> => {
    const c = internalListeners.connect({ listenerName: 'inner_od', endpointId: '' }, { filterState: shared });
    let text = '';
    c.on('data', (d: Buffer) => { text += d.toString(); });
    c.write('GET / HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n');
    await within(once(c, 'close'), 10_000, 'the response');
    return text.slice(text.indexOf('\r\n\r\n') + 4);
  };
  const toPort = new FilterStateStore();
  toPort.set(ORIGINAL_DST_LOCAL_IP_KEY, stringObject('10.1.2.3:8080', { sharedWithUpstream: 'ONCE' }));
  assert.equal(await ask(toPort), 'to 8080');
  assert.equal(await ask(new FilterStateStore()), 'elsewhere', 'no original destination: the internal address matches no port');
});

test('an internal listener with an address, or without a name, is refused naming the field', () => {
  const stats = new StatsStore();
  const clusters = { get: () => undefined, all: () => [], close: () => {} };
  const deps = { wasm: mainInstance(), stats, clusters, resolverFor: (t: never) => new InlineRouteResolver(t) };
  assert.throws(() => new ListenerManager([tcpProxyListener('x', 'c', { ...INTERNAL, ...LOOPBACK })], deps), /listeners\[0\]\.address/);
  assert.throws(() => new ListenerManager([tcpProxyListener('', 'c', INTERNAL)], deps), /listeners\[0\]\.name/);
});
