/**
 * A cluster's stats under `cluster.<name>.`, Envoy's names. Counters are created once here; the hot path
 * increments fields of this object and never looks a name up, response codes included (cached per code).
 */
import type { ClusterStats } from '../types/upstream.js';
import type { Counter, Gauge, StatsScope, StatsStore } from '../common/stats.js';

export interface ClusterStatsImpl extends ClusterStats {
  readonly upstream_rq_completed: Counter;
  readonly membership_total: Gauge;
  readonly membership_healthy: Gauge;
  readonly update_attempt: Counter;
  readonly update_success: Counter;
  readonly update_failure: Counter;
  readonly upstream_cx_http1_total: Counter;
  readonly upstream_cx_idle_timeout: Counter;
  readonly upstream_cx_max_requests: Counter;
  readonly upstream_cx_destroy_local: Counter;
  readonly upstream_cx_destroy_remote: Counter;
  readonly upstream_cx_pool_overflow: Counter;
}

export function createClusterStats(store: StatsStore, clusterName: string): ClusterStatsImpl {
  const scope: StatsScope = store.scope(`cluster.${clusterName}.`);
  const c = (name: string): Counter => scope.counter(name);
  const g = (name: string): Gauge => scope.gauge(name);
  // Index = status code (100..599) for upstream_rq_<code>, and class 1..5 for upstream_rq_<N>xx.
  const byCode: (Counter | undefined)[] = [];
  const byClass: (Counter | undefined)[] = [];
  const completed = c('upstream_rq_completed');

  return {
    scope,
    upstream_rq_total: c('upstream_rq_total'),
    upstream_rq_active: g('upstream_rq_active'),
    upstream_rq_pending_total: c('upstream_rq_pending_total'),
    upstream_rq_pending_active: g('upstream_rq_pending_active'),
    upstream_rq_pending_overflow: c('upstream_rq_pending_overflow'),
    upstream_rq_retry: c('upstream_rq_retry'),
    upstream_rq_retry_overflow: c('upstream_rq_retry_overflow'),
    upstream_rq_timeout: c('upstream_rq_timeout'),
    upstream_rq_per_try_timeout: c('upstream_rq_per_try_timeout'),
    upstream_cx_total: c('upstream_cx_total'),
    upstream_cx_active: g('upstream_cx_active'),
    upstream_cx_connect_fail: c('upstream_cx_connect_fail'),
    upstream_cx_connect_timeout: c('upstream_cx_connect_timeout'),
    upstream_cx_overflow: c('upstream_cx_overflow'),
    upstream_cx_destroy: c('upstream_cx_destroy'),
    upstream_rq_rx_reset: c('upstream_rq_rx_reset'),
    upstream_rq_completed: completed,
    membership_total: g('membership_total'),
    membership_healthy: g('membership_healthy'),
    update_attempt: c('update_attempt'),
    update_success: c('update_success'),
    update_failure: c('update_failure'),
    upstream_cx_http1_total: c('upstream_cx_http1_total'),
    upstream_cx_idle_timeout: c('upstream_cx_idle_timeout'),
    upstream_cx_max_requests: c('upstream_cx_max_requests'),
    upstream_cx_destroy_local: c('upstream_cx_destroy_local'),
    upstream_cx_destroy_remote: c('upstream_cx_destroy_remote'),
    upstream_cx_pool_overflow: c('upstream_cx_pool_overflow'),
    responseCode(status: number): void {
      completed.inc();
      // Codes outside 100..599 are not HTTP statuses a codec would hand us; count them as completed only.
      if (!Number.isInteger(status) || status < 100 || status > 599) return;
      let code = byCode[status];
      if (code === undefined) { code = c(`upstream_rq_${status}`); byCode[status] = code; }
      code.inc();
      const cls = Math.floor(status / 100);
      let klass = byClass[cls];
      if (klass === undefined) { klass = c(`upstream_rq_${cls}xx`); byClass[cls] = klass; }
      klass.inc();
    },
  };
}
