/**
 * The x-protocol upstream pools of the whole process: one MuxPool per (cluster, protocol, host, pool options),
 * shared by every xprotocol filter (every listener, every LDS version of one) that routes there, so two listeners
 * sending Bolt to one host share its multiplexed connections.
 *
 * Retirement: a pool is retired when its cluster was replaced or removed (CDS: the cluster manager no longer
 * returns that Cluster object for its name), when its host left the cluster (EDS), or when no filter uses it
 * any more. Retiring drains it (no new requests; idle connections close, busy ones after their last answer)
 * and closes it for good once no request is in flight, heartbeat timer included. A sweep runs once a second
 * while any pool exists (timer unref'd); it costs one pass over the pools, so creating pools stays O(1).
 *
 * Main thread only.
 */
import type { Cluster, ClusterManager, Host } from '../types/upstream.js';
import type { MuxFrame, MuxPool } from '../upstream/mux_pool.js';

export const SWEEP_INTERVAL_MS = 1000;

/** Who uses pools (one per xprotocol filter). */
export type PoolUser = object;

interface Entry {
  readonly pool: MuxPool<MuxFrame>;
  readonly cluster: Cluster;
  readonly host: Host;
  readonly key: string;
  readonly users: Set<PoolUser>;
}

interface ClusterPools {
  /** The manager the cluster came from: whether it still serves that name decides retirement. */
  readonly manager: ClusterManager;
  /** `${key}` -> host -> entry */
  readonly byKey: Map<string, Map<Host, Entry>>;
}

export class MuxPoolRegistry {
  private readonly clusters = new Map<Cluster, ClusterPools>();
  private readonly byUser = new Map<PoolUser, Set<Entry>>();
  private readonly retiring = new Set<MuxPool<MuxFrame>>();
  private timer: NodeJS.Timeout | null = null;

  /**
   * The pool for (cluster, host, key), made by `make` on first use. `key` names the protocol and every option
   * the pool is built with: filters with different options get different pools.
   */
  acquire<F extends MuxFrame>(user: PoolUser, manager: ClusterManager, cluster: Cluster, host: Host, key: string, make: () => MuxPool<F>): MuxPool<F> {
    let cp = this.clusters.get(cluster);
    if (cp === undefined) { cp = { manager, byKey: new Map() }; this.clusters.set(cluster, cp); }
    let byHost = cp.byKey.get(key);
    if (byHost === undefined) { byHost = new Map(); cp.byKey.set(key, byHost); }
    let e = byHost.get(host);
    if (e === undefined) {
      e = { pool: make() as unknown as MuxPool<MuxFrame>, cluster, host, key, users: new Set() };
      byHost.set(host, e);
      this.arm();
    }
    if (!e.users.has(user)) {
      e.users.add(user);
      let mine = this.byUser.get(user);
      if (mine === undefined) { mine = new Set(); this.byUser.set(user, mine); }
      mine.add(e);
    }
    return e.pool as unknown as MuxPool<F>;
  }

  /** The user (a disposed filter) no longer uses its pools; pools nobody else uses close now. */
  release(user: PoolUser): void {
    const mine = this.byUser.get(user);
    if (mine === undefined) return;
    this.byUser.delete(user);
    for (const e of mine) {
      e.users.delete(user);
      if (e.users.size === 0) { this.forget(e); e.pool.close(); }
    }
    this.disarmIfEmpty();
  }

  /** Pools currently registered (retiring ones not included). */
  get size(): number {
    let n = 0;
    for (const cp of this.clusters.values()) for (const byHost of cp.byKey.values()) n += byHost.size;
    return n;
  }

  /** Pools draining until their last request is answered. */
  get retiringCount(): number { return this.retiring.size; }

  /** Retires the pools of replaced or removed clusters and of removed hosts; closes drained ones. */
  sweep(): void {
    for (const [cluster, cp] of [...this.clusters]) {
      const gone = cp.manager.get(cluster.name) !== cluster;
      const hosts = gone ? null : new Set(cluster.hosts());
      for (const byHost of cp.byKey.values()) {
        for (const e of [...byHost.values()]) if (hosts === null || !hosts.has(e.host)) this.retire(e);
      }
    }
    for (const p of [...this.retiring]) {
      if (p.activeRequests === 0) { p.close(); this.retiring.delete(p); }
    }
    this.disarmIfEmpty();
  }

  private retire(e: Entry): void {
    this.forget(e);
    for (const u of e.users) this.byUser.get(u)?.delete(e);
    e.pool.drain();
    this.retiring.add(e.pool);
  }

  private forget(e: Entry): void {
    const cp = this.clusters.get(e.cluster);
    const byHost = cp?.byKey.get(e.key);
    if (byHost?.get(e.host) !== e) return;
    byHost.delete(e.host);
    if (byHost.size === 0) cp!.byKey.delete(e.key);
    if (cp!.byKey.size === 0) this.clusters.delete(e.cluster);
  }

  private arm(): void {
    if (this.timer !== null) return;
    this.timer = setInterval(() => this.sweep(), SWEEP_INTERVAL_MS);
    this.timer.unref();
  }

  private disarmIfEmpty(): void {
    if (this.timer !== null && this.clusters.size === 0 && this.retiring.size === 0) { clearInterval(this.timer); this.timer = null; }
  }
}

/** The process's registry (main thread). */
export const muxPools = new MuxPoolRegistry();
