// SDS: a real Skiff takes its listener's certificate and its client-certificate CA as named secrets, over ADS from
// `skiff control-plane` (state of the world and delta) or from the bootstrap's static_resources.secrets. The
// listener serves once the secrets arrive; a rotated certificate is presented on new handshakes while an open
// connection keeps going; a secret whose key does not match its certificate is NACKed and the last good one stays.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { startSkiff } from '../helpers/skiff.js';
import { createTestCa, type CertFiles, type TestCa } from '../helpers/certs.js';
import { SLOW_PATIENCE_MS, waitForValue } from '../helpers/wait.js';
import { dumpSection, HCM, ROUTER, T, recentNacks, startControlPlane, writeJson, xdsBootstrap, type Json } from '../helpers/xds_harness.js';

const DOWNSTREAM_TLS = 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext';
const SECRET = 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret';
const SPIFFE_Y = 'spiffe://cluster.local/ns/x/sa/y';

let ca: TestCa;
let server1: CertFiles;
let server2: CertFiles;
let clientY: CertFiles;
let clientZ: CertFiles;

before(() => {
  ca = createTestCa();
  server1 = ca.issue('s1', 'sds.example.com', ['DNS:sds.example.com']);
  server2 = ca.issue('s2', 'sds.example.com', ['DNS:sds.example.com']);
  clientY = ca.issue('cy', 'y', [`URI:${SPIFFE_Y}`], 'client');
  clientZ = ca.issue('cz', 'z', ['URI:spiffe://cluster.local/ns/x/sa/z'], 'client');
});
after(() => ca.cleanup());

function certSecret(name: string, c: CertFiles, key = c.key): Json {
  return { '@type': SECRET, name, tls_certificate: { certificate_chain: { inline_string: c.cert }, private_key: { inline_string: key } } };
}

/** A listener answering "hello" over mTLS, its certificate and CA named secrets (`sdsConfig` undefined: static ones). */
function tlsListener(name: string, sdsConfig: Json | undefined): Json {
  const ref = (secret: string): Json => ({ name: secret, ...(sdsConfig ? { sds_config: sdsConfig } : {}) });
  return {
    name, address: { socket_address: { address: '127.0.0.1', port_value: 0 } },
    filter_chains: [{
      filters: [{ name: 'envoy.filters.network.http_connection_manager', typed_config: {
        '@type': HCM, stat_prefix: name,
        route_config: { virtual_hosts: [{ name: 'all', domains: ['*'], routes: [{ match: { prefix: '/' }, direct_response: { status: 200, body: { inline_string: 'hello' } } }] }] },
        http_filters: [{ name: 'envoy.filters.http.router', typed_config: { '@type': ROUTER } }],
      } }],
      transport_socket: { name: 'envoy.transport_sockets.tls', typed_config: {
        '@type': DOWNSTREAM_TLS, require_client_certificate: true,
        common_tls_context: {
          tls_certificate_sds_secret_configs: [ref('server-cert')],
          // Istio's shape: the SAN check inline, the CA from SDS (merged).
          combined_validation_context: {
            default_validation_context: { match_typed_subject_alt_names: [{ san_type: 'URI', matcher: { exact: SPIFFE_Y } }] },
            validation_context_sds_secret_config: ref('ROOTCA'),
          },
        },
      } },
    }],
  };
}

interface Exchange { status: string; fingerprint: string; socket: tls.TLSSocket }

/** One HTTP/1.1 request over a fresh mTLS connection (kept open for reuse); rejects when the handshake fails. */
function request(port: number, client: CertFiles, socket?: tls.TLSSocket): Promise<Exchange> {
  return new Promise((resolve, reject) => {
    const s = socket ?? tls.connect({ host: '127.0.0.1', port, servername: 'sds.example.com', ca: ca.cert, cert: client.cert, key: client.key });
    let data = '';
    const timer = setTimeout(() => { cleanup(); reject(new Error('timeout')); }, SLOW_PATIENCE_MS);
    const onData = (c: Buffer): void => {
      data += c.toString('latin1');
      if (!data.includes('hello')) return;
      cleanup();
      resolve({ status: data.split('\r\n')[0]!, fingerprint: s.getPeerCertificate().fingerprint256, socket: s });
    };
    const onError = (e: Error): void => { cleanup(); s.destroy(); reject(e); };
    const onClose = (): void => { cleanup(); reject(new Error('closed')); };
    const cleanup = (): void => { clearTimeout(timer); s.off('data', onData); s.off('error', onError); s.off('close', onClose); };
    s.on('data', onData);
    s.on('error', onError);
    s.on('close', onClose);
    const send = (): void => { s.write('GET / HTTP/1.1\r\nhost: sds.example.com\r\n\r\n'); };
    if (socket) send(); else s.once('secureConnect', send);
  });
}

const fingerprintOf = (c: CertFiles): string => new X509Certificate(c.cert).fingerprint256;

for (const apiType of ['GRPC', 'DELTA_GRPC'] as const) {
  test(`SDS over ADS (${apiType}): secrets arrive, rotate without dropping connections, a bad one is NACKed`, async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'skiff-sds-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    writeJson(dir, 'lds.json', [{ '@type': T.listener, ...tlsListener('mtls', { ads: {}, resource_api_version: 'V3' }) }]);
    // Delta sends nothing for a type with no resources: one cluster, so the first CDS answer comes at once.
    writeJson(dir, 'cds.json', [{ '@type': T.cluster, name: 'unused', type: 'STATIC', connect_timeout: '1s' }]);
    writeJson(dir, 'secrets.json', [certSecret('server-cert', server1), { '@type': SECRET, name: 'ROOTCA', validation_context: { trusted_ca: { inline_string: ca.cert } } }]);
    const cp = await startControlPlane(dir);
    t.after(() => cp.stop());
    const skiff = await startSkiff({ config: xdsBootstrap('sidecar~10.0.0.1~sds.default~default.svc.cluster.local', cp.grpcPort, apiType) });
    t.after(async () => { await skiff.stop(); });
    const port = await waitForValue(() => { try { return skiff.port('mtls'); } catch { return undefined; } }, 'the listener');

    const first = await waitForValue(() => request(port, clientY).catch(() => undefined), 'a handshake with the SDS certificate');
    assert.equal(first.status, 'HTTP/1.1 200 OK');
    assert.equal(first.fingerprint, fingerprintOf(server1));
    // The SAN check of default_validation_context applies with the SDS CA: another workload's certificate is refused.
    await assert.rejects(request(port, clientZ));
    // /config_dump shows them as Envoy does: active, versioned, the private key redacted.
    const secrets = await dumpSection(skiff.adminUrl, 'SecretsConfigDump');
    const active = secrets.dynamic_active_secrets as { name: string; version_info: string; secret: { tls_certificate?: { private_key?: unknown } } }[];
    assert.deepEqual(active.map((x) => x.name).sort(), ['ROOTCA', 'server-cert']);
    const shown = active.find((x) => x.name === 'server-cert')!;
    assert.ok(shown.version_info.length > 0);
    assert.deepEqual(shown.secret.tls_certificate?.private_key, { inline_string: '[redacted]' });
    assert.ok(!JSON.stringify(secrets).includes('PRIVATE KEY'));

    // Rotation: new handshakes get the new certificate; the open connection keeps serving.
    writeJson(dir, 'secrets.json', [certSecret('server-cert', server2), { '@type': SECRET, name: 'ROOTCA', validation_context: { trusted_ca: { inline_string: ca.cert } } }]);
    const rotated = await waitForValue(async () => {
      const r = await request(port, clientY).catch(() => undefined);
      r?.socket.destroy();
      return r?.fingerprint === fingerprintOf(server2) ? r : undefined;
    }, 'the rotated certificate');
    assert.equal(rotated.status, 'HTTP/1.1 200 OK');
    const again = await request(port, clientY, first.socket);
    assert.equal(again.status, 'HTTP/1.1 200 OK', 'the connection made before the rotation still serves');
    assert.equal(again.fingerprint, fingerprintOf(server1));
    first.socket.destroy();

    // A key that does not match its certificate: NACKed naming the secret; server2 stays.
    writeJson(dir, 'secrets.json', [certSecret('server-cert', server1, server2.key), { '@type': SECRET, name: 'ROOTCA', validation_context: { trusted_ca: { inline_string: ca.cert } } }]);
    const nacks = await waitForValue(async () => {
      const n = (await recentNacks(cp)).filter((x) => /Secret/.test(x.type));
      return n.length > 0 ? n : undefined;
    }, 'the NACK of the bad secret');
    assert.match(nacks[0]!.message, /Secret "server-cert"\.tls_certificate/);
    const after = await request(port, clientY);
    after.socket.destroy();
    assert.equal(after.fingerprint, fingerprintOf(server2));
  });
}

test('SDS from static_resources.secrets: a listener naming secrets without sds_config serves with them', async (t) => {
  const listener = tlsListener('static_mtls', undefined);
  const skiff = await startSkiff({ config: {
    admin: { address: { socket_address: { address: '127.0.0.1', port_value: 0 } } },
    static_resources: {
      listeners: [listener],
      secrets: [
        { name: 'server-cert', tls_certificate: { certificate_chain: { filename: server1.certPath }, private_key: { filename: server1.keyPath } } },
        { name: 'ROOTCA', validation_context: { trusted_ca: { filename: ca.certPath } } },
      ],
    },
  } });
  t.after(async () => { await skiff.stop(); });
  const r = await request(skiff.port('static_mtls'), clientY);
  r.socket.destroy();
  assert.equal(r.status, 'HTTP/1.1 200 OK');
  assert.equal(r.fingerprint, fingerprintOf(server1));
  await assert.rejects(request(skiff.port('static_mtls'), clientZ));
  const secrets = await dumpSection(skiff.adminUrl, 'SecretsConfigDump');
  assert.deepEqual((secrets.static_secrets as { name: string }[]).map((x) => x.name), ['server-cert', 'ROOTCA']);
  assert.deepEqual(secrets.dynamic_warming_secrets, []);
});

test("SDS from a server of its own (Istio's sds-grpc shape: api_config_source to a static cluster), rotation included", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'skiff-sds-grpc-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const rootCa = { '@type': SECRET, name: 'ROOTCA', validation_context: { trusted_ca: { inline_string: ca.cert } } };
  writeJson(dir, 'secrets.json', [certSecret('server-cert', server1), rootCa]);
  const cp = await startControlPlane(dir);
  t.after(() => cp.stop());
  const sdsConfig = {
    api_config_source: { api_type: 'GRPC', transport_api_version: 'V3', grpc_services: [{ envoy_grpc: { cluster_name: 'sds-grpc' } }], set_node_on_first_message_only: true },
    initial_fetch_timeout: '0s', resource_api_version: 'V3',
  };
  const skiff = await startSkiff({ config: {
    node: { id: 'sidecar~10.0.0.2~sds.default~default.svc.cluster.local', cluster: 'it' },
    admin: { address: { socket_address: { address: '127.0.0.1', port_value: 0 } } },
    static_resources: {
      listeners: [tlsListener('grpc_mtls', sdsConfig)],
      clusters: [{
        name: 'sds-grpc', type: 'STATIC', connect_timeout: '1s',
        load_assignment: { cluster_name: 'sds-grpc', endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: '127.0.0.1', port_value: cp.grpcPort } } } }] }] },
      }],
    },
  } });
  t.after(async () => { await skiff.stop(); });
  const port = skiff.port('grpc_mtls');
  const first = await waitForValue(() => request(port, clientY).catch(() => undefined), 'a handshake with the certificate from the SDS server');
  first.socket.destroy();
  assert.equal(first.fingerprint, fingerprintOf(server1));
  await assert.rejects(request(port, clientZ));
  writeJson(dir, 'secrets.json', [certSecret('server-cert', server2), rootCa]);
  await waitForValue(async () => {
    const r = await request(port, clientY).catch(() => undefined);
    r?.socket.destroy();
    return r?.fingerprint === fingerprintOf(server2) ? true : undefined;
  }, 'the rotated certificate');
});
