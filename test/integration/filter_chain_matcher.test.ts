// filter_chain_matcher through a real Skiff: the destination port picks a branch, then the transport and the
// SNI (tls_inspector) pick the chain; an SNI nobody named (a nested matcher without on_no_match) closes the
// connection (no default_filter_chain), and the listener counts it in no_filter_chain_match.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import tls from 'node:tls';
import { startSkiff } from '../helpers/skiff.js';
import { createTestCa } from '../helpers/certs.js';
import { closedPort } from '../helpers/ports.js';
import { getVia } from '../helpers/xds_harness.js';

const HCM = 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager';
const TLS = 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext';
const IN = 'type.googleapis.com/envoy.extensions.matching.common_inputs.network.v3.';
const input = (type: string) => ({ name: type, typed_config: { '@type': `${IN}${type}` } });
const action = (chain: string) => ({ action: { name: chain, typed_config: { '@type': 'type.googleapis.com/google.protobuf.StringValue', value: chain } } });

function answering(name: string, body: string, transport?: Record<string, unknown>): Record<string, unknown> {
  return {
    name,
    filters: [{ name: 'envoy.filters.network.http_connection_manager', typed_config: {
      '@type': HCM, stat_prefix: name,
      route_config: { virtual_hosts: [{ name: 'all', domains: ['*'], routes: [{ match: { prefix: '/' }, direct_response: { status: 200, body: { inline_string: body } } }] }] },
      http_filters: [{ name: 'envoy.filters.http.router', typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router' } }],
    } }],
    ...(transport ? { transport_socket: { name: 'envoy.transport_sockets.tls', typed_config: transport } } : {}),
  };
}

/** One HTTP/1.1 GET over TLS with `servername`; the response text, or 'closed' when the connection ends without one. */
function getOverTls(port: number, servername: string, ca: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let data = '';
    const socket = tls.connect({ host: '127.0.0.1', port, servername, ca, rejectUnauthorized: false }, () => {
      socket.write('GET / HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n');
    });
    socket.setTimeout(10_000, () => { socket.destroy(); reject(new Error('timed out')); });
    socket.on('data', (c: Buffer) => { data += c.toString('latin1'); });
    socket.on('error', () => resolve(data === '' ? 'closed' : data));
    socket.on('close', () => resolve(data === '' ? 'closed' : data));
  });
}

test('filter_chain_matcher picks chains by destination port, transport and SNI', async (t) => {
  const ca = createTestCa();
  t.after(() => ca.cleanup());
  const cert = ca.issue('a', 'a.example', ['DNS:a.example']);
  const port = await closedPort();
  const tlsContext = { '@type': TLS, common_tls_context: { tls_certificates: [{ certificate_chain: { inline_string: cert.cert }, private_key: { inline_string: cert.key } }] } };
  const skiff = await startSkiff({ config: {
    admin: { address: { socket_address: { address: '127.0.0.1', port_value: 0 } } },
    static_resources: {
      listeners: [{
        name: 'matched', address: { socket_address: { address: '127.0.0.1', port_value: port } },
        listener_filters: [{ name: 'envoy.filters.listener.tls_inspector', typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector' } }],
        filter_chain_matcher: {
          matcher_tree: { input: input('DestinationPortInput'), exact_match_map: { map: {
            [String(port)]: { matcher: {
              matcher_tree: { input: input('TransportProtocolInput'), exact_match_map: { map: {
                tls: { matcher: { matcher_tree: { input: input('ServerNameInput'), exact_match_map: { map: { 'a.example': action('sni-a') } } } } },
                raw_buffer: action('plain'),
              } } },
            } },
            1: action('elsewhere'),
          } } },
        },
        filter_chains: [answering('plain', 'plain chain'), answering('sni-a', 'chain for a.example', tlsContext), answering('elsewhere', 'never')],
      }],
    },
  } });
  t.after(async () => { await skiff.stop(); });
  assert.equal(skiff.port('matched'), port);
  assert.equal(await getVia(port, '/'), '200 plain chain');
  const a = await getOverTls(port, 'a.example', ca.cert);
  assert.match(a, /^HTTP\/1\.1 200 /);
  assert.match(a, /chain for a\.example$/);
  assert.equal(await getOverTls(port, 'b.example', ca.cert), 'closed', 'no chain for b.example and no default chain');
  const stats = await (await fetch(`${skiff.adminUrl}/stats`)).text();
  assert.match(stats, /no_filter_chain_match: 1\b/);
});
