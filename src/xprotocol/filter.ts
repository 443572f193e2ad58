/**
 * The skiff.filters.network.xprotocol terminal network filter: one XProtocolSession per downstream connection,
 * one multiplexed pool per (cluster, host, protocol), one route table (inline or RDS).
 */
import { ConfigError } from '../common/errors.js';
import type { Logger } from '../common/logger.js';
import type { Any } from '../types/envoy.js';
import type { DownstreamConnection, NetworkFilter, NetworkFilterContext, NetworkFilterFactory, ServedConnection } from '../types/network.js';
import type { RouteResolver, RouteTable } from '../types/router.js';
import type { Cluster, ClusterManager, Host } from '../types/upstream.js';
import type { WasmInstance } from '../wasm/module.js';
import { slabPool, type SlabPool } from '../wasm/slab.js';
import { compileRouteTable } from '../router/index.js';
import type { XProtocolSpec } from '../codec/xprotocol/spec.js';
import '../codec/xprotocol/index.js'; // registers the built-in protocols
import { MuxPool } from '../upstream/mux_pool.js';
import { XPROTOCOL_FILTER_NAME, XPROTOCOL_TYPE_URL, xprotocolConfig, type XProtocolConfig } from './config.js';
import { XProtocolSession } from './session.js';
import { XProtocolStats } from './stats.js';
import { upstreamCodec, type UpstreamFrame } from './upstream_codec.js';

type RetirableTable = RouteTable & { retire?(graceMs?: number): void };
type SwappableResolver = RouteResolver & { setTable(table: RouteTable): void };

export class XProtocolFilter implements NetworkFilter {
  readonly rdsNames: readonly string[];
  readonly stats: XProtocolStats;
  readonly slabs: SlabPool;
  private readonly sessions = new Set<XProtocolSession>();
  private readonly pools = new Map<Cluster, Map<XProtocolSpec, Map<Host, MuxPool<UpstreamFrame>>>>();
  private routeResolver: RouteResolver | undefined;
  private table: RouteTable | undefined;
  private draining = false;

  constructor(readonly config: XProtocolConfig, private readonly ctx: NetworkFilterContext, private readonly inlineTable: RetirableTable | undefined) {
    this.stats = new XProtocolStats(ctx.stats, config.statPrefix);
    this.slabs = slabPool(ctx.wasm);
    this.rdsNames = config.rdsRouteConfigName === undefined ? [] : [config.rdsRouteConfigName];
    if (inlineTable !== undefined) this.useTable(inlineTable);
  }

  get wasm(): WasmInstance { return this.ctx.wasm; }
  get clusters(): ClusterManager { return this.ctx.clusters; }
  get log(): Logger | undefined { return this.ctx.log; }

  resolver(): RouteResolver { return this.routeResolver!; }

  setRouteTable(name: string, table: RouteTable): void {
    if (name !== this.config.rdsRouteConfigName || table === this.table) return;
    this.useTable(table);
  }

  private useTable(table: RouteTable): void {
    this.table = table;
    if (this.routeResolver === undefined) this.routeResolver = this.ctx.resolverFor(table);
    else (this.routeResolver as SwappableResolver).setTable?.(table);
  }

  onConnection(conn: DownstreamConnection): ServedConnection {
    if (this.routeResolver === undefined) { conn.socket.destroy(); return { drain: () => {}, destroy: () => {} }; }
    const s = new XProtocolSession(conn, this);
    this.sessions.add(s);
    if (this.draining) s.drain();
    return s;
  }

  sessionClosed(s: XProtocolSession): void { this.sessions.delete(s); }

  /** The multiplexed pool for a host, per protocol (created on first use). */
  poolFor(cluster: Cluster, host: Host, spec: XProtocolSpec): MuxPool<UpstreamFrame> {
    let bySpec = this.pools.get(cluster);
    if (bySpec === undefined) { bySpec = new Map(); this.pools.set(cluster, bySpec); }
    let byHost = bySpec.get(spec);
    if (byHost === undefined) { byHost = new Map(); bySpec.set(spec, byHost); }
    let pool = byHost.get(host);
    if (pool === undefined) {
      pool = new MuxPool({
        cluster, host, codec: upstreamCodec(this.wasm, this.slabs, spec, this.config.maxFrameBytes),
        connectionsPerHost: this.config.connectionsPerHost, heartbeatIntervalMs: this.config.heartbeatIntervalMs, log: this.ctx.log,
      });
      byHost.set(host, pool);
    }
    return pool;
  }

  get activeSessions(): number { return this.sessions.size; }

  startDraining(): void {
    this.draining = true;
    for (const s of this.sessions) s.drain();
  }

  dispose(graceMs?: number): void {
    for (const s of [...this.sessions]) s.destroy();
    for (const bySpec of this.pools.values()) for (const byHost of bySpec.values()) for (const p of byHost.values()) p.close();
    this.pools.clear();
    this.inlineTable?.retire?.(graceMs);
  }
}

export const xprotocolFilterFactory: NetworkFilterFactory = {
  names: [XPROTOCOL_FILTER_NAME],
  typeUrls: [XPROTOCOL_TYPE_URL],
  create(typedConfig: Any, path: string, ctx: NetworkFilterContext): NetworkFilter {
    const config = xprotocolConfig(typedConfig, `${path}.typed_config`);
    let table: RetirableTable | undefined;
    if (config.routeConfig !== undefined) {
      try {
        table = compileRouteTable(config.routeConfig, ctx.wasm);
      } catch (e) {
        if (e instanceof ConfigError) throw new ConfigError(`${path}.typed_config.${e.path.startsWith('route_config') ? e.path : `route_config.${e.path}`}`, e.message, { cause: e });
        throw e;
      }
    }
    return new XProtocolFilter(config, ctx, table);
  },
};
