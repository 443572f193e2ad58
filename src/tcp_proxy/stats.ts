/**
 * tcp_proxy stats with Envoy's names, under `tcp.<stat_prefix>.`; the cluster-side byte counters Envoy keeps
 * for raw TCP (`cluster.<name>.upstream_cx_rx_bytes_total`, ...) live in the cluster's own scope.
 */
import type { Counter, Gauge, StatsScope, StatsStore } from '../common/stats.js';

export class TcpProxyStats {
  readonly downstream_cx_total: Counter;
  readonly downstream_cx_no_route: Counter;
  readonly downstream_cx_rx_bytes_total: Counter;
  readonly downstream_cx_tx_bytes_total: Counter;
  readonly downstream_flow_control_paused_reading_total: Counter;
  readonly downstream_flow_control_resumed_reading_total: Counter;
  readonly idle_timeout: Counter;
  readonly upstream_flush_total: Counter;
  readonly upstream_flush_active: Gauge;

  constructor(store: StatsStore, statPrefix: string) {
    const s = store.scope(`tcp.${statPrefix}.`);
    this.downstream_cx_total = s.counter('downstream_cx_total');
    this.downstream_cx_no_route = s.counter('downstream_cx_no_route');
    this.downstream_cx_rx_bytes_total = s.counter('downstream_cx_rx_bytes_total');
    this.downstream_cx_tx_bytes_total = s.counter('downstream_cx_tx_bytes_total');
    this.downstream_flow_control_paused_reading_total = s.counter('downstream_flow_control_paused_reading_total');
    this.downstream_flow_control_resumed_reading_total = s.counter('downstream_flow_control_resumed_reading_total');
    this.idle_timeout = s.counter('idle_timeout');
    this.upstream_flush_total = s.counter('upstream_flush_total');
    this.upstream_flush_active = s.gauge('upstream_flush_active');
  }
}

/** The raw-TCP counters Envoy keeps per cluster beside the HTTP ones. */
export interface ClusterTcpStats {
  readonly upstream_cx_rx_bytes_total: Counter;
  readonly upstream_cx_tx_bytes_total: Counter;
  readonly upstream_cx_none_healthy: Counter;
  readonly upstream_cx_connect_attempts_exceeded: Counter;
}

const byScope = new WeakMap<StatsScope, ClusterTcpStats>();

export function clusterTcpStats(scope: StatsScope): ClusterTcpStats {
  let s = byScope.get(scope);
  if (s === undefined) {
    s = {
      upstream_cx_rx_bytes_total: scope.counter('upstream_cx_rx_bytes_total'),
      upstream_cx_tx_bytes_total: scope.counter('upstream_cx_tx_bytes_total'),
      upstream_cx_none_healthy: scope.counter('upstream_cx_none_healthy'),
      upstream_cx_connect_attempts_exceeded: scope.counter('upstream_cx_connect_attempts_exceeded'),
    };
    byScope.set(scope, s);
  }
  return s;
}
