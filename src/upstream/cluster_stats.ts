/**
 * A cluster's stats under `cluster.<name>.`, Envoy's names. They live in one stat block per cluster (one
 * Float64Array; see src/common/stats.ts), so 10 000 clusters do not cost 350 000 objects; each stat's object is
 * made on first access. The hot path increments fields of this object and never looks a name up, response codes
 * included (cached per code; those are single stats, created when a code is first seen).
 */
import type { ClusterStats } from '../types/upstream.js';
import type { BreakerGaugeSlots } from './circuit_breakers.js';
import { StatBlockSchema, type Counter, type Gauge, type StatBlock, type StatsScope, type StatsStore } from '../common/stats.js';

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
  /** Where the circuit breakers write their eight gauges (src/upstream/circuit_breakers.ts). */
  breakerSlots(): BreakerGaugeSlots;
  /**
   * The stats an xDS apply touches on every cluster, written straight into the block: no Counter/Gauge
   * objects for 10 000 clusters that may never be looked at. `outcome` counts update_attempt and
   * update_success / update_failure.
   */
  recordUpdate(outcome: 'success' | 'failure'): void;
  setMembership(total: number, healthy: number): void;
  setMembershipHealthy(healthy: number): void;
}

const COUNTERS = [
  'upstream_rq_total', 'upstream_rq_pending_total', 'upstream_rq_pending_overflow', 'upstream_rq_retry',
  'upstream_rq_retry_overflow', 'upstream_rq_timeout', 'upstream_rq_per_try_timeout', 'upstream_cx_total',
  'upstream_cx_connect_fail', 'upstream_cx_connect_timeout', 'upstream_cx_overflow', 'upstream_cx_destroy',
  'upstream_rq_rx_reset', 'upstream_rq_completed', 'update_attempt', 'update_success', 'update_failure',
  'upstream_cx_http1_total', 'upstream_cx_idle_timeout', 'upstream_cx_max_requests', 'upstream_cx_destroy_local',
  'upstream_cx_destroy_remote', 'upstream_cx_pool_overflow',
] as const;
const GAUGES = [
  // The circuit breakers' gauges (src/upstream/circuit_breakers.ts finds them here by name), set when a cluster
  // is built: first, so an idle cluster's block keeps objects for its first slots only.
  'circuit_breakers.default.cx_open', 'circuit_breakers.default.remaining_cx',
  'circuit_breakers.default.rq_pending_open', 'circuit_breakers.default.remaining_pending',
  'circuit_breakers.default.rq_open', 'circuit_breakers.default.remaining_rq',
  'circuit_breakers.default.rq_retry_open', 'circuit_breakers.default.remaining_retries',
  'membership_total', 'membership_healthy',
  'upstream_rq_active', 'upstream_rq_pending_active', 'upstream_cx_active',
] as const;

/** Every cluster's block has these names (shared, not copied per cluster). */
export const CLUSTER_STATS_SCHEMA = new StatBlockSchema(COUNTERS, GAUGES);
const SLOT = CLUSTER_STATS_SCHEMA.index;
const BREAKER_GAUGES = ['cx_open', 'remaining_cx', 'rq_pending_open', 'remaining_pending', 'rq_open', 'remaining_rq', 'rq_retry_open', 'remaining_retries'];
const UPDATE_ATTEMPT = SLOT.get('update_attempt')!;
const UPDATE_SUCCESS = SLOT.get('update_success')!;
const UPDATE_FAILURE = SLOT.get('update_failure')!;
const MEMBERSHIP_TOTAL = SLOT.get('membership_total')!;
const MEMBERSHIP_HEALTHY = SLOT.get('membership_healthy')!;
const FIRST_BREAKER_SLOT = SLOT.get('circuit_breakers.default.cx_open')!;
// The breakers address their gauges as one run of slots: check the schema's order once, at load.
BREAKER_GAUGES.forEach((g, k) => {
  if (SLOT.get(`circuit_breakers.default.${g}`) !== FIRST_BREAKER_SLOT + k) throw new Error(`cluster stat schema: circuit_breakers.default.${g} out of order`);
});

type BlockCounters = { readonly [K in (typeof COUNTERS)[number]]: Counter };
type BlockGauges = { readonly [K in (typeof GAUGES)[number]]: Gauge };
type ClusterStatsClass = ClusterStatsImpl & BlockCounters & BlockGauges;

/** Prototype getters, one per block stat: no per-cluster closures. */
class ClusterStatsBlock {
  /** Index = status code (100..599) for upstream_rq_<code>, and class 1..5 for upstream_rq_<N>xx; made on first use. */
  private byCode: (Counter | undefined)[] | undefined;
  private byClass: (Counter | undefined)[] | undefined;
  constructor(readonly scope: StatsScope, private readonly block: StatBlock) {}

  recordUpdate(outcome: 'success' | 'failure'): void {
    const { slab, base } = this.block;
    slab[base + UPDATE_ATTEMPT] += 1;
    slab[base + (outcome === 'success' ? UPDATE_SUCCESS : UPDATE_FAILURE)] += 1;
  }

  setMembership(total: number, healthy: number): void {
    const { slab, base } = this.block;
    slab[base + MEMBERSHIP_TOTAL] = total;
    slab[base + MEMBERSHIP_HEALTHY] = healthy;
  }

  setMembershipHealthy(healthy: number): void {
    this.block.slab[this.block.base + MEMBERSHIP_HEALTHY] = healthy;
  }

  breakerSlots(): BreakerGaugeSlots {
    return { slab: this.block.slab, at: this.block.base + FIRST_BREAKER_SLOT };
  }

  responseCode(status: number): void {
    const self = this as unknown as ClusterStatsClass;
    self.upstream_rq_completed.inc();
    // Codes outside 100..599 are not HTTP statuses a codec would hand us; count them as completed only.
    if (!Number.isInteger(status) || status < 100 || status > 599) return;
    const byCode = (this.byCode ??= []);
    let code = byCode[status];
    if (code === undefined) { code = this.scope.counter(`upstream_rq_${status}`); byCode[status] = code; }
    code.inc();
    const cls = Math.floor(status / 100);
    const byClass = (this.byClass ??= []);
    let klass = byClass[cls];
    if (klass === undefined) { klass = this.scope.counter(`upstream_rq_${cls}xx`); byClass[cls] = klass; }
    klass.inc();
  }
}
for (const name of CLUSTER_STATS_SCHEMA.names) {
  if (name.includes('.')) continue; // circuit breaker gauges: reached by name through the scope only
  const slot = SLOT.get(name)!;
  Object.defineProperty(ClusterStatsBlock.prototype, name, {
    get(this: { block: StatBlock }) { return this.block.stat(slot); },
    enumerable: false, configurable: false,
  });
}

export function createClusterStats(store: StatsStore, clusterName: string): ClusterStatsImpl {
  const scope: StatsScope = store.scope(`cluster.${clusterName}.`);
  return new ClusterStatsBlock(scope, scope.block(CLUSTER_STATS_SCHEMA)) as unknown as ClusterStatsImpl;
}
