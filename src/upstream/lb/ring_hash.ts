/**
 * RING_HASH (Karger et al.'s consistent hashing). Each host owns `weight * perWeight` points on a 64-bit
 * ring, placed at hash64("<address:port>_<i>"); a request's hash goes to the first point at or after it,
 * wrapping. Lookup is a binary search over the sorted points.
 *
 * `perWeight` is the smallest count that makes the ring at least minimum_ring_size (capped so the ring stays
 * within maximum_ring_size), and it is sticky across host-set updates: removing a host then removes only its
 * points, so every key whose host stayed keeps it. It is recomputed only when the ring would fall below half
 * the minimum or grow past the maximum.
 *
 * An unacceptable host (unhealthy, or attempted by this request) is passed over by walking the ring onward.
 * Without a hash the pick is weighted random.
 */
import type { Host, LoadBalancerContext } from '../../types/upstream.js';
import { ConfigError } from '../../common/errors.js';
import { hash64 } from '../hash.js';
import { u32 } from '../config_values.js';
import { acceptable, acceptanceFor, weightedRandom, type HostSetLoadBalancer, type LbOptions } from './load_balancer.js';

export const RING_MIN_DEFAULT = 1024;
export const RING_MAX_DEFAULT = 8 * 1024 * 1024;
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
    if (this.perWeight === 0 || ring < this.minSize / 2 || ring > this.maxSize) {
      this.perWeight = Math.max(1, Math.min(Math.ceil(this.minSize / totalWeight), Math.floor(this.maxSize / totalWeight)));
    }
    this.build();
  }

  private build(): void {
    const points: { hi: number; lo: number; owner: number }[] = [];
    for (let i = 0; i < this.hosts.length; i++) {
      const h = this.hosts[i];
      const key = (h as { key?: string }).key ?? `${h.address}:${h.port}`;
      const count = h.weight * this.perWeight;
      for (let v = 0; v < count; v++) {
        const p = hash64(`${key}_${v}`);
        points.push({ hi: Number(p >> 32n), lo: Number(p & 0xffffffffn), owner: i });
      }
    }
    // Equal points (vanishingly rare) are ordered by owner so the ring does not depend on insertion order.
    points.sort((a, b) => a.hi - b.hi || a.lo - b.lo || a.owner - b.owner);
    this.hi = new Uint32Array(points.length);
    this.lo = new Uint32Array(points.length);
    this.owner = new Int32Array(points.length);
    for (let i = 0; i < points.length; i++) { this.hi[i] = points[i].hi; this.lo[i] = points[i].lo; this.owner[i] = points[i].owner; }
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
  const minSize = u32(cfg?.minimum_ring_size, RING_MIN_DEFAULT, `${base}.minimum_ring_size`);
  const maxSize = u32(cfg?.maximum_ring_size, RING_MAX_DEFAULT, `${base}.maximum_ring_size`);
  if (maxSize > RING_MAX_LIMIT) throw new ConfigError(`${base}.maximum_ring_size`, `must be at most ${RING_MAX_LIMIT}`);
  if (minSize < 1) throw new ConfigError(`${base}.minimum_ring_size`, 'must be at least 1');
  if (minSize > maxSize) throw new ConfigError(`${base}.minimum_ring_size`, `exceeds maximum_ring_size ${maxSize}`);
  return new RingHashLb(hosts, minSize, maxSize, opts.random);
}
