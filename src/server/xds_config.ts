/**
 * Follows a control plane: owns the AdsClient built from the bootstrap's dynamic_resources and applies what
 * it delivers to the running server without disruption (Envoy's order and warming):
 * - CDS through the cluster manager (unchanged hosts keep their pools, removed clusters drain); the EDS
 *   names of EDS clusters are subscribed; a new EDS cluster warms until its endpoints arrive, or until its
 *   initial_fetch_timeout, after which it is active with no hosts;
 * - EDS: each ClusterLoadAssignment replaces the host set of every EDS cluster asking for that name;
 * - LDS through the listener manager (RDS names subscribed; a listener warms until its route table arrives);
 * - RDS: a new table is compiled and swapped into every connection manager following that name; the one it
 *   replaces is retired after a grace period (worker threads may still be reading it).
 * Every handler checks and builds everything in a response before changing anything; a throw NACKs the
 * response (the error names the resource and field) and leaves the last good configuration serving.
 */
import { ConfigError } from '../common/errors.js';
import type { Logger } from '../common/logger.js';
import type { Counter, Gauge, StatsStore } from '../common/stats.js';
import type { Cluster, ClusterLoadAssignment, Listener, RouteConfiguration } from '../types/envoy.js';
import type { RouteTable } from '../types/router.js';
import type { WasmInstance } from '../wasm/module.js';
import type { ClusterManagerImpl } from '../upstream/cluster_manager.js';
import { compileRouteTable } from '../router/index.js';
import { AdsClient } from '../xds/ads_client.js';
import { TYPE_URL } from '../xds/protocol.js';
import type { DynamicResourcesConfig, NodeConfig, XdsResource, XdsUpdate } from '../xds/types.js';
import { disposeListenerSpec, type ListenerManager, type ListenerSpec } from '../listener/listener_manager.js';

/** How long a replaced RDS table stays readable (worker threads may hold its descriptor for a batch or two). */
const ROUTE_TABLE_GRACE_MS = 10_000;
/** Envoy's default initial_fetch_timeout. */
const DEFAULT_INITIAL_FETCH_TIMEOUT_MS = 15_000;

type RetirableTable = RouteTable & { retire?(graceMs?: number): void };

/** The cluster manager calls xDS needs; `updateEndpoints` comes with EDS support in src/upstream. */
type XdsClusterManager = ClusterManagerImpl & { updateEndpoints?(clusterName: string, cla: ClusterLoadAssignment): void };

interface ClusterView { initialized?: boolean; whenInitialized?(): Promise<void> }

export interface DumpEntry { name: string; version: string; lastUpdated: Date; json: Record<string, unknown> }
export interface DynamicDump {
  listenersVersion: string;
  clustersVersion: string;
  listeners: (DumpEntry & { state: 'active' | 'warming' | 'draining' })[];
  clusters: (DumpEntry & { state: 'active' | 'warming' })[];
  routes: DumpEntry[];
  endpoints: DumpEntry[];
}

export interface XdsConfigDeps {
  dynamicResources: DynamicResourcesConfig;
  node: NodeConfig;
  /** Static clusters of the bootstrap (the control plane's cluster among them). */
  staticClusters: readonly Cluster[];
  clusters: XdsClusterManager;
  listeners: ListenerManager;
  wasm: WasmInstance;
  stats: StatsStore;
  log: Logger;
}

/** The decoded resource without its '@type' (the config readers take the message's own fields only). */
function body<T>(r: XdsResource): T {
  const { '@type': _type, ...rest } = r.resource;
  return rest as T;
}

function edsNameOf(c: Cluster): string | undefined {
  if (c.type !== 'EDS') return undefined;
  const eds = (c as { eds_cluster_config?: { service_name?: string } }).eds_cluster_config;
  return eds?.service_name ? eds.service_name : c.name;
}

function edsTimeoutMs(c: Cluster): number {
  const d = (c as { eds_cluster_config?: { eds_config?: { initial_fetch_timeout?: { seconds?: number; nanos?: number } } } })
    .eds_cluster_config?.eds_config?.initial_fetch_timeout;
  if (d === undefined) return DEFAULT_INITIAL_FETCH_TIMEOUT_MS;
  return Number(d.seconds ?? 0) * 1000 + Math.floor(Number(d.nanos ?? 0) / 1e6);
}

/** host:port of a static cluster's first endpoint: where an envoy_grpc control plane is dialled. */
function clusterTarget(c: Cluster | undefined): string | undefined {
  for (const group of c?.load_assignment?.endpoints ?? []) {
    for (const ep of group.lb_endpoints ?? []) {
      const sa = ep.endpoint?.address?.socket_address;
      if (sa?.address && sa.port_value) return `${sa.address.includes(':') ? `[${sa.address}]` : sa.address}:${sa.port_value}`;
    }
  }
  return undefined;
}

class ClusterManagerXdsStats {
  readonly active: Gauge;
  readonly warming: Gauge;
  readonly added: Counter;
  readonly modified: Counter;
  readonly removed: Counter;
  constructor(store: StatsStore) {
    const s = store.scope('cluster_manager.');
    this.active = s.gauge('active_clusters');
    this.warming = s.gauge('warming_clusters');
    this.added = s.counter('cluster_added');
    this.modified = s.counter('cluster_modified');
    this.removed = s.counter('cluster_removed');
  }
}

export class XdsConfig {
  readonly client: AdsClient;
  private readonly staticClusterNames: Set<string>;
  private readonly staticListenerNames: Set<string>;
  /** Dynamic clusters as applied, to roll a half-applied CDS response back. */
  private readonly clusterConfigs = new Map<string, Cluster>();
  /** EDS clusters whose initial fetch timed out: active with no hosts. */
  private readonly edsTimedOut = new Set<string>();
  private readonly edsTimers = new Map<string, NodeJS.Timeout>();
  private readonly routeTables = new Map<string, RetirableTable>();
  private readonly updatedAt = new Map<string, Map<string, Date>>();
  private readonly stats: ClusterManagerXdsStats;

  constructor(private readonly deps: XdsConfigDeps) {
    this.stats = new ClusterManagerXdsStats(deps.stats);
    const byName = new Map(deps.staticClusters.map((c) => [c.name, c]));
    this.staticClusterNames = new Set(byName.keys());
    this.staticListenerNames = deps.listeners.staticNames();
    this.client = new AdsClient({
      dynamicResources: deps.dynamicResources,
      node: deps.node,
      resolveCluster: (name) => clusterTarget(byName.get(name)),
      stats: deps.stats,
    });
    this.client.onUpdate(TYPE_URL.cluster, (u) => this.applyClusters(u));
    this.client.onUpdate(TYPE_URL.endpoint, (u) => this.applyEndpoints(u));
    this.client.onUpdate(TYPE_URL.listener, (u) => this.applyListeners(u));
    this.client.onUpdate(TYPE_URL.route, (u) => this.applyRoutes(u));
    this.subscribeEndpoints();
    const staticRds = [...this.deps.listeners.rdsNames()];
    if (staticRds.length > 0) this.client.subscribe(TYPE_URL.route, staticRds);
    this.refreshClusterGauges();
  }

  /** Opens the ADS stream and waits (bounded by each initial_fetch_timeout) for the first CDS, then LDS, as Envoy's init does. */
  async start(): Promise<void> {
    this.client.start();
    const lds = this.deps.dynamicResources.lds_config !== undefined;
    const cds = this.deps.dynamicResources.cds_config !== undefined;
    if (cds) {
      await this.client.initialFetch(TYPE_URL.cluster);
      await this.clustersWarm(DEFAULT_INITIAL_FETCH_TIMEOUT_MS);
    }
    if (lds) await this.client.initialFetch(TYPE_URL.listener);
  }

  /** Waits (bounded) until every EDS cluster has its first endpoints: Envoy's cluster warming during init. */
  private async clustersWarm(timeoutMs: number): Promise<void> {
    const pending = this.deps.clusters.all().map((c) => c as unknown as ClusterView).filter((c) => c.initialized === false && c.whenInitialized);
    if (pending.length === 0) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.all(pending.map((c) => c.whenInitialized!())),
      new Promise<void>((resolve) => { timer = setTimeout(resolve, timeoutMs); }),
    ]);
    clearTimeout(timer);
  }

  /** How long a listener may wait for its first routes (Envoy's default initial_fetch_timeout; RDS has no own here). */
  routeInitialFetchTimeoutMs(): number {
    return DEFAULT_INITIAL_FETCH_TIMEOUT_MS;
  }

  close(): void {
    this.client.close();
    for (const t of this.edsTimers.values()) clearTimeout(t);
    this.edsTimers.clear();
  }

  private touch(typeUrl: string, names: Iterable<string>): void {
    let m = this.updatedAt.get(typeUrl);
    if (m === undefined) { m = new Map(); this.updatedAt.set(typeUrl, m); }
    const now = new Date();
    for (const n of names) m.set(n, now);
  }

  // ---- CDS ----

  private applyClusters(u: XdsUpdate): void {
    for (const name of [...u.added.keys(), ...u.removed]) {
      if (this.staticClusterNames.has(name)) throw new ConfigError(`Cluster ${JSON.stringify(name)}.name`, 'a static cluster of that name exists and cannot be replaced over CDS');
    }
    const cm = this.deps.clusters;
    const done: { name: string; previous: Cluster | undefined; outcome: string }[] = [];
    try {
      for (const [name, r] of u.added) {
        const config = body<Cluster>(r);
        const previous = this.clusterConfigs.get(name);
        let outcome: string;
        try {
          outcome = cm.addOrUpdateCluster(config);
        } catch (err) {
          throw this.named('Cluster', name, err);
        }
        done.push({ name, previous, outcome });
        this.clusterConfigs.set(name, config);
      }
    } catch (err) {
      // Roll back what this response changed so far: the previous configs come back (their pools fresh).
      for (const { name, previous } of done.reverse()) {
        if (previous === undefined) { cm.removeCluster(name); this.clusterConfigs.delete(name); } else {
          cm.addOrUpdateCluster(previous); this.clusterConfigs.set(name, previous);
        }
      }
      throw err;
    }
    for (const d of done) {
      if (d.outcome === 'added') this.stats.added.inc();
      if (d.outcome === 'updated') this.stats.modified.inc();
    }
    for (const name of u.removed) {
      if (cm.removeCluster(name)) this.stats.removed.inc();
      this.clusterConfigs.delete(name);
      this.edsTimedOut.delete(name);
      clearTimeout(this.edsTimers.get(name));
      this.edsTimers.delete(name);
    }
    this.touch(TYPE_URL.cluster, u.added.keys());
    for (const [name] of u.added) this.warmCluster(name);
    this.subscribeEndpoints();
    this.refreshClusterGauges();
  }

  /** A new EDS cluster: endpoints already held for its name apply at once; otherwise it warms until they come or time runs out. */
  private warmCluster(name: string): void {
    const config = this.clusterConfigs.get(name);
    const eds = config === undefined ? undefined : edsNameOf(config);
    if (eds === undefined) return;
    const cluster = this.deps.clusters.get(name) as unknown as ClusterView | undefined;
    if (cluster?.initialized) return;
    const held = this.client.resources(TYPE_URL.endpoint).get(eds);
    if (held !== undefined && this.deps.clusters.updateEndpoints) {
      try {
        this.deps.clusters.updateEndpoints(name, body<ClusterLoadAssignment>(held));
        return;
      } catch (err) {
        this.deps.log.warn(`cluster ${name}: held endpoints not applied: ${(err as Error).message}`);
      }
    }
    this.edsTimedOut.delete(name);
    clearTimeout(this.edsTimers.get(name));
    const ms = edsTimeoutMs(config!);
    if (ms <= 0) return;
    const timer = setTimeout(() => {
      this.edsTimers.delete(name);
      const c = this.deps.clusters.get(name) as unknown as ClusterView | undefined;
      if (c !== undefined && !c.initialized) {
        this.deps.log.warn(`cluster ${name}: no endpoints within the initial fetch timeout; active with no hosts`);
        this.edsTimedOut.add(name);
        this.refreshClusterGauges();
      }
    }, ms);
    timer.unref();
    this.edsTimers.set(name, timer);
  }

  private isWarming(name: string): boolean {
    const c = this.deps.clusters.get(name) as unknown as ClusterView | undefined;
    return c !== undefined && c.initialized === false && !this.edsTimedOut.has(name);
  }

  private refreshClusterGauges(): void {
    let warming = 0;
    const all = this.deps.clusters.all();
    for (const c of all) if (this.isWarming(c.name)) warming++;
    this.stats.warming.set(warming);
    this.stats.active.set(all.length - warming);
  }

  private edsNames(): Map<string, string[]> {
    const byService = new Map<string, string[]>();
    for (const c of this.deps.clusters.all()) {
      const eds = edsNameOf(c.config);
      if (eds === undefined) continue;
      const list = byService.get(eds) ?? [];
      list.push(c.name);
      byService.set(eds, list);
    }
    return byService;
  }

  private subscribeEndpoints(): void {
    this.client.subscribe(TYPE_URL.endpoint, [...this.edsNames().keys()].sort());
  }

  // ---- EDS ----

  private applyEndpoints(u: XdsUpdate): void {
    const cm = this.deps.clusters;
    const byService = this.edsNames();
    const work: { cluster: string; cla: ClusterLoadAssignment }[] = [];
    for (const [service, r] of u.added) {
      for (const cluster of byService.get(service) ?? []) work.push({ cluster, cla: body<ClusterLoadAssignment>(r) });
    }
    for (const service of u.removed) {
      // A withdrawn assignment leaves the cluster with no hosts (it stays defined by CDS).
      for (const cluster of byService.get(service) ?? []) work.push({ cluster, cla: { cluster_name: service, endpoints: [] } });
    }
    if (work.length > 0 && !cm.updateEndpoints) throw new ConfigError('ClusterLoadAssignment', 'EDS clusters are not supported by this build');
    const previous = (name: string): ClusterLoadAssignment | undefined => (cm.get(name) as unknown as { lastAssignment?: ClusterLoadAssignment } | undefined)?.lastAssignment;
    const done: { cluster: string; before: ClusterLoadAssignment | undefined }[] = [];
    try {
      for (const w of work) {
        const before = previous(w.cluster);
        try {
          cm.updateEndpoints!(w.cluster, w.cla);
        } catch (err) {
          throw this.named('ClusterLoadAssignment', w.cla.cluster_name, err);
        }
        done.push({ cluster: w.cluster, before });
      }
    } catch (err) {
      for (const d of done.reverse()) if (d.before !== undefined) cm.updateEndpoints!(d.cluster, d.before);
      throw err;
    }
    for (const w of work) {
      clearTimeout(this.edsTimers.get(w.cluster));
      this.edsTimers.delete(w.cluster);
      this.edsTimedOut.delete(w.cluster);
    }
    this.touch(TYPE_URL.endpoint, u.added.keys());
    this.refreshClusterGauges();
  }

  // ---- LDS ----

  private applyListeners(u: XdsUpdate): void {
    for (const name of [...u.added.keys(), ...u.removed]) {
      if (this.staticListenerNames.has(name)) throw new ConfigError(`Listener ${JSON.stringify(name)}.name`, 'a static listener of that name exists and cannot be replaced over LDS');
    }
    const specs: { spec: ListenerSpec; r: XdsResource }[] = [];
    try {
      for (const [name, r] of u.added) {
        specs.push({ spec: this.deps.listeners.buildSpec(body<Listener>(r), `Listener ${JSON.stringify(name)}`, name), r });
      }
    } catch (err) {
      for (const s of specs) disposeListenerSpec(s.spec);
      throw err;
    }
    const lm = this.deps.listeners;
    const now = new Date();
    for (const { spec, r } of specs) lm.addOrUpdateListener(spec, { version: r.version, lastUpdated: now, json: r.json });
    for (const name of u.removed) lm.removeListener(name);
    this.touch(TYPE_URL.listener, u.added.keys());
    this.client.subscribe(TYPE_URL.route, [...lm.rdsNames()].sort());
  }

  // ---- RDS ----

  private applyRoutes(u: XdsUpdate): void {
    const compiled: { name: string; table: RetirableTable }[] = [];
    try {
      for (const [name, r] of u.added) {
        try {
          compiled.push({ name, table: compileRouteTable(body<RouteConfiguration>(r), this.deps.wasm) });
        } catch (err) {
          throw this.named('RouteConfiguration', name, err);
        }
      }
    } catch (err) {
      for (const c of compiled) c.table.retire?.(0);
      throw err;
    }
    for (const { name, table } of compiled) {
      const old = this.routeTables.get(name);
      this.routeTables.set(name, table);
      this.deps.listeners.setRouteTable(name, table);
      old?.retire?.(ROUTE_TABLE_GRACE_MS);
    }
    // A withdrawn route table stays in use by the listeners that follow it (Envoy keeps the last one too).
    this.touch(TYPE_URL.route, u.added.keys());
  }

  /** Puts the resource's type and name in front of an error's field path, so the NACK names both. */
  private named(kind: string, name: string, err: unknown): Error {
    if (err instanceof ConfigError && !err.path.startsWith(kind)) {
      return new ConfigError(`${kind} ${JSON.stringify(name)}.${err.path}`, err.message.startsWith(`${err.path}: `) ? err.message.slice(err.path.length + 2) : err.message, { cause: err });
    }
    return err instanceof Error ? err : new Error(String(err));
  }

  // ---- /config_dump ----

  dump(): DynamicDump {
    const entries = (typeUrl: string): DumpEntry[] => {
      const at = this.updatedAt.get(typeUrl) ?? new Map<string, Date>();
      return [...this.client.resources(typeUrl).values()].map((r) => ({
        name: r.name, version: r.version, lastUpdated: at.get(r.name) ?? new Date(0), json: r.json,
      }));
    };
    return {
      listenersVersion: this.client.versionInfo(TYPE_URL.listener),
      clustersVersion: this.client.versionInfo(TYPE_URL.cluster),
      listeners: this.deps.listeners.dynamicListeners().map((l) => ({
        name: l.name, state: l.state, version: l.meta.version, lastUpdated: l.meta.lastUpdated, json: l.meta.json,
      })),
      clusters: entries(TYPE_URL.cluster).filter((e) => this.deps.clusters.get(e.name) !== undefined)
        .map((e) => ({ ...e, state: this.isWarming(e.name) ? 'warming' as const : 'active' as const })),
      routes: entries(TYPE_URL.route),
      endpoints: entries(TYPE_URL.endpoint),
    };
  }
}
