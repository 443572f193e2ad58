/**
 * LEAST_REQUEST: the power of d choices. Draw `choice_count` (default 2) acceptable hosts at random, with
 * replacement, and take the one with the fewest requests in flight. Unequal weights scale the comparison:
 * the winner has the greatest weight / (active + 1).
 */
import type { Host, LoadBalancerContext } from '../../types/upstream.js';
import { ConfigError } from '../../common/errors.js';
import { CLUSTER_DEFAULTS, u32 } from '../../config/values.js';
import { acceptable, acceptanceFor, type HostSetLoadBalancer, type LbOptions } from './load_balancer.js';

function allHealthy(hosts: readonly Host[]): boolean {
  for (let i = 0; i < hosts.length; i++) if (!hosts[i].healthy) return false;
  return true;
}

export function createLeastRequestLb(initial: readonly Host[], opts: LbOptions): HostSetLoadBalancer {
  const path = `${opts.path}.least_request_lb_config.choice_count`;
  const choices = u32(opts.config.least_request_lb_config?.choice_count, CLUSTER_DEFAULTS.leastRequestChoiceCount, path);
  if (choices < 2) throw new ConfigError(path, 'must be at least 2');
  let hosts = initial;

  const score = (h: Host): number => h.weight / (h.activeRequests + 1);

  return {
    update(next) { hosts = next; },
    chooseHost(ctx: LoadBalancerContext): Host | null {
      const mode = acceptanceFor(hosts, ctx);
      if (mode === null) return null;
      const n = hosts.length;
      let best: Host | null = null;
      if (mode === 'fresh' && ctx.attempted === undefined && allHealthy(hosts)) {
        // The common case draws straight from the host list without building anything.
        for (let c = 0; c < choices; c++) {
          const h = hosts[Math.floor(opts.random() * n)];
          if (best === null || score(h) > score(best)) best = h;
        }
        return best;
      }
      const pool = hosts.filter((h) => acceptable(h, ctx, mode));
      for (let c = 0; c < choices; c++) {
        const h = pool[Math.floor(opts.random() * pool.length)];
        if (best === null || score(h) > score(best)) best = h;
      }
      return best;
    },
  };
}
