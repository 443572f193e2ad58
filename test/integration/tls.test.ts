// The real `skiff` process with TLS on both sides: filter chains picked by SNI on one port (mTLS with a SPIFFE
// SAN on one, a plain-text chain beside them), and clusters that speak TLS to a node https upstream, with the
// upstream certificate's SAN checked (accepted and refused) and a client certificate for upstream mTLS.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import net from 'node:net';
import tls from 'node:tls';
import { once } from 'node:events';
import { startSkiff, type RunningSkiff } from '../helpers/skiff.js';
import { DOWNSTREAM_TLS, HCM, UPSTREAM_TLS, adminAnyPort, loadAssignment, routerFilter } from '../helpers/envoy_config.js';
import { createTestCa, type CertFiles, type TestCa } from '../helpers/certs.js';
import { SLOW_PATIENCE_MS } from '../helpers/wait.js';

const TLS_INSPECTOR = 'type.googleapis.com/envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector';
const SPIFFE_Y = 'spiffe://cluster.local/ns/x/sa/y';

let ca: TestCa;
let clientY: CertFiles;
let clientZ: CertFiles;
let upstream: https.Server;
let skiff: RunningSkiff;

function hcm(prefix: string, route: Record<string, unknown>): Record<string, unknown> {
  return {
    name: 'envoy.filters.network.http_connection_manager',
    typed_config: {
      '@type': HCM, stat_prefix: prefix,
      route_config: { virtual_hosts: [{ name: 'all', domains: ['*'], routes: [{ match: { prefix: '/' }, ...route }] }] },
      http_filters: [routerFilter()],
    },
  };
}

function certs(c: CertFiles): Record<string, unknown> {
  return { tls_certificates: [{ certificate_chain: { filename: c.certPath }, private_key: { filename: c.keyPath } }] };
}

function tlsCluster(name: string, port: number, sanExact: string): Record<string, unknown> {
  return {
    name, type: 'STATIC', connect_timeout: '2s',
    load_assignment: loadAssignment(name, port),
    transport_socket: {
      name: 'envoy.transport_sockets.tls',
      typed_config: {
        '@type': UPSTREAM_TLS, sni: 'backend.internal',
        common_tls_context: {
          ...certs(clientY),
          validation_context: { trusted_ca: { filename: ca.certPath }, match_typed_subject_alt_names: [{ san_type: 'DNS', matcher: { exact: sanExact } }] },
        },
      },
    },
  };
}

before(async () => {
  ca = createTestCa();
  const certA = ca.issue('a', 'a.example.com', ['DNS:a.example.com']);
  const certB = ca.issue('b', 'b.example.com', ['DNS:b.example.com']);
  const backend = ca.issue('backend', 'backend', ['DNS:backend.internal']);
  clientY = ca.issue('cy', 'y', [`URI:${SPIFFE_Y}`], 'client');
  clientZ = ca.issue('cz', 'z', ['URI:spiffe://cluster.local/ns/x/sa/z'], 'client');
  upstream = https.createServer({ cert: backend.cert, key: backend.key, ca: ca.cert, requestCert: true, rejectUnauthorized: true }, (req, res) => {
    const s = req.socket as tls.TLSSocket;
    res.end(`backend sni=${String(s.servername)} client=${s.getPeerCertificate().subjectaltname ?? ''}`);
  });
  upstream.listen(0, '127.0.0.1');
  await once(upstream, 'listening');
  const upPort = (upstream.address() as net.AddressInfo).port;
  skiff = await startSkiff({
    config: {
      admin: adminAnyPort(),
      static_resources: {
        listeners: [{
          name: 'edge', address: { socket_address: { address: '127.0.0.1', port_value: 0 } },
          listener_filters: [{ name: 'envoy.filters.listener.tls_inspector', typed_config: { '@type': TLS_INSPECTOR } }],
          filter_chains: [
            {
              filter_chain_match: { server_names: ['a.example.com'] },
              transport_socket: { name: 'envoy.transport_sockets.tls', typed_config: {
                '@type': DOWNSTREAM_TLS, require_client_certificate: true,
                common_tls_context: { ...certs(certA), validation_context: { trusted_ca: { filename: ca.certPath },
                  match_typed_subject_alt_names: [{ san_type: 'URI', matcher: { exact: SPIFFE_Y } }] } },
              } },
              filters: [hcm('a', { route: { cluster: 'backend_ok' } })],
            },
            {
              filter_chain_match: { server_names: ['b.example.com'] },
              transport_socket: { name: 'envoy.transport_sockets.tls', typed_config: { '@type': DOWNSTREAM_TLS, common_tls_context: certs(certB) } },
              filters: [hcm('b', { route: { cluster: 'backend_wrong_san' } })],
            },
            { filter_chain_match: { transport_protocol: 'raw_buffer' }, filters: [hcm('plain', { direct_response: { status: 200, body: { inline_string: 'plain' } } })] },
          ],
        }],
        clusters: [tlsCluster('backend_ok', upPort, 'backend.internal'), tlsCluster('backend_wrong_san', upPort, 'someone-else.internal')],
      },
    },
  });
});

after(async () => {
  await skiff?.stop();
  upstream?.close();
  ca?.cleanup();
});

async function get(opts: tls.ConnectionOptions | undefined): Promise<string> {
  const port = skiff.port('edge');
  const s = opts === undefined ? net.connect(port, '127.0.0.1') : tls.connect({ host: '127.0.0.1', port, ca: ca.cert, ...opts });
  let data = '';
  s.on('data', (c: Buffer) => { data += c.toString('latin1'); });
  s.on('error', () => {});
  s.once(opts === undefined ? 'connect' : 'secureConnect', () => s.write('GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'));
  const timer = setTimeout(() => s.destroy(), SLOW_PATIENCE_MS);
  await new Promise((r) => s.once('close', r));
  clearTimeout(timer);
  return data;
}

async function counter(name: string): Promise<number> {
  const text = await (await fetch(`${skiff.adminUrl}/stats`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name}: `));
  return line === undefined ? 0 : Number(line.slice(name.length + 2));
}

test('SNI picks the mTLS chain; the request goes upstream over TLS with SNI and a client certificate', async () => {
  const r = await get({ servername: 'a.example.com', cert: clientY.cert, key: clientY.key });
  assert.match(r, /^HTTP\/1\.1 200/);
  assert.match(r, new RegExp(`backend sni=backend\\.internal client=URI:${SPIFFE_Y.replace(/\//g, '\\/')}$`));
});

test('a client certificate with another SPIFFE id is refused and counted; plain text on the same port is served', async () => {
  assert.equal(await get({ servername: 'a.example.com', cert: clientZ.cert, key: clientZ.key }), '');
  const port = skiff.port('edge');
  assert.ok(await counter(`listener.127.0.0.1_${port}.ssl.fail_verify_san`) >= 1);
  assert.match(await get(undefined), /^HTTP\/1\.1 200[\s\S]*plain$/);
});

test('an upstream certificate whose SAN does not match is a connect failure: 503, counted', async () => {
  const r = await get({ servername: 'b.example.com' });
  assert.match(r, /^HTTP\/1\.1 503/);
  assert.ok(await counter('cluster.backend_wrong_san.upstream_cx_connect_fail') >= 1);
});
