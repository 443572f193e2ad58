/**
 * MAGLEV (Eisenbud et al., "Maglev: A Fast and Reliable Software Network Load Balancer", NSDI 2016, §3.4).
 * A lookup table of prime size M (table_size, default 65537) is filled by letting hosts take turns: each host
 * walks its own permutation of the slots (offset = h0 mod M, skip = h1 mod (M-1) + 1, from two seeds of the
 * host key's hash) and claims the next free one. Weights set how often a host gets a turn: a host of the
 * largest weight takes one every round, a host of a third of that weight one every third round. Lookup is
 * table[hash mod M]. Removing a host disturbs few entries of the others (the paper's minimal disruption).
 *
 * An unacceptable host is passed over by probing the following slots. Without a hash the pick is weighted
 * random.
 */
import type { Host, LoadBalancerContext } from '../../types/upstream.js';
import { ConfigError } from '../../common/errors.js';
import { xxh64 } from '../hash.js';
import { CLUSTER_DEFAULTS, u32 } from '../../config/values.js';
import { acceptable, acceptanceFor, weightedRandom, type HostSetLoadBalancer, type LbOptions } from './load_balancer.js';

/** An upper bound that keeps the table (4 bytes a slot) and its build time reasonable. */
export const MAGLEV_TABLE_LIMIT = 5000011;

export function isPrime(n: number): boolean {
  if (!Number.isInteger(n) || n < 2) return false;
  if (n % 2 === 0) return n === 2;
  for (let d = 3; d * d <= n; d += 2) if (n % d === 0) return false;
  return true;
}

const utf8 = new TextEncoder();

class MaglevLb implements HostSetLoadBalancer {
  private hosts: readonly Host[] = [];
  private readonly table: Int32Array;

  constructor(hosts: readonly Host[], private readonly size: number, private readonly random: () => number) {
    this.table = new Int32Array(size);
    this.update(hosts);
  }

  update(hosts: readonly Host[]): void {
    this.hosts = hosts;
    this.table.fill(-1);
    const live: number[] = [];
    for (let i = 0; i < hosts.length; i++) if (hosts[i].weight > 0) live.push(i);
    if (live.length === 0) return;
    const m = this.size;
    const mBig = BigInt(m);
    const slot = new Float64Array(live.length);
    const skip = new Float64Array(live.length);
    const turns = new Float64Array(live.length);
    let maxWeight = 0;
    for (let j = 0; j < live.length; j++) {
      const h = hosts[live[j]];
      const key = utf8.encode((h as { key?: string }).key ?? `${h.address}:${h.port}`);
      slot[j] = Number(xxh64(key, 0n) % mBig);
      skip[j] = Number(xxh64(key, 1n) % (mBig - 1n)) + 1;
      maxWeight = Math.max(maxWeight, h.weight);
    }
    let filled = 0;
    // Each round every host whose turns lag round * weight/maxWeight claims one slot. The heaviest host claims
    // one per round, so at most M rounds run; each claim walks at most M slots of a full-cycle permutation.
    for (let round = 1; filled < m && round <= m; round++) {
      for (let j = 0; j < live.length && filled < m; j++) {
        const share = hosts[live[j]].weight / maxWeight;
        if (turns[j] >= round * share) continue;
        turns[j]++;
        for (let probe = 0; probe < m; probe++) {
          const s = slot[j];
          slot[j] = s + skip[j] >= m ? s + skip[j] - m : s + skip[j];
          if (this.table[s] === -1) { this.table[s] = live[j]; filled++; break; }
        }
      }
    }
  }

  chooseHost(ctx: LoadBalancerContext): Host | null {
    const mode = acceptanceFor(this.hosts, ctx);
    if (mode === null) return null;
    if (ctx.hash === undefined || this.table[0] === -1) return weightedRandom(this.hosts, ctx, mode, this.random);
    let at = Number(BigInt.asUintN(64, ctx.hash) % BigInt(this.size));
    for (let probe = 0; probe < this.size; probe++) {
      const host = this.hosts[this.table[at]];
      if (acceptable(host, ctx, mode)) return host;
      at = at + 1 === this.size ? 0 : at + 1;
    }
    return null;
  }

  /** Host index per slot, for tests and diagnostics. */
  snapshot(): Int32Array { return this.table.slice(); }
}

export function createMaglevLb(hosts: readonly Host[], opts: LbOptions): HostSetLoadBalancer & { snapshot(): Int32Array } {
  const path = `${opts.path}.maglev_lb_config.table_size`;
  const size = u32(opts.config.maglev_lb_config?.table_size, CLUSTER_DEFAULTS.maglevTableSize, path);
  if (size > MAGLEV_TABLE_LIMIT) throw new ConfigError(path, `must be at most ${MAGLEV_TABLE_LIMIT}`);
  if (!isPrime(size)) throw new ConfigError(path, `${size} is not prime`);
  return new MaglevLb(hosts, size, opts.random);
}
