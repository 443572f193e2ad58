/**
 * RING_HASH (Karger et al.'s consistent hashing). Each host owns max(1, ceil(weight * perWeight)) points on a
 * 64-bit ring, placed at hash64("<address:port>_<i>"); a request's hash goes to the first point at or after
 * it, wrapping. Lookup is a binary search over the sorted points.
 *
 * `perWeight` (points per unit of weight, fractional when weights are large) is chosen so the ring holds
 * minimum_ring_size points, and it is sticky across host-set updates: removing a host then removes only its
 * points, so every key whose host stayed keeps it. It is recomputed only when the ring would fall below half
 * the minimum or grow past maximum_ring_size (the one-point-per-host floor may exceed the maximum when there
 * are more hosts than that).
 *
 * An unacceptable host (unhealthy, or attempted by this request) is passed over by walking the ring onward.
 * Without a hash the pick is weighted random.
 */
import type { Host, LoadBalancerContext } from '../../types/upstream.js';
import { ConfigError } from '../../common/errors.js';
import { hash64 } from '../hash.js';
import { CLUSTER_DEFAULTS, u32 } from '../../config/values.js';
import { acceptable, acceptanceFor, weightedRandom, type HostSetLoadBalancer, type LbOptions } from './load_balancer.js';

/** Envoy's hard ceiling on maximum_ring_size. */
export const RING_MAX_LIMIT = 8 * 1024 * 1024;

class RingHashLb implements HostSetLoadBalancer {
  private hosts: readonly Host[] = [];
  private perWeight = 0;
  // The ring as parallel arrays sorted by point: the point's high and low 32 bits, and the owner's index.
  private hi = new Uint32Array(0);
  private lo = new Uint32Array(0);
  private owner = new Int32Array(0);

  constructor(hosts: readonly Host[], private readonly minSize: number, private readonly maxSize: number, private readonly random: () => number) {
    this.update(hosts);
  }

  get size(): number { return this.owner.length; }

  update(hosts: readonly Host[]): void {
    this.hosts = hosts;
    let totalWeight = 0;
    for (const h of hosts) totalWeight += h.weight;
    if (totalWeight === 0) { this.hi = new Uint32Array(0); this.lo = this.hi; this.owner = new Int32Array(0); return; }
    const ring = totalWeight * this.perWeight;
    if (this.perWeight === 0 || ring < this.minSize / 2 || ring > this.maxSize) this.perWeight = this.minSize / totalWeight;
    this.build();
  }

  private pointsOf(h: Host): number {
    return Math.max(1, Math.ceil(h.weight * this.perWeight - 1e-9)); // the epsilon absorbs float error in w * (min / total)
  }

  private build(): void {
    let total = 0;
    for (const h of this.hosts) total += this.pointsOf(h);
    // Points go into typed arrays and are sorted through an index array: no object per point, so even an
    // 8M-point ring stays at 16 bytes a point while building.
    const hi = new Uint32Array(total), lo = new Uint32Array(total), owner = new Int32Array(total);
    let n = 0;
    for (let i = 0; i < this.hosts.length; i++) {
      const h = this.hosts[i];
      const key = (h as { key?: string }).key ?? `${h.address}:${h.port}`;
      const count = this.pointsOf(h);
      for (let v = 0; v < count; v++, n++) {
        const p = hash64(`${key}_${v}`);
        hi[n] = Number(p >> 32n); lo[n] = Number(p & 0xffffffffn); owner[n] = i;
      }
    }
    const order = new Uint32Array(total);
    for (let i = 0; i < total; i++) order[i] = i;
    // Equal points (vanishingly rare) are ordered by owner so the ring does not depend on insertion order.
    order.sort((a, b) => hi[a] - hi[b] || lo[a] - lo[b] || owner[a] - owner[b]);
    this.hi = new Uint32Array(total); this.lo = new Uint32Array(total); this.owner = new Int32Array(total);
    for (let i = 0; i < total; i++) { const j = order[i]; this.hi[i] = hi[j]; this.lo[i] = lo[j]; this.owner[i] = owner[j]; }
  }

  /** Index of the first point >= (h, l), or 0 when every point is smaller (the ring wraps). */
  private search(h: number, l: number): number {
    let lo = 0, hi = this.owner.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.hi[mid] < h || (this.hi[mid] === h && this.lo[mid] < l)) lo = mid + 1;
      else hi = mid;
    }
    return lo === this.owner.length ? 0 : lo;
  }

  chooseHost(ctx: LoadBalancerContext): Host | null {
    const mode = acceptanceFor(this.hosts, ctx);
    if (mode === null) return null;
    if (ctx.hash === undefined || this.owner.length === 0) return weightedRandom(this.hosts, ctx, mode, this.random);
    const hash = BigInt.asUintN(64, ctx.hash);
    let at = this.search(Number(hash >> 32n), Number(hash & 0xffffffffn));
    for (let step = 0; step < this.owner.length; step++) {
      const host = this.hosts[this.owner[at]];
      if (acceptable(host, ctx, mode)) return host;
      at = at + 1 === this.owner.length ? 0 : at + 1;
    }
    return null;
  }
}

export function createRingHashLb(hosts: readonly Host[], opts: LbOptions): HostSetLoadBalancer & { readonly size: number } {
  const cfg = opts.config.ring_hash_lb_config;
  const base = `${opts.path}.ring_hash_lb_config`;
  const minSize = u32(cfg?.minimum_ring_size, CLUSTER_DEFAULTS.minimumRingSize, `${base}.minimum_ring_size`);
  const maxSize = u32(cfg?.maximum_ring_size, CLUSTER_DEFAULTS.maximumRingSize, `${base}.maximum_ring_size`);
  if (maxSize > RING_MAX_LIMIT) throw new ConfigError(`${base}.maximum_ring_size`, `must be at most ${RING_MAX_LIMIT}`);
  if (minSize < 1) throw new ConfigError(`${base}.minimum_ring_size`, 'must be at least 1');
  if (minSize > maxSize) throw new ConfigError(`${base}.minimum_ring_size`, `exceeds maximum_ring_size ${maxSize}`);
  return new RingHashLb(hosts, minSize, maxSize, opts.random);
}
