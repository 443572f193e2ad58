/**
 * The HTTP/2 connection pool of one host: requests are multiplexed as streams on few connections (one while
 * its SETTINGS_MAX_CONCURRENT_STREAMS has room, another when it is full, within the cluster's
 * max_connections breaker). Each acquire is answered with an Http2ClientLease: a one-request view of a shared
 * connection, so the proxy's per-request ClientConnection contract holds unchanged.
 *
 * Selected per cluster by typed_extension_protocol_options
 * envoy.extensions.upstreams.http.v3.HttpProtocolOptions explicit_http_config.http2_protocol_options, or per
 * host by ALPN under auto_config (see upstreamHttpProtocolOf, alpn_pool.ts). Counters as the HTTP/1 pool's: upstream_cx_* (upstream_cx_http2_total),
 * upstream_rq_pending_*, the host's activeRequests and stats; HTTP/2 codec stats under `cluster.<name>.http2.`.
 */
import type * as net from 'node:net';
import type { ClientConnection } from '../types/http.js';
import type { Any, Cluster as EnvoyCluster } from '../types/envoy.js';
import type { Cluster, Host, HostStats, HttpConnectionPool, PoolHandle } from '../types/upstream.js';
import { SkiffError, UnsupportedConfigError } from '../common/errors.js';
import type { Logger } from '../common/logger.js';
import type { StatsStore } from '../common/stats.js';
import { mainInstance } from '../wasm/runtime.js';
import { Http2ClientConnection, Http2ClientLease } from '../stream/http2/client.js';
import { wasmClientHeaderCodec } from '../stream/http2/hpack_codec.js';
import { http2OptionsFromConfig } from '../stream/http2/config.js';
import type { Http2Options } from '../stream/http2/options.js';
import type { ClusterStatsImpl } from './cluster_stats.js';
import { openSocket, type SocketOpener, type UpstreamTls } from './transport.js';
import { watchConnect, type ConnectWatch } from './connect_watch.js';
import { connectFailureError, overflowError, UPSTREAM_POOL_CLOSED, UPSTREAM_POOL_DRAINED } from './errors.js';
import type { AcquireCallback } from './http1_pool.js';
import { hostStatsOf } from './host.js';

export const UPSTREAM_HTTP_PROTOCOL_OPTIONS = 'envoy.extensions.upstreams.http.v3.HttpProtocolOptions';
const UPSTREAM_HTTP_PROTOCOL_OPTIONS_URL = `type.googleapis.com/${UPSTREAM_HTTP_PROTOCOL_OPTIONS}`;

/**
 * How a cluster picks its upstream protocol (HttpProtocolOptions' upstream_protocol_options):
 * - `http1`: no options, or explicit_http_config.http_protocol_options;
 * - `http2`: explicit_http_config.http2_protocol_options (h2c with prior knowledge, or h2 over TLS);
 * - `auto`: auto_config: HTTP/2 where TLS ALPN negotiates h2, else HTTP/1.1 (src/upstream/alpn_pool.ts).
 *   Without TLS there is no ALPN to ask, so a plaintext auto_config cluster speaks HTTP/1.1.
 * - `downstream`: use_downstream_protocol_config: each request goes upstream in the protocol it arrived in
 *   (src/upstream/downstream_protocol_pool.ts).
 * `http2` carries the HTTP/2 options (the config's http2_protocol_options, or the defaults).
 */
export type UpstreamHttpProtocol =
  | { readonly kind: 'http1' }
  | { readonly kind: 'http2'; readonly http2: Http2Options }
  | { readonly kind: 'auto'; readonly http2: Http2Options }
  | { readonly kind: 'downstream'; readonly http2: Http2Options };

const HTTP1: UpstreamHttpProtocol = { kind: 'http1' };

interface ProtocolConfigs { http_protocol_options?: unknown; http2_protocol_options?: Record<string, unknown>; http3_protocol_options?: unknown }

/** The upstream protocol of a cluster from its typed_extension_protocol_options (`path` names the cluster). */
export function upstreamHttpProtocolOf(config: EnvoyCluster, path: string): UpstreamHttpProtocol {
  const all = (config as { typed_extension_protocol_options?: Record<string, Any> }).typed_extension_protocol_options;
  if (all === undefined || all === null) return HTTP1;
  let found: UpstreamHttpProtocol = HTTP1;
  for (const [key, any] of Object.entries(all)) {
    const at = `${path}.typed_extension_protocol_options[${JSON.stringify(key)}]`;
    const type = any?.['@type'];
    if (key !== UPSTREAM_HTTP_PROTOCOL_OPTIONS && type !== UPSTREAM_HTTP_PROTOCOL_OPTIONS_URL) {
      throw new UnsupportedConfigError(at, `protocol options ${key}`);
    }
    const o = any as { explicit_http_config?: ProtocolConfigs; auto_config?: ProtocolConfigs & { alternate_protocols_cache_options?: unknown }; use_downstream_protocol_config?: ProtocolConfigs };
    if (o.explicit_http_config?.http3_protocol_options !== undefined) throw new UnsupportedConfigError(`${at}.explicit_http_config.http3_protocol_options`, 'HTTP/3');
    const auto = o.auto_config;
    if (auto !== undefined && auto !== null) {
      if (auto.http3_protocol_options !== undefined) throw new UnsupportedConfigError(`${at}.auto_config.http3_protocol_options`, 'HTTP/3');
      if (auto.alternate_protocols_cache_options !== undefined) throw new UnsupportedConfigError(`${at}.auto_config.alternate_protocols_cache_options`, 'alternate_protocols_cache_options (HTTP/3)');
      found = { kind: 'auto', http2: http2OptionsFromConfig(auto.http2_protocol_options ?? {}, `${at}.auto_config.http2_protocol_options`) };
      continue;
    }
    const follow = o.use_downstream_protocol_config;
    if (follow !== undefined && follow !== null) {
      if (follow.http3_protocol_options !== undefined) throw new UnsupportedConfigError(`${at}.use_downstream_protocol_config.http3_protocol_options`, 'HTTP/3');
      found = { kind: 'downstream', http2: http2OptionsFromConfig(follow.http2_protocol_options ?? {}, `${at}.use_downstream_protocol_config.http2_protocol_options`) };
      continue;
    }
    const h2 = o.explicit_http_config?.http2_protocol_options;
    if (h2 !== undefined) found = { kind: 'http2', http2: http2OptionsFromConfig(h2, `${at}.explicit_http_config.http2_protocol_options`) };
  }
  return found;
}

/** The HTTP/2 options when the cluster always speaks HTTP/2 upstream (explicit http2), else undefined. */
export function http2ProtocolOf(config: EnvoyCluster, path: string): Http2Options | undefined {
  const p = upstreamHttpProtocolOf(config, path);
  return p.kind === 'http2' ? p.http2 : undefined;
}

export interface Http2PoolOptions {
  readonly host: Host;
  readonly cluster: Cluster;
  readonly stats: ClusterStatsImpl;
  readonly statsStore?: StatsStore;
  readonly http2: Http2Options;
  /** A connection without streams for this long is closed; 0 = never (common_http_protocol_options.idle_timeout). */
  readonly idleTimeoutMs?: number;
  /** The cluster's UpstreamTlsContext; undefined for plain TCP (h2c with prior knowledge). */
  readonly tls?: UpstreamTls;
  /** Opens connections instead of `openSocket(host, tls)` (auto_config: ALPN offered, first socket adopted). */
  readonly open?: SocketOpener;
  readonly log?: Logger;
  readonly onConnectionClosed?: () => void;
}

interface Entry {
  state: 'connecting' | 'ready' | 'closed';
  readonly socket: net.Socket;
  conn: Http2ClientConnection | null;
  /** The connect timeout while connecting; afterwards the idle check. */
  timer: NodeJS.Timeout | null;
  readonly budgeted: boolean;
  /** When the connection last had no stream (ms, Date.now()); 0 while it has some. */
  idleSince: number;
  /** Leases handed out whose stream has not opened yet: they hold a place under the stream limit. */
  reserved: number;
}

interface Waiter { readonly cb: AcquireCallback; readonly holdsPendingBudget: boolean }

const INERT: PoolHandle = { cancel() {} };

export class Http2Pool implements HttpConnectionPool {
  private readonly entries = new Set<Entry>();
  private readonly pending: Waiter[] = [];
  private readonly leases = new Set<Http2ClientLease>();
  private connecting = 0;
  private draining = false;
  private closed = false;
  private readonly hostStats: HostStats;
  private readonly hostKey: string;
  private readonly connectWatch: ConnectWatch<Entry>;

  constructor(private readonly o: Http2PoolOptions) {
    this.hostStats = hostStatsOf(o.host);
    this.hostKey = `${o.host.address}:${o.host.port}`;
    this.connectWatch = {
      clusterName: o.cluster.name, hostKey: this.hostKey, timeoutMs: o.cluster.connectTimeoutMs,
      stats: o.stats, hostStats: this.hostStats,
      failed: (rec, err) => this.connectFailed(rec, err),
      connected: (rec) => this.connected(rec),
      closed: (rec) => this.closeEntry(rec, 'remote'),
    };
  }

  get activeConnections(): number { return this.entries.size; }
  get pendingRequests(): number { return this.pending.length; }
  get isDraining(): boolean { return this.draining; }

  acquire(cb: AcquireCallback): PoolHandle {
    const { stats, cluster } = this.o;
    if (this.draining) {
      cb(new SkiffError(UPSTREAM_POOL_DRAINED, `cluster ${cluster.name}: host ${this.hostKey} is draining`, 'upstream', true));
      return INERT;
    }
    const ready = this.withCapacity();
    if (ready) { this.deliver(ready, cb); return INERT; }
    let holdsPendingBudget = false;
    if (!this.coming()) {
      if (cluster.breakers.connections.tryAcquire()) this.open(true);
      else if (this.entries.size === 0) { stats.upstream_cx_overflow.inc(); this.open(false); }
    }
    if (!this.coming()) {
      // Every connection is full and no other may open: wait for a stream to finish, within max_pending_requests.
      if (!cluster.breakers.pendingRequests.tryAcquire()) {
        stats.upstream_rq_pending_overflow.inc();
        cb(overflowError(cluster.name, 'max_pending_requests'));
        return INERT;
      }
      holdsPendingBudget = true;
    }
    const waiter: Waiter = { cb, holdsPendingBudget };
    this.pending.push(waiter);
    this.o.host.activeRequests++;
    stats.upstream_rq_pending_total.inc();
    stats.upstream_rq_pending_active.inc();
    return { cancel: () => { this.removeWaiter(waiter); } };
  }

  release(conn: ClientConnection): void {
    const lease = conn as Http2ClientLease;
    if (!this.leases.delete(lease)) return;
    lease.settle();
    this.o.host.activeRequests--;
    this.serve();
    if (this.draining) this.closeIdle();
  }

  drain(): void {
    this.draining = true;
    this.closeIdle();
  }

  close(): void {
    this.draining = true;
    this.closed = true;
    for (let n = this.pending.length; n > 0; n--) {
      const w = this.pending[0];
      this.removeWaiter(w);
      w.cb(new SkiffError(UPSTREAM_POOL_CLOSED, `cluster ${this.o.cluster.name}: pool for ${this.hostKey} closed`, 'upstream', true));
    }
    for (const e of [...this.entries]) this.closeEntry(e, 'local');
  }

  /** Opens a connection for waiting requests when none is on its way (a connection of a sibling pool closed). */
  reconcile(): void {
    if (this.closed || this.pending.length === 0 || this.coming()) return;
    if (this.o.cluster.breakers.connections.tryAcquire()) this.open(true);
    else if (this.entries.size === 0) this.open(false);
  }

  /** A connection is on its way: connecting, or connected and waiting for the server's first SETTINGS. */
  private coming(): boolean {
    if (this.connecting > 0) return true;
    for (const e of this.entries) if (e.state === 'ready' && e.conn !== null && !e.conn.settled && e.conn.usable) return true;
    return false;
  }

  private withCapacity(): Entry | undefined {
    for (const e of this.entries) if (e.state === 'ready' && e.conn !== null && e.conn.capacity - e.reserved > 0) return e;
    return undefined;
  }

  /** Hands waiting requests to connections with room, oldest first. */
  private serve(): void {
    // Bounded by the queue: each pass delivers one waiter or stops.
    while (this.pending.length > 0) {
      const e = this.withCapacity();
      if (!e) break;
      const w = this.pending[0];
      this.removeWaiter(w);
      this.deliver(e, w.cb);
    }
    if (this.pending.length > 0) this.reconcile();
  }

  private deliver(e: Entry, cb: AcquireCallback): void {
    e.reserved++;
    const lease = new Http2ClientLease(e.conn!, () => { e.reserved--; });
    this.leases.add(lease);
    this.o.host.activeRequests++;
    this.hostStats.rq_total++;
    cb(null, lease);
  }

  private closeIdle(): void {
    for (const e of [...this.entries]) {
      if (e.state === 'ready' && e.conn !== null && e.conn.activeStreams === 0 && e.reserved === 0) this.closeEntry(e, 'local');
    }
  }

  private open(budgeted: boolean): void {
    const { host, stats } = this.o;
    const { socket, ready } = this.o.open ? this.o.open(host) : openSocket(host, this.o.tls);
    const e: Entry = { state: 'connecting', socket, conn: null, timer: null, budgeted, idleSince: 0, reserved: 0 };
    this.entries.add(e);
    this.connecting++;
    stats.upstream_cx_total.inc();
    stats.scope.counter('upstream_cx_http2_total').inc();
    stats.upstream_cx_active.inc();
    this.hostStats.cx_total++;
    this.hostStats.cx_active++;
    watchConnect(socket, ready, e, this.connectWatch);
  }

  private connected(e: Entry): void {
    if (e.state !== 'connecting') return;
    this.connecting--;
    if (e.timer !== null) { clearTimeout(e.timer); e.timer = null; }
    try {
      const conn = new Http2ClientConnection(mainInstance(), e.socket, wasmClientHeaderCodec, {
        ...this.o.http2, stats: this.o.statsStore, statsPrefix: `cluster.${this.o.cluster.name}.`,
      });
      e.conn = conn;
      conn.onStreamDone = () => { this.serve(); if (this.draining) this.closeIdle(); else this.markIdle(e); };
      conn.onClose(() => this.closeEntry(e, 'remote'));
    } catch (err) {
      this.o.log?.error(`cluster ${this.o.cluster.name}: HTTP/2 connection setup failed: ${String(err)}`);
      this.connectFailed(e, connectFailureError(this.o.cluster.name, this.hostKey, err));
      return;
    }
    e.state = 'ready';
    this.serve();
    this.markIdle(e);
  }

  /**
   * Stamps a connection that has no stream left and arms one check for when it would expire; a connection
   * busy again by then is left alone (the check re-arms for the time left when it is idle again).
   */
  private markIdle(e: Entry): void {
    const ms = this.o.idleTimeoutMs ?? 0;
    if (ms <= 0 || e.state !== 'ready' || e.conn === null || e.conn.activeStreams > 0 || e.reserved > 0) return;
    e.idleSince = Date.now();
    if (e.timer === null) this.armIdleCheck(e, ms);
  }

  private armIdleCheck(e: Entry, delayMs: number): void {
    e.timer = setTimeout(() => {
      e.timer = null;
      if (e.state !== 'ready' || e.conn === null || e.conn.activeStreams > 0 || e.reserved > 0) return;
      const left = e.idleSince + (this.o.idleTimeoutMs ?? 0) - Date.now();
      if (left > 0) { this.armIdleCheck(e, left); return; }
      this.o.stats.upstream_cx_idle_timeout.inc();
      this.closeEntry(e, 'local');
    }, delayMs);
    e.timer.unref();
  }

  /** The waiters this connection was opened for fail: all of them when no other connection is left. */
  private connectFailed(e: Entry, err: SkiffError): void {
    const failing = this.entries.size <= 1 ? [...this.pending] : this.pending.slice(0, 1);
    for (const w of failing) this.removeWaiter(w);
    this.closeEntry(e, 'local');
    for (const w of failing) w.cb(err);
  }

  private removeWaiter(w: Waiter): boolean {
    const i = this.pending.indexOf(w);
    if (i < 0) return false;
    this.pending.splice(i, 1);
    this.o.host.activeRequests--;
    this.o.stats.upstream_rq_pending_active.dec();
    if (w.holdsPendingBudget) this.o.cluster.breakers.pendingRequests.release();
    return true;
  }

  private closeEntry(e: Entry, by: 'local' | 'remote'): void {
    if (e.state === 'closed') return;
    const was = e.state;
    e.state = 'closed';
    if (e.timer !== null) { clearTimeout(e.timer); e.timer = null; }
    if (was === 'connecting') this.connecting--;
    this.entries.delete(e);
    const { stats } = this.o;
    stats.upstream_cx_destroy.inc();
    (by === 'local' ? stats.upstream_cx_destroy_local : stats.upstream_cx_destroy_remote).inc();
    stats.upstream_cx_active.dec();
    this.hostStats.cx_active--;
    if (e.budgeted) this.o.cluster.breakers.connections.release();
    if (by === 'local') e.socket.destroy();
    this.reconcile();
    this.o.onConnectionClosed?.();
  }
}
