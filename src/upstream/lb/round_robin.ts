/**
 * ROUND_ROBIN. Equal weights: plain rotation from a random start (so that many proxies do not all begin on
 * the same host). Unequal weights: smooth weighted round robin: every pick adds each host's weight to its
 * running credit and takes the host with the most credit, which then pays the total back. Over any window
 * of (sum of weights) picks each host is chosen exactly its weight times, interleaved rather than in bursts.
 */
import type { Host, LoadBalancerContext } from '../../types/upstream.js';
import { acceptable, acceptanceFor, type Acceptance, type HostSetLoadBalancer, type LbOptions } from './load_balancer.js';

class RoundRobinLb implements HostSetLoadBalancer {
  private hosts: readonly Host[] = [];
  private weighted = false;
  private next = 0;
  /**
   * Smooth-WRR credit per host, aligned with `hosts`; only while the weights differ (equal weights rotate
   * without it, and 10 000 idle clusters need no 10 000 typed arrays).
   */
  private credit: Float64Array | undefined;

  constructor(hosts: readonly Host[], private readonly random: () => number) {
    this.update(hosts);
    this.next = hosts.length > 0 ? Math.floor(random() * hosts.length) : 0;
  }

  update(hosts: readonly Host[]): void {
    const weighted = hosts.some((h) => h.weight !== hosts[0].weight);
    let credit: Float64Array | undefined;
    if (weighted) {
      credit = new Float64Array(hosts.length);
      const before = this.credit;
      if (before !== undefined) {
        // Carry credit over for hosts that stayed, so an update does not reset the interleaving.
        const old = new Map<Host, number>();
        for (let i = 0; i < this.hosts.length; i++) old.set(this.hosts[i], before[i]);
        for (let i = 0; i < hosts.length; i++) credit[i] = old.get(hosts[i]) ?? 0;
      }
    }
    this.hosts = hosts;
    this.credit = credit;
    this.weighted = weighted;
    if (this.next >= hosts.length) this.next = 0;
  }

  chooseHost(ctx: LoadBalancerContext): Host | null {
    const mode = acceptanceFor(this.hosts, ctx);
    if (mode === null) return null;
    return this.weighted ? this.pickWeighted(ctx, mode) : this.pickRotation(ctx, mode);
  }

  private pickRotation(ctx: LoadBalancerContext, mode: Acceptance): Host | null {
    const n = this.hosts.length;
    for (let step = 0; step < n; step++) {
      const h = this.hosts[this.next];
      this.next = this.next + 1 === n ? 0 : this.next + 1;
      if (acceptable(h, ctx, mode)) return h;
    }
    return null;
  }

  private pickWeighted(ctx: LoadBalancerContext, mode: Acceptance): Host | null {
    const credit = this.credit!;
    let total = 0;
    let best = -1;
    for (let i = 0; i < this.hosts.length; i++) {
      const h = this.hosts[i];
      if (!acceptable(h, ctx, mode)) continue;
      credit[i] += h.weight;
      total += h.weight;
      if (best < 0 || credit[i] > credit[best]) best = i;
    }
    if (best < 0) return null;
    credit[best] -= total;
    return this.hosts[best];
  }
}

export function createRoundRobinLb(hosts: readonly Host[], opts: LbOptions): HostSetLoadBalancer {
  return new RoundRobinLb(hosts, opts.random);
}
