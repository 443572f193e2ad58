/**
 * Retry decisions for one request, per the route's retry_policy (Envoy's RetryStateImpl): which
 * outcomes may be retried, how many times, and the back-off between tries (exponential from 25 ms,
 * capped at 10x, fully jittered). The `retries` circuit breaker is checked by the caller.
 */
import type { RetryPolicy } from '../types/envoy.js';
import { durationMs } from './config.js';

export const RETRY_BASE_INTERVAL_MS = 25;
export const RETRY_MAX_INTERVAL_MS = 250;

/** What an upstream try ended with, as far as retrying is concerned. */
export type TryOutcome =
  | { readonly kind: 'response'; readonly status: number }
  | { readonly kind: 'connect-failure' }
  | { readonly kind: 'reset' }
  | { readonly kind: 'per-try-timeout' };

const SUPPORTED_ON = new Set(['5xx', 'gateway-error', 'connect-failure', 'reset', 'retriable-status-codes']);

export interface ParsedRetryPolicy {
  readonly on: ReadonlySet<string>;
  readonly numRetries: number;
  readonly perTryTimeoutMs: number;
  readonly retriableStatusCodes: ReadonlySet<number>;
  /**
   * `retry_host_predicate: envoy.retry_host_predicates.previous_hosts`: a retry avoids the hosts this request
   * already tried (the load balancer passes over them while a fresh healthy host exists). Without it a retry
   * may land on any host, as in Envoy.
   */
  readonly avoidPreviousHosts: boolean;
  /**
   * `host_selection_retry_max_attempts` (Envoy's default 1). Envoy re-picks up to this many times when the
   * predicate refuses a host; Skiff's load balancers skip attempted hosts within one pick, so every value
   * gets a fresh host whenever one exists. Kept for /config_dump readers and the tests.
   */
  readonly hostSelectionMaxAttempts: number;
}

export const PREVIOUS_HOSTS_PREDICATE = 'envoy.retry_host_predicates.previous_hosts';
const PREVIOUS_HOSTS_TYPE_URL = 'type.googleapis.com/envoy.extensions.retry.host.previous_hosts.v3.PreviousHostsPredicate';

/** Whether the policy's retry_host_predicate list holds previous_hosts (by type URL, else by name, as Envoy picks). */
function hasPreviousHosts(policy: RetryPolicy): boolean {
  const predicates = (policy as { retry_host_predicate?: { name?: string; typed_config?: { '@type'?: string } }[] }).retry_host_predicate ?? [];
  return predicates.some((p) => {
    const url = p.typed_config?.['@type'];
    return url !== undefined ? url === PREVIOUS_HOSTS_TYPE_URL : p.name === PREVIOUS_HOSTS_PREDICATE;
  });
}

/** Parses a retry policy; unknown retry_on conditions are ignored as Envoy ignores them. */
export function parseRetryPolicy(policy: RetryPolicy | undefined): ParsedRetryPolicy | undefined {
  if (!policy?.retry_on) return undefined;
  const on = new Set(policy.retry_on.split(',').map((s) => s.trim()).filter((s) => SUPPORTED_ON.has(s)));
  return {
    on,
    numRetries: policy.num_retries?.value ?? 1,
    perTryTimeoutMs: durationMs(policy.per_try_timeout, 0),
    retriableStatusCodes: new Set(policy.retriable_status_codes ?? []),
    avoidPreviousHosts: hasPreviousHosts(policy),
    hostSelectionMaxAttempts: Number((policy as { host_selection_retry_max_attempts?: number | string }).host_selection_retry_max_attempts ?? 1),
  };
}

export class RetryState {
  private retriesUsed = 0;

  constructor(readonly policy: ParsedRetryPolicy | undefined, private readonly random: () => number = Math.random) {}

  get perTryTimeoutMs(): number { return this.policy?.perTryTimeoutMs ?? 0; }
  get retriesTaken(): number { return this.retriesUsed; }

  /** Whether this outcome is one the policy retries (ignoring the remaining budget). */
  retriable(outcome: TryOutcome): boolean {
    const p = this.policy;
    if (!p) return false;
    switch (outcome.kind) {
      case 'response': {
        const s = outcome.status;
        if (p.on.has('5xx') && s >= 500) return true;
        if (p.on.has('gateway-error') && (s === 502 || s === 503 || s === 504)) return true;
        return p.on.has('retriable-status-codes') && p.retriableStatusCodes.has(s);
      }
      // A connect failure is also a reset without a response; 5xx and gateway-error cover both (Envoy's).
      case 'connect-failure':
        return p.on.has('connect-failure') || p.on.has('reset') || p.on.has('5xx') || p.on.has('gateway-error');
      case 'reset':
        return p.on.has('reset') || p.on.has('5xx') || p.on.has('gateway-error');
      case 'per-try-timeout':
        return p.on.has('reset') || p.on.has('5xx') || p.on.has('gateway-error');
    }
  }

  /** True when a retry remains for this outcome; consumes one retry. */
  shouldRetry(outcome: TryOutcome): boolean {
    if (!this.retriable(outcome)) return false;
    if (this.retriesUsed >= (this.policy?.numRetries ?? 0)) return false;
    this.retriesUsed++;
    return true;
  }

  /** Back-off before the retry just granted: uniform in [0, min(base * 2^(n-1) ... )] as Envoy's jittered back-off. */
  backoffMs(): number {
    const n = Math.max(1, this.retriesUsed);
    const ceiling = Math.min(RETRY_BASE_INTERVAL_MS * 2 ** (n - 1), RETRY_MAX_INTERVAL_MS);
    return Math.floor(this.random() * ceiling);
  }
}

/** Picks one of weighted clusters by weight (`r` uniform in [0, 1)). */
export function pickWeighted(clusters: readonly { readonly name: string; readonly weight: number }[], totalWeight: number, r: number): string | undefined {
  let point = Math.floor(r * totalWeight);
  for (const c of clusters) {
    if (point < c.weight) return c.name;
    point -= c.weight;
  }
  return clusters[clusters.length - 1]?.name;
}
