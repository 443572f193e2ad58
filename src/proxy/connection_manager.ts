/**
 * The HTTP connection manager of one listener (Envoy's envoy.filters.network.http_connection_manager):
 * its config, stats and route resolver, and one ServerConnectionHandler per downstream connection that
 * starts an ActiveRequest per request and answers codec errors. Main thread only.
 */
import type { Logger } from '../common/logger.js';
import type { StatsStore } from '../common/stats.js';
import type { CodecErrorInfo, DownstreamStream, ServerConnectionHandler } from '../types/http.js';
import type { RouteResolver } from '../types/router.js';
import type { ClusterManager } from '../types/upstream.js';
import { ActiveRequest } from './active_request.js';
import type { ConnectionManagerConfig } from './config.js';
import type { ProxyDeps } from './deps.js';
import type { PathNormalizer } from './path_normalization.js';
import type { DownstreamClientCert } from './xfcc.js';
import type { FilterState } from '../types/network.js';
import { ConnectionManagerStats } from './stats.js';
import type { Counter } from '../common/stats.js';

/** The protocol a downstream connection speaks, known once its codec is chosen (AUTO may wait for bytes). */
export type DownstreamProtocol = 'http1' | 'http2';

const REASON: Record<number, string> = {
  400: 'Bad Request', 408: 'Request Timeout', 413: 'Payload Too Large', 414: 'URI Too Long',
  431: 'Request Header Fields Too Large', 501: 'Not Implemented', 505: 'HTTP Version Not Supported',
};

export interface ConnectionManagerDeps {
  readonly stats: StatsStore;
  readonly clusters: ClusterManager;
  readonly resolver: RouteResolver;
  readonly hashKey: (value: string) => bigint;
  readonly log?: Logger;
  readonly pathNormalizer?: PathNormalizer;
}

/** One downstream connection as the connection manager tracks it. */
export class DownstreamConnection implements ServerConnectionHandler {
  /** Requests started and not finished (0 or 1: HTTP/1 handles one at a time). */
  active = 0;
  private closed = false;
  /** downstream_rq_http1_total or downstream_rq_http2_total, set with the codec. */
  private requestsByProtocol: Counter;
  /** The manager's deps, plus this connection's client certificate on TLS chains. */
  private readonly deps: ProxyDeps;

  constructor(private readonly cm: ConnectionManager, private readonly closeIdle: () => void, clientCert?: DownstreamClientCert,
    connectionFilterState?: FilterState) {
    this.requestsByProtocol = cm.stats.downstream_rq_http1_total;
    this.deps = clientCert === undefined && connectionFilterState === undefined ? cm.proxyDeps
      : { ...cm.proxyDeps, clientCert, connectionFilterState };
  }

  /**
   * The codec chosen for this connection: counts it in downstream_cx_http1_total / downstream_cx_http2_total
   * and its requests in downstream_rq_http1_total / downstream_rq_http2_total (Envoy's names). Called once,
   * before the first request.
   */
  setProtocol(protocol: DownstreamProtocol): void {
    const stats = this.cm.stats;
    if (protocol === 'http2') {
      stats.downstream_cx_http2_total.inc();
      this.requestsByProtocol = stats.downstream_rq_http2_total;
    } else {
      stats.downstream_cx_http1_total.inc();
      this.requestsByProtocol = stats.downstream_rq_http1_total;
    }
  }

  onRequest(stream: DownstreamStream): void {
    this.active++;
    this.requestsByProtocol.inc();
    const req = new ActiveRequest(stream, this.cm.config, this.cm.stats, this.deps, () => {
      this.active--;
      if (this.cm.isDraining && this.active === 0) this.closeIfIdle();
    });
    req.start();
  }

  onCodecError(info: CodecErrorInfo, reply: (status: number, body: string) => void): void {
    const stats = this.cm.stats;
    if (info.status === 408) stats.downstream_rq_timeout.inc();
    else stats.downstream_cx_protocol_error.inc();
    stats.responseCode(info.status);
    this.cm.log?.debug(`downstream codec error ${info.code}: ${info.detail}`);
    reply(info.status, REASON[info.status] ?? 'Bad Request');
  }

  /** Closes the connection when no request is in flight (drain). */
  closeIfIdle(): void {
    if (this.active === 0 && !this.closed) { this.closed = true; this.closeIdle(); }
  }
}

export class ConnectionManager {
  readonly stats: ConnectionManagerStats;
  readonly proxyDeps: ProxyDeps;
  readonly log: Logger | undefined;
  private draining = false;

  constructor(readonly config: ConnectionManagerConfig, deps: ConnectionManagerDeps) {
    this.stats = new ConnectionManagerStats(deps.stats, config.statPrefix);
    this.log = deps.log;
    this.proxyDeps = {
      clusters: deps.clusters, resolver: deps.resolver, hashKey: deps.hashKey, log: deps.log,
      draining: () => this.draining, pathNormalizer: deps.pathNormalizer,
    };
  }

  get isDraining(): boolean { return this.draining; }

  /** From now on responses carry `connection: close`. */
  startDraining(): void { this.draining = true; }

  /** A handler for a new downstream connection; `closeIdle` closes its socket. Its protocol is counted by `setProtocol`. */
  newConnection(closeIdle: () => void, clientCert?: DownstreamClientCert, filterState?: FilterState): DownstreamConnection {
    this.stats.downstream_cx_total.inc();
    this.stats.downstream_cx_active.inc();
    return new DownstreamConnection(this, closeIdle, clientCert, filterState);
  }

  connectionClosed(): void { this.stats.downstream_cx_active.dec(); }
}
