/** RANDOM: a host drawn with probability proportional to its weight. */
import type { Host, LoadBalancerContext } from '../../types/upstream.js';
import { acceptanceFor, weightedRandom, type HostSetLoadBalancer, type LbOptions } from './load_balancer.js';

export function createRandomLb(hosts: readonly Host[], opts: LbOptions): HostSetLoadBalancer {
  let current = hosts;
  return {
    update(next) { current = next; },
    chooseHost(ctx: LoadBalancerContext): Host | null {
      const mode = acceptanceFor(current, ctx);
      return mode === null ? null : weightedRandom(current, ctx, mode, opts.random);
    },
  };
}
