// Istio's HBONE originate path through a real Skiff following `skiff control-plane`: a TCP listener's tcp_proxy
// goes to an EDS cluster whose endpoint is an internal listener (envoy_internal_address, internal_upstream
// passing the original destination through); that internal listener (original_dst, tcp_proxy with
// tunneling_config hostname %DOWNSTREAM_LOCAL_ADDRESS%) opens an HTTP/2 CONNECT to a Node http2 peer. The
// internal listener shows in /config_dump and is counted; removed by LDS, connections fail; added back, they work.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as net from 'node:net';
import * as http2 from 'node:http2';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSkiff } from '../helpers/skiff.js';
import { waitForValue } from '../helpers/wait.js';
import { dumpSection, recentNacks, startControlPlane, stat, T, writeJson, xdsBootstrap, type Json } from '../helpers/xds_harness.js';
import { roundTrip } from '../unit/tcp_proxy/harness.js';

const TCP_PROXY = 'type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy';
const ORIGINAL_DST = 'type.googleapis.com/envoy.extensions.filters.listener.original_dst.v3.OriginalDst';
const INTERNAL_UPSTREAM = 'type.googleapis.com/envoy.extensions.transport_sockets.internal_upstream.v3.InternalUpstreamTransport';
const RAW_BUFFER = 'type.googleapis.com/envoy.extensions.transport_sockets.raw_buffer.v3.RawBuffer';
const HTTP_OPTIONS = 'type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions';

async function startConnectPeer(): Promise<{ port: number; authorities: string[]; close(): Promise<void> }> {
  const authorities: string[] = [];
  const server = http2.createServer();
  const sessions = new Set<http2.ServerHttp2Session>();
  server.on('session', (s: http2.ServerHttp2Session) => { sessions.add(s); s.on('error', () => {}); s.once('close', () => sessions.delete(s)); });
  server.on('stream', (stream: http2.ServerHttp2Stream, h: http2.IncomingHttpHeaders) => {
    stream.on('error', () => {});
    if (h[':method'] !== 'CONNECT') { stream.respond({ ':status': 405 }, { endStream: true }); return; }
    authorities.push(String(h[':authority']));
    stream.respond({ ':status': 200 });
    stream.on('data', (d: Buffer) => stream.write(Buffer.concat([Buffer.from('echo:'), d])));
    stream.on('end', () => stream.end());
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as net.AddressInfo).port, authorities,
    close: async () => { for (const s of sessions) s.destroy(); await new Promise<void>((r) => server.close(() => r())); },
  };
}

const FRONT: Json = {
  '@type': T.listener, name: 'front', address: { socket_address: { address: '127.0.0.1', port_value: 0 } },
  filter_chains: [{ filters: [{ name: 'envoy.filters.network.tcp_proxy', typed_config: { '@type': TCP_PROXY, stat_prefix: 'front', cluster: 'inbound-vip' } }] }],
};
const CONNECT_ORIGINATE: Json = {
  '@type': T.listener, name: 'connect_originate', internal_listener: {}, use_original_dst: false,
  listener_filters: [{ name: 'envoy.filters.listener.original_dst', typed_config: { '@type': ORIGINAL_DST } }],
  filter_chains: [{ filters: [{ name: 'envoy.filters.network.tcp_proxy', typed_config: {
    '@type': TCP_PROXY, stat_prefix: 'connect_originate', cluster: 'connect_originate', tunneling_config: { hostname: '%DOWNSTREAM_LOCAL_ADDRESS%' },
  } }] }],
};

function clusters(peerPort: number): Json[] {
  return [
    {
      '@type': T.cluster, name: 'inbound-vip', type: 'EDS', connect_timeout: '2s',
      eds_cluster_config: { eds_config: { ads: {}, resource_api_version: 'V3' } },
      transport_socket: { name: 'internal_upstream', typed_config: { '@type': INTERNAL_UPSTREAM,
        passthrough_metadata: [{ kind: { host: {} }, name: 'envoy.filters.listener.original_dst' }],
        transport_socket: { name: 'raw_buffer', typed_config: { '@type': RAW_BUFFER } } } },
    },
    {
      '@type': T.cluster, name: 'connect_originate', type: 'STATIC', connect_timeout: '2s',
      typed_extension_protocol_options: { 'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': { '@type': HTTP_OPTIONS, explicit_http_config: { http2_protocol_options: {} } } },
      load_assignment: { cluster_name: 'connect_originate', endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: '127.0.0.1', port_value: peerPort } } } }] }] },
    },
  ];
}

const ASSIGNMENT: Json = {
  '@type': T.cla, cluster_name: 'inbound-vip',
  endpoints: [{ lb_endpoints: [{
    endpoint: { address: { envoy_internal_address: { server_listener_name: 'connect_originate', endpoint_id: '10.0.0.7:9080' } } },
    metadata: { filter_metadata: { 'envoy.filters.listener.original_dst': { local: '10.0.0.7:9080' } } },
  }] }],
};

test('HBONE originate over xDS: tcp_proxy -> internal listener (original destination passed through) -> HTTP/2 CONNECT', async (t) => {
  const peer = await startConnectPeer();
  t.after(() => peer.close());
  const dir = mkdtempSync(join(tmpdir(), 'skiff-tunnel-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeJson(dir, 'lds.json', [FRONT, CONNECT_ORIGINATE]);
  writeJson(dir, 'cds.json', clusters(peer.port));
  writeJson(dir, 'eds.json', [ASSIGNMENT]);
  writeJson(dir, 'rds.json', []);
  const cp = await startControlPlane(dir);
  t.after(() => cp.stop());
  const skiff = await startSkiff({ config: xdsBootstrap('sidecar~10.0.0.1~tunnel.default~default.svc.cluster.local', cp.grpcPort, 'GRPC') });
  t.after(async () => { await skiff.stop(); });

  const listenerNames = async (): Promise<string[]> => ((await dumpSection(skiff.adminUrl, 'ListenersConfigDump')).dynamic_listeners as Json[] ?? []).map((l) => String(l.name));
  await waitForValue(async () => ((await listenerNames()).includes('connect_originate') && (await stat(skiff.adminUrl, 'cluster.inbound-vip.membership_total')) === 1 ? true : undefined),
    'both listeners and the internal endpoint', 20_000, 50);
  const front = await waitForValue(async () => {
    const l = ((await (await fetch(`${skiff.adminUrl}/listeners?format=json`)).json()) as { listener_statuses?: { name: string; local_address?: { socket_address?: { port_value?: number } } }[] })
      .listener_statuses?.find((s) => s.name === 'front');
    return l?.local_address?.socket_address?.port_value;
  }, 'the front listener bound', 10_000, 50);

  assert.equal((await roundTrip(front, 'hello mesh', 10_000)).reply, 'echo:hello mesh');
  assert.deepEqual(peer.authorities, ['10.0.0.7:9080'], 'the CONNECT authority is the passed-through original destination');
  assert.equal(await waitForValue(async () => await stat(skiff.adminUrl, 'listener.connect_originate.downstream_cx_total') || undefined, 'internal listener counter', 5000), 1);
  assert.equal(await stat(skiff.adminUrl, 'cluster.connect_originate.upstream_cx_total'), 1);
  assert.deepEqual(await recentNacks(cp), []);

  // LDS removes the internal listener: the internal endpoint refuses, the client is closed without a reply.
  writeJson(dir, 'lds.json', [FRONT]);
  await waitForValue(async () => ((await listenerNames()).includes('connect_originate') ? undefined : true), 'connect_originate removed', 20_000, 50);
  assert.equal((await roundTrip(front, 'anyone?', 10_000)).reply, '');
  assert.ok(((await stat(skiff.adminUrl, 'cluster.inbound-vip.upstream_cx_connect_fail')) ?? 0) >= 1);

  // Added back: traffic flows again.
  writeJson(dir, 'lds.json', [FRONT, CONNECT_ORIGINATE]);
  await waitForValue(async () => ((await listenerNames()).includes('connect_originate') ? true : undefined), 'connect_originate back', 20_000, 50);
  assert.equal((await roundTrip(front, 'again', 10_000)).reply, 'echo:again');
  assert.equal(await stat(skiff.adminUrl, 'listener_manager.listener_removed'), 1);
});

test('a static bootstrap: an HTTP route to a cluster whose endpoint is an internal listener (its own HCM answers)', async (t) => {
  const HCM = 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager';
  const hcm = (name: string, route: Json) => ({ name: 'envoy.filters.network.http_connection_manager', typed_config: {
    '@type': HCM, stat_prefix: name,
    route_config: { virtual_hosts: [{ name: 'all', domains: ['*'], routes: [{ match: { prefix: '/' }, ...route }] }] },
    http_filters: [{ name: 'envoy.filters.http.router', typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router' } }],
  } });
  const skiff = await startSkiff({ config: {
    admin: { address: { socket_address: { address: '127.0.0.1', port_value: 0 } } },
    static_resources: {
      listeners: [
        { name: 'edge', address: { socket_address: { address: '127.0.0.1', port_value: 0 } }, filter_chains: [{ filters: [hcm('edge', { route: { cluster: 'to_inner' } })] }] },
        { name: 'inner', internal_listener: {}, filter_chains: [{ filters: [hcm('inner', { direct_response: { status: 200, body: { inline_string: 'answered in-process' } } })] }] },
      ],
      clusters: [{ name: 'to_inner', type: 'STATIC', connect_timeout: '1s',
        load_assignment: { cluster_name: 'to_inner', endpoints: [{ lb_endpoints: [{ endpoint: { address: { envoy_internal_address: { server_listener_name: 'inner' } } } }] }] } }],
    },
  } });
  t.after(async () => { await skiff.stop(); });
  const r = await fetch(`http://127.0.0.1:${skiff.port('edge')}/x`, { signal: AbortSignal.timeout(10_000) });
  assert.equal(r.status, 200);
  assert.equal(await r.text(), 'answered in-process');
  assert.equal(await stat(skiff.adminUrl, 'listener.inner.downstream_cx_total'), 1);
  assert.equal(await stat(skiff.adminUrl, 'http.inner.downstream_rq_total'), 1);
});
