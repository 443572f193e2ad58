/**
 * Listeners: binds each configured Listener (socket_address; port 0 allowed), runs one HTTP
 * connection manager per listener (one filter chain with envoy.filters.network.http_connection_manager)
 * and owns the downstream sockets until they close. Drain follows Envoy: stop accepting, let in-flight
 * requests finish with `connection: close`, close idle keep-alive connections, destroy what is left
 * at the deadline. Main thread only.
 */
import net from 'node:net';
import { ConfigError, UnsupportedConfigError } from '../common/errors.js';
import type { Logger } from '../common/logger.js';
import type { StatsStore } from '../common/stats.js';
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

export interface ListenerManagerDeps {
  wasm: WasmInstance;
  stats: StatsStore;
  clusters: ClusterManager;
  resolverFor(table: RouteTable): RouteResolver;
  log?: Logger;
}

export interface ListenerAddress { name: string; address: string; port: number }

interface ActiveListener {
  readonly name: string;
  readonly host: string;
  readonly requestedPort: number;
  readonly hcm: ConnectionManagerConfig;
  table?: RouteTable;
  cm?: ConnectionManager;
  server?: net.Server;
  port: number;
  stats?: ListenerStats;
}

interface TrackedConnection {
  readonly socket: net.Socket;
  readonly listener: ActiveListener;
  closeIfIdle(): void;
}

/** Reads the one HTTP connection manager of a listener, rejecting anything else by name. */
function listenerSpec(l: Listener, i: number): ActiveListener {
  const path = `static_resources.listeners[${i}]`;
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
  const port = sa.port_value ?? 0;
  return { name: l.name ?? `listener_${i}`, host: sa.address || '0.0.0.0', requestedPort: port, hcm, port };
}

/** Compiles a listener's inline route_config once; errors name the full field path. */
function compileRoutes(l: ActiveListener, i: number, wasm: WasmInstance): RouteTable {
  try {
    return compileRouteTable(l.hcm.routeConfig, wasm);
  } catch (e) {
    if (e instanceof ConfigError) {
      const detail = e.message.startsWith(`${e.path}: `) ? e.message.slice(e.path.length + 2) : e.message;
      const base = `static_resources.listeners[${i}].filter_chains[0].filters[0].typed_config`;
      const field = e.path.startsWith('route_config') ? e.path : `route_config.${e.path}`;
      throw new ConfigError(`${base}.${field}`, detail, { cause: e });
    }
    throw e;
  }
}

export class ListenerManager {
  private readonly listeners: ActiveListener[];
  private readonly connections = new Set<TrackedConnection>();
  private readonly log: Logger | undefined;
  private connectionsGone: (() => void) | undefined;

  /** Validates every listener up front: a bad one fails construction, before anything binds. */
  constructor(listeners: readonly Listener[], private readonly deps: ListenerManagerDeps) {
    this.listeners = listeners.map(listenerSpec);
    this.listeners.forEach((l, i) => { l.table = compileRoutes(l, i, deps.wasm); });
    this.log = deps.log;
  }

  /** Binds every listener; if one fails, the ones already bound are closed again before the error is thrown. */
  async start(): Promise<void> {
    try {
      for (const l of this.listeners) await this.bind(l);
    } catch (err) {
      this.close();
      throw err;
    }
  }

  private async bind(l: ActiveListener): Promise<void> {
    l.cm = new ConnectionManager(l.hcm, {
      stats: this.deps.stats, clusters: this.deps.clusters, resolver: this.deps.resolverFor(l.table!), hashKey: hash64, log: this.log,
    });
    const server = net.createServer({ noDelay: true }, (socket) => this.onConnection(l, socket));
    l.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(l.requestedPort, l.host, () => { server.off('error', reject); resolve(); });
    });
    server.on('error', (err) => this.log?.error(`listener ${l.name}: ${err.message}`));
    l.port = (server.address() as net.AddressInfo).port;
    l.stats = new ListenerStats(this.deps.stats, l.host, l.port);
  }

  addresses(): ListenerAddress[] {
    return this.listeners.map((l) => ({ name: l.name, address: l.host, port: l.port }));
  }

  private onConnection(l: ActiveListener, socket: net.Socket): void {
    const cm = l.cm!;
    l.stats!.downstream_cx_total.inc();
    l.stats!.downstream_cx_active.inc();
    const handler = cm.newConnection(() => socket.end());
    const tracked: TrackedConnection = { socket, listener: l, closeIfIdle: () => handler.closeIfIdle() };
    this.connections.add(tracked);
    socket.once('close', () => {
      this.connections.delete(tracked);
      l.stats!.downstream_cx_active.dec();
      l.stats!.downstream_cx_destroy.inc();
      cm.connectionClosed();
      if (this.connections.size === 0) this.connectionsGone?.();
    });
    try {
      new ServerConnection(this.deps.wasm, socket, handler, {
        maxRequestHeadersKb: l.hcm.maxRequestHeadersKb,
        maxHeadersCount: l.hcm.maxHeadersCount,
        requestHeadersTimeoutMs: l.hcm.requestHeadersTimeoutMs,
        idleTimeoutMs: l.hcm.idleTimeoutMs,
      });
    } catch (e) {
      this.log?.error(`listener ${l.name}: connection setup failed: ${e instanceof Error ? e.message : String(e)}`);
      socket.destroy();
    }
  }

  /** Stops accepting new connections; existing ones keep being served. */
  stopAccepting(): void {
    for (const l of this.listeners) {
      if (l.server?.listening) l.server.close();
    }
  }

  /**
   * Lets in-flight requests complete (their responses carry `connection: close`), closes idle
   * connections, and resolves when every connection is gone or after `timeoutMs`, destroying the rest.
   */
  async drain(timeoutMs: number): Promise<void> {
    this.stopAccepting();
    for (const l of this.listeners) l.cm?.startDraining();
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
    this.stopAccepting();
    for (const c of [...this.connections]) c.socket.destroy();
  }
}
