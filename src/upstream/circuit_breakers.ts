/**
 * Circuit breakers (Envoy's ResourceManager) for the DEFAULT priority: budgets for connections, pending
 * requests, requests and retries, each with its gauges under `cluster.<name>.circuit_breakers.default.`:
 * `<x>_open` is 1 while the budget is exhausted, `remaining_<y>` is what is left.
 *
 * Built for 10 000 clusters that mostly never see a request: a cluster's breakers are one object holding the
 * four limits; a budget's object is made on first use, and the gauges are written straight into the cluster's
 * stat block (no Gauge objects).
 */
import type { Threshold } from '../types/envoy.js';
import type { CircuitBreakers, ResourceLimit } from '../types/upstream.js';
import { UnsupportedConfigError } from '../common/errors.js';
import { BREAKER_DEFAULTS, u32 } from '../config/values.js';

/**
 * Where the breakers' eight gauges live: `slab[at + 2k]` is budget k's `_open`, `slab[at + 2k + 1]` its
 * `remaining_`, for k = connections, pending requests, requests, retries (the order of the cluster stat schema).
 */
export interface BreakerGaugeSlots {
  readonly slab: Float64Array;
  readonly at: number;
}

class Budget implements ResourceLimit {
  current = 0;

  constructor(readonly max: number, private readonly slab: Float64Array, private readonly at: number) {}

  tryAcquire(): boolean {
    if (this.current >= this.max) return false;
    this.current++;
    publish(this.slab, this.at, this.max, this.current);
    return true;
  }

  release(): void {
    // A release without an acquire is a caller bug; clamp so the budget cannot be inflated by it.
    if (this.current === 0) return;
    this.current--;
    publish(this.slab, this.at, this.max, this.current);
  }
}

function publish(slab: Float64Array, at: number, max: number, current: number): void {
  slab[at] = current >= max ? 1 : 0;
  slab[at + 1] = Math.max(0, max - current);
}

class ClusterBreakers implements CircuitBreakers {
  private cx: Budget | undefined;
  private pending: Budget | undefined;
  private rq: Budget | undefined;
  private retry: Budget | undefined;

  private readonly slab: Float64Array;
  private readonly at: number;

  constructor(
    slots: BreakerGaugeSlots,
    private readonly maxCx: number, private readonly maxPending: number,
    private readonly maxRq: number, private readonly maxRetries: number,
  ) {
    this.slab = slots.slab;
    this.at = slots.at;
    // The gauges show the full budgets before any object exists.
    publish(this.slab, this.at, maxCx, 0);
    publish(this.slab, this.at + 2, maxPending, 0);
    publish(this.slab, this.at + 4, maxRq, 0);
    publish(this.slab, this.at + 6, maxRetries, 0);
  }

  get connections(): ResourceLimit { return (this.cx ??= new Budget(this.maxCx, this.slab, this.at)); }
  get pendingRequests(): ResourceLimit { return (this.pending ??= new Budget(this.maxPending, this.slab, this.at + 2)); }
  get requests(): ResourceLimit { return (this.rq ??= new Budget(this.maxRq, this.slab, this.at + 4)); }
  get retries(): ResourceLimit { return (this.retry ??= new Budget(this.maxRetries, this.slab, this.at + 6)); }
}

/** Builds the breakers from `circuit_breakers.thresholds`; only priority DEFAULT is supported. */
export function createCircuitBreakers(thresholds: readonly Threshold[] | undefined, slots: BreakerGaugeSlots, path: string): CircuitBreakers {
  let t: Threshold | undefined;
  if (thresholds !== undefined) {
    for (let i = 0; i < thresholds.length; i++) {
      const th = thresholds[i];
      if ((th.priority ?? 'DEFAULT') !== 'DEFAULT') throw new UnsupportedConfigError(`${path}.circuit_breakers.thresholds[${i}].priority`, `routing priority ${th.priority}`);
      t = th;
    }
  }
  if (t === undefined) {
    return new ClusterBreakers(slots, BREAKER_DEFAULTS.maxConnections, BREAKER_DEFAULTS.maxPendingRequests, BREAKER_DEFAULTS.maxRequests, BREAKER_DEFAULTS.maxRetries);
  }
  const p = `${path}.circuit_breakers`;
  return new ClusterBreakers(slots,
    u32(t.max_connections, BREAKER_DEFAULTS.maxConnections, `${p}.max_connections`),
    u32(t.max_pending_requests, BREAKER_DEFAULTS.maxPendingRequests, `${p}.max_pending_requests`),
    u32(t.max_requests, BREAKER_DEFAULTS.maxRequests, `${p}.max_requests`),
    u32(t.max_retries, BREAKER_DEFAULTS.maxRetries, `${p}.max_retries`));
}
