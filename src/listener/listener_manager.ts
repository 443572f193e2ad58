/**
 * Listeners: binds each configured Listener (socket_address; port 0 allowed), runs one HTTP
 * connection manager per listener (one filter chain with envoy.filters.network.http_connection_manager)
 * and owns the downstream sockets until they close. Drain follows Envoy: stop accepting, let in-flight
 * requests finish with `connection: close`, close idle keep-alive connections, destroy what is left
 * at the deadline. Main thread only.
 *
 * Listeners also come and go at run time (LDS), as Envoy's listener manager does:
 * - a listener whose connection manager follows RDS *warms* (is not bound, or keeps its predecessor serving)
 *   until its route table arrives through setRouteTable();
 * - a changed listener on the same address keeps the bound server socket: new connections get the new
 *   filter chain config, connections already open keep the one they started with and drain;
 * - a changed listener on another address binds the new address, then the old one stops accepting and drains;
 * - a removed listener stops accepting and drains, its connections destroyed after the drain time.
 */
import net from 'node:net';
import { ConfigError, UnsupportedConfigError } from '../common/errors.js';
import type { Logger } from '../common/logger.js';
import type { Counter, Gauge, StatsStore } from '../common/stats.js';
import type { WasmInstance } from '../wasm/module.js';
import type { HttpConnectionManager, Listener } from '../types/envoy.js';
import type { RouteResolver, RouteTable } from '../types/router.js';
import type { ClusterManager } from '../types/upstream.js';
import { compileRouteTable } from '../router/index.js';
import { ServerConnection } from '../stream/http1/server.js';
import { hash64 } from '../upstream/hash.js';
import { connectionManagerConfig, HCM_FILTER_NAME, HCM_TYPE_URL, type ConnectionManagerConfig } from '../proxy/config.js';
import { ConnectionManager } from '../proxy/connection_manager.js';
import { ListenerStats } from '../proxy/stats.js';

/** Envoy's default --drain-time-s. */
const DEFAULT_DRAIN_TIME_MS = 600_000;
/** How long a replaced inline route table stays readable by worker threads after its listener drained. */
const INLINE_TABLE_GRACE_MS = 5_000;

export interface ListenerManagerDeps {
  wasm: WasmInstance;
  stats: StatsStore;
  clusters: ClusterManager;
  /** The resolver of one connection manager; with `setTable` it follows RDS updates in place. */
  resolverFor(table: RouteTable): RouteResolver;
  log?: Logger;
  /** How long a replaced or removed listener's connections may drain before they are destroyed. */
  drainTimeMs?: number;
}

export interface ListenerAddress { name: string; address: string; port: number }

/** What an xDS-delivered listener carries for /config_dump. */
export interface ListenerMeta { version: string; lastUpdated: Date; json: Record<string, unknown> }

export interface ListenerDumpEntry { name: string; state: 'active' | 'warming' | 'draining'; meta: ListenerMeta }

/** A validated listener: nothing bound, its inline route table (if any) compiled. */
export interface ListenerSpec {
  readonly name: string;
  readonly host: string;
  readonly requestedPort: number;
  readonly hcm: ConnectionManagerConfig;
  /** JSON of the decoded config: tells a changed listener from a repeated one. */
  readonly fingerprint: string;
  readonly inlineTable?: RouteTable & { retire?(graceMs?: number): void };
}

type SwappableResolver = RouteResolver & { setTable(table: RouteTable): void };

function isSwappable(r: RouteResolver): r is SwappableResolver {
  return typeof (r as Partial<SwappableResolver>).setTable === 'function';
}

/** One bound server socket; `owner` is the listener new connections go to (swapped on an in-place update). */
interface BoundSocket {
  readonly server: net.Server;
  readonly host: string;
  readonly requestedPort: number;
  readonly port: number;
  readonly stats: ListenerStats;
  owner: ActiveListener;
}

interface ActiveListener {
  readonly spec: ListenerSpec;
  readonly meta?: ListenerMeta;
  socket?: BoundSocket;
  cm?: ConnectionManager;
  resolver?: RouteResolver;
  connections: number;
  draining: boolean;
  drainTimer?: NodeJS.Timeout;
}

interface TrackedConnection {
  readonly socket: net.Socket;
  readonly listener: ActiveListener;
  closeIfIdle(): void;
}

/** Reads the one HTTP connection manager of a listener, rejecting anything else by name. */
function readListener(l: Listener, path: string, fallbackName: string): Omit<ListenerSpec, 'fingerprint' | 'inlineTable'> {
  const sa = l.address?.socket_address;
  if (!sa) throw new ConfigError(`${path}.address.socket_address`, 'required');
  if (sa.protocol !== undefined && sa.protocol !== 'TCP') throw new UnsupportedConfigError(`${path}.address.socket_address.protocol`, `protocol ${sa.protocol}`);
  const chains = l.filter_chains ?? [];
  if (chains.length !== 1) throw new UnsupportedConfigError(`${path}.filter_chains`, `${chains.length} filter chains (exactly one is supported)`);
  const filters = chains[0]!.filters ?? [];
  if (filters.length !== 1) throw new UnsupportedConfigError(`${path}.filter_chains[0].filters`, `${filters.length} network filters (exactly one http_connection_manager is supported)`);
  const f = filters[0]!;
  const fpath = `${path}.filter_chains[0].filters[0]`;
  const type = f.typed_config?.['@type'];
  if (f.name !== HCM_FILTER_NAME && type !== HCM_TYPE_URL) throw new UnsupportedConfigError(fpath, `network filter ${f.name}`);
  if (!f.typed_config || type !== HCM_TYPE_URL) throw new ConfigError(`${fpath}.typed_config`, `expected ${HCM_TYPE_URL}`);
  const hcm = connectionManagerConfig(f.typed_config as unknown as HttpConnectionManager, fpath);
  return { name: l.name || fallbackName, host: sa.address || '0.0.0.0', requestedPort: sa.port_value ?? 0, hcm };
}

/** Compiles a listener's inline route_config once; errors name the full field path. */
function compileInline(hcm: ConnectionManagerConfig, path: string, wasm: WasmInstance): ListenerSpec['inlineTable'] {
  if (!hcm.routeConfig) return undefined;
  try {
    return compileRouteTable(hcm.routeConfig, wasm);
  } catch (e) {
    if (e instanceof ConfigError) {
      const detail = e.message.startsWith(`${e.path}: `) ? e.message.slice(e.path.length + 2) : e.message;
      const base = `${path}.filter_chains[0].filters[0].typed_config`;
      const field = e.path.startsWith('route_config') ? e.path : `route_config.${e.path}`;
      throw new ConfigError(`${base}.${field}`, detail, { cause: e });
    }
    throw e;
  }
}

/**
 * Validates a listener and compiles its inline routes without binding anything: the step an LDS response
 * takes for every listener before any is applied. `path` names the listener in errors.
 */
export function buildListenerSpec(l: Listener, path: string, wasm: WasmInstance, fallbackName = path): ListenerSpec {
  const read = readListener(l, path, fallbackName);
  return { ...read, fingerprint: JSON.stringify(l), inlineTable: compileInline(read.hcm, path, wasm) };
}

/** Frees a spec's inline table (a spec that was built but never applied, or whose listener is gone). */
export function disposeListenerSpec(spec: ListenerSpec, graceMs = 0): void {
  spec.inlineTable?.retire?.(graceMs);
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

  /** Validates every listener up front: a bad one fails construction, before anything binds. */
  constructor(listeners: readonly Listener[], private readonly deps: ListenerManagerDeps) {
    this.log = deps.log;
    this.stats = new ListenerManagerStats(deps.stats);
    const specs: ListenerSpec[] = [];
    try {
      listeners.forEach((l, i) => specs.push(buildListenerSpec(l, `static_resources.listeners[${i}]`, deps.wasm, `listener_${i}`)));
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
          this.warming.set(spec.name, l);
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
      this.warming.set(spec.name, l);
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
    for (const l of [...this.active.values(), ...this.drainingListeners]) {
      if (l.spec.hcm.rdsRouteConfigName !== name || l.resolver === undefined) continue;
      if (isSwappable(l.resolver)) l.resolver.setTable(table);
      else this.log?.error(`listener ${l.spec.name}: its route resolver cannot follow RDS updates`);
    }
    for (const l of [...this.warming.values()]) {
      if (l.spec.hcm.rdsRouteConfigName !== name) continue;
      this.warming.delete(l.spec.name);
      void this.activate(l).catch((err: Error) => this.bindFailed(l, err));
    }
    this.updateGauges();
  }

  /** Route config names every listener (active, warming or draining) follows over RDS. */
  rdsNames(): Set<string> {
    const names = new Set<string>();
    for (const l of [...this.active.values(), ...this.warming.values(), ...this.drainingListeners]) {
      const n = l.spec.hcm.rdsRouteConfigName;
      if (n !== undefined) names.add(n);
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
    const rds = l.spec.hcm.rdsRouteConfigName;
    return rds === undefined || this.routeTables.has(rds);
  }

  /** Builds the connection manager, takes over the same-address socket or binds a new one, then retires the predecessor. */
  private async activate(l: ActiveListener): Promise<void> {
    if (this.stopped) { disposeListenerSpec(l.spec); return; }
    const table = l.spec.inlineTable ?? this.routeTables.get(l.spec.hcm.rdsRouteConfigName!)!;
    l.resolver = this.deps.resolverFor(table);
    l.cm = new ConnectionManager(l.spec.hcm, {
      stats: this.deps.stats, clusters: this.deps.clusters, resolver: l.resolver, hashKey: hash64, log: this.log,
    });
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
      stats: new ListenerStats(this.deps.stats, l.spec.host, port),
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
    const cm = l.cm!;
    bound.stats.downstream_cx_total.inc();
    bound.stats.downstream_cx_active.inc();
    const handler = cm.newConnection(() => socket.end());
    const tracked: TrackedConnection = { socket, listener: l, closeIfIdle: () => handler.closeIfIdle() };
    this.connections.add(tracked);
    l.connections++;
    socket.once('close', () => {
      this.connections.delete(tracked);
      l.connections--;
      bound.stats.downstream_cx_active.dec();
      bound.stats.downstream_cx_destroy.inc();
      cm.connectionClosed();
      if (l.draining && l.connections === 0) this.drained(l);
      if (this.connections.size === 0) this.connectionsGone?.();
    });
    try {
      new ServerConnection(this.deps.wasm, socket, handler, {
        maxRequestHeadersKb: l.spec.hcm.maxRequestHeadersKb,
        maxHeadersCount: l.spec.hcm.maxHeadersCount,
        requestHeadersTimeoutMs: l.spec.hcm.requestHeadersTimeoutMs,
        idleTimeoutMs: l.spec.hcm.idleTimeoutMs,
      });
    } catch (e) {
      this.log?.error(`listener ${l.spec.name}: connection setup failed: ${e instanceof Error ? e.message : String(e)}`);
      socket.destroy();
    }
  }

  /**
   * Lets one replaced or removed listener's connections finish their in-flight requests (responses carry
   * `connection: close`), closes its idle ones, and destroys the rest after the drain time.
   */
  private drainListener(l: ActiveListener): void {
    if (l.draining) return;
    l.draining = true;
    l.cm?.startDraining();
    if (l.connections === 0) { this.drained(l); return; }
    this.drainingListeners.add(l);
    for (const c of [...this.connections]) if (c.listener === l) c.closeIfIdle();
    if (l.connections === 0) return; // closeIfIdle closed them all synchronously
    l.drainTimer = setTimeout(() => {
      for (const c of [...this.connections]) if (c.listener === l) c.socket.destroy();
    }, this.deps.drainTimeMs ?? DEFAULT_DRAIN_TIME_MS);
    l.drainTimer.unref();
    this.updateGauges();
  }

  private drained(l: ActiveListener): void {
    if (l.drainTimer) clearTimeout(l.drainTimer);
    this.drainingListeners.delete(l);
    disposeListenerSpec(l.spec, INLINE_TABLE_GRACE_MS);
    this.updateGauges();
  }

  private updateGauges(): void {
    this.stats.active.set(this.active.size);
    this.stats.warming.set(this.warming.size);
    this.stats.draining.set(this.drainingListeners.size);
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
    for (const l of [...this.active.values(), ...this.drainingListeners]) l.cm?.startDraining();
    for (const c of [...this.connections]) c.closeIfIdle();
    if (this.connections.size > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, Math.max(0, timeoutMs));
        function done(): void { clearTimeout(timer); resolve(); }
        this.connectionsGone = done;
      });
      this.connectionsGone = undefined;
    }
    for (const c of [...this.connections]) c.socket.destroy();
  }

  /** Closes listeners and destroys every connection at once. */
  close(): void {
    this.stopped = true;
    this.stopAccepting();
    for (const l of this.drainingListeners) if (l.drainTimer) clearTimeout(l.drainTimer);
    for (const c of [...this.connections]) c.socket.destroy();
  }
}
