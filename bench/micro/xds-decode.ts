/**
 * Micro benchmark for the xDS data path at scale, in-process and stage by stage: N EDS Clusters and N
 * ClusterLoadAssignments (5 endpoints each) packed as Any, then timed through what the ADS client does with a
 * response (unpack + decode + validate, per type) and what the server does with it (cluster manager: add the
 * clusters, apply the assignments), with the heap each stage keeps.
 * Run: npm run build && node --expose-gc dist/bench/micro/xds-decode.js [N]   (N defaults to 10000)
 */
import { packResource } from '../../src/xds/any_json.js';
import { decodeAnyResource } from '../../src/xds/decode_any.js';
import { validateResource } from '../../src/config/resources.js';
import { envoyRoot } from '../../src/config/protos.js';
import { StatsStore } from '../../src/common/stats.js';
import { createClusterManager } from '../../src/upstream/cluster_manager.js';
import type { Cluster, ClusterLoadAssignment } from '../../src/types/envoy.js';

const N = Number(process.argv[2] ?? 10_000);
const T = {
  cluster: 'type.googleapis.com/envoy.config.cluster.v3.Cluster',
  cla: 'type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment',
};
const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});
const heapMiB = (): number => { gc(); gc(); return process.memoryUsage().heapUsed / 1048576; };

envoyRoot();
const clusterAnys = Array.from({ length: N }, (_, i) => packResource({
  '@type': T.cluster, name: `cluster-${i}`, type: 'EDS', connect_timeout: '1s', lb_policy: 'ROUND_ROBIN',
  eds_cluster_config: { service_name: `svc-${i}`, eds_config: { ads: {}, resource_api_version: 'V3' } },
}));
const claAnys = Array.from({ length: N }, (_, i) => packResource({
  '@type': T.cla, cluster_name: `svc-${i}`,
  endpoints: [{ locality: { zone: 'z1' }, lb_endpoints: Array.from({ length: 5 }, (_x, e) => {
    const n = i * 5 + e;
    return { endpoint: { address: { socket_address: { address: `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`, port_value: 8080 } } } };
  }) }],
}));

function stage<T>(name: string, fn: () => T): T {
  const h0 = heapMiB();
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  const out = fn();
  const c1 = process.cpuUsage(c0);
  const ms = performance.now() - t0;
  // CPU time too: on a shared machine wall time mostly measures the neighbours.
  const cpuMs = (c1.user + c1.system) / 1000;
  const h1 = heapMiB();
  console.log(`${name.padEnd(38)} wall ${ms.toFixed(0).padStart(5)} ms  cpu ${cpuMs.toFixed(0).padStart(5)} ms  ${((cpuMs * 1000) / N).toFixed(1).padStart(6)} us/item cpu  heap +${(h1 - h0).toFixed(1)} MiB`);
  return out;
}

// Warm the decoders (first-use caches, JIT) on a few items.
for (let i = 0; i < 50; i++) { decodeAnyResource(clusterAnys[i], 'w'); decodeAnyResource(claAnys[i], 'w'); }

const clusters = stage(`decode ${N} Clusters`, () => clusterAnys.map((a, i) => decodeAnyResource(a, `c${i}`)));
stage(`validate ${N} Clusters`, () => { for (const d of clusters) validateResource(d, 'c'); });
const clas = stage(`decode ${N} ClusterLoadAssignments`, () => claAnys.map((a, i) => decodeAnyResource(a, `e${i}`)));
stage(`validate ${N} ClusterLoadAssignments`, () => { for (const d of clas) validateResource(d, 'e'); });

const stats = new StatsStore();
const cm = createClusterManager([], { stats, connect: () => { throw new Error('no connections in this bench'); } });
const body = <X>(v: Record<string, unknown>): X => { const { '@type': _t, ...rest } = v; return rest as X; };
stage(`cluster manager: add ${N} clusters`, () => { for (const d of clusters) cm.addOrUpdateCluster(body<Cluster>(d.value)); });
stage(`cluster manager: ${N} assignments`, () => {
  clas.forEach((d, i) => cm.updateEndpoints(`cluster-${i}`, body<ClusterLoadAssignment>(d.value)));
});
console.log(`clusters ${cm.all().length}, stats ${stats.snapshot().counters.length} counters ${stats.snapshot().gauges.length} gauges`);
cm.close();
