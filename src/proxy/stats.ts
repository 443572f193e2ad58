/**
 * The connection manager's stats with Envoy's names, created once per listener so the hot path only
 * increments properties (`http.<stat_prefix>.downstream_rq_total`, ...).
 */
import type { Counter, Gauge, StatsStore } from '../common/stats.js';
import type { Cluster } from '../types/upstream.js';

export class ConnectionManagerStats {
  readonly downstream_cx_total: Counter;
  readonly downstream_cx_active: Gauge;
  readonly downstream_cx_protocol_error: Counter;
  readonly downstream_cx_http1_total: Counter;
  readonly downstream_cx_http2_total: Counter;
  readonly downstream_rq_total: Counter;
  readonly downstream_rq_http1_total: Counter;
  readonly downstream_rq_http2_total: Counter;
  readonly downstream_rq_active: Gauge;
  readonly downstream_rq_completed: Counter;
  readonly downstream_rq_timeout: Counter;
  readonly downstream_rq_rx_reset: Counter;
  readonly downstream_rq_idle_timeout: Counter;
  readonly downstream_rq_tx_reset: Counter;
  readonly rq_direct_response: Counter;
  readonly rq_redirect: Counter;
  readonly no_route: Counter;
  readonly no_cluster: Counter;
  /** Path normalization (src/proxy/path_normalization.ts): rejected with 400, redirected with 307. */
  readonly downstream_rq_failed_path_normalization: Counter;
  readonly downstream_rq_redirected_with_normalized_path: Counter;
  /** downstream_rq_1xx .. downstream_rq_5xx, indexed by status / 100. */
  private readonly byClass: Counter[];

  constructor(store: StatsStore, statPrefix: string) {
    const s = store.scope(`http.${statPrefix}.`);
    this.downstream_cx_total = s.counter('downstream_cx_total');
    this.downstream_cx_active = s.gauge('downstream_cx_active');
    this.downstream_cx_protocol_error = s.counter('downstream_cx_protocol_error');
    this.downstream_cx_http1_total = s.counter('downstream_cx_http1_total');
    this.downstream_cx_http2_total = s.counter('downstream_cx_http2_total');
    this.downstream_rq_total = s.counter('downstream_rq_total');
    this.downstream_rq_http1_total = s.counter('downstream_rq_http1_total');
    this.downstream_rq_http2_total = s.counter('downstream_rq_http2_total');
    this.downstream_rq_active = s.gauge('downstream_rq_active');
    this.downstream_rq_completed = s.counter('downstream_rq_completed');
    this.downstream_rq_timeout = s.counter('downstream_rq_timeout');
    this.downstream_rq_rx_reset = s.counter('downstream_rq_rx_reset');
    this.downstream_rq_idle_timeout = s.counter('downstream_rq_idle_timeout');
    this.downstream_rq_tx_reset = s.counter('downstream_rq_tx_reset');
    this.rq_direct_response = s.counter('rq_direct_response');
    this.rq_redirect = s.counter('rq_redirect');
    this.no_route = s.counter('no_route');
    this.no_cluster = s.counter('no_cluster');
    this.downstream_rq_failed_path_normalization = s.counter('downstream_rq_failed_path_normalization');
    this.downstream_rq_redirected_with_normalized_path = s.counter('downstream_rq_redirected_with_normalized_path');
    this.byClass = [1, 2, 3, 4, 5].map((c) => s.counter(`downstream_rq_${c}xx`));
  }

  /** Counts a response code sent downstream (local or proxied). */
  responseCode(status: number): void {
    const c = this.byClass[Math.floor(status / 100) - 1];
    if (c) c.inc();
  }
}

/** Per-listener counters under `listener.<address>_<port>.` (Envoy's naming). */
export class ListenerStats {
  readonly downstream_cx_total: Counter;
  readonly downstream_cx_active: Gauge;
  readonly downstream_cx_destroy: Counter;

  constructor(store: StatsStore, address: string, port: number) {
    const s = store.scope(`listener.${address}_${port}.`);
    this.downstream_cx_total = s.counter('downstream_cx_total');
    this.downstream_cx_active = s.gauge('downstream_cx_active');
    this.downstream_cx_destroy = s.counter('downstream_cx_destroy');
  }
}

/** Cluster counters the ClusterStats interface does not carry, created once per cluster. */
export interface ExtraClusterStats { readonly upstream_rq_retry_success: Counter; readonly upstream_rq_completed: Counter }

const extra = new WeakMap<Cluster, ExtraClusterStats>();

export function extraClusterStats(cluster: Cluster): ExtraClusterStats {
  let e = extra.get(cluster);
  if (!e) {
    e = {
      upstream_rq_retry_success: cluster.stats.scope.counter('upstream_rq_retry_success'),
      upstream_rq_completed: cluster.stats.scope.counter('upstream_rq_completed'),
    };
    extra.set(cluster, e);
  }
  return e;
}
