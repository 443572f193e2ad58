// SDS warming, as Envoy does it: a listener whose certificate is an SDS secret that has not arrived is not bound
// (warming) until it comes; an updated listener that needs a new secret leaves the old one serving meanwhile;
// initial_fetch_timeout ends the wait without the secret (then handshakes fail); a cluster whose client
// certificate has not arrived is not used (cluster not found: 503) and an updated one leaves its predecessor
// serving; static listeners with secrets from an SDS server of their own hold /ready at 503 until they warm.
// A real Skiff and a real `skiff control-plane` serving Secret files; every wait polls for the state, bounded.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { startSkiff } from '../helpers/skiff.js';
import { createTestCa, type CertFiles, type TestCa } from '../helpers/certs.js';
import { SLOW_PATIENCE_MS, waitForValue } from '../helpers/wait.js';
import { dumpSection, getVia, HCM, ROUTER, stat, startControlPlane, T, writeJson, xdsBootstrap, type Json } from '../helpers/xds_harness.js';

const DOWNSTREAM_TLS = 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext';
const UPSTREAM_TLS = 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext';
const SECRET = 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret';
/** Generous bounds: the machine may be loaded (waits poll for the state and end as soon as it holds). */
const WAIT_MS = 15_000;

let ca: TestCa;
let server1: CertFiles;
let server2: CertFiles;
let clientY: CertFiles;
let clientZ: CertFiles;

before(() => {
  ca = createTestCa();
  server1 = ca.issue('s1', 'edge.example.com', ['DNS:edge.example.com']);
  server2 = ca.issue('s2', 'edge.example.com', ['DNS:edge.example.com']);
  clientY = ca.issue('cy', 'y', ['URI:spiffe://cluster.local/ns/x/sa/y'], 'client');
  clientZ = ca.issue('cz', 'z', ['URI:spiffe://cluster.local/ns/x/sa/z'], 'client');
});
after(() => ca.cleanup());

function certSecret(name: string, c: CertFiles): Json {
  return { '@type': SECRET, name, tls_certificate: { certificate_chain: { inline_string: c.cert }, private_key: { inline_string: c.key } } };
}

const directResponse = (name: string, body: string): Json => ({
  name: 'envoy.filters.network.http_connection_manager', typed_config: {
    '@type': HCM, stat_prefix: name,
    route_config: { virtual_hosts: [{ name: 'all', domains: ['*'], routes: [{ match: { prefix: '/' }, direct_response: { status: 200, body: { inline_string: body } } }] }] },
    http_filters: [{ name: 'envoy.filters.http.router', typed_config: { '@type': ROUTER } }],
  },
});

/** A TLS listener answering `body`, its certificate the SDS secret `secret` from `sdsConfig`. */
function tlsListener(name: string, secret: string, sdsConfig: Json, body: string): Json {
  return {
    name, address: { socket_address: { address: '127.0.0.1', port_value: 0 } },
    filter_chains: [{
      filters: [directResponse(name, body)],
      transport_socket: { name: 'envoy.transport_sockets.tls', typed_config: {
        '@type': DOWNSTREAM_TLS, common_tls_context: { tls_certificate_sds_secret_configs: [{ name: secret, sds_config: sdsConfig }] },
      } },
    }],
  };
}

function plainListener(name: string): Json {
  return { name, address: { socket_address: { address: '127.0.0.1', port_value: 0 } }, filter_chains: [{ filters: [directResponse(name, 'plain')] }] };
}

/** The port a listener is bound to now, from /listeners (undefined while it is not bound). */
async function boundPort(adminUrl: string, name: string): Promise<number | undefined> {
  const r = await fetch(`${adminUrl}/listeners?format=json`).catch(() => undefined);
  if (r === undefined || r.status !== 200) return undefined;
  const body = (await r.json()) as { listener_statuses: { name: string; local_address: { socket_address: { port_value: number } } }[] };
  return body.listener_statuses.find((l) => l.name === name)?.local_address.socket_address.port_value;
}

/** /config_dump's dynamic_listeners entry of `name` (its active_state / warming_state), if any. */
async function dynamicListener(adminUrl: string, name: string): Promise<Json | undefined> {
  const section = await dumpSection(adminUrl, 'ListenersConfigDump');
  return (section.dynamic_listeners as Json[] | undefined ?? []).find((l) => l.name === name);
}

async function dynamicClusterNames(adminUrl: string, key: 'dynamic_active_clusters' | 'dynamic_warming_clusters'): Promise<string[]> {
  const section = await dumpSection(adminUrl, 'ClustersConfigDump');
  return ((section[key] as { cluster: { name: string } }[] | undefined) ?? []).map((c) => c.cluster.name);
}

/** GET / over a fresh TLS connection: the body and the certificate presented; rejects when the handshake fails. */
function tlsGet(port: number): Promise<{ body: string; fingerprint: string }> {
  return new Promise((resolve, reject) => {
    const s = tls.connect({ host: '127.0.0.1', port, servername: 'edge.example.com', ca: ca.cert });
    let data = '';
    let fingerprint = '';
    const timer = setTimeout(() => { s.destroy(); reject(new Error('timeout')); }, SLOW_PATIENCE_MS);
    s.once('secureConnect', () => {
      fingerprint = s.getPeerCertificate().fingerprint256;
      s.write('GET / HTTP/1.1\r\nhost: edge.example.com\r\nconnection: close\r\n\r\n');
    });
    s.on('data', (c: Buffer) => { data += c.toString('latin1'); });
    s.once('error', (e) => { clearTimeout(timer); s.destroy(); reject(e); });
    s.once('close', () => {
      clearTimeout(timer);
      if (!data.startsWith('HTTP/1.1')) { reject(new Error('closed without a response')); return; }
      resolve({ body: data.slice(data.indexOf('\r\n\r\n') + 4), fingerprint });
    });
  });
}

const fingerprintOf = (c: CertFiles): string => new X509Certificate(c.cert).fingerprint256;

async function controlPlaneDir(t: { after(fn: () => unknown): void }, files: Record<string, unknown[]>): Promise<{ dir: string; grpcPort: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'skiff-sds-warming-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  for (const [file, content] of Object.entries(files)) writeJson(dir, file, content);
  const cp = await startControlPlane(dir);
  t.after(() => cp.stop());
  return { dir, grpcPort: cp.grpcPort };
}

for (const apiType of ['GRPC', 'DELTA_GRPC'] as const) {
  test(`LDS (${apiType}): a listener waiting for its SDS certificate warms unbound; an update waiting for a new one leaves the old serving`, async (t) => {
    const plain = { '@type': T.listener, ...plainListener('plain') };
    const { dir, grpcPort } = await controlPlaneDir(t, {
      'lds.json': [plain],
      // Delta sends nothing for a type with no resources: one cluster, so the first CDS answer comes at once.
      'cds.json': [{ '@type': T.cluster, name: 'unused', type: 'STATIC', connect_timeout: '1s' }],
      'secrets.json': [],
    });
    const skiff = await startSkiff({ config: xdsBootstrap('sidecar~10.0.0.1~warm.default~default.svc.cluster.local', grpcPort, apiType) });
    t.after(async () => { await skiff.stop(); });
    const ads = { ads: {}, resource_api_version: 'V3', initial_fetch_timeout: '0s' };

    writeJson(dir, 'lds.json', [plain, { '@type': T.listener, ...tlsListener('edge', 'edge-cert', ads, 'v1') }]);
    const warming = await waitForValue(async () => (await dynamicListener(skiff.adminUrl, 'edge'))?.warming_state as Json | undefined, 'the listener, warming', WAIT_MS);
    assert.ok(warming);
    assert.equal((await dynamicListener(skiff.adminUrl, 'edge'))?.active_state, undefined);
    assert.equal(await boundPort(skiff.adminUrl, 'edge'), undefined, 'a warming listener is not bound');
    assert.equal(await stat(skiff.adminUrl, 'listener_manager.total_listeners_warming'), 1);
    const secrets = await dumpSection(skiff.adminUrl, 'SecretsConfigDump');
    assert.deepEqual(secrets.dynamic_warming_secrets, [{ name: 'edge-cert' }]);
    assert.equal((await fetch(`${skiff.adminUrl}/ready`)).status, 200, 'a listener added at run time does not make the server unready');

    writeJson(dir, 'secrets.json', [certSecret('edge-cert', server1)]);
    const port = await waitForValue(() => boundPort(skiff.adminUrl, 'edge'), 'the listener to bind once its secret came', WAIT_MS);
    const first = await tlsGet(port);
    assert.equal(first.body, 'v1');
    assert.equal(first.fingerprint, fingerprintOf(server1));
    assert.equal(await stat(skiff.adminUrl, 'listener_manager.total_listeners_warming'), 0);

    // An update naming a secret not there yet: it warms beside the active one, which keeps serving.
    writeJson(dir, 'lds.json', [plain, { '@type': T.listener, ...tlsListener('edge', 'edge-cert-2', ads, 'v2') }]);
    await waitForValue(async () => (await dynamicListener(skiff.adminUrl, 'edge'))?.warming_state as Json | undefined, 'the update, warming', WAIT_MS);
    const both = (await dynamicListener(skiff.adminUrl, 'edge'))!;
    assert.ok(both.active_state, 'the old listener is still active');
    const meanwhile = await tlsGet(port);
    assert.equal(meanwhile.body, 'v1', 'the old listener serves while the update warms');
    assert.equal(meanwhile.fingerprint, fingerprintOf(server1));

    writeJson(dir, 'secrets.json', [certSecret('edge-cert', server1), certSecret('edge-cert-2', server2)]);
    const updated = await waitForValue(async () => {
      const r = await tlsGet(port).catch(() => undefined);
      return r?.body === 'v2' ? r : undefined;
    }, 'the updated listener to serve', WAIT_MS);
    assert.equal(updated.fingerprint, fingerprintOf(server2));
    await waitForValue(async () => ((await dynamicListener(skiff.adminUrl, 'edge'))?.warming_state === undefined ? true : undefined), 'no warming state', WAIT_MS);

    if (apiType === 'DELTA_GRPC') {
      // A secret withdrawn later does not un-warm anything: the listener stays active with the certificate it has.
      writeJson(dir, 'secrets.json', [certSecret('edge-cert', server1)]);
      await waitForValue(async () => {
        const s = await dumpSection(skiff.adminUrl, 'SecretsConfigDump');
        return (s.dynamic_active_secrets as { name: string }[]).some((x) => x.name === 'edge-cert-2') ? undefined : true;
      }, 'the secret to be withdrawn', WAIT_MS);
      const stillServing = await tlsGet(port);
      assert.equal(stillServing.body, 'v2');
      assert.equal(stillServing.fingerprint, fingerprintOf(server2));
      const entry = (await dynamicListener(skiff.adminUrl, 'edge'))!;
      assert.ok(entry.active_state);
      assert.equal(entry.warming_state, undefined);
      assert.equal(await stat(skiff.adminUrl, 'listener_manager.total_listeners_warming'), 0);
    }
  });
}

test('initial_fetch_timeout 1s ends warming without the secret: the listener binds and its handshakes fail, counted', async (t) => {
  const plain = { '@type': T.listener, ...plainListener('plain') };
  const { dir, grpcPort } = await controlPlaneDir(t, {
    'lds.json': [plain],
    'cds.json': [{ '@type': T.cluster, name: 'unused', type: 'STATIC', connect_timeout: '1s' }],
    'secrets.json': [],
  });
  const skiff = await startSkiff({ config: xdsBootstrap('sidecar~10.0.0.3~late.default~default.svc.cluster.local', grpcPort, 'GRPC') });
  t.after(async () => { await skiff.stop(); });
  writeJson(dir, 'lds.json', [plain, { '@type': T.listener, ...tlsListener('late', 'never-sent', { ads: {}, initial_fetch_timeout: '1s' }, 'late') }]);
  const port = await waitForValue(() => boundPort(skiff.adminUrl, 'late'), 'the listener to bind after its fetch timeout', WAIT_MS);
  const boundAt = Date.now();
  const entry = (await dynamicListener(skiff.adminUrl, 'late'))!;
  const addedAt = Date.parse(String((entry.active_state as Json).last_updated));
  assert.ok(boundAt - addedAt >= 900, `bound ${boundAt - addedAt} ms after it was added: it waited for the timeout first`);
  assert.equal(entry.warming_state, undefined);
  await assert.rejects(tlsGet(port), 'no certificate: the handshake fails');
  const counted = await waitForValue(async () => {
    const n = await stat(skiff.adminUrl, `listener.127.0.0.1_${port}.ssl.connection_error`);
    return n !== undefined && n >= 1 ? n : undefined;
  }, 'the failed handshake to be counted', WAIT_MS);
  assert.ok(counted >= 1);
  const secrets = await dumpSection(skiff.adminUrl, 'SecretsConfigDump');
  assert.deepEqual(secrets.dynamic_warming_secrets, [{ name: 'never-sent' }]);
});

/** An HTTPS server requiring a client certificate from the test CA; it answers with the client's CN. */
async function mtlsUpstream(t: { after(fn: () => unknown): void }): Promise<{ port: number; connections: () => number }> {
  const upstreamCert = ca.issue('up', 'upstream.example.com', ['DNS:upstream.example.com']);
  let connections = 0;
  const server = https.createServer({ key: upstreamCert.key, cert: upstreamCert.cert, ca: ca.cert, requestCert: true, rejectUnauthorized: true }, (req, res) => {
    const cn = (req.socket as tls.TLSSocket).getPeerCertificate().subject?.CN ?? '';
    res.end(`client ${cn}`);
  });
  server.on('connection', () => { connections++; });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }));
  return { port: (server.address() as AddressInfo).port, connections: () => connections };
}

function secureCluster(upstreamPort: number, secret: string): Json {
  return {
    '@type': T.cluster, name: 'secure', type: 'STATIC', connect_timeout: '2s',
    load_assignment: { cluster_name: 'secure', endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: '127.0.0.1', port_value: upstreamPort } } } }] }] },
    transport_socket: { name: 'envoy.transport_sockets.tls', typed_config: {
      '@type': UPSTREAM_TLS, sni: 'upstream.example.com',
      common_tls_context: {
        tls_certificate_sds_secret_configs: [{ name: secret, sds_config: { ads: {}, initial_fetch_timeout: '0s' } }],
        validation_context: { trusted_ca: { inline_string: ca.cert } },
      },
    } },
  };
}

test('CDS: a cluster waiting for its client certificate is not used (503, cluster not found) until it comes; an update waiting for a new one leaves the old serving', async (t) => {
  const up = await mtlsUpstream(t);
  const unused = { '@type': T.cluster, name: 'unused', type: 'STATIC', connect_timeout: '1s' };
  const { dir, grpcPort } = await controlPlaneDir(t, { 'cds.json': [unused], 'lds.json': [], 'secrets.json': [] });
  const bootstrap = xdsBootstrap('sidecar~10.0.0.4~secure.default~default.svc.cluster.local', grpcPort, 'GRPC');
  const statics = bootstrap.static_resources as { listeners?: Json[] };
  statics.listeners = [{
    name: 'front', address: { socket_address: { address: '127.0.0.1', port_value: 0 } },
    filter_chains: [{ filters: [{ name: 'envoy.filters.network.http_connection_manager', typed_config: {
      '@type': HCM, stat_prefix: 'front',
      route_config: { virtual_hosts: [{ name: 'all', domains: ['*'], routes: [{ match: { prefix: '/' }, route: { cluster: 'secure' } }] }] },
      http_filters: [{ name: 'envoy.filters.http.router', typed_config: { '@type': ROUTER } }],
    } }] }],
  }];
  const skiff = await startSkiff({ config: bootstrap });
  t.after(async () => { await skiff.stop(); });
  const front = skiff.port('front');

  writeJson(dir, 'cds.json', [unused, secureCluster(up.port, 'client-cert')]);
  await waitForValue(async () => ((await dynamicClusterNames(skiff.adminUrl, 'dynamic_warming_clusters')).includes('secure') ? true : undefined), 'the cluster, warming', WAIT_MS);
  // The gauge is refreshed at the end of the CDS update, which may yield to traffic after the dump shows it.
  await waitForValue(async () => ((await stat(skiff.adminUrl, 'cluster_manager.warming_clusters')) === 1 ? true : undefined), 'warming_clusters 1', WAIT_MS);
  assert.equal(await getVia(front), '503 ', 'a warming cluster is not found');
  assert.equal(up.connections(), 0, 'nothing was sent to the warming cluster');

  writeJson(dir, 'secrets.json', [certSecret('client-cert', clientY)]);
  const served = await waitForValue(async () => {
    const r = await getVia(front).catch(() => undefined);
    return r?.startsWith('200') ? r : undefined;
  }, 'the cluster to serve once its certificate came', WAIT_MS);
  assert.equal(served, '200 client y');
  assert.equal(await stat(skiff.adminUrl, 'cluster_manager.warming_clusters'), 0);
  assert.ok((await dynamicClusterNames(skiff.adminUrl, 'dynamic_active_clusters')).includes('secure'));

  // An update naming another certificate, not there yet: it warms, the cluster it replaces keeps serving.
  writeJson(dir, 'cds.json', [unused, secureCluster(up.port, 'client-cert-2')]);
  await waitForValue(async () => ((await dynamicClusterNames(skiff.adminUrl, 'dynamic_warming_clusters')).includes('secure') ? true : undefined), 'the update, warming', WAIT_MS);
  assert.ok((await dynamicClusterNames(skiff.adminUrl, 'dynamic_active_clusters')).includes('secure'), 'the one serving is listed as active beside it');
  assert.equal(await getVia(front), '200 client y', 'the old cluster serves while the update warms');
  writeJson(dir, 'secrets.json', [certSecret('client-cert', clientY), certSecret('client-cert-2', clientZ)]);
  await waitForValue(async () => ((await getVia(front).catch(() => undefined)) === '200 client z' ? true : undefined), 'the updated cluster to serve', WAIT_MS);
  assert.equal(await stat(skiff.adminUrl, 'cluster_manager.warming_clusters'), 0);
  assert.deepEqual(await dynamicClusterNames(skiff.adminUrl, 'dynamic_warming_clusters'), []);
  assert.deepEqual((await dynamicClusterNames(skiff.adminUrl, 'dynamic_active_clusters')).filter((n) => n === 'secure'), ['secure'], 'listed once');
});

test("static listener with secrets from an SDS server of its own (Istio's sds-grpc, 0s): not bound and /ready 503 until the secret comes", async (t) => {
  const { dir, grpcPort } = await controlPlaneDir(t, { 'secrets.json': [] });
  const sdsConfig = {
    api_config_source: { api_type: 'GRPC', transport_api_version: 'V3', grpc_services: [{ envoy_grpc: { cluster_name: 'sds-grpc' } }], set_node_on_first_message_only: true },
    initial_fetch_timeout: '0s', resource_api_version: 'V3',
  };
  const skiff = await startSkiff({ waitReady: false, config: {
    node: { id: 'sidecar~10.0.0.5~static.default~default.svc.cluster.local', cluster: 'it' },
    admin: { address: { socket_address: { address: '127.0.0.1', port_value: 0 } } },
    static_resources: {
      listeners: [tlsListener('static_edge', 'edge-cert', sdsConfig, 'static')],
      clusters: [{
        name: 'sds-grpc', type: 'STATIC', connect_timeout: '1s',
        load_assignment: { cluster_name: 'sds-grpc', endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: '127.0.0.1', port_value: grpcPort } } } }] }] },
      }],
    },
  } });
  t.after(async () => { await skiff.stop(); });
  // The secret is never sent until the file is written, and 0s waits for ever: this state holds until then.
  assert.equal((await fetch(`${skiff.adminUrl}/ready`)).status, 503);
  assert.equal(await boundPort(skiff.adminUrl, 'static_edge'), undefined, 'a warming listener is not bound');
  assert.equal(await stat(skiff.adminUrl, 'listener_manager.total_listeners_warming'), 1);

  writeJson(dir, 'secrets.json', [certSecret('edge-cert', server1)]);
  await waitForValue(async () => ((await fetch(`${skiff.adminUrl}/ready`)).status === 200 ? true : undefined), '/ready once the secret came', WAIT_MS);
  const port = await boundPort(skiff.adminUrl, 'static_edge');
  assert.ok(port !== undefined, 'bound by the time the server is ready');
  const r = await tlsGet(port);
  assert.equal(r.body, 'static');
  assert.equal(r.fingerprint, fingerprintOf(server1));
});
