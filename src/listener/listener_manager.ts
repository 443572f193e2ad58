/**
 * Listeners: binds each configured Listener (socket_address; port 0 allowed), runs its listener filters,
 * picks a filter chain per connection (filter_chain_match, default_filter_chain), wraps the socket in the
 * chain's transport (raw_buffer or TLS) and hands it to the chain's terminal network filter (the HTTP
 * connection manager, tcp_proxy, ... from src/listener/network_filters.ts). It owns the downstream sockets'
 * bookkeeping until they close. Drain follows Envoy: stop accepting, let in-flight requests finish with
 * `connection: close`, close idle keep-alive connections, destroy what is left at the deadline. Main thread only.
 *
 * Listeners also come and go at run time (LDS), as Envoy's listener manager does:
 * - a listener whose filters follow RDS *warms* (is not bound, or keeps its predecessor serving) until every
 *   route table its chains name has arrived through setRouteTable(), and one whose TLS contexts name SDS
 *   secrets warms until they arrive or stop being waited for (src/tls/warming.ts); static listeners too;
 * - a changed listener on the same address keeps the bound server socket: new connections get the new
 *   filter chains, connections already open keep the ones they started with and drain;
 * - a changed listener on another address binds the new address, then the old one stops accepting and drains;
 * - a removed listener stops accepting and drains, its connections destroyed after the drain time.
 */
import net from 'node:net';
import { ConfigError, UnsupportedConfigError } from '../common/errors.js';
import type { Logger } from '../common/logger.js';
import type { Counter, Gauge, StatsStore } from '../common/stats.js';
import type { WasmInstance } from '../wasm/module.js';
import type { Any, Duration, Listener } from '../types/envoy.js';
import type { ConnectionInfo, NetworkFilter, NetworkFilterContext, ServedConnection } from '../types/network.js';
import type { RouteResolver, RouteTable } from '../types/router.js';
import type { ClusterManager } from '../types/upstream.js';
import { buildNetworkFilter, type FilterConfig } from './network_filters.js';
import { FilterChainSelector, needsTlsFacts, type ChainSelector, type ConnectionFacts, type FilterChainMatchConfig } from './filter_chain_match.js';
import { FilterChainMatcherSelector, type MatcherConfig } from './filter_chain_matcher.js';
import { readListenerFilters, runListenerFilters, type ListenerFilterConfig, type ListenerFiltersSpec } from './listener_filters.js';
import { buildDownstreamTransport, type DownstreamTransport, type TransportSocketConfig } from './transport.js';
import { ListenerSocketStats } from './listener_stats.js';
import { collectSecretWarming, type SecretWarming } from '../tls/warming.js';

/** Envoy's default --drain-time-s. */
const DEFAULT_DRAIN_TIME_MS = 600_000;
/** How long a replaced inline route table stays readable by worker threads after its listener drained. */
const INLINE_TABLE_GRACE_MS = 5_000;
const NO_DATA = Buffer.alloc(0);

/** What building a listener's network filters needs (the manager's deps). */
export interface ListenerBuildDeps {
  wasm: WasmInstance;
  stats: StatsStore;
  clusters: ClusterManager;
  /** The resolver of one route table; with `setTable` it follows RDS updates in place. */
  resolverFor(table: RouteTable): RouteResolver;
  log?: Logger;
}

export interface ListenerManagerDeps extends ListenerBuildDeps {
  /** How long a replaced or removed listener's connections may drain before they are destroyed. */
  drainTimeMs?: number;
}

export interface ListenerAddress { name: string; address: string; port: number }

/** What an xDS-delivered listener carries for /config_dump. */
export interface ListenerMeta { version: string; lastUpdated: Date; json: Record<string, unknown> }

export interface ListenerDumpEntry { name: string; state: 'active' | 'warming' | 'draining'; meta: ListenerMeta }

/** Listener fields Skiff reads (the rest is rejected by name). */
interface ListenerConfig extends Listener {
  filter_chains?: FilterChainConfig[];
  default_filter_chain?: FilterChainConfig;
  listener_filters?: ListenerFilterConfig[];
  listener_filters_timeout?: Duration;
  continue_on_listener_filters_timeout?: boolean;
  filter_chain_matcher?: MatcherConfig;
}

interface FilterChainConfig {
  name?: string;
  filter_chain_match?: FilterChainMatchConfig;
  filters?: FilterConfig[];
  transport_socket?: TransportSocketConfig;
}

/** One built filter chain: its terminal filter and transport. */
export interface FilterChainSpec {
  readonly name: string;
  readonly filter: NetworkFilter;
  /** undefined = raw_buffer. */
  readonly transport: DownstreamTransport | undefined;
}

/** A validated listener: nothing bound, its filters built (inline route tables compiled). */
export interface ListenerSpec {
  readonly name: string;
  readonly host: string;
  readonly requestedPort: number;
  readonly listenerFilters: ListenerFiltersSpec;
  /** Every chain, the default one included. */
  readonly chains: readonly FilterChainSpec[];
  readonly selector: ChainSelector<FilterChainSpec>;
  readonly defaultChain: FilterChainSpec | undefined;
  /** The chain every connection goes to without looking (one chain, empty match, no listener filters). */
  readonly only: FilterChainSpec | undefined;
  /** RDS route config names the chains wait for. */
  readonly rdsNames: readonly string[];
  /** The chains' TLS contexts still waiting for SDS secrets (the listener warms until they are warm). */
  readonly secrets: SecretWarming;
  /** JSON of the decoded config: tells a changed listener from a repeated one. */
  readonly fingerprint: string;
}

/** One bound server socket; `owner` is the listener new connections go to (swapped on an in-place update). */
interface BoundSocket {
  readonly server: net.Server;
  readonly host: string;
  readonly requestedPort: number;
  readonly port: number;
  readonly stats: ListenerSocketStats;
  owner: ActiveListener;
}

interface ActiveListener {
  readonly spec: ListenerSpec;
  readonly meta?: ListenerMeta;
  socket?: BoundSocket;
  connections: number;
  draining: boolean;
  drainTimer?: NodeJS.Timeout;
}

interface TrackedConnection {
  readonly socket: net.Socket;
  readonly listener: ActiveListener;
  /** Set once a network filter took the connection over. */
  served: ServedConnection | undefined;
}

/**
 * The facts of a connection that needs no chain selection (one chain, no listener filters): addresses are
 * read from the socket (a getsockname/getpeername each) only if a filter asks for them.
 */
class SocketFacts implements ConnectionFacts {
  readonly transportProtocol = 'raw_buffer';
  readonly serverName = '';
  readonly applicationProtocols: readonly string[] = [];
  constructor(private readonly socket: net.Socket) {}
  get localAddress(): string { return this.socket.localAddress ?? ''; }
  get localPort(): number { return this.socket.localPort ?? 0; }
  get remoteAddress(): string { return this.socket.remoteAddress ?? ''; }
  get remotePort(): number { return this.socket.remotePort ?? 0; }
}

/** ConnectionInfo of a plain-text connection, addresses read lazily from the facts. */
class RawConnectionInfo implements ConnectionInfo {
  readonly transportProtocol = 'raw_buffer';
  readonly peerSans: readonly string[] = [];
  constructor(private readonly facts: ConnectionFacts, readonly alpn: string) {}
  get serverName(): string { return this.facts.serverName; }
  get localAddress(): string { return this.facts.localAddress; }
  get localPort(): number { return this.facts.localPort; }
  get remoteAddress(): string { return this.facts.remoteAddress; }
  get remotePort(): number { return this.facts.remotePort; }
}

const LISTENER_FIELDS = new Set([
  'name', 'address', 'filter_chains', 'default_filter_chain', 'listener_filters', 'listener_filters_timeout',
  'continue_on_listener_filters_timeout', 'filter_chain_matcher',
]);
const CHAIN_FIELDS = new Set(['name', 'filter_chain_match', 'filters', 'transport_socket']);

function filterContext(deps: ListenerBuildDeps, listenerName: string): NetworkFilterContext {
  return { wasm: deps.wasm, stats: deps.stats, clusters: deps.clusters, resolverFor: deps.resolverFor, log: deps.log, listenerName };
}

function buildChain(c: FilterChainConfig, path: string, ctx: NetworkFilterContext, index: number): FilterChainSpec {
  for (const key of Object.keys(c)) if (!CHAIN_FIELDS.has(key)) throw new UnsupportedConfigError(`${path}.${key}`, 'field');
  const transport = buildDownstreamTransport(c.transport_socket, `${path}.transport_socket`, ctx.log);
  try {
    return { name: c.name || `chain_${index}`, filter: buildNetworkFilter(c.filters ?? [], path, ctx), transport };
  } catch (e) {
    transport?.dispose();
    throw e;
  }
}

function disposeChains(chains: readonly FilterChainSpec[], graceMs: number): void {
  for (const c of chains) {
    c.filter.dispose(graceMs);
    c.transport?.dispose();
  }
}

/** filter_chain_matcher picks chains by name: names must be unique (the chains' filter_chain_match is ignored). */
function matcherSelector(matcher: MatcherConfig, configs: readonly FilterChainConfig[], chains: readonly FilterChainSpec[], path: string,
  log: Logger | undefined): ChainSelector<FilterChainSpec> {
  const byName = new Map<string, FilterChainSpec>();
  configs.forEach((c, i) => {
    if (!c.name) throw new ConfigError(`${path}.filter_chains[${i}].name`, 'filter_chain_matcher needs every filter chain named');
    if (byName.has(c.name)) throw new ConfigError(`${path}.filter_chains[${i}].name`, `${JSON.stringify(c.name)} is not unique`);
    byName.set(c.name, chains[i]!);
  });
  return new FilterChainMatcherSelector(matcher, byName, path, log);
}

function isEmptyMatch(m: FilterChainMatchConfig | undefined): boolean {
  return m === undefined || Object.keys(m).length === 0;
}

/**
 * Validates a listener and builds its filter chains without binding anything: the step an LDS response takes
 * for every listener before any is applied. `path` names the listener in errors.
 */
export function buildListenerSpec(l: Listener, path: string, deps: ListenerBuildDeps, fallbackName = path): ListenerSpec {
  const lc = l as ListenerConfig;
  for (const key of Object.keys(lc)) if (!LISTENER_FIELDS.has(key)) throw new UnsupportedConfigError(`${path}.${key}`, 'field');
  const sa = lc.address?.socket_address;
  if (!sa) throw new ConfigError(`${path}.address.socket_address`, 'required');
  if (sa.protocol !== undefined && sa.protocol !== 'TCP') throw new UnsupportedConfigError(`${path}.address.socket_address.protocol`, `protocol ${sa.protocol}`);
  const chainConfigs = lc.filter_chains ?? [];
  if (chainConfigs.length === 0 && lc.default_filter_chain === undefined) {
    throw new UnsupportedConfigError(`${path}.filter_chains`, '0 filter chains (at least one, or a default_filter_chain, is required)');
  }
  const name = lc.name || fallbackName;
  const listenerFilters = readListenerFilters(lc.listener_filters, lc.listener_filters_timeout,
    lc.continue_on_listener_filters_timeout, path, deps.log, { wasm: deps.wasm, stats: deps.stats });
  const ctx = filterContext(deps, name);
  const chains: FilterChainSpec[] = [];
  try {
    const { value: { entries, defaultChain }, warming: secrets } = collectSecretWarming(() => {
      const entries = chainConfigs.map((c, i) => {
        const chain = buildChain(c, `${path}.filter_chains[${i}]`, ctx, i);
        chains.push(chain);
        return { match: c.filter_chain_match, path: `${path}.filter_chains[${i}]`, value: chain };
      });
      const defaultChain = lc.default_filter_chain === undefined ? undefined
        : buildChain(lc.default_filter_chain, `${path}.default_filter_chain`, ctx, chainConfigs.length);
      if (defaultChain !== undefined) chains.push(defaultChain);
      return { entries, defaultChain };
    });
    const selector = lc.filter_chain_matcher === undefined ? new FilterChainSelector(entries)
      : matcherSelector(lc.filter_chain_matcher, chainConfigs, chains, path, deps.log);
    // protocol_inspector supplies application_protocols on plain text; SNI and the transport still need tls_inspector.
    const plainTextFacts = listenerFilters.protocolInspector !== undefined || listenerFilters.httpInspector;
    const needsTls = (m: FilterChainMatchConfig | undefined): boolean => needsTlsFacts(plainTextFacts && m !== undefined
      ? { ...m, application_protocols: undefined } : m);
    if (!listenerFilters.tlsInspector && chainConfigs.some((c) => needsTls(c.filter_chain_match))) {
      deps.log?.warn(`${path}: filter chains match on server_names, transport_protocol or application_protocols but the listener has no `
        + 'envoy.filters.listener.tls_inspector: SNI stays empty and the transport raw_buffer (Envoy does the same)');
    }
    const noFilters = !listenerFilters.tlsInspector && !listenerFilters.httpInspector && listenerFilters.protocolInspector === undefined;
    const only = noFilters && chainConfigs.length === 1 && lc.filter_chain_matcher === undefined && isEmptyMatch(chainConfigs[0]!.filter_chain_match) ? chains[0]
      : noFilters && chainConfigs.length === 0 ? defaultChain : undefined;
    const rdsNames = [...new Set(chains.flatMap((c) => c.filter.rdsNames))];
    return {
      name, host: sa.address || '0.0.0.0', requestedPort: sa.port_value ?? 0, listenerFilters, chains, selector,
      defaultChain, only, rdsNames, secrets, fingerprint: JSON.stringify(l),
    };
  } catch (e) {
    disposeChains(chains, 0);
    throw e;
  }
}

/** Frees a spec's filters (a spec that was built but never applied, or whose listener is gone). */
export function disposeListenerSpec(spec: ListenerSpec, graceMs = 0): void {
  disposeChains(spec.chains, graceMs);
}

class ListenerManagerStats {
  readonly active: Gauge;
  readonly warming: Gauge;
  readonly draining: Gauge;
  readonly added: Counter;
  readonly modified: Counter;
  readonly removed: Counter;
  readonly createFailure: Counter;
  constructor(store: StatsStore) {
    const s = store.scope('listener_manager.');
    this.active = s.gauge('total_listeners_active');
    this.warming = s.gauge('total_listeners_warming');
    this.draining = s.gauge('total_listeners_draining');
    this.added = s.counter('listener_added');
    this.modified = s.counter('listener_modified');
    this.removed = s.counter('listener_removed');
    this.createFailure = s.counter('listener_create_failure');
  }
}

export class ListenerManager {
  private readonly initial: ListenerSpec[];
  private readonly active = new Map<string, ActiveListener>();
  private readonly warming = new Map<string, ActiveListener>();
  private readonly drainingListeners = new Set<ActiveListener>();
  private readonly routeTables = new Map<string, RouteTable>();
  private readonly connections = new Set<TrackedConnection>();
  private readonly log: Logger | undefined;
  private readonly stats: ListenerManagerStats;
  private connectionsGone: (() => void) | undefined;
  private stopped = false;
  /** Activations (binds) under way. */
  private binding = 0;
  /** The latest activation per name: an older one finishing its bind later is outdated. */
  private readonly activating = new Map<string, ActiveListener>();
  /** whenSecretsWarm() callers, told when no listener waits for secrets or binds any more. */
  private readonly secretWaiters = new Set<() => void>();

  /** Validates every listener up front: a bad one fails construction, before anything binds. */
  constructor(listeners: readonly Listener[], private readonly deps: ListenerManagerDeps) {
    this.log = deps.log;
    this.stats = new ListenerManagerStats(deps.stats);
    const specs: ListenerSpec[] = [];
    try {
      listeners.forEach((l, i) => specs.push(buildListenerSpec(l, `static_resources.listeners[${i}]`, deps, `listener_${i}`)));
    } catch (err) {
      for (const s of specs) disposeListenerSpec(s);
      throw err;
    }
    this.initial = specs;
  }

  /**
   * Binds every static listener (one following RDS warms until its routes arrive); if one fails, the ones
   * already bound are closed again before the error is thrown.
   */
  async start(): Promise<void> {
    try {
      for (const spec of this.initial) {
        const l = this.newListener(spec, undefined);
        if (this.isWarm(l)) {
          await this.activate(l);
        } else {
          this.startWarming(l);
        }
      }
    } catch (err) {
      this.close();
      throw err;
    } finally {
      this.updateGauges();
    }
  }

  /**
   * Resolves once no listener is warming or binding, or after `timeoutMs` (then some are still warming): what
   * the server waits for before it reports ready, as Envoy's init manager waits for listener warming.
   */
  async whenWarm(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (this.warming.size > 0 || this.binding > 0) {
      if (Date.now() >= deadline || this.stopped) return false;
      await new Promise((r) => setTimeout(r, 10));
    }
    return true;
  }

  /**
   * Resolves once no listener waits for SDS secrets and none is binding (or the manager stopped): Envoy's
   * server init waits for listeners' secrets, each wait bounded by its own initial_fetch_timeout (0s: for ever).
   */
  whenSecretsWarm(): Promise<void> {
    if (this.secretsSettled()) return Promise.resolve();
    return new Promise((resolve) => { this.secretWaiters.add(resolve); });
  }

  private secretsSettled(): boolean {
    if (this.stopped) return true;
    if (this.binding > 0) return false;
    for (const l of this.warming.values()) if (!l.spec.secrets.warm) return false;
    return true;
  }

  /** buildListenerSpec with this manager's deps (LDS: validate every listener of a response before applying any). */
  buildSpec(l: Listener, path: string, fallbackName = path): ListenerSpec {
    return buildListenerSpec(l, path, this.deps, fallbackName);
  }

  /** Names every static listener was configured with (LDS cannot replace them). */
  staticNames(): Set<string> {
    return new Set(this.initial.map((s) => s.name));
  }

  /**
   * Adds or replaces a listener (LDS). The spec must come from buildListenerSpec; it is owned by the manager
   * from here on (also when 'unchanged': then it is disposed). Binding happens asynchronously; a bind failure
   * is logged and counted (listener_create_failure) and the previous listener of the name keeps serving.
   */
  addOrUpdateListener(spec: ListenerSpec, meta: ListenerMeta): 'added' | 'updated' | 'unchanged' {
    const current = this.warming.get(spec.name) ?? this.active.get(spec.name);
    if (current !== undefined && current.spec.fingerprint === spec.fingerprint) {
      disposeListenerSpec(spec);
      return 'unchanged';
    }
    this.activating.delete(spec.name); // a bind still under way for this name is outdated now
    const replacedWarming = this.warming.get(spec.name);
    if (replacedWarming !== undefined) {
      this.warming.delete(spec.name);
      disposeListenerSpec(replacedWarming.spec);
    }
    const l = this.newListener(spec, meta);
    const existed = this.active.has(spec.name) || replacedWarming !== undefined;
    (existed ? this.stats.modified : this.stats.added).inc();
    if (this.isWarm(l)) {
      void this.activate(l).catch((err: Error) => this.bindFailed(l, err));
    } else {
      this.startWarming(l);
    }
    this.updateGauges();
    return existed ? 'updated' : 'added';
  }

  /** Removes a listener (LDS): it stops accepting and its connections drain. False when there was none. */
  removeListener(name: string): boolean {
    const warm = this.warming.get(name);
    if (warm !== undefined) {
      this.warming.delete(name);
      disposeListenerSpec(warm.spec);
    }
    const pending = this.activating.get(name);
    this.activating.delete(name);
    const l = this.active.get(name);
    if (l !== undefined) {
      this.active.delete(name);
      if (l.socket?.owner === l) l.socket.server.close();
      this.drainListener(l);
    }
    const removed = warm !== undefined || l !== undefined || pending !== undefined;
    if (removed) this.stats.removed.inc();
    this.updateGauges();
    return removed;
  }

  /**
   * The route table named `name` (RDS): swapped into every connection manager that follows it (requests
   * already routed keep the entry they got; the next request sees the new table), and warming listeners
   * waiting only for it start serving. The caller owns the tables and retires the one replaced.
   */
  setRouteTable(name: string, table: RouteTable): void {
    this.routeTables.set(name, table);
    for (const l of [...this.active.values(), ...this.drainingListeners, ...this.warming.values()]) {
      for (const c of l.spec.chains) if (c.filter.rdsNames.includes(name)) c.filter.setRouteTable?.(name, table);
    }
    this.activateWarmed();
  }

  /** Puts a listener in the warming set; once its secrets are warm it is looked at again. */
  private startWarming(l: ActiveListener): void {
    this.warming.set(l.spec.name, l);
    // A spec disposed while warming (replaced, removed) disposes its contexts, which then never call back.
    if (!l.spec.secrets.warm) l.spec.secrets.whenWarm(() => { if (this.warming.get(l.spec.name) === l) this.activateWarmed(); });
  }

  /** Activates every warming listener that has its route tables and secrets now. */
  private activateWarmed(): void {
    for (const l of [...this.warming.values()]) {
      if (!this.isWarm(l)) continue;
      this.warming.delete(l.spec.name);
      void this.activate(l).catch((err: Error) => this.bindFailed(l, err));
    }
    this.updateGauges();
  }

  /** Route config names every listener (active, warming or draining) follows over RDS. */
  rdsNames(): Set<string> {
    const names = new Set<string>();
    for (const l of [...this.active.values(), ...this.warming.values(), ...this.drainingListeners]) {
      for (const n of l.spec.rdsNames) names.add(n);
    }
    return names;
  }

  /** Listeners that came over LDS, active, warming and draining, for /config_dump. */
  dynamicListeners(): ListenerDumpEntry[] {
    const out: ListenerDumpEntry[] = [];
    for (const l of this.active.values()) if (l.meta) out.push({ name: l.spec.name, state: 'active', meta: l.meta });
    for (const l of this.warming.values()) if (l.meta) out.push({ name: l.spec.name, state: 'warming', meta: l.meta });
    for (const l of this.drainingListeners) if (l.meta) out.push({ name: l.spec.name, state: 'draining', meta: l.meta });
    return out;
  }

  private newListener(spec: ListenerSpec, meta: ListenerMeta | undefined): ActiveListener {
    return { spec, meta, connections: 0, draining: false };
  }

  private isWarm(l: ActiveListener): boolean {
    return l.spec.secrets.warm && l.spec.rdsNames.every((n) => this.routeTables.has(n));
  }

  /** Hands the chains their route tables, takes over the same-address socket or binds a new one, then retires the predecessor. */
  private async activate(l: ActiveListener): Promise<void> {
    if (this.stopped) { disposeListenerSpec(l.spec); return; }
    for (const c of l.spec.chains) {
      for (const n of c.filter.rdsNames) c.filter.setRouteTable?.(n, this.routeTables.get(n)!);
    }
    this.activating.set(l.spec.name, l);
    const old = this.active.get(l.spec.name);
    const sameAddress = old?.socket !== undefined && old.socket.host === l.spec.host
      && (old.socket.requestedPort === l.spec.requestedPort || old.socket.port === l.spec.requestedPort);
    if (old !== undefined && sameAddress) {
      l.socket = old.socket;
      l.socket!.owner = l;
    } else {
      this.binding++;
      try {
        l.socket = await this.bind(l);
      } finally {
        this.binding--;
      }
    }
    // A newer update or a removal of this name (or a stop) may have come while binding: this one is outdated.
    const outdated = this.stopped || this.activating.get(l.spec.name) !== l;
    if (this.activating.get(l.spec.name) === l) this.activating.delete(l.spec.name);
    if (outdated) {
      if (l.socket !== undefined && l.socket !== old?.socket) l.socket.server.close();
      this.drainListener(l);
      return;
    }
    this.active.set(l.spec.name, l);
    if (old !== undefined) {
      if (!sameAddress && old.socket?.owner === old) old.socket.server.close();
      this.drainListener(old);
    }
    this.updateGauges();
  }

  private bindFailed(l: ActiveListener, err: Error): void {
    if (this.activating.get(l.spec.name) === l) this.activating.delete(l.spec.name);
    this.stats.createFailure.inc();
    this.log?.error(`listener ${l.spec.name}: cannot bind ${l.spec.host}:${l.spec.requestedPort}: ${err.message}`);
    disposeListenerSpec(l.spec);
    this.updateGauges();
  }

  private async bind(l: ActiveListener): Promise<BoundSocket> {
    const server = net.createServer({ noDelay: true });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(l.spec.requestedPort, l.spec.host, () => { server.off('error', reject); resolve(); });
    });
    server.on('error', (err) => this.log?.error(`listener ${l.spec.name}: ${err.message}`));
    const port = (server.address() as net.AddressInfo).port;
    const bound: BoundSocket = {
      server, host: l.spec.host, requestedPort: l.spec.requestedPort, port, owner: l,
      stats: new ListenerSocketStats(this.deps.stats, l.spec.host, port),
    };
    server.on('connection', (socket: net.Socket) => this.onConnection(bound, socket));
    return bound;
  }

  addresses(): ListenerAddress[] {
    return [...this.active.values()]
      .filter((l) => l.socket !== undefined)
      .map((l) => ({ name: l.spec.name, address: l.spec.host, port: l.socket!.port }));
  }

  private onConnection(bound: BoundSocket, socket: net.Socket): void {
    const l = bound.owner;
    const stats = bound.stats;
    stats.downstream_cx_total.inc();
    stats.downstream_cx_active.inc();
    const tracked: TrackedConnection = { socket, listener: l, served: undefined };
    this.connections.add(tracked);
    l.connections++;
    // Until a filter owns the socket (and after, for errors it does not see), an error only closes it.
    socket.on('error', (err) => this.log?.debug(`listener ${l.spec.name}: downstream socket: ${err.message}`));
    socket.once('close', () => {
      this.connections.delete(tracked);
      l.connections--;
      stats.downstream_cx_active.dec();
      stats.downstream_cx_destroy.inc();
      if (l.draining && l.connections === 0) this.drained(l);
      if (this.connections.size === 0) this.connectionsGone?.();
    });
    const spec = l.spec;
    if (spec.only !== undefined) {
      this.startChain(tracked, spec.only, new SocketFacts(socket), NO_DATA, stats);
      return;
    }
    const lf = spec.listenerFilters;
    if (!lf.tlsInspector && !lf.httpInspector && lf.protocolInspector === undefined) {
      this.pickChain(tracked, this.facts(socket, 'raw_buffer', '', []), NO_DATA, stats);
      return;
    }
    stats.downstream_pre_cx_active.inc();
    runListenerFilters(socket, lf, (outcome) => {
      stats.downstream_pre_cx_active.dec();
      if (!outcome.ok) {
        if (outcome.reason === 'timeout') stats.downstream_pre_cx_timeout.inc();
        socket.destroy();
        return;
      }
      const i = outcome.inspection;
      this.pickChain(tracked, this.facts(socket, i.transportProtocol, i.serverName, i.applicationProtocols), i.data, stats);
    });
  }

  private facts(socket: net.Socket, transportProtocol: string, serverName: string, applicationProtocols: readonly string[]): ConnectionFacts {
    return {
      localAddress: socket.localAddress ?? '', localPort: socket.localPort ?? 0,
      remoteAddress: socket.remoteAddress ?? '', remotePort: socket.remotePort ?? 0,
      transportProtocol, serverName, applicationProtocols,
    };
  }

  private pickChain(tracked: TrackedConnection, facts: ConnectionFacts, data: Buffer, stats: ListenerSocketStats): void {
    const spec = tracked.listener.spec;
    const chain = spec.selector.select(facts) ?? spec.defaultChain;
    if (chain === undefined) {
      stats.no_filter_chain_match.inc();
      this.log?.debug(`listener ${spec.name}: no filter chain matches ${facts.remoteAddress}:${facts.remotePort} -> ${facts.localAddress}:${facts.localPort} sni=${facts.serverName}`);
      tracked.socket.destroy();
      return;
    }
    this.startChain(tracked, chain, facts, data, stats);
  }

  /** Secures the connection when the chain terminates TLS, then hands it to the chain's terminal filter. */
  private startChain(tracked: TrackedConnection, chain: FilterChainSpec, facts: ConnectionFacts, data: Buffer, stats: ListenerSocketStats): void {
    const socket = tracked.socket;
    if (socket.destroyed) return;
    if (chain.transport === undefined) {
      const alpn = facts.applicationProtocols.length === 1 && facts.transportProtocol === 'raw_buffer' ? facts.applicationProtocols[0]! : '';
      this.serve(tracked, chain, { socket, info: new RawConnectionInfo(facts, alpn), initialData: data });
      return;
    }
    const base = {
      remoteAddress: facts.remoteAddress, remotePort: facts.remotePort, localAddress: facts.localAddress, localPort: facts.localPort,
    };
    chain.transport.accept(socket, data, stats.ssl, (outcome) => {
      if (!outcome.ok) {
        this.log?.debug(`listener ${tracked.listener.spec.name}: TLS from ${facts.remoteAddress}:${facts.remotePort}: ${outcome.reason}`);
        socket.destroy();
        return;
      }
      const c = outcome.conn;
      const info: ConnectionInfo = { ...base, transportProtocol: 'tls', serverName: c.serverName, alpn: c.alpn, peerSans: c.peerSans };
      this.serve(tracked, chain, { socket: c.socket, info, initialData: NO_DATA });
    });
  }

  private serve(tracked: TrackedConnection, chain: FilterChainSpec, conn: Parameters<NetworkFilter['onConnection']>[0]): void {
    if (tracked.socket.destroyed) return;
    try {
      tracked.served = chain.filter.onConnection(conn);
      if (tracked.listener.draining) tracked.served.drain();
    } catch (e) {
      this.log?.error(`listener ${tracked.listener.spec.name}: connection setup failed: ${e instanceof Error ? e.message : String(e)}`);
      tracked.socket.destroy();
    }
  }

  /**
   * Lets one replaced or removed listener's connections finish their in-flight requests (responses carry
   * `connection: close`), closes its idle ones, and destroys the rest after the drain time.
   */
  private drainListener(l: ActiveListener): void {
    if (l.draining) return;
    l.draining = true;
    for (const c of l.spec.chains) c.filter.startDraining();
    if (l.connections === 0) { this.drained(l); return; }
    this.drainingListeners.add(l);
    for (const c of [...this.connections]) if (c.listener === l) this.drainConnection(c);
    if (l.connections === 0) return; // closeIfIdle closed them all synchronously
    l.drainTimer = setTimeout(() => {
      for (const c of [...this.connections]) if (c.listener === l) this.destroyConnection(c);
    }, this.deps.drainTimeMs ?? DEFAULT_DRAIN_TIME_MS);
    l.drainTimer.unref();
    this.updateGauges();
  }

  /** Closes a connection now: what serves it (a TLS socket over the accepted one, a codec), then the socket. */
  private destroyConnection(c: TrackedConnection): void {
    c.served?.destroy();
    c.socket.destroy();
  }

  /** A served connection finishes what is in flight; one still in its listener filters or handshake just closes. */
  private drainConnection(c: TrackedConnection): void {
    if (c.served !== undefined) c.served.drain();
    else c.socket.destroy();
  }

  private drained(l: ActiveListener): void {
    if (l.drainTimer) clearTimeout(l.drainTimer);
    this.drainingListeners.delete(l);
    disposeListenerSpec(l.spec, INLINE_TABLE_GRACE_MS);
    this.updateGauges();
  }

  /** Called after every change of state: the gauges follow, and whenSecretsWarm() callers are told when it holds. */
  private updateGauges(): void {
    this.stats.active.set(this.active.size);
    this.stats.warming.set(this.warming.size);
    this.stats.draining.set(this.drainingListeners.size);
    if (this.secretWaiters.size > 0 && this.secretsSettled()) {
      const waiters = [...this.secretWaiters];
      this.secretWaiters.clear();
      for (const w of waiters) w();
    }
  }

  private servers(): net.Server[] {
    const out = new Set<net.Server>();
    for (const l of [...this.active.values(), ...this.drainingListeners]) if (l.socket) out.add(l.socket.server);
    return [...out];
  }

  /** Stops accepting new connections; existing ones keep being served. */
  stopAccepting(): void {
    for (const s of this.servers()) if (s.listening) s.close();
  }

  /**
   * Lets in-flight requests complete (their responses carry `connection: close`), closes idle
   * connections, and resolves when every connection is gone or after `timeoutMs`, destroying the rest.
   */
  async drain(timeoutMs: number): Promise<void> {
    this.stopAccepting();
    for (const l of [...this.active.values(), ...this.drainingListeners]) for (const c of l.spec.chains) c.filter.startDraining();
    for (const c of [...this.connections]) this.drainConnection(c);
    if (this.connections.size > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, Math.max(0, timeoutMs));
        function done(): void { clearTimeout(timer); resolve(); }
        this.connectionsGone = done;
      });
      this.connectionsGone = undefined;
    }
    for (const c of [...this.connections]) this.destroyConnection(c);
  }

  /** Closes listeners and destroys every connection at once. */
  close(): void {
    this.stopped = true;
    this.updateGauges(); // whenSecretsWarm() callers stop waiting
    this.stopAccepting();
    for (const l of this.drainingListeners) if (l.drainTimer) clearTimeout(l.drainTimer);
    for (const c of [...this.connections]) this.destroyConnection(c);
  }
}
