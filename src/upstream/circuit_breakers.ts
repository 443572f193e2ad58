/**
 * Circuit breakers (Envoy's ResourceManager) for the DEFAULT priority: budgets for connections, pending
 * requests, requests and retries, each with its gauges under `cluster.<name>.circuit_breakers.default.`:
 * `<x>_open` is 1 while the budget is exhausted, `remaining_<y>` is what is left.
 */
import type { Threshold } from '../types/envoy.js';
import type { CircuitBreakers, ResourceLimit } from '../types/upstream.js';
import type { Gauge, StatsScope } from '../common/stats.js';
import { UnsupportedConfigError } from '../common/errors.js';
import { BREAKER_DEFAULTS, u32 } from '../config/values.js';

class Budget implements ResourceLimit {
  current = 0;

  constructor(readonly max: number, private readonly open: Gauge, private readonly remaining: Gauge) {
    this.publish();
  }

  tryAcquire(): boolean {
    if (this.current >= this.max) return false;
    this.current++;
    this.publish();
    return true;
  }

  release(): void {
    // A release without an acquire is a caller bug; clamp so the budget cannot be inflated by it.
    if (this.current === 0) return;
    this.current--;
    this.publish();
  }

  private publish(): void {
    this.open.set(this.current >= this.max ? 1 : 0);
    this.remaining.set(Math.max(0, this.max - this.current));
  }
}

/** Builds the breakers from `circuit_breakers.thresholds`; only priority DEFAULT is supported. */
export function createCircuitBreakers(thresholds: readonly Threshold[] | undefined, scope: StatsScope, path: string): CircuitBreakers {
  let t: Threshold | undefined;
  (thresholds ?? []).forEach((th, i) => {
    const p = `${path}.circuit_breakers.thresholds[${i}]`;
    if ((th.priority ?? 'DEFAULT') !== 'DEFAULT') throw new UnsupportedConfigError(`${p}.priority`, `routing priority ${th.priority}`);
    t = th;
  });
  const p = `${path}.circuit_breakers`;
  const s = scope.scope('circuit_breakers.default.');
  const budget = (max: number, open: string, remaining: string): Budget => new Budget(max, s.gauge(open), s.gauge(remaining));
  return {
    connections: budget(u32(t?.max_connections, BREAKER_DEFAULTS.maxConnections, `${p}.max_connections`), 'cx_open', 'remaining_cx'),
    pendingRequests: budget(u32(t?.max_pending_requests, BREAKER_DEFAULTS.maxPendingRequests, `${p}.max_pending_requests`), 'rq_pending_open', 'remaining_pending'),
    requests: budget(u32(t?.max_requests, BREAKER_DEFAULTS.maxRequests, `${p}.max_requests`), 'rq_open', 'remaining_rq'),
    retries: budget(u32(t?.max_retries, BREAKER_DEFAULTS.maxRetries, `${p}.max_retries`), 'rq_retry_open', 'remaining_retries'),
  };
}
