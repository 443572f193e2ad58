/**
 * The envoy.filters.network.tcp_proxy terminal network filter: one TcpProxySession per downstream connection.
 */
import type { Any } from '../types/envoy.js';
import type { NetworkFilter, NetworkFilterContext, NetworkFilterFactory, ServedConnection, DownstreamConnection } from '../types/network.js';
import { TCP_PROXY_FILTER_NAME, TCP_PROXY_TYPE_URL, tcpProxyConfig, type TcpProxyConfig } from './config.js';
import { TcpProxySession } from './session.js';
import { TcpProxyStats } from './stats.js';

export class TcpProxyFilter implements NetworkFilter {
  readonly rdsNames: readonly string[] = [];
  private readonly stats: TcpProxyStats;
  private readonly sessions = new Set<TcpProxySession>();

  constructor(readonly config: TcpProxyConfig, private readonly ctx: NetworkFilterContext, private readonly random: () => number = Math.random) {
    this.stats = new TcpProxyStats(ctx.stats, config.statPrefix);
  }

  onConnection(conn: DownstreamConnection): ServedConnection {
    const session = new TcpProxySession(conn, {
      config: this.config, stats: this.stats, clusters: this.ctx.clusters, random: this.random, log: this.ctx.log,
      onDone: (s) => this.sessions.delete(s),
    });
    this.sessions.add(session);
    session.start();
    return session;
  }

  /** Open sessions (tests, admin). */
  get activeSessions(): number { return this.sessions.size; }

  startDraining(): void {
    for (const s of this.sessions) s.drain();
  }

  dispose(): void {
    for (const s of [...this.sessions]) s.destroy();
  }
}

export const tcpProxyFilterFactory: NetworkFilterFactory = {
  names: [TCP_PROXY_FILTER_NAME],
  typeUrls: [TCP_PROXY_TYPE_URL],
  create(typedConfig: Any, path: string, ctx: NetworkFilterContext): NetworkFilter {
    return new TcpProxyFilter(tcpProxyConfig(typedConfig, path), ctx);
  },
};
