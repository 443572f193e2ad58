/**
 * What every load balancer policy shares: the contract the cluster drives (build over a host set, update it
 * in place when the set changes) and the rule for which hosts are acceptable for one pick.
 *
 * Health is read at pick time (a health checker flips `host.healthy` without telling the balancer), so
 * policies keep their tables over all hosts and skip unacceptable ones while picking.
 */
import type { Cluster as EnvoyCluster } from '../../types/envoy.js';
import type { Host, LoadBalancer, LoadBalancerContext } from '../../types/upstream.js';

export interface HostSetLoadBalancer extends LoadBalancer {
  /** Replaces the host set; hosts that stayed are the same objects as before. */
  update(hosts: readonly Host[]): void;
}

export interface LbOptions {
  readonly config: EnvoyCluster;
  /** Config path of the cluster, for errors (`static_resources.clusters[2]`). */
  readonly path: string;
  /** Uniform in [0, 1); injectable so tests are deterministic. */
  readonly random: () => number;
}

export type LbFactory = (hosts: readonly Host[], opts: LbOptions) => HostSetLoadBalancer;

/**
 * Which hosts a pick may return. `fresh`: healthy and not yet attempted by this request. `healthy`: healthy,
 * attempted or not (used when every healthy host was already tried: a retry then goes to a tried host rather
 * than fail).
 */
export type Acceptance = 'fresh' | 'healthy';

export function acceptable(host: Host, ctx: LoadBalancerContext, mode: Acceptance): boolean {
  if (!host.healthy) return false;
  return mode === 'healthy' || ctx.attempted === undefined || !ctx.attempted.has(host);
}

/** `fresh` when some host is fresh, else `healthy` when some host is healthy, else null (no pick possible). */
export function acceptanceFor(hosts: readonly Host[], ctx: LoadBalancerContext): Acceptance | null {
  let anyHealthy = false;
  for (let i = 0; i < hosts.length; i++) {
    const h = hosts[i];
    if (!h.healthy) continue;
    if (ctx.attempted === undefined || !ctx.attempted.has(h)) return 'fresh';
    anyHealthy = true;
  }
  return anyHealthy ? 'healthy' : null;
}

/** A weighted random pick among acceptable hosts (RANDOM, and RING_HASH / MAGLEV without a hash). */
export function weightedRandom(hosts: readonly Host[], ctx: LoadBalancerContext, mode: Acceptance, random: () => number): Host | null {
  let total = 0;
  for (let i = 0; i < hosts.length; i++) if (acceptable(hosts[i], ctx, mode)) total += hosts[i].weight;
  if (total <= 0) return null;
  let r = random() * total;
  let last: Host | null = null;
  for (let i = 0; i < hosts.length; i++) {
    const h = hosts[i];
    if (!acceptable(h, ctx, mode)) continue;
    last = h;
    r -= h.weight;
    if (r < 0) return h;
  }
  return last; // rounding left r at exactly 0: the last acceptable host
}
