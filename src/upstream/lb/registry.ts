/**
 * Load balancer policies by their Envoy lb_policy name. An unknown name is rejected, never defaulted.
 */
import type { Host } from '../../types/upstream.js';
import { UnsupportedConfigError } from '../../common/errors.js';
import { CLUSTER_DEFAULTS } from '../../config/values.js';
import type { HostSetLoadBalancer, LbFactory, LbOptions } from './load_balancer.js';
import { createRoundRobinLb } from './round_robin.js';
import { createLeastRequestLb } from './least_request.js';
import { createRandomLb } from './random.js';
import { createRingHashLb } from './ring_hash.js';
import { createMaglevLb } from './maglev.js';

const factories = new Map<string, LbFactory>([
  ['ROUND_ROBIN', createRoundRobinLb],
  ['LEAST_REQUEST', createLeastRequestLb],
  ['RANDOM', createRandomLb],
  ['RING_HASH', createRingHashLb],
  ['MAGLEV', createMaglevLb],
]);

export function lbPolicies(): string[] { return [...factories.keys()]; }

/** Builds the cluster's policy (lb_policy, default ROUND_ROBIN) over `hosts`. */
export function createLoadBalancer(hosts: readonly Host[], opts: LbOptions): HostSetLoadBalancer {
  const policy = opts.config.lb_policy ?? CLUSTER_DEFAULTS.lbPolicy;
  const factory = factories.get(policy);
  if (factory === undefined) throw new UnsupportedConfigError(`${opts.path}.lb_policy`, `lb_policy ${String(policy)}`);
  return factory(hosts, opts);
}
