/**
 * The cluster manager: every configured cluster by name. Built from static_resources.clusters (and later
 * CDS); the server composition passes in the HTTP/1 client codec as the ConnectionFactory.
 *
 * SDS warming (Envoy's): a cluster whose TLS contexts wait for SDS secrets (src/tls/warming.ts) is held but not
 * used. get() returns it (config, EDS and admin see every cluster); serving() is the view requests go through:
 * there a new cluster that warms is not found (the route's cluster-not-found reply, 503 by default, as Envoy),
 * and an updated one that warms leaves the cluster it replaces serving until it is warm.
 */
import type { ClusterLoadAssignment, Cluster as EnvoyCluster } from '../types/envoy.js';
import type { ClusterManager } from '../types/upstream.js';
import { ConfigError } from '../common/errors.js';
import type { Logger } from '../common/logger.js';
import type { StatsStore } from '../common/stats.js';
import { ClusterImpl, withoutEndpoints, type ClusterDeps } from './cluster.js';
import type { ConnectionFactory } from './http1_pool.js';
import { collectSecretWarming, type SecretWarming } from '../tls/warming.js';

export type { ConnectionFactory } from './http1_pool.js';

/** What the manager needs is what each of its clusters needs: it hands the same deps to every one. */
export type ClusterManagerDeps = ClusterDeps;

export interface ClusterManagerImpl extends ClusterManager {
  get(name: string): ClusterImpl | undefined;
  all(): readonly ClusterImpl[];
  /**
   * Resolves when every STATIC and STRICT_DNS cluster has its first host set (STRICT_DNS clusters after their
   * first lookup). EDS clusters are not waited for (their endpoints come over xDS, which may be down): use
   * each cluster's `initialized` / whenInitialized() for warming.
   */
  ready(): Promise<void>;
  /**
   * Adds a cluster, or updates one of the same name whose config changed (CDS). When only a STATIC
   * cluster's load_assignment changed, its host set is updated in place: unchanged hosts keep their pools,
   * removed hosts' pools drain. Any other change builds a new cluster and retires the old one (requests in
   * flight finish on its connections, new requests go to the new one via get()); an EDS cluster replaced
   * this way starts with the old one's last assignment, so it is initialized at once and, as Envoy does,
   * waits for no new EDS push. Throws ConfigError (nothing changes) when the config is invalid.
   */
  addOrUpdateCluster(config: EnvoyCluster): 'added' | 'updated' | 'unchanged';
  /**
   * addOrUpdateCluster in two steps, so a CDS push of thousands can be built in slices and made visible at
   * once: prepareCluster builds and checks the cluster (throws ConfigError; nothing visible changes),
   * commitCluster swaps it in (cannot fail), discardPrepared drops one that will not be committed.
   */
  prepareCluster(config: EnvoyCluster): PreparedCluster;
  commitCluster(prepared: PreparedCluster): void;
  discardPrepared(prepared: PreparedCluster): void;
  /**
   * EDS: applies a ClusterLoadAssignment to the EDS cluster named `clusterName` (see ClusterImpl.updateEndpoints:
   * hosts that stay keep their pools, removed hosts drain, the cluster becomes initialized). Throws
   * ConfigError when there is no such EDS cluster or the assignment is invalid (nothing changes).
   */
  updateEndpoints(clusterName: string, cla: ClusterLoadAssignment): void;
  /** Removes a cluster (CDS); it is retired as above. False when there was none. */
  removeCluster(name: string): boolean;
  /** The clusters requests may use (see the header): what listeners, proxies and tcp_proxy are given. */
  serving(): ClusterManager;
  /** Whether the cluster of this name waits for SDS secrets (cluster_manager.warming_clusters counts it). */
  secretsWarming(name: string): boolean;
  /** `listener` is called each time a cluster stops waiting for secrets (gauges follow). */
  onSecretsWarmed(listener: () => void): void;
  /** Resolves once no cluster waits for SDS secrets (or the manager closed): part of the server's init. */
  whenSecretsWarm(): Promise<void>;
}

/** A cluster built by prepareCluster, not yet visible. */
export interface PreparedCluster {
  readonly name: string;
  readonly outcome: 'added' | 'updated' | 'unchanged';
  /** The new cluster (undefined when unchanged, or when a STATIC cluster's endpoints are updated in place). */
  readonly next?: ClusterImpl;
  /** STATIC, only load_assignment changed: the config applied in place on commit. */
  readonly staticUpdate?: EnvoyCluster;
}

/** Throws ConfigError (path `static_resources.clusters[i]...`) on an invalid or unsupported cluster. */
export function createClusterManager(clusters: readonly EnvoyCluster[], deps: ClusterManagerDeps): ClusterManagerImpl {
  const byName = new Map<string, ClusterImpl>();
  /** Clusters (current or prepared) whose TLS contexts still wait for SDS secrets. */
  const warming = new Map<ClusterImpl, SecretWarming>();
  /** Per name, the warm cluster that keeps serving while its replacement warms (not retired until then). */
  const stillServing = new Map<string, ClusterImpl>();
  const warmedListeners: (() => void)[] = [];
  const settledWaiters = new Set<() => void>();
  let closed = false;
  const build = (config: EnvoyCluster, path: string): ClusterImpl => {
    const { value, warming: w } = collectSecretWarming(() => new ClusterImpl(config, path, deps));
    if (!w.warm) warming.set(value, w);
    return value;
  };
  const settled = (): boolean => {
    if (closed) return true;
    for (const c of warming.keys()) if (byName.get(c.name) === c) return false;
    return true;
  };
  const tellSettled = (): void => {
    if (settledWaiters.size === 0 || !settled()) return;
    const waiters = [...settledWaiters];
    settledWaiters.clear();
    for (const w of waiters) w();
  };
  // One secret arriving warms thousands of clusters in one synchronous run: listeners and waiters hear of it once.
  let noticeQueued = false;
  const warmedNotice = (): void => {
    if (noticeQueued) return;
    noticeQueued = true;
    queueMicrotask(() => {
      noticeQueued = false;
      for (const l of warmedListeners) l();
      tellSettled();
    });
  };
  /** Follows a visible cluster's warming: once warm, the one it replaced (if still serving) retires. */
  const followWarming = (c: ClusterImpl): void => {
    const w = warming.get(c);
    if (w === undefined) return;
    w.whenWarm(() => {
      warming.delete(c);
      if (byName.get(c.name) !== c) return;
      const previous = stillServing.get(c.name);
      stillServing.delete(c.name);
      if (previous !== undefined) retire(previous);
      warmedNotice();
    });
  };
  try {
    clusters.forEach((config, i) => {
      const path = `static_resources.clusters[${i}]`;
      if (byName.has(config.name)) throw new ConfigError(`${path}.name`, `duplicate cluster name ${JSON.stringify(config.name)}`);
      byName.set(config.name, build(config, path));
    });
  } catch (err) {
    for (const c of byName.values()) c.close(); // no DNS timers left behind by the clusters built so far
    throw err;
  }
  // Rebuilt on read after a change (a CDS push adds thousands of clusters one by one: no copy per add).
  let listCache: ClusterImpl[] | undefined;
  const list = (): ClusterImpl[] => (listCache ??= [...byName.values()]);
  /** Replaced and removed clusters still draining, closed for good by close(). */
  const retired = new Set<ClusterImpl>();
  const retire = (c: ClusterImpl): void => {
    c.retire();
    retired.add(c);
    for (const r of retired) if (r.openConnections === 0) { r.close(); retired.delete(r); }
  };
  for (const c of byName.values()) followWarming(c);
  const servingView: ClusterManager = {
    get(name) {
      const c = byName.get(name);
      if (c === undefined || warming.size === 0 || !warming.has(c)) return c;
      return stillServing.get(name);
    },
    all: () => list().map((c) => servingView.get(c.name)).filter((c): c is ClusterImpl => c !== undefined),
    close: () => {},
  };
  return {
    get: (name) => byName.get(name),
    all: () => list(),
    ready: async () => { await Promise.all(list().filter((c) => c.type !== 'EDS').map((c) => c.ready)); },
    addOrUpdateCluster(config) {
      const prepared = this.prepareCluster(config);
      this.commitCluster(prepared);
      return prepared.outcome;
    },
    prepareCluster(config) {
      const old = byName.get(config.name);
      if (old !== undefined && JSON.stringify(old.config) === JSON.stringify(config)) return { name: config.name, outcome: 'unchanged' };
      const path = `clusters[${JSON.stringify(config.name)}]`;
      if (old !== undefined && old.type === 'STATIC' && (config.type ?? 'STATIC') === 'STATIC' && withoutEndpoints(old.config) === withoutEndpoints(config)) {
        return { name: config.name, outcome: 'updated', staticUpdate: config };
      }
      const next = build(config, path);
      if (old?.lastAssignment !== undefined && next.type === 'EDS' && next.edsServiceName === old.edsServiceName) {
        try {
          next.updateEndpoints(old.lastAssignment);
        } catch (err) {
          warming.delete(next);
          next.close();
          throw err;
        }
      }
      return { name: config.name, outcome: old === undefined ? 'added' : 'updated', next };
    },
    commitCluster(prepared) {
      const old = byName.get(prepared.name);
      if (prepared.staticUpdate !== undefined) {
        old?.updateStaticEndpoints(prepared.staticUpdate);
        return;
      }
      if (prepared.next === undefined) return;
      byName.set(prepared.name, prepared.next);
      listCache = undefined;
      // What served requests until now: a warm predecessor, or the one it was itself still standing in for.
      const serving = old === undefined ? undefined : warming.has(old) ? stillServing.get(prepared.name) : old;
      if (old !== undefined && old !== serving) { warming.delete(old); retire(old); }
      if (warming.has(prepared.next) && serving !== undefined) {
        stillServing.set(prepared.name, serving);
      } else {
        stillServing.delete(prepared.name);
        if (serving !== undefined) retire(serving);
      }
      followWarming(prepared.next);
    },
    discardPrepared(prepared) {
      if (prepared.next !== undefined) warming.delete(prepared.next);
      prepared.next?.close();
    },
    updateEndpoints(clusterName, cla) {
      const cluster = byName.get(clusterName);
      const path = `endpoints[${JSON.stringify(clusterName)}]`;
      if (cluster === undefined) throw new ConfigError(path, `no cluster named ${JSON.stringify(clusterName)}`);
      cluster.updateEndpoints(cla, path);
    },
    removeCluster(name) {
      const old = byName.get(name);
      if (old === undefined) return false;
      byName.delete(name);
      listCache = undefined;
      warming.delete(old);
      retire(old);
      const serving = stillServing.get(name);
      stillServing.delete(name);
      if (serving !== undefined) retire(serving);
      tellSettled();
      return true;
    },
    serving: () => servingView,
    secretsWarming: (name) => {
      const c = byName.get(name);
      return c !== undefined && warming.has(c);
    },
    onSecretsWarmed(listener) { warmedListeners.push(listener); },
    whenSecretsWarm() {
      if (settled()) return Promise.resolve();
      return new Promise<void>((resolve) => { settledWaiters.add(resolve); });
    },
    close: () => {
      closed = true;
      tellSettled();
      for (const c of stillServing.values()) c.close();
      stillServing.clear();
      for (const c of list()) c.close();
      for (const c of retired) c.close();
      retired.clear();
    },
  };
}
