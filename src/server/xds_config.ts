/**
 * Follows a control plane: owns the AdsClient built from the bootstrap's dynamic_resources and applies what
 * it delivers to the running server without disruption (Envoy's order and warming):
 * - CDS through the cluster manager (unchanged hosts keep their pools, removed clusters drain); the EDS
 *   names of EDS clusters are subscribed; a new EDS cluster warms until its endpoints arrive, or until its
 *   initial_fetch_timeout, after which it is active with no hosts; a cluster waiting for SDS secrets warms in
 *   the cluster manager (src/upstream/cluster_manager.ts) and is counted and dumped as warming here;
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
import type { ClusterManagerImpl, PreparedCluster } from '../upstream/cluster_manager.js';
import { prepareAssignment, type ClusterImpl, type PreparedEndpoints } from '../upstream/cluster.js';
import { compileRouteTable } from '../router/index.js';
import { AdsClient, Slicer } from '../xds/ads_client.js';
import { TYPE_URL } from '../xds/protocol.js';
import type { DynamicResourcesConfig, NodeConfig, XdsResource, XdsUpdate } from '../xds/types.js';
import { disposeListenerSpec, type ListenerManager, type ListenerSpec } from '../listener/listener_manager.js';
import { applySecretUpdate, secretStore, type SecretConfig } from '../tls/sds.js';
import { staticClusterTarget } from '../tls/sds_client.js';

/** How long a replaced RDS table stays readable (worker threads may hold its descriptor for a batch or two). */
const ROUTE_TABLE_GRACE_MS = 10_000;
/** Envoy's default initial_fetch_timeout. */
const DEFAULT_INITIAL_FETCH_TIMEOUT_MS = 15_000;

type RetirableTable = RouteTable & { retire?(graceMs?: number): void };

/** The cluster manager calls xDS needs; `updateEndpoints` comes with EDS support in src/upstream. */
type XdsClusterManager = ClusterManagerImpl & { updateEndpoints?(clusterName: string, cla: ClusterLoadAssignment): void };

interface ClusterView { initialized?: boolean; whenInitialized?(): Promise<void> }

export interface DumpEntry { name: string; version: string; lastUpdated: Date; json: Record<string, unknown> }

/** A dynamic cluster as /config_dump will show it; its JSON is made from the resource's bytes only when dumped. */
interface ShownCluster { name: string; version: string; lastUpdated: Date; resource: XdsResource }
/** Envoy's UpdateFailureState: the last NACK that named this resource (kept until it is accepted again). */
export interface FailureState {
  details: string;
  lastUpdateAttempt: Date;
  versionInfo: string;
  /** The rejected resource as received, when the failure came from applying it (decoding failures have none). */
  failedConfiguration?: Record<string, unknown>;
}
export interface DynamicDump {
  listenersVersion: string;
  clustersVersion: string;
  listeners: (DumpEntry & { state: 'active' | 'warming' | 'draining' })[];
  clusters: (DumpEntry & { state: 'active' | 'warming' })[];
  routes: DumpEntry[];
  endpoints: DumpEntry[];
  /** Per kind, the resources whose last update was NACKed. */
  errors: { listeners: Map<string, FailureState>; clusters: Map<string, FailureState>; routes: Map<string, FailureState>; endpoints: Map<string, FailureState> };
}

const KIND_OF_TYPE: Record<string, string> = {
  [TYPE_URL.listener]: 'Listener', [TYPE_URL.cluster]: 'Cluster', [TYPE_URL.route]: 'RouteConfiguration', [TYPE_URL.endpoint]: 'ClusterLoadAssignment',
};

/** The resource an error names (`Listener "x".field: ...` -> x), or undefined when it names none. */
export function resourceNameOfError(kind: string, err: unknown): string | undefined {
  const text = err instanceof ConfigError ? err.path : err instanceof Error ? err.message : String(err);
  const m = new RegExp(`^${kind} ("(?:[^"\\\\]|\\\\.)*")`).exec(text);
  if (!m) return undefined;
  try { return JSON.parse(m[1]!) as string; } catch { return undefined; }
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

/** host:port (or unix:path for a pipe, as istio-agent's xds-grpc) of a static cluster's first endpoint: where an envoy_grpc control plane is dialled. */
const clusterTarget = staticClusterTarget;

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
  /** What /config_dump shows as each applied dynamic cluster (the one serving, while an update warms). */
  private readonly clusterShown = new Map<string, ShownCluster>();
  /**
   * Updates of serving EDS clusters that follow a new EDS name not held yet: they warm here, and the cluster
   * they replace keeps serving, until their endpoints come (Envoy's cluster warming). A stream that ends
   * before that leaves the old cluster in place: nothing half-applied.
   */
  private readonly pendingClusters = new Map<string, { config: Cluster; entry: ShownCluster }>();
  /** Updates warming on SDS secrets in the cluster manager: what /config_dump shows as the one still serving. */
  private readonly servingShown = new Map<string, ShownCluster>();
  /** EDS clusters whose initial fetch timed out: active with no hosts. */
  private readonly edsTimedOut = new Set<string>();
  /** Warming EDS clusters: when their initial fetch times out (performance.now() ms), swept by one timer. */
  private readonly edsDeadlines = new Map<string, number>();
  private edsSweep: NodeJS.Timeout | undefined;
  private edsSweepAt = Infinity;
  private readonly routeTables = new Map<string, RetirableTable>();
  private readonly updatedAt = new Map<string, Map<string, Date>>();
  /** typeUrl -> resource name -> the last NACK naming it. */
  private readonly failures = new Map<string, Map<string, FailureState>>();
  /** The resource a handler failed on, as received (set just before the throw that NACKs the response). */
  private failedJson: { typeUrl: string; name: string; json: Record<string, unknown> } | undefined;
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
    // An accepted update ends the error_state of the resources it carried: in SotW every resource of the type (the
    // response is the whole set, and a control plane reverting a bad file sends back bytes Skiff already holds, so
    // they are not "added"); in delta the ones it delivered or removed.
    const delta = /DELTA/.test(String(deps.dynamicResources.ads_config?.api_type ?? ''));
    const accepted = (typeUrl: string, apply: (u: XdsUpdate) => void | Promise<void>) => async (u: XdsUpdate): Promise<void> => {
      await apply(u);
      const failed = this.failures.get(typeUrl);
      if (!delta) failed?.clear();
      else for (const name of [...u.added.keys(), ...u.removed]) failed?.delete(name);
    };
    this.client.onUpdate(TYPE_URL.cluster, accepted(TYPE_URL.cluster, (u) => this.applyClusters(u)));
    // Each assignment is checked as it is decoded; only its checked endpoints are kept for the handler.
    this.client.onUpdate(TYPE_URL.endpoint, accepted(TYPE_URL.endpoint, (u) => this.applyEndpoints(u)), {
      prepare: (r) => prepareAssignment(body<ClusterLoadAssignment>(r), `ClusterLoadAssignment ${JSON.stringify(r.name)}`),
    });
    this.client.onUpdate(TYPE_URL.listener, accepted(TYPE_URL.listener, (u) => this.applyListeners(u)));
    this.client.onUpdate(TYPE_URL.route, accepted(TYPE_URL.route, (u) => this.applyRoutes(u)));
    this.client.onRejected((typeUrl, err, version) => this.recordRejection(typeUrl, err, version));
    this.followSecrets();

    this.subscribeEndpoints();
    const staticRds = [...this.deps.listeners.rdsNames()];
    if (staticRds.length > 0) this.client.subscribe(TYPE_URL.route, staticRds);
    this.refreshClusterGauges();
    deps.clusters.onSecretsWarmed(() => {
      for (const name of [...this.servingShown.keys()]) if (!deps.clusters.secretsWarming(name)) this.servingShown.delete(name);
      this.refreshClusterGauges();
    });
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
    secretStore().onDemand('ads', undefined);
    this.client.close();
    clearTimeout(this.edsSweep);
    this.edsSweep = undefined;
    this.edsDeadlines.clear();
  }

  private touch(typeUrl: string, names: Iterable<string>): void {
    let m = this.updatedAt.get(typeUrl);
    if (m === undefined) { m = new Map(); this.updatedAt.set(typeUrl, m); }
    const now = new Date();
    const failed = this.failures.get(typeUrl);
    for (const n of names) { m.set(n, now); failed?.delete(n); }
  }

  /** A NACK: remembered for /config_dump (error_state) against the resource it names; RDS stats counted. */
  private recordRejection(typeUrl: string, err: unknown, versionInfo: string): void {
    const kind = KIND_OF_TYPE[typeUrl];
    const held = this.failedJson;
    this.failedJson = undefined;
    if (kind === undefined) return;
    const name = resourceNameOfError(kind, err);
    if (name === undefined) return;
    let m = this.failures.get(typeUrl);
    if (m === undefined) { m = new Map(); this.failures.set(typeUrl, m); }
    m.set(name, {
      details: err instanceof Error ? err.message : String(err), lastUpdateAttempt: new Date(), versionInfo,
      failedConfiguration: held && held.typeUrl === typeUrl && held.name === name ? held.json : undefined,
    });
    if (typeUrl === TYPE_URL.route) for (const s of this.rdsStats(name)) { s.attempt.inc(); s.rejected.inc(); }
  }

  /** Envoy's `http.<stat_prefix>.rds.<route_config_name>.*` for every connection manager following this route table. */
  private rdsStats(name: string): { attempt: Counter; success: Counter; rejected: Counter; reload: Counter }[] {
    const out: { attempt: Counter; success: Counter; rejected: Counter; reload: Counter }[] = [];
    for (const prefix of this.statPrefixesFollowing(name)) {
      const s = this.deps.stats.scope(`http.${prefix}.rds.${name}.`);
      out.push({ attempt: s.counter('update_attempt'), success: s.counter('update_success'), rejected: s.counter('update_rejected'), reload: s.counter('config_reload') });
    }
    return out;
  }

  /** Stat prefixes of the dynamic listeners' connection managers whose rds names this route table. */
  private statPrefixesFollowing(routeName: string): Set<string> {
    const prefixes = new Set<string>();
    for (const l of this.deps.listeners.dynamicListeners()) {
      for (const chain of (l.meta.json.filter_chains ?? []) as { filters?: { typed_config?: { stat_prefix?: string; rds?: { route_config_name?: string } } }[] }[]) {
        for (const f of chain.filters ?? []) {
          const tc = f.typed_config;
          if (tc?.rds?.route_config_name === routeName && tc.stat_prefix) prefixes.add(tc.stat_prefix);
        }
      }
    }
    return prefixes;
  }

  // ---- CDS ----

  /**
   * Builds every new or changed cluster of the response in slices (yielding to traffic between them), then
   * makes them all visible in one synchronous step; a cluster that fails to build NACKs the response and
   * nothing of it becomes visible.
   */
  private async applyClusters(u: XdsUpdate): Promise<void> {
    for (const name of [...u.added.keys(), ...u.removed]) {
      if (this.staticClusterNames.has(name)) throw new ConfigError(`Cluster ${JSON.stringify(name)}.name`, 'a static cluster of that name exists and cannot be replaced over CDS');
    }
    const cm = this.deps.clusters;
    const prepared: { config: Cluster; p: PreparedCluster }[] = [];
    const shown = new Map<string, XdsResource>();
    const slicer = new Slicer();
    try {
      for (const [name, r] of u.added) {
        const config = body<Cluster>(r);
        const previous = this.clusterConfigs.get(name);
        this.pendingClusters.delete(name);
        const newEds = edsNameOf(config);
        // A serving cluster moving to an EDS name not held yet warms beside it (see pendingClusters).
        if (previous !== undefined && newEds !== undefined && newEds !== edsNameOf(previous)
          && !this.client.resources(TYPE_URL.endpoint).has(newEds)) {
          this.pendingClusters.set(name, { config, entry: { name, version: r.version, lastUpdated: new Date(), resource: r } });
          continue;
        }
        try {
          prepared.push({ config, p: cm.prepareCluster(config) });
        } catch (err) {
          this.failedJson = { typeUrl: TYPE_URL.cluster, name, json: r.json };
          throw this.named('Cluster', name, err);
        }
        shown.set(name, r);
        if (slicer.due()) await slicer.yield();
      }
    } catch (err) {
      for (const { p } of prepared) cm.discardPrepared(p);
      throw err;
    }
    // Ask for the new clusters' endpoints now: the control plane prepares and sends them while the clusters
    // are swapped in and warmed (the response is handled after this one, in order).
    const newEds: string[] = [];
    for (const { config } of prepared) { const eds = edsNameOf(config); if (eds !== undefined) newEds.push(eds); }
    // Always once per CDS update (EDS names of replaced clusters may change, the initial request needs it).
    this.subscribeEndpoints(newEds);
    // One Date for the whole swap (it happens at one instant): 10 000 clusters need no 10 000 Dates.
    const committedAt = new Date();
    for (const { config, p } of prepared) {
      const serving = this.servingShown.get(p.name) ?? this.clusterShown.get(p.name);
      cm.commitCluster(p);
      // An update warming on SDS secrets leaves its predecessor serving (see the cluster manager): both are shown.
      if (serving !== undefined && cm.secretsWarming(p.name) && cm.serving().get(p.name) !== undefined) this.servingShown.set(p.name, serving);
      else this.servingShown.delete(p.name);
      this.clusterConfigs.set(p.name, config);
      const r = shown.get(p.name)!;
      this.clusterShown.set(p.name, { name: p.name, version: r.version, lastUpdated: committedAt, resource: r });
      if (p.outcome === 'added') this.stats.added.inc();
      if (p.outcome === 'updated') this.stats.modified.inc();
    }
    for (const name of u.removed) {
      if (cm.removeCluster(name)) this.stats.removed.inc();
      this.clusterConfigs.delete(name);
      this.clusterShown.delete(name);
      this.servingShown.delete(name);
      this.pendingClusters.delete(name);
      this.edsTimedOut.delete(name);
      this.edsDeadlines.delete(name);
    }
    this.touch(TYPE_URL.cluster, u.added.keys());
    for (const [name] of u.added) {
      this.warmCluster(name);
      if (slicer.due()) await slicer.yield();
    }
    this.armEdsSweep();
    // Names asked for before the swap cover an update that only added clusters; otherwise some may be gone.
    if (u.removed.length > 0 || prepared.some(({ p }) => p.outcome !== 'added')) this.subscribeEndpoints();
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
        const live = this.deps.clusters.get(name);
        if (held.prepared !== undefined && live?.type === 'EDS') live.commitEndpoints(held.prepared as PreparedEndpoints);
        else this.deps.clusters.updateEndpoints(name, body<ClusterLoadAssignment>(held));
        return;
      } catch (err) {
        this.deps.log.warn(`cluster ${name}: held endpoints not applied: ${(err as Error).message}`);
      }
    }
    this.edsTimedOut.delete(name);
    const ms = edsTimeoutMs(config!);
    if (ms <= 0) { this.edsDeadlines.delete(name); return; }
    this.edsDeadlines.set(name, performance.now() + ms);
  }

  /** One timer for every warming EDS cluster (not one per cluster): fires at the earliest deadline. */
  private armEdsSweep(): void {
    if (this.edsDeadlines.size === 0) return;
    let earliest = Infinity;
    for (const d of this.edsDeadlines.values()) if (d < earliest) earliest = d;
    if (this.edsSweep !== undefined && this.edsSweepAt <= earliest) return;
    clearTimeout(this.edsSweep);
    this.edsSweepAt = earliest;
    this.edsSweep = setTimeout(() => {
      this.edsSweep = undefined;
      const now = performance.now();
      let changed = false;
      for (const [name, deadline] of this.edsDeadlines) {
        if (deadline > now) continue;
        this.edsDeadlines.delete(name);
        const c = this.deps.clusters.get(name) as unknown as ClusterView | undefined;
        if (c !== undefined && !c.initialized) {
          this.deps.log.warn(`cluster ${name}: no endpoints within the initial fetch timeout; active with no hosts`);
          this.edsTimedOut.add(name);
          changed = true;
        }
      }
      if (changed) this.refreshClusterGauges();
      this.armEdsSweep();
    }, Math.max(0, earliest - performance.now()));
    this.edsSweep.unref();
  }

  private isWarming(name: string): boolean {
    const c = this.deps.clusters.get(name) as unknown as ClusterView | undefined;
    if (c === undefined) return false;
    return (c.initialized === false && !this.edsTimedOut.has(name)) || this.deps.clusters.secretsWarming(name);
  }

  private refreshClusterGauges(): void {
    let warming = 0;
    const all = this.deps.clusters.all();
    for (const c of all) if (this.isWarming(c.name)) warming++;
    this.stats.warming.set(warming + this.pendingClusters.size);
    this.stats.active.set(all.length - warming + this.servingShown.size);
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

  /** `also`: EDS names of clusters built but not yet swapped in (asked for early, see applyClusters). */
  private subscribeEndpoints(also: Iterable<string> = []): void {
    const names = new Set(this.edsNames().keys());
    for (const n of also) names.add(n);
    for (const p of this.pendingClusters.values()) names.add(edsNameOf(p.config)!);
    this.client.subscribe(TYPE_URL.endpoint, [...names].sort());
  }

  // ---- EDS ----

  /**
   * Checks every assignment of the response first (in slices; a bad one NACKs the response and nothing
   * changes), then applies them cluster by cluster, in slices too: each cluster's host set changes at once,
   * as Envoy applies each ClusterLoadAssignment on its own.
   */
  private async applyEndpoints(u: XdsUpdate): Promise<void> {
    const cm = this.deps.clusters;
    const byService = this.edsNames();
    const work: { cluster: string; service: string; prepared: PreparedEndpoints }[] = [];
    for (const [service, r] of u.added) {
      const prepared = (r.prepared as PreparedEndpoints | undefined) ?? prepareAssignment(body<ClusterLoadAssignment>(r), `ClusterLoadAssignment ${JSON.stringify(service)}`);
      for (const cluster of byService.get(service) ?? []) work.push({ cluster, service, prepared });
    }
    for (const service of u.removed) {
      // A withdrawn assignment leaves the cluster with no hosts (it stays defined by CDS).
      const prepared = prepareAssignment({ cluster_name: service, endpoints: [] }, service);
      for (const cluster of byService.get(service) ?? []) work.push({ cluster, service, prepared });
    }
    if (work.length > 0 && !cm.updateEndpoints) throw new ConfigError('ClusterLoadAssignment', 'EDS clusters are not supported by this build');
    // Every target is checked before anything changes (a bad one NACKs the response).
    const checked: { target: ClusterImpl; work: (typeof work)[number] }[] = [];
    for (const w of work) {
      const target = cm.get(w.cluster);
      if (target === undefined || target.type !== 'EDS') {
        const path = `endpoints[${JSON.stringify(w.cluster)}]`;
        throw this.named('ClusterLoadAssignment', w.service, new ConfigError(path, target === undefined
          ? `no cluster named ${JSON.stringify(w.cluster)}` : `cluster ${w.cluster} is of type ${target.type}, not EDS`));
      }
      checked.push({ target, work: w });
    }
    const slicer = new Slicer();
    for (const { target, work: w } of checked) {
      // A cluster replaced by CDS while this ran gets the assignment on its successor.
      const live = cm.get(target.name);
      const into = live !== undefined && live.type === 'EDS' ? live : target;
      into.commitEndpoints(w.prepared);
      this.edsDeadlines.delete(target.name);
      this.edsTimedOut.delete(target.name);
      if (slicer.due()) await slicer.yield();
    }
    this.promoteWarmedClusters(u);
    this.touch(TYPE_URL.endpoint, u.added.keys());
    this.refreshClusterGauges();
  }

  /** Cluster updates that waited for their new EDS name: swapped in now that its endpoints came. */
  private promoteWarmedClusters(u: XdsUpdate): void {
    const cm = this.deps.clusters;
    for (const [name, p] of [...this.pendingClusters]) {
      const held = u.added.get(edsNameOf(p.config)!);
      if (held === undefined) continue;
      const previous = this.clusterConfigs.get(name);
      const oldAssignment = (cm.get(name) as unknown as { lastAssignment?: ClusterLoadAssignment } | undefined)?.lastAssignment;
      try {
        cm.addOrUpdateCluster(p.config);
        cm.updateEndpoints!(name, body<ClusterLoadAssignment>(held));
      } catch (err) {
        // Back to the cluster that was serving, with its hosts.
        if (previous !== undefined) {
          cm.addOrUpdateCluster(previous);
          if (oldAssignment !== undefined) cm.updateEndpoints!(name, oldAssignment);
        }
        throw this.named('ClusterLoadAssignment', edsNameOf(p.config)!, err);
      }
      this.pendingClusters.delete(name);
      this.clusterConfigs.set(name, p.config);
      this.clusterShown.set(name, { ...p.entry, lastUpdated: new Date() });
      this.stats.modified.inc();
    }
    this.subscribeEndpoints();
  }

  // ---- LDS ----

  private applyListeners(u: XdsUpdate): void {
    for (const name of [...u.added.keys(), ...u.removed]) {
      if (this.staticListenerNames.has(name)) throw new ConfigError(`Listener ${JSON.stringify(name)}.name`, 'a static listener of that name exists and cannot be replaced over LDS');
    }
    const specs: { spec: ListenerSpec; r: XdsResource }[] = [];
    try {
      for (const [name, r] of u.added) {
        this.failedJson = { typeUrl: TYPE_URL.listener, name, json: r.json };
        specs.push({ spec: this.deps.listeners.buildSpec(body<Listener>(r), `Listener ${JSON.stringify(name)}`, name), r });
      }
      this.failedJson = undefined;
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

  // ---- SDS ----

  /** Secrets named by TLS contexts with `sds_config: {ads: {}}` are subscribed over the ADS stream as contexts come and go. */
  private followSecrets(): void {
    const store = secretStore();
    this.client.onUpdate(TYPE_URL.secret, (u) => this.applySecrets(u));
    store.onDemand('ads', (source, names) => { if (source === 'ads') this.client.subscribe(TYPE_URL.secret, names); });
    const now = store.namesFrom('ads');
    if (now.length > 0) this.client.subscribe(TYPE_URL.secret, now);
  }

  /** Every secret is checked (fields, and that its key and certificates load) before any is handed to the TLS contexts. */
  private applySecrets(u: XdsUpdate): void {
    applySecretUpdate([...u.added].map(([name, r]) => [name, body<SecretConfig>(r), r.version]), u.removed);
    this.touch(TYPE_URL.secret, u.added.keys());
  }

  // ---- RDS ----

  private applyRoutes(u: XdsUpdate): void {
    const compiled: { name: string; table: RetirableTable }[] = [];
    try {
      for (const [name, r] of u.added) {
        try {
          compiled.push({ name, table: compileRouteTable(body<RouteConfiguration>(r), this.deps.wasm) });
        } catch (err) {
          this.failedJson = { typeUrl: TYPE_URL.route, name, json: r.json };
          throw this.named('RouteConfiguration', name, err);
        }
      }
    } catch (err) {
      for (const c of compiled) c.table.retire?.(0);
      throw err;
    }
    // Counted against the listeners following each table now: a warming one moves on (binding) once it has its table.
    const reloaded = compiled.flatMap(({ name }) => this.rdsStats(name));
    for (const { name, table } of compiled) {
      const old = this.routeTables.get(name);
      this.routeTables.set(name, table);
      this.deps.listeners.setRouteTable(name, table);
      old?.retire?.(ROUTE_TABLE_GRACE_MS);
    }
    // A withdrawn route table stays in use by the listeners that follow it (Envoy keeps the last one too).
    this.touch(TYPE_URL.route, u.added.keys());
    for (const stats of reloaded) { stats.attempt.inc(); stats.success.inc(); stats.reload.inc(); }
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
      clusters: [
        ...[...this.clusterShown.values()].filter((e) => this.deps.clusters.get(e.name) !== undefined)
          .map((e) => ({ ...shownEntry(e), state: this.isWarming(e.name) ? 'warming' as const : 'active' as const })),
        ...[...this.servingShown.values()].map((e) => ({ ...shownEntry(e), state: 'active' as const })),
        // An update warming beside the cluster it will replace (Envoy lists both).
        ...[...this.pendingClusters.values()].map((p) => ({ ...shownEntry(p.entry), state: 'warming' as const })),
      ],
      routes: entries(TYPE_URL.route),
      endpoints: entries(TYPE_URL.endpoint),
      errors: {
        listeners: new Map(this.failures.get(TYPE_URL.listener)),
        clusters: new Map(this.failures.get(TYPE_URL.cluster)),
        routes: new Map(this.failures.get(TYPE_URL.route)),
        endpoints: new Map(this.failures.get(TYPE_URL.endpoint)),
      },
    };
  }
}

function shownEntry(e: ShownCluster): DumpEntry {
  return { name: e.name, version: e.version, lastUpdated: e.lastUpdated, json: e.resource.json };
}
