/**
 * One downstream connection proxied byte for byte to one upstream connection (Envoy's TcpProxy::Filter).
 *
 * Lifecycle: the downstream socket is paused until an upstream host accepted the connection (hosts are tried
 * up to max_connect_attempts times, each on a host not tried before when the cluster has one); then bytes
 * flow both ways with backpressure (a side whose peer's write buffer is full stops reading until it drains,
 * so nothing is buffered beyond one socket's high-water mark). A FIN from one side is passed on as a FIN to
 * the other, whose direction keeps flowing until it ends too (half-close). A side that closes or resets
 * makes the other one flush what it has and close. No bytes in either direction for idle_timeout closes both.
 *
 * With tunneling_config the upstream side is an HTTP CONNECT (or POST) stream over the host's connection
 * (src/tcp_proxy/tunnel.ts) instead of the connection itself: everything above applies to that stream (a FIN is
 * END_STREAM, a reset RST_STREAM, backpressure HTTP/2 flow control). A tunnel refused (not 2xx) is a connect
 * failure: retried on another host within max_connect_attempts, then the downstream is closed.
 */
import type * as net from 'node:net';
import type { Duplex } from 'node:stream';
import { SkiffError as SkiffErrorClass, type SkiffError } from '../common/errors.js';
import type { Logger } from '../common/logger.js';
import type { ConnectionInfo, DownstreamConnection, ServedConnection } from '../types/network.js';
import type { Cluster, ClusterManager, Host } from '../types/upstream.js';
import { connectRaw } from '../upstream/raw_connect.js';
import { hostKeyOf } from '../upstream/host.js';
import { pickCluster, type TcpProxyConfig } from './config.js';
import { openHttp1Tunnel, openHttp2Tunnel, type TunnelFailure } from './tunnel.js';
import { hostStatsOf } from '../upstream/host.js';
import type { AccessLogEntry } from '../access_log/format.js';
import { clusterTcpStats, type ClusterTcpStats, type TcpProxyStats } from './stats.js';

export interface SessionDeps {
  readonly config: TcpProxyConfig;
  readonly stats: TcpProxyStats;
  readonly clusters: ClusterManager;
  readonly random: () => number;
  readonly log?: Logger;
  /** The session ended (both sockets closed). */
  readonly onDone: (s: TcpProxySession) => void;
}

/** Why the session closed the downstream connection without proxying (for tests and logs). */
export type SessionFailure = 'no_route' | 'no_healthy_upstream' | 'connect_failed' | 'overflow';

/** Envoy's response flag for each failure (what %RESPONSE_FLAGS% prints). */
const FAILURE_FLAG: Readonly<Record<SessionFailure, string>> = { no_route: 'NC', no_healthy_upstream: 'UH', connect_failed: 'UF', overflow: 'UO' };

export class TcpProxySession implements ServedConnection {
  private readonly down: Duplex;
  private up: Duplex | null = null;
  private cluster: Cluster | undefined;
  private clusterStats: ClusterTcpStats | undefined;
  private cancelConnect: (() => void) | null = null;
  private idleTimer: NodeJS.Timeout | null = null;
  private lastActivity = Date.now();
  private downClosed = false;
  private upClosed = false;
  private done = false;
  private flushing = false;
  failure: SessionFailure | undefined;
  /** For the access log. */
  private readonly startMs = Date.now();
  private bytesReceived = 0;
  private bytesSent = 0;
  private upstreamHost = '';
  private idledOut = false;
  private clusterName = '';
  /** The addresses, read while the socket is open (the listener reads them lazily); only when something logs them. */
  private readonly addresses: Pick<ConnectionInfo, 'remoteAddress' | 'remotePort' | 'localAddress' | 'localPort'> | undefined;
  private terminationDetails = '';

  constructor(private readonly conn: DownstreamConnection, private readonly deps: SessionDeps) {
    this.down = conn.socket;
    const info = conn.info;
    this.addresses = deps.config.accessLoggers.length === 0 ? undefined
      : { remoteAddress: info.remoteAddress, remotePort: info.remotePort, localAddress: info.localAddress, localPort: info.localPort };
    // Half-close is the proxy's to decide: without this, Node ends our side as soon as the client's FIN arrives.
    (this.down as { allowHalfOpen?: boolean }).allowHalfOpen = true;
    this.down.pause();
    this.down.on('error', () => { /* followed by 'close' */ });
    this.down.once('close', () => this.downstreamClosed());
  }

  start(): void {
    const { config, stats, clusters } = this.deps;
    stats.downstream_cx_total.inc();
    const name = pickCluster(config, this.deps.random());
    this.clusterName = name;
    const cluster = clusters.get(name);
    if (cluster === undefined) {
      stats.downstream_cx_no_route.inc();
      this.fail('no_route', `no cluster ${name}`);
      return;
    }
    this.cluster = cluster;
    this.clusterStats = clusterTcpStats(cluster.stats.scope);
    this.armIdleTimer();
    this.attempt(1, new Set());
  }

  drain(): void {
    // Raw bytes have no way to tell the peer to go away: the connection lives until the listener's drain time ends.
  }

  destroy(): void {
    this.cancelConnect?.();
    this.cancelConnect = null;
    this.up?.destroy();
    this.down.destroy();
  }

  private attempt(n: number, attempted: Set<Host>): void {
    if (this.downClosed) return;
    const cluster = this.cluster!;
    const host = cluster.chooseHost({ attempted }) ?? (attempted.size > 0 ? cluster.chooseHost({}) : null);
    if (host === null || !host.healthy) {
      this.clusterStats!.upstream_cx_none_healthy.inc();
      this.fail('no_healthy_upstream', `cluster ${cluster.name} has no healthy host`);
      return;
    }
    const tunneling = this.deps.config.tunneling;
    if (tunneling !== undefined && cluster.httpProtocol === 'http2') {
      // A stream of the host's HTTP/2 pool (connections shared with other tunnels and requests).
      this.upstreamHost = hostKeyOf(host);
      this.cancelConnect = openHttp2Tunnel(cluster.pool(host), tunneling, this.connectionEntry(), (failure, stream) => {
        this.cancelConnect = null;
        if (failure !== null) { this.tunnelFailed(failure, host, n, attempted); return; }
        this.connected(stream!);
      });
      return;
    }
    this.cancelConnect = connectRaw(cluster, host, (err, socket) => {
      this.cancelConnect = null;
      if (err !== null) return this.connectFailed(err, n, attempted, host);
      this.upstreamHost = hostKeyOf(host);
      if (tunneling === undefined) { this.connected(socket!); return; }
      this.cancelConnect = openHttp1Tunnel(socket!, tunneling, this.connectionEntry(), (failure, stream) => {
        this.cancelConnect = null;
        if (failure !== null) { this.tunnelFailed(failure, host, n, attempted); return; }
        this.connected(stream!);
      });
    });
  }

  /**
   * A tunnel that did not open: the pool's own error (overflow, connect failure, already counted), or a refusal
   * (not 2xx), counted as a failed connect of that host (upstream_cx_connect_fail); either is retried like one.
   */
  private tunnelFailed(failure: TunnelFailure, host: Host, n: number, attempted: Set<Host>): void {
    const cluster = this.cluster!;
    if (failure.error !== undefined) { this.connectFailed(failure.error, n, attempted, host); return; }
    cluster.stats.upstream_cx_connect_fail.inc();
    hostStatsOf(host).cx_connect_fail++;
    const err = new SkiffErrorClass('SKIFF_TCP_PROXY_TUNNEL_REFUSED', `tunnel to ${hostKeyOf(host)} in cluster ${cluster.name}: ${failure.reason}`, 'upstream', true);
    this.connectFailed(err, n, attempted, host);
  }

  /** What format strings (tunnel hostname, headers) read about this connection before it ends. */
  private connectionEntry(): AccessLogEntry {
    const info = this.conn.info;
    return {
      startMs: this.startMs, endMs: Date.now(),
      downstreamRemoteAddress: info.remoteAddress, downstreamRemotePort: info.remotePort,
      downstreamLocalAddress: info.localAddress, downstreamLocalPort: info.localPort,
      upstreamHost: this.upstreamHost, upstreamCluster: this.clusterName,
      bytesReceived: 0, bytesSent: 0, responseFlags: [], terminationDetails: '',
    };
  }

  private connectFailed(err: SkiffError, n: number, attempted: Set<Host>, host: Host): void {
    if (this.downClosed) return;
    if (!err.retryable) {
      this.fail('overflow', err.message);
      return;
    }
    if (n >= this.deps.config.maxConnectAttempts) {
      this.clusterStats!.upstream_cx_connect_attempts_exceeded.inc();
      this.fail('connect_failed', err.message);
      return;
    }
    attempted.add(host);
    this.attempt(n + 1, attempted);
  }

  private connected(up: Duplex): void {
    if (this.downClosed) { up.destroy(); return; }
    this.up = up;
    (up as { allowHalfOpen?: boolean }).allowHalfOpen = true;
    up.on('error', () => { /* followed by 'close' */ });
    up.once('close', () => this.upstreamClosed());
    const { stats } = this.deps;
    const cs = this.clusterStats!;
    if (this.conn.initialData.length > 0) {
      up.write(this.conn.initialData);
      this.bytesReceived += this.conn.initialData.length;
      stats.downstream_cx_rx_bytes_total.inc(this.conn.initialData.length);
      cs.upstream_cx_tx_bytes_total.inc(this.conn.initialData.length);
    }
    this.pipe(this.down, up, (n) => { this.bytesReceived += n; stats.downstream_cx_rx_bytes_total.inc(n); cs.upstream_cx_tx_bytes_total.inc(n); }, true);
    this.pipe(up, this.down, (n) => { this.bytesSent += n; cs.upstream_cx_rx_bytes_total.inc(n); stats.downstream_cx_tx_bytes_total.inc(n); }, false);
    this.down.resume();
    // A tunnel's stream is handed over paused (nothing read before these listeners): start it.
    if (up.readableFlowing === false) up.resume();
  }

  /** Bytes from `src` to `dst`, reading paused while `dst` is over its high-water mark; FIN passed on. */
  private pipe(src: Duplex, dst: Duplex, count: (n: number) => void, fromDownstream: boolean): void {
    const { stats } = this.deps;
    src.on('data', (chunk: Buffer) => {
      this.lastActivity = Date.now();
      count(chunk.length);
      if (!dst.write(chunk)) {
        src.pause();
        if (fromDownstream) stats.downstream_flow_control_paused_reading_total.inc();
      }
    });
    dst.on('drain', () => {
      if (fromDownstream) stats.downstream_flow_control_resumed_reading_total.inc();
      src.resume();
    });
    src.once('end', () => { if (!dst.destroyed) dst.end(); });
  }

  private downstreamClosed(): void {
    this.downClosed = true;
    this.cancelConnect?.();
    this.cancelConnect = null;
    const up = this.up;
    if (up !== null && !this.upClosed) {
      if (up.writableLength > 0 && !up.writableEnded) {
        // The client is gone but sent bytes the upstream has not taken yet: deliver them, then close.
        this.flushing = true;
        this.deps.stats.upstream_flush_total.inc();
        this.deps.stats.upstream_flush_active.inc();
        up.end();
      } else if (up.writableLength > 0) {
        this.flushing = true;
        this.deps.stats.upstream_flush_total.inc();
        this.deps.stats.upstream_flush_active.inc();
      } else {
        up.destroy();
      }
    }
    this.maybeDone();
  }

  private upstreamClosed(): void {
    this.upClosed = true;
    if (this.flushing) { this.flushing = false; this.deps.stats.upstream_flush_active.dec(); }
    if (!this.downClosed) closeAfterFlush(this.down);
    this.maybeDone();
  }

  private fail(failure: SessionFailure, why: string): void {
    this.failure = failure;
    this.terminationDetails = why;
    this.deps.log?.debug(`tcp_proxy ${this.deps.config.statPrefix}: closing downstream: ${why}`);
    this.down.destroy();
  }

  private armIdleTimer(): void {
    const ms = this.deps.config.idleTimeoutMs;
    if (ms <= 0) return;
    // One timer per session, re-armed for the remaining time when it fires early: no timer churn per chunk.
    const check = (): void => {
      this.idleTimer = null;
      if (this.done) return;
      const idleFor = Date.now() - this.lastActivity;
      if (idleFor >= ms) {
        this.deps.stats.idle_timeout.inc();
        this.idledOut = true;
        this.terminationDetails = 'idle_timeout';
        this.destroy();
        return;
      }
      this.idleTimer = setTimeout(check, ms - idleFor);
    };
    this.idleTimer = setTimeout(check, ms);
  }

  private maybeDone(): void {
    if (this.done || !this.downClosed || (this.up !== null && !this.upClosed)) return;
    this.done = true;
    if (this.idleTimer !== null) { clearTimeout(this.idleTimer); this.idleTimer = null; }
    this.writeAccessLog();
    this.deps.onDone(this);
  }

  private writeAccessLog(): void {
    const loggers = this.deps.config.accessLoggers;
    if (loggers.length === 0) return;
    const info = this.addresses!;
    const flags: string[] = [];
    if (this.failure !== undefined) flags.push(FAILURE_FLAG[this.failure]);
    if (this.idledOut) flags.push('SI');
    const entry = {
      startMs: this.startMs, endMs: Date.now(),
      downstreamRemoteAddress: info.remoteAddress, downstreamRemotePort: info.remotePort,
      downstreamLocalAddress: info.localAddress, downstreamLocalPort: info.localPort,
      upstreamHost: this.upstreamHost, upstreamCluster: this.clusterName,
      bytesReceived: this.bytesReceived, bytesSent: this.bytesSent,
      responseFlags: flags, terminationDetails: this.terminationDetails,
      filterState: this.conn.filterState,
    };
    for (const l of loggers) l.log(entry);
  }
}

/** Ends a socket and closes it once what it had to write is out. */
function closeAfterFlush(s: Duplex): void {
  if (s.destroyed) return;
  if (s.writableFinished) { s.destroy(); return; }
  s.once('finish', () => s.destroy());
  s.end();
}
