/**
 * Istio's golden mesh cluster (istioctl describe testdata: outbound|9080|v1|productpage, transport_socket_matches
 * with tlsMode: istio -> mTLS from SDS secrets `default` and `ROOTCA` on the sds-grpc cluster), served as it is by
 * `skiff control-plane` over CDS, with its secrets over SDS's own service from the same control plane, applied by
 * a real Skiff: the endpoint labelled tlsMode: istio is reached over mTLS (Istio's SNI, ALPN, the SPIFFE SAN
 * check), the unlabelled one in plain text.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import type net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import tls from 'node:tls';
import { fileURLToPath } from 'node:url';
import { createTestCa } from '../helpers/certs.js';
import { startSkiff } from '../helpers/skiff.js';
import { waitForValue } from '../helpers/wait.js';
import { dumpSection, getVia, rdsListener, recentNacks, routeTo, startControlPlane, T, writeJson, xdsBootstrap, type Json } from '../helpers/xds_harness.js';

const GOLDEN = fileURLToPath(new URL('../../../../shared/conformance/istio-golden/', import.meta.url));
const NAME = 'outbound|9080|v1|productpage.default.svc.cluster.local';
const SECRET = 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret';

function goldenCluster(): Json {
  const dump = JSON.parse(readFileSync(join(GOLDEN, 'istioctl/pkg/describe/testdata/describe/http_config.json'), 'utf8')) as { configs: Json[] };
  for (const c of dump.configs) {
    for (const e of (c.dynamic_active_clusters ?? []) as { cluster: Json }[]) {
      if (e.cluster.name !== NAME) continue;
      // Istio's own MetadataExchange has no proto here: the control plane packs it as istiod does on the wire,
      // in a TypedStruct carrying its type URL and fields.
      const filters = (e.cluster.filters as { name: string; typed_config: Json }[]).map((f) => {
        const { '@type': typeUrl, ...value } = f.typed_config;
        return { name: f.name, typed_config: { '@type': 'type.googleapis.com/udpa.type.v1.TypedStruct', type_url: typeUrl, value } };
      });
      return { ...e.cluster, filters };
    }
  }
  throw new Error(`${NAME} not in the golden dump`);
}

test('Istio golden mesh cluster: mTLS by transport_socket_matches with SDS secrets from sds-grpc, plain text otherwise', async (t) => {
  const ca = createTestCa();
  t.after(() => ca.cleanup());
  const workload = ca.issue('workload', 'default', ['URI:spiffe://cluster.local/ns/default/sa/default'], 'client');
  const peer = ca.issue('peer', 'productpage', ['URI:spiffe://cluster.local/ns/default/sa/bookinfo-productpage']);
  // The mTLS peer: answers one HTTP/1.1 response per request with what the handshake carried.
  const mtls = tls.createServer({ cert: peer.cert, key: peer.key, ca: ca.cert, requestCert: true, rejectUnauthorized: true }, (s) => {
    let buf = '';
    s.on('data', (c: Buffer) => {
      buf += c.toString('latin1');
      while (buf.includes('\r\n\r\n')) {
        buf = buf.slice(buf.indexOf('\r\n\r\n') + 4);
        const body = `mtls sni=${String(s.servername)} client=${s.getPeerCertificate().subjectaltname ?? ''}`;
        s.write(`HTTP/1.1 200 OK\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
      }
    });
    s.on('error', () => {});
  });
  const plain = http.createServer((_req, res) => res.end('plain'));
  for (const s of [mtls, plain]) { s.listen(0, '127.0.0.1'); await once(s, 'listening'); }
  t.after(() => { mtls.close(); plain.closeAllConnections(); plain.close(); });
  const port = (s: net.Server): number => (s.address() as net.AddressInfo).port;

  const dir = mkdtempSync(join(tmpdir(), 'skiff-istio-mesh-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeJson(dir, 'cds.json', [goldenCluster()]);
  writeJson(dir, 'eds.json', [{
    '@type': T.cla, cluster_name: NAME,
    endpoints: [{ lb_endpoints: [
      { endpoint: { address: { socket_address: { address: '127.0.0.1', port_value: port(mtls) } } },
        metadata: { filter_metadata: { 'envoy.transport_socket_match': { tlsMode: 'istio' }, istio: { workload: 'productpage-v1;default' } } } },
      { endpoint: { address: { socket_address: { address: '127.0.0.1', port_value: port(plain) } } } },
    ] }],
  }]);
  writeJson(dir, 'lds.json', [rdsListener('outbound', 'r9080')]);
  writeJson(dir, 'rds.json', [routeTo('r9080', NAME)]);
  writeJson(dir, 'secrets.json', [
    { '@type': SECRET, name: 'default', tls_certificate: { certificate_chain: { inline_string: workload.cert }, private_key: { inline_string: workload.key } } },
    { '@type': SECRET, name: 'ROOTCA', validation_context: { trusted_ca: { inline_string: ca.cert } } },
  ]);
  const cp = await startControlPlane(dir);
  t.after(() => cp.stop());
  // istio-agent's sds-grpc is a unix socket; here the same control plane on TCP serves SDS's own service.
  const bootstrap = xdsBootstrap('sidecar~10.0.0.3~productpage-v1.default~default.svc.cluster.local', cp.grpcPort, 'GRPC');
  const statics = (bootstrap.static_resources as { clusters: Json[] }).clusters;
  statics.push({ ...statics[0]!, name: 'sds-grpc', load_assignment: { ...(statics[0]!.load_assignment as Json), cluster_name: 'sds-grpc' } });
  const skiff = await startSkiff({ config: bootstrap }).catch((e: Error) => { throw new Error(`${e.message}\ncontrol plane:\n${cp.stderr()}`); });
  t.after(async () => { await skiff.stop(); });

  const clusters = await waitForValue(async () => {
    const d = await dumpSection(skiff.adminUrl, 'ClustersConfigDump');
    return (d.dynamic_active_clusters as Json[]).some((c) => (c.cluster as Json).name === NAME) ? d : undefined;
  }, 'the golden cluster active', 10_000);
  assert.deepEqual(clusters.dynamic_warming_clusters, []);
  const seen = new Set<string>();
  await waitForValue(async () => {
    for (let i = 0; i < 4; i++) seen.add(await getVia(skiff.port('outbound'), '/productpage').catch((e: Error) => e.message));
    return seen.size >= 2 && [...seen].some((s) => s.startsWith('200 mtls')) ? true : undefined;
  }, 'both endpoints answering (mTLS once the SDS secrets are in)', 10_000);
  const answers = [...seen].filter((s) => s.startsWith('200 '));
  assert.ok(answers.includes('200 plain'), JSON.stringify([...seen]));
  assert.ok(answers.includes('200 mtls sni=outbound_.9080_.v1_.productpage.default.svc.cluster.local client=URI:spiffe://cluster.local/ns/default/sa/default'), JSON.stringify([...seen]));
  assert.deepEqual(await recentNacks(cp), []);
});
