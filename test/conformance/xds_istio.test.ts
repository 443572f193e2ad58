/**
 * The ADS client against Istio's real data (../shared/conformance/istio-golden): istio-agent's bootstrap drives
 * the client's construction and first requests, and istiod's real LDS/RDS/CDS/EDS resources (from Envoy config
 * dumps) cross the wire as protobuf Any and come back to the same JSON.
 */
import assert from 'node:assert/strict';
import { decodeAnyResource } from '../../src/xds/decode_any.js';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { setLogLevel } from '../../src/common/logger.js';
import { loadBootstrapText } from '../../src/config/bootstrap.js';
import { decodeResource } from '../../src/config/resources.js';
import { AdsClient } from '../../src/xds/ads_client.js';
import { packResource, unpackResource } from '../../src/xds/any_json.js';
import type { DynamicResourcesConfig, NodeConfig } from '../../src/xds/types.js';
import { AdsPeer, CLUSTER, LISTENER } from '../unit/xds/ads_peer.js';
import { PATIENCE_MS } from '../helpers/wait.js';

setLogLevel('off');

const GOLDEN = fileURLToPath(new URL('../../../../shared/conformance/istio-golden/', import.meta.url));

function jsonFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir)) {
    const p = join(dir, entry);
    if (statSync(p).isDirectory()) out.push(...jsonFiles(p));
    else if (entry.endsWith('.json')) out.push(p);
  }
  return out;
}

test('istio-agent\'s bootstrap (delta ADS over the xds-grpc cluster, node on the first message only) drives the client', async (t) => {
  const text = readFileSync(join(GOLDEN, 'pkg/bootstrap/testdata/default_golden.json'), 'utf8');
  const { bootstrap } = loadBootstrapText(text, 'json', { validate: false });
  const { dynamic_resources: dyn, node } = bootstrap as unknown as { dynamic_resources: DynamicResourcesConfig; node: NodeConfig };
  const peer = await AdsPeer.start();
  const resolved: string[] = [];
  const client = new AdsClient({ dynamicResources: dyn, node, resolveCluster: (name) => { resolved.push(name); return peer.target; } });
  t.after(() => { client.close(); peer.stop(); });
  assert.equal(client.delta, true);
  client.start();
  const stream = await peer.delta.take(PATIENCE_MS, 'delta stream');
  const cds = await stream.next();
  const lds = await stream.next();
  assert.deepEqual([cds.type_url, lds.type_url], [CLUSTER, LISTENER]);
  assert.deepEqual(resolved, ['xds-grpc']);
  const sentNode = cds.node as { id: string; cluster: string; metadata: { fields: Record<string, { stringValue?: string }> } };
  assert.equal(sentNode.id, 'sidecar~1.2.3.4~foo~bar');
  assert.equal(sentNode.cluster, 'istio-proxy');
  assert.equal(sentNode.metadata.fields.ISTIO_VERSION!.stringValue, 'binary-1.0');
  assert.equal(lds.node, undefined, 'set_node_on_first_message_only');
});

test('istiod\'s dynamic resources from real config dumps survive Any packing and unpacking unchanged', (t) => {
  const kinds: Record<string, [string, string]> = {
    dynamic_route_configs: ['route_config', 'RouteConfiguration'],
    dynamic_active_clusters: ['cluster', 'Cluster'],
    dynamic_listeners: ['active_state.listener', 'Listener'],
    dynamic_endpoint_configs: ['endpoint_config', 'ClusterLoadAssignment'],
  };
  const counts: Record<string, { total: number; roundTripped: number; unloaded: number }> = {};
  for (const file of jsonFiles(join(GOLDEN, 'istioctl'))) {
    const dump = JSON.parse(readFileSync(file, 'utf8')) as { configs?: Record<string, unknown>[] };
    for (const config of dump.configs ?? []) {
      for (const [key, [field, kind]] of Object.entries(kinds)) {
        for (const [i, entry] of ((config[key] ?? []) as Record<string, unknown>[]).entries()) {
          let resource: unknown = entry;
          for (const part of field.split('.')) resource = (resource as Record<string, unknown> | undefined)?.[part];
          if (!resource) continue;
          const c = (counts[kind] ??= { total: 0, roundTripped: 0, unloaded: 0 });
          c.total++;
          const path = `${file}:${key}[${i}]`;
          let original;
          let packed;
          try {
            original = decodeResource(resource, path).json;
            packed = packResource(original, path);
          } catch (err) {
            // Istio's own extensions (istio.*, envoy.tcp.metadataexchange) and API types Skiff does not load:
            // no bytes can be made for them here (istiod packs them; the client then rejects them by name).
            assert.match((err as Error).message, /unknown type URL/, path);
            c.unloaded++;
            continue;
          }
          const slow = decodeResource(unpackResource(packed, path), path);
          assert.deepEqual(slow.json, original, path);
          // The client's fast path (bytes straight to the decoded shape) gives the same value.
          assert.deepEqual(decodeAnyResource(packed, path).value, slow.value, path);
          c.roundTripped++;
        }
      }
    }
  }
  t.diagnostic(`istio golden round trip: ${JSON.stringify(counts)}`);
  assert.equal(counts.ClusterLoadAssignment?.roundTripped, 32);
  assert.ok((counts.RouteConfiguration?.roundTripped ?? 0) >= 3);
  assert.ok((counts.Cluster?.total ?? 0) >= 2 && (counts.Listener?.total ?? 0) >= 3);
});
