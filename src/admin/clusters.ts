/**
 * /clusters in Envoy's two forms: text lines `cluster::host:port::stat::value` (with the default-priority
 * circuit breakers and each host's stats and attributes) and `?format=json` (admin.v3.Clusters).
 */
import type { Cluster, ClusterManager, Host } from '../types/upstream.js';

interface HostStatLine { name: string; value: number; gauge: boolean }

/** Envoy lists a host's stats sorted by name. */
function hostStats(h: Host): HostStatLine[] {
  const s = h.stats;
  return [
    { name: 'cx_active', value: s?.cx_active ?? 0, gauge: true },
    { name: 'cx_connect_fail', value: s?.cx_connect_fail ?? 0, gauge: false },
    { name: 'cx_total', value: s?.cx_total ?? 0, gauge: false },
    { name: 'rq_active', value: h.activeRequests, gauge: true },
    { name: 'rq_error', value: s?.rq_error ?? 0, gauge: false },
    { name: 'rq_success', value: s?.rq_success ?? 0, gauge: false },
    { name: 'rq_timeout', value: s?.rq_timeout ?? 0, gauge: false },
    { name: 'rq_total', value: s?.rq_total ?? 0, gauge: false },
  ];
}

/** Skiff marks a host unhealthy from active health checking only, so that is the flag shown. */
function healthFlags(h: Host): string {
  return h.healthy ? 'healthy' : '/failed_active_hc';
}

export function hostAddress(address: string, port: number): string {
  if (address.startsWith('envoy://')) return address; // an internal listener endpoint: no port
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}

function breakerLines(c: Cluster): string[] {
  const b = c.breakers;
  return [
    `${c.name}::default_priority::max_connections::${b.connections.max}`,
    `${c.name}::default_priority::max_pending_requests::${b.pendingRequests.max}`,
    `${c.name}::default_priority::max_requests::${b.requests.max}`,
    `${c.name}::default_priority::max_retries::${b.retries.max}`,
  ];
}

export function clustersText(cm: ClusterManager): string {
  const lines: string[] = [];
  for (const c of cm.all()) {
    lines.push(`${c.name}::observability_name::${c.name}`);
    lines.push(...breakerLines(c));
    lines.push(`${c.name}::added_via_api::false`);
    for (const h of c.hosts()) {
      const p = `${c.name}::${hostAddress(h.address, h.port)}::`;
      for (const st of hostStats(h)) lines.push(`${p}${st.name}::${st.value}`);
      lines.push(`${p}hostname::`);
      lines.push(`${p}health_flags::${healthFlags(h)}`);
      lines.push(`${p}weight::${h.weight}`);
      lines.push(`${p}region::`, `${p}zone::`, `${p}sub_zone::`, `${p}canary::false`, `${p}priority::0`);
      lines.push(`${p}success_rate::-1`, `${p}local_origin_success_rate::-1`);
    }
  }
  return lines.length ? lines.join('\n') + '\n' : '';
}

/** admin.v3.Clusters in proto3 JSON (uint64 stat values as strings, gauges typed). */
export function clustersJson(cm: ClusterManager): unknown {
  return {
    cluster_statuses: cm.all().map((c) => ({
      name: c.name,
      observability_name: c.name,
      added_via_api: false,
      circuit_breakers: {
        thresholds: [{
          priority: 'DEFAULT',
          max_connections: c.breakers.connections.max,
          max_pending_requests: c.breakers.pendingRequests.max,
          max_requests: c.breakers.requests.max,
          max_retries: c.breakers.retries.max,
        }],
      },
      host_statuses: c.hosts().map((h) => ({
        address: h.internal !== undefined
          ? { envoy_internal_address: { server_listener_name: h.internal.listenerName, endpoint_id: h.internal.endpointId } }
          : { socket_address: { address: h.address, port_value: h.port } },
        stats: hostStats(h).map((s) => (s.gauge
          ? { name: s.name, type: 'GAUGE', value: String(s.value) }
          : { name: s.name, value: String(s.value) })),
        health_status: h.healthy
          ? { eds_health_status: 'HEALTHY' }
          : { failed_active_health_check: true, eds_health_status: 'HEALTHY' },
        weight: h.weight,
        priority: 0,
        hostname: '',
        locality: {},
      })),
    })),
  };
}
