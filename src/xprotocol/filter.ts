/**
 * The skiff.filters.network.xprotocol terminal network filter: one XProtocolSession per downstream connection,
 * multiplexed pools per (cluster, host, protocol) shared process-wide (pool_registry.ts), one route table (inline or RDS).
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
import { muxPools } from './pool_registry.js';
import { XProtocolSession } from './session.js';
import { XProtocolStats } from './stats.js';
import type { ParamPredicate } from './param_match.js';
import { upstreamCodec, type UpstreamFrame } from './upstream_codec.js';

type RetirableTable = RouteTable & { retire?(graceMs?: number): void };
type SwappableResolver = RouteResolver & { setTable(table: RouteTable): void };

export class XProtocolFilter implements NetworkFilter {
  readonly rdsNames: readonly string[];
  readonly stats: XProtocolStats;
  readonly slabs: SlabPool;
  private readonly sessions = new Set<XProtocolSession>();
  private routeResolver: RouteResolver | undefined;
  private table: RouteTable | undefined;
  private draining = false;
  /** Parameter route predicates (dubbo_proxy params_match, param_match.ts); empty: no argument is read. */
  paramPredicates: readonly ParamPredicate[] = [];

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

  /**
   * The multiplexed pool for a host, per protocol: shared with every filter that uses the same pool options
   * (pool_registry.ts), created on first use, retired with its cluster or host.
   */
  poolFor(cluster: Cluster, host: Host, spec: XProtocolSpec): MuxPool<UpstreamFrame> {
    const c = this.config;
    const key = `${spec.name}|${c.maxFrameBytes}|${c.connectionsPerHost}|${c.heartbeatIntervalMs}`;
    return muxPools.acquire(this, this.ctx.clusters, cluster, host, key, () => new MuxPool({
      cluster, host, codec: upstreamCodec(this.wasm, this.slabs, spec, c.maxFrameBytes),
      connectionsPerHost: c.connectionsPerHost, heartbeatIntervalMs: c.heartbeatIntervalMs, log: this.ctx.log,
    }));
  }

  get activeSessions(): number { return this.sessions.size; }

  startDraining(): void {
    this.draining = true;
    for (const s of this.sessions) s.drain();
  }

  dispose(graceMs?: number): void {
    for (const s of [...this.sessions]) s.destroy();
    muxPools.release(this);
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
