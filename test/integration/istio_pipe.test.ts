// istio-agent's unix sockets: a STATIC cluster whose endpoint is a `pipe` carries HTTP to a server on a unix
// socket, and SDS secrets come from `sds-grpc` on a unix socket (here a relay to skiff control-plane's TCP port),
// as in Istio's bootstrap.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { X509Certificate } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { startSkiff } from '../helpers/skiff.js';
import { createTestCa } from '../helpers/certs.js';
import { waitForValue } from '../helpers/wait.js';
import { getVia, HCM, ROUTER, startControlPlane, writeJson } from '../helpers/xds_harness.js';

const DOWNSTREAM_TLS = 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext';
const SECRET = 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret';

function routeAll(statPrefix: string, action: Record<string, unknown>): Record<string, unknown> {
  return { name: 'envoy.filters.network.http_connection_manager', typed_config: {
    '@type': HCM, stat_prefix: statPrefix,
    route_config: { virtual_hosts: [{ name: 'all', domains: ['*'], routes: [{ match: { prefix: '/' }, ...action }] }] },
    http_filters: [{ name: 'envoy.filters.http.router', typed_config: { '@type': ROUTER } }],
  } };
}

test('pipe endpoints: HTTP to a unix-socket upstream, SDS from sds-grpc on a unix socket', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'skiff-pipe-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const ca = createTestCa();
  t.after(() => ca.cleanup());
  const cert = ca.issue('srv', 'pipe.example.com', ['DNS:pipe.example.com']);

  const appPath = join(dir, 'app.sock');
  const app = http.createServer((_req, res) => res.end('over a unix socket'));
  app.listen(appPath);
  await once(app, 'listening');
  t.after(() => { app.closeAllConnections(); app.close(); });

  const cpDir = join(dir, 'cp');
  mkdirSync(cpDir);
  writeJson(cpDir, 'secrets.json', [{ '@type': SECRET, name: 'default', tls_certificate: { certificate_chain: { inline_string: cert.cert }, private_key: { inline_string: cert.key } } }]);
  const cp = await startControlPlane(cpDir);
  t.after(() => cp.stop());
  // istio-agent's SDS socket: a relay from a unix socket to the control plane.
  const sdsPath = join(dir, 'sds.sock');
  const relays = new Set<net.Socket>();
  const relay = net.createServer((s) => {
    const up = net.connect(cp.grpcPort, '127.0.0.1');
    relays.add(s); relays.add(up);
    s.pipe(up).pipe(s);
    for (const x of [s, up]) x.on('error', () => { s.destroy(); up.destroy(); });
  });
  relay.listen(sdsPath);
  await once(relay, 'listening');
  t.after(() => { for (const s of relays) s.destroy(); relay.close(); });

  const pipeCluster = (name: string, path: string): Record<string, unknown> => ({
    name, type: 'STATIC', connect_timeout: '1s',
    load_assignment: { cluster_name: name, endpoints: [{ lb_endpoints: [{ endpoint: { address: { pipe: { path } } } }] }] },
  });
  const skiff = await startSkiff({ config: {
    node: { id: 'sidecar~10.0.0.4~pipe.default~default.svc.cluster.local', cluster: 'it' },
    admin: { address: { socket_address: { address: '127.0.0.1', port_value: 0 } } },
    static_resources: {
      listeners: [
        { name: 'plain', address: { socket_address: { address: '127.0.0.1', port_value: 0 } }, filter_chains: [{ filters: [routeAll('plain', { route: { cluster: 'app' } })] }] },
        {
          name: 'secure', address: { socket_address: { address: '127.0.0.1', port_value: 0 } },
          filter_chains: [{
            filters: [routeAll('secure', { direct_response: { status: 200, body: { inline_string: 'secure' } } })],
            transport_socket: { name: 'envoy.transport_sockets.tls', typed_config: { '@type': DOWNSTREAM_TLS, common_tls_context: {
              tls_certificate_sds_secret_configs: [{ name: 'default', sds_config: {
                api_config_source: { api_type: 'GRPC', transport_api_version: 'V3', grpc_services: [{ envoy_grpc: { cluster_name: 'sds-grpc' } }] },
                initial_fetch_timeout: '0s', resource_api_version: 'V3',
              } }],
            } } },
          }],
        },
      ],
      clusters: [pipeCluster('app', appPath), pipeCluster('sds-grpc', sdsPath)],
    },
  } });
  t.after(async () => { await skiff.stop(); });

  assert.equal(await getVia(skiff.port('plain'), '/'), '200 over a unix socket');
  const fingerprint = await waitForValue(() => new Promise<string | undefined>((resolve) => {
    const s = tls.connect({ host: '127.0.0.1', port: skiff.port('secure'), servername: 'pipe.example.com', ca: ca.cert }, () => {
      const fp = s.getPeerCertificate().fingerprint256;
      s.destroy();
      resolve(fp);
    });
    s.on('error', () => resolve(undefined));
  }), 'the certificate from sds-grpc on a unix socket', 10_000);
  assert.equal(fingerprint, new X509Certificate(cert.cert).fingerprint256);
});
