/**
 * The connection pool of one host of an `auto_config` cluster (HttpProtocolOptions.auto_config): the protocol
 * is whatever TLS ALPN negotiates with the host, HTTP/2 when the server picks `h2`, else HTTP/1.1 (also when
 * it picks none), as Envoy's mixed pool does.
 *
 * The first acquire opens one TLS connection offering `h2, http/1.1` (or the cluster's own alpn_protocols);
 * once its handshake is done, ALPN settles the host's protocol, that connection is handed to a new Http2Pool
 * or Http1Pool as its first connection (no second handshake), and the requests that waited are passed to it.
 * From then on every call goes straight to that pool, whose further connections offer the same ALPN list.
 * A host is asked once: a server that later changes its ALPN answer is seen only after the pool is rebuilt
 * (host removed and re-added, or a cluster update).
 */
import type * as tls from 'node:tls';
import type { ClientConnection } from '../types/http.js';
import type { Cluster, Host, HttpConnectionPool, PoolHandle } from '../types/upstream.js';
import { SkiffError } from '../common/errors.js';
import type { ClusterStatsImpl } from './cluster_stats.js';
import type { AcquireCallback } from './http1_pool.js';
import { adoptSocket, type OpenedSocket, type SocketOpener, type UpstreamTls } from './transport.js';
import { connectFailureError, connectTimeoutError, UPSTREAM_POOL_CLOSED, UPSTREAM_POOL_DRAINED } from './errors.js';
import { hostStatsOf } from './host.js';

/** What Envoy offers for auto_config when the TLS context names no ALPN protocols. */
export const AUTO_ALPN: readonly string[] = ['h2', 'http/1.1'];

/** The pool behind an AlpnPool once the protocol is known. */
export interface ProtocolPool extends HttpConnectionPool {
  readonly pendingRequests: number;
  readonly isDraining: boolean;
  close(): void;
  reconcile(): void;
}

export interface AlpnPoolOptions {
  readonly host: Host;
  readonly cluster: Cluster;
  readonly stats: ClusterStatsImpl;
  readonly tls: UpstreamTls;
  /** Builds the pool for the negotiated protocol; `open` opens its connections (the first one adopted). */
  readonly makePool: (protocol: 'http1' | 'http2', open: SocketOpener) => ProtocolPool;
}

interface Waiter { readonly cb: AcquireCallback; cancelled: boolean; inner?: PoolHandle }

export class AlpnPool implements ProtocolPool {
  private inner: ProtocolPool | undefined;
  /** The protocol ALPN settled for this host (undefined until the first handshake). */
  protocol: 'http1' | 'http2' | undefined;
  private probe: tls.TLSSocket | undefined;
  private probeTimer: NodeJS.Timeout | undefined;
  private readonly waiting: Waiter[] = [];
  private draining = false;
  private readonly alpn: readonly string[];
  private readonly hostKey: string;

  constructor(private readonly o: AlpnPoolOptions) {
    this.alpn = o.tls.alpn.length > 0 ? o.tls.alpn : AUTO_ALPN;
    this.hostKey = `${o.host.address}:${o.host.port}`;
  }

  get activeConnections(): number { return this.inner?.activeConnections ?? (this.probe ? 1 : 0); }
  get pendingRequests(): number { return this.inner?.pendingRequests ?? this.waiting.length; }
  get isDraining(): boolean { return this.inner?.isDraining ?? this.draining; }

  acquire(cb: AcquireCallback): PoolHandle {
    if (this.inner) return this.inner.acquire(cb);
    if (this.draining) {
      cb(new SkiffError(UPSTREAM_POOL_DRAINED, `cluster ${this.o.cluster.name}: host ${this.hostKey} is draining`, 'upstream', true));
      return { cancel() {} };
    }
    const w: Waiter = { cb, cancelled: false };
    this.waiting.push(w);
    if (!this.probe) this.startProbe();
    return {
      cancel: () => {
        if (w.inner) { w.inner.cancel(); return; }
        w.cancelled = true;
        const i = this.waiting.indexOf(w);
        if (i >= 0) this.waiting.splice(i, 1);
      },
    };
  }

  release(conn: ClientConnection): void { this.inner?.release(conn); }

  drain(): void {
    this.draining = true;
    if (this.inner) { this.inner.drain(); return; }
    if (this.waiting.length === 0) this.endProbe();
  }

  close(): void {
    this.draining = true;
    if (this.inner) { this.inner.close(); return; }
    this.endProbe();
    this.failWaiting(new SkiffError(UPSTREAM_POOL_CLOSED, `cluster ${this.o.cluster.name}: pool for ${this.hostKey} closed`, 'upstream', true));
  }

  reconcile(): void { this.inner?.reconcile(); }

  private openTls(host: Host): OpenedSocket {
    return { socket: this.o.tls.connect(host.address, host.port, this.alpn), ready: 'secureConnect' };
  }

  /** One TLS handshake to learn the host's protocol; its connection becomes the chosen pool's first. */
  private startProbe(): void {
    const { cluster, stats, host } = this.o;
    const socket = this.o.tls.connect(host.address, host.port, this.alpn);
    this.probe = socket;
    const hostStats = hostStatsOf(host);
    const timeoutMs = cluster.connectTimeoutMs;
    const failed = (err: SkiffError): void => {
      if (this.probe !== socket) return;
      this.endProbe();
      stats.upstream_cx_total.inc();
      hostStats.cx_total++;
      hostStats.cx_connect_fail++;
      this.failWaiting(err);
    };
    if (timeoutMs > 0) {
      this.probeTimer = setTimeout(() => {
        stats.upstream_cx_connect_timeout.inc();
        failed(connectTimeoutError(cluster.name, this.hostKey, timeoutMs));
      }, timeoutMs);
    }
    socket.on('error', (err) => {
      if (this.probe !== socket) return; // handed over: the chosen pool listens for its errors
      stats.upstream_cx_connect_fail.inc();
      failed(connectFailureError(cluster.name, this.hostKey, err));
    });
    socket.once('secureConnect', () => {
      if (this.probe !== socket) return;
      if (this.probeTimer) { clearTimeout(this.probeTimer); this.probeTimer = undefined; }
      this.probe = undefined;
      this.settle(socket.alpnProtocol === 'h2' ? 'http2' : 'http1', socket);
    });
  }

  private settle(protocol: 'http1' | 'http2', first: tls.TLSSocket): void {
    this.protocol = protocol;
    let adopt: tls.TLSSocket | undefined = first;
    const open: SocketOpener = (host) => {
      const s = adopt;
      adopt = undefined;
      return s !== undefined && !s.destroyed ? adoptSocket(s) : this.openTls(host);
    };
    const inner = this.o.makePool(protocol, open);
    this.inner = inner;
    if (this.draining) inner.drain();
    // Bounded by the queue, which only grows in acquire() (not re-entered here: the inner pool answers).
    const waiting = this.waiting.splice(0);
    for (const w of waiting) if (!w.cancelled) w.inner = inner.acquire(w.cb);
    // No waiter made the pool open a connection (all cancelled, or the breaker said wait): nothing uses it.
    if (adopt !== undefined) { adopt.destroy(); adopt = undefined; }
  }

  private endProbe(): void {
    if (this.probeTimer) { clearTimeout(this.probeTimer); this.probeTimer = undefined; }
    const p = this.probe;
    this.probe = undefined;
    p?.destroy();
  }

  private failWaiting(err: SkiffError): void {
    const waiting = this.waiting.splice(0);
    for (const w of waiting) if (!w.cancelled) w.cb(err);
  }
}
