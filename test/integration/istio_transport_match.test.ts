// Istio's transport_socket_matches, end to end: one cluster, two endpoints; the one labelled
// `envoy.transport_socket_match: {tlsMode: istio}` is reached over TLS (certificate checked with the deprecated
// match_subject_alt_names Istio still sends), the unlabelled one in plain text (the empty match).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import http from 'node:http';
import https from 'node:https';
import type net from 'node:net';
import { startSkiff } from '../helpers/skiff.js';
import { createTestCa } from '../helpers/certs.js';
import { getVia } from '../helpers/xds_harness.js';

const UPSTREAM_TLS = 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext';
const RAW = 'type.googleapis.com/envoy.extensions.transport_sockets.raw_buffer.v3.RawBuffer';
const HCM = 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager';

test('transport_socket_matches: TLS for tlsMode: istio endpoints, plain text for the rest', async (t) => {
  const ca = createTestCa();
  t.after(() => ca.cleanup());
  const backend = ca.issue('backend', 'backend', ['DNS:backend.internal']);
  const tlsServer = https.createServer({ cert: backend.cert, key: backend.key }, (req, res) => {
    res.end(`tls sni=${String((req.socket as import('node:tls').TLSSocket).servername)}`);
  });
  const plainServer = http.createServer((_req, res) => res.end('plain'));
  for (const s of [tlsServer, plainServer]) { s.listen(0, '127.0.0.1'); await once(s, 'listening'); }
  t.after(() => { tlsServer.closeAllConnections(); tlsServer.close(); plainServer.closeAllConnections(); plainServer.close(); });
  const port = (s: net.Server): number => (s.address() as net.AddressInfo).port;
  const endpoint = (p: number, labels?: Record<string, string>): Record<string, unknown> => ({
    endpoint: { address: { socket_address: { address: '127.0.0.1', port_value: p } } },
    ...(labels ? { metadata: { filter_metadata: { 'envoy.transport_socket_match': labels, istio: { workload: 'x' } } } } : {}),
  });
  const skiff = await startSkiff({ config: {
    admin: { address: { socket_address: { address: '127.0.0.1', port_value: 0 } } },
    static_resources: {
      listeners: [{
        name: 'out', address: { socket_address: { address: '127.0.0.1', port_value: 0 } },
        filter_chains: [{ filters: [{ name: 'envoy.filters.network.http_connection_manager', typed_config: {
          '@type': HCM, stat_prefix: 'out',
          route_config: { virtual_hosts: [{ name: 'all', domains: ['*'], routes: [{ match: { prefix: '/' }, route: { cluster: 'mesh' } }] }] },
          http_filters: [{ name: 'envoy.filters.http.router', typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router' } }],
        } }] }],
      }],
      clusters: [{
        name: 'mesh', type: 'STATIC', connect_timeout: '2s', lb_policy: 'ROUND_ROBIN',
        load_assignment: { cluster_name: 'mesh', endpoints: [{ lb_endpoints: [endpoint(port(tlsServer), { tlsMode: 'istio' }), endpoint(port(plainServer))] }] },
        transport_socket_matches: [
          { name: 'tlsMode-istio', match: { tlsMode: 'istio' }, transport_socket: { name: 'envoy.transport_sockets.tls', typed_config: {
            '@type': UPSTREAM_TLS, sni: 'outbound_.9080_._.backend.default.svc.cluster.local',
            common_tls_context: { validation_context: { trusted_ca: { inline_string: ca.cert }, match_subject_alt_names: [{ exact: 'backend.internal' }] } },
          } } },
          { name: 'tlsMode-disabled', match: {}, transport_socket: { name: 'envoy.transport_sockets.raw_buffer', typed_config: { '@type': RAW } } },
        ],
      }],
    },
  } });
  t.after(async () => { await skiff.stop(); });
  const seen = new Set<string>();
  for (let i = 0; i < 6; i++) seen.add(await getVia(skiff.port('out'), '/'));
  assert.deepEqual([...seen].sort(), ['200 plain', '200 tls sni=outbound_.9080_._.backend.default.svc.cluster.local']);
});

test('transport_socket_matches: a SAN that does not match refuses the TLS endpoint only', async (t) => {
  const ca = createTestCa();
  t.after(() => ca.cleanup());
  const backend = ca.issue('backend', 'backend', ['DNS:other.internal']);
  const tlsServer = https.createServer({ cert: backend.cert, key: backend.key }, (_req, res) => res.end('tls'));
  tlsServer.listen(0, '127.0.0.1');
  await once(tlsServer, 'listening');
  t.after(() => { tlsServer.closeAllConnections(); tlsServer.close(); });
  const skiff = await startSkiff({ config: {
    admin: { address: { socket_address: { address: '127.0.0.1', port_value: 0 } } },
    static_resources: {
      listeners: [{
        name: 'out', address: { socket_address: { address: '127.0.0.1', port_value: 0 } },
        filter_chains: [{ filters: [{ name: 'envoy.filters.network.http_connection_manager', typed_config: {
          '@type': HCM, stat_prefix: 'out',
          route_config: { virtual_hosts: [{ name: 'all', domains: ['*'], routes: [{ match: { prefix: '/' }, route: { cluster: 'mesh' } }] }] },
          http_filters: [{ name: 'envoy.filters.http.router', typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router' } }],
        } }] }],
      }],
      clusters: [{
        name: 'mesh', type: 'STATIC', connect_timeout: '2s',
        load_assignment: { cluster_name: 'mesh', endpoints: [{
          metadata: { filter_metadata: { 'envoy.transport_socket_match': { tlsMode: 'istio' } } },
          lb_endpoints: [{ endpoint: { address: { socket_address: { address: '127.0.0.1', port_value: (tlsServer.address() as net.AddressInfo).port } } } }],
        }] },
        transport_socket_matches: [
          { name: 'tlsMode-istio', match: { tlsMode: 'istio' }, transport_socket: { name: 'envoy.transport_sockets.tls', typed_config: {
            '@type': UPSTREAM_TLS, common_tls_context: { validation_context: { trusted_ca: { inline_string: ca.cert }, match_subject_alt_names: [{ exact: 'backend.internal' }] } },
          } } },
        ],
      }],
    },
  } });
  t.after(async () => { await skiff.stop(); });
  // The locality's labels pick TLS; the certificate's SAN is refused: a connect failure, 503.
  assert.equal((await getVia(skiff.port('out'), '/')).split(' ')[0], '503');
});
