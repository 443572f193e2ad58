/**
 * The HTTP/1.1 connection pool of one host: one request per connection at a time.
 *
 * acquire(): an idle keep-alive connection (the most recently used first: it is the one least likely to have
 * been closed by the peer's idle timer), else a new connection when the cluster's max_connections breaker
 * allows, else a place in the pending queue when max_pending_requests allows, else SKIFF_UPSTREAM_OVERFLOW.
 * Pending requests are served oldest first by the next connection that connects or is released.
 * (max_requests, upstream_rq_total and upstream_rq_active belong to the caller, src/proxy: a request holds
 * them across its pool wait and its response.)
 *
 * Callbacks may run synchronously inside acquire() (an idle connection, or an overflow); the handle returned
 * then does nothing.
 *
 * Counters kept here: cluster upstream_cx_* and upstream_rq_pending_*, the host's activeRequests (requests
 * waiting in this pool plus requests holding one of its connections: what LEAST_REQUEST should see, since
 * requests queueing on a slow host are load on it) and stats (cx_total, cx_active, cx_connect_fail,
 * rq_total).
 */
import * as net from 'node:net';
import type { ClientConnection } from '../types/http.js';
import type { Cluster, Host, HostStats, HttpConnectionPool, PoolHandle } from '../types/upstream.js';
import { SkiffError } from '../common/errors.js';
import type { Logger } from '../common/logger.js';
import type { ClusterStatsImpl } from './cluster_stats.js';
import { openSocket, type SocketOpener, type UpstreamTls } from './transport.js';
import { watchConnect, type ConnectWatch } from './connect_watch.js';
import { connectFailureError, overflowError, UPSTREAM_POOL_CLOSED, UPSTREAM_POOL_DRAINED } from './errors.js';
import { hostStatsOf } from './host.js';
import { connectSharedReads } from '../stream/http1/socket-io.js';

/** Builds the HTTP/1 client codec over a connected socket (src/stream's createClientConnection). */
export type ConnectionFactory = (socket: net.Socket, cluster: Cluster) => ClientConnection;

export type AcquireCallback = (err: SkiffError | null, conn?: ClientConnection) => void;

export interface Http1PoolOptions {
  readonly host: Host;
  readonly cluster: Cluster;
  readonly stats: ClusterStatsImpl;
  readonly connect: ConnectionFactory;
  /** Idle keep-alive connections are closed after this long; 0 = never. */
  readonly idleTimeoutMs: number;
  /** A connection is closed after serving this many requests; 0 = unlimited. */
  readonly maxRequestsPerConnection: number;
  readonly log?: Logger;
  /** Called when a connection closes (its breaker budget is free again), so sibling pools can use it. */
  readonly onConnectionClosed?: () => void;
  /** The cluster's UpstreamTlsContext; plain TCP when absent. */
  readonly tls?: UpstreamTls;
  /** Opens connections instead of `openSocket(host, tls)` (auto_config: ALPN offered, first socket adopted). */
  readonly open?: SocketOpener;
}

/** `released`: its request ended and it is being parked, handed on or closed. */
type State = 'connecting' | 'idle' | 'busy' | 'released' | 'closed';

interface PooledConnection {
  state: State;
  readonly socket: net.Socket;
  conn: ClientConnection | null;
  requests: number;
  /** The connect timeout while connecting; afterwards the idle check (see parkIdle). */
  timer: NodeJS.Timeout | null;
  /** When the connection last went idle (ms, Date.now()). */
  idleSince: number;
  /** Holds a unit of max_connections (false for a pool's only connection opened over the limit). */
  readonly budgeted: boolean;
}

interface Waiter {
  readonly cb: AcquireCallback;
  /** Holds a unit of max_pending_requests (it queued because max_connections was reached). */
  readonly holdsPendingBudget: boolean;
}

const INERT: PoolHandle = { cancel() {} };

export class Http1Pool implements HttpConnectionPool {
  private readonly idle: PooledConnection[] = [];
  private readonly byConn = new Map<ClientConnection, PooledConnection>();
  private readonly all = new Set<PooledConnection>();
  private readonly pending: Waiter[] = [];
  private connecting = 0;
  private draining = false;
  private closed = false;
  private readonly hostStats: HostStats;
  private readonly hostKey: string;
  private readonly connectWatch: ConnectWatch<PooledConnection>;

  constructor(private readonly o: Http1PoolOptions) {
    this.hostStats = hostStatsOf(o.host);
    this.hostKey = `${o.host.address}:${o.host.port}`;
    this.connectWatch = {
      clusterName: o.cluster.name, hostKey: this.hostKey, timeoutMs: o.cluster.connectTimeoutMs,
      stats: o.stats, hostStats: this.hostStats,
      failed: (rec, err) => this.connectFailed(rec, err),
      connected: (rec) => this.connected(rec),
      closed: (rec) => this.closeConnection(rec, 'remote'),
    };
  }

  get activeConnections(): number { return this.all.size; }
  get idleConnections(): number { return this.idle.length; }
  get pendingRequests(): number { return this.pending.length; }
  get isDraining(): boolean { return this.draining; }

  acquire(cb: AcquireCallback): PoolHandle {
    const { stats, cluster } = this.o;
    if (this.draining) {
      cb(new SkiffError(UPSTREAM_POOL_DRAINED, `cluster ${cluster.name}: host ${this.hostKey} is draining`, 'upstream', true));
      return INERT;
    }
    // Most recently used idle connection first; skip any the peer closed since it went idle.
    for (let n = this.idle.length; n > 0; n--) {
      const rec = this.idle.pop()!;
      if (rec.conn === null || !rec.conn.reusable) { this.closeConnection(rec, 'remote'); continue; }
      this.deliver(rec, cb);
      return INERT;
    }
    let holdsPendingBudget = false;
    if (cluster.breakers.connections.tryAcquire()) {
      this.open(true);
    } else if (this.all.size === 0) {
      // Other hosts' pools hold the whole max_connections budget. A pool with no connection at all would
      // never be handed one, so it opens one over the limit (as Envoy does) instead of starving.
      stats.upstream_cx_overflow.inc();
      this.open(false);
    } else if (cluster.breakers.pendingRequests.tryAcquire()) {
      stats.upstream_cx_overflow.inc();
      holdsPendingBudget = true;
    } else {
      stats.upstream_cx_overflow.inc();
      stats.upstream_rq_pending_overflow.inc();
      cb(overflowError(cluster.name, 'max_pending_requests'));
      return INERT;
    }
    const waiter: Waiter = { cb, holdsPendingBudget };
    this.pending.push(waiter);
    this.o.host.activeRequests++;
    stats.upstream_rq_pending_total.inc();
    stats.upstream_rq_pending_active.inc();
    return { cancel: () => { this.removeWaiter(waiter); } };
  }

  release(conn: ClientConnection): void {
    const rec = this.byConn.get(conn);
    if (rec === undefined || rec.state !== 'busy') return; // not ours, or already closed under the request
    this.o.host.activeRequests--;
    rec.state = 'released';
    if (!conn.reusable) { this.closeConnection(rec, 'local'); return; }
    if (this.o.maxRequestsPerConnection > 0 && rec.requests >= this.o.maxRequestsPerConnection) {
      this.o.stats.upstream_cx_max_requests.inc();
      this.closeConnection(rec, 'local');
      return;
    }
    this.serveOrPark(rec);
  }

  /** Closes idle connections and refuses new work; busy and connecting ones finish what is queued, then close. */
  drain(): void {
    this.draining = true;
    for (let n = this.idle.length; n > 0; n--) this.closeConnection(this.idle.pop()!, 'local');
  }

  /** Closes every connection now and fails pending requests (cluster or process shutdown). */
  close(): void {
    this.draining = true;
    this.closed = true;
    for (let n = this.pending.length; n > 0; n--) {
      const w = this.pending[0];
      this.removeWaiter(w);
      w.cb(new SkiffError(UPSTREAM_POOL_CLOSED, `cluster ${this.o.cluster.name}: pool for ${this.hostKey} closed`, 'upstream', true));
    }
    for (const rec of [...this.all]) this.closeConnection(rec, 'local');
  }

  /**
   * Opens connections for pending requests that no connecting socket will serve, as far as the breaker
   * allows. Called when capacity may have freed up (a connection of this or a sibling pool closed).
   */
  reconcile(): void {
    if (this.closed) return;
    while (this.pending.length > this.connecting && this.o.cluster.breakers.connections.tryAcquire()) this.open(true);
    if (this.pending.length > 0 && this.all.size === 0) this.open(false);
  }

  private open(budgeted: boolean): void {
    const { host, stats } = this.o;
    const { socket, ready } = this.o.open ? this.o.open(host) : this.openPlain(host) ?? openSocket(host, this.o.tls);
    const rec: PooledConnection = { state: 'connecting', socket, conn: null, requests: 0, timer: null, idleSince: 0, budgeted };
    this.all.add(rec);
    this.connecting++;
    stats.upstream_cx_total.inc();
    stats.upstream_cx_http1_total.inc();
    stats.upstream_cx_active.inc();
    this.hostStats.cx_total++;
    this.hostStats.cx_active++;
    watchConnect(socket, ready, rec, this.connectWatch);
  }

  /**
   * Plain TCP to an address and port reads through the HTTP/1 codec's shared read buffer (no Buffer per read,
   * see src/stream/http1/socket-io.ts); TLS, pipe and internal-listener endpoints go through openSocket.
   */
  private openPlain(host: Host): { socket: net.Socket; ready: 'connect' } | undefined {
    if (this.o.tls !== undefined || host.port === 0 || host.internal !== undefined) return undefined;
    return { socket: connectSharedReads(host.address, host.port), ready: 'connect' };
  }

  private connected(rec: PooledConnection): void {
    if (rec.state !== 'connecting') return;
    this.connecting--;
    if (rec.timer !== null) { clearTimeout(rec.timer); rec.timer = null; }
    let conn: ClientConnection;
    try {
      conn = this.o.connect(rec.socket, this.o.cluster);
    } catch (err) {
      this.o.log?.error(`cluster ${this.o.cluster.name}: connection factory failed: ${String(err)}`);
      rec.state = 'released'; // connecting was already counted down above
      this.connectFailed(rec, connectFailureError(this.o.cluster.name, this.hostKey, err));
      return;
    }
    rec.conn = conn;
    this.byConn.set(conn, rec);
    conn.onClose(() => this.closeConnection(rec, 'remote'));
    this.serveOrPark(rec);
  }

  /**
   * A failed connect fails the oldest waiter: it has waited longest, and each waiter caused at most one
   * connect. The waiter leaves the queue before the socket is closed, so that closing (which opens
   * connections for waiters left uncovered) does not dial again on its behalf.
   */
  private connectFailed(rec: PooledConnection, err: SkiffError): void {
    const w = this.pending[0];
    if (w !== undefined) this.removeWaiter(w);
    this.closeConnection(rec, 'local');
    if (w !== undefined) w.cb(err);
  }

  private serveOrPark(rec: PooledConnection): void {
    const w = this.pending[0];
    if (w !== undefined) {
      this.removeWaiter(w);
      this.deliver(rec, w.cb);
      return;
    }
    if (this.draining) { this.closeConnection(rec, 'local'); return; }
    rec.state = 'idle';
    rec.idleSince = Date.now();
    this.idle.push(rec);
    if (this.o.idleTimeoutMs > 0 && rec.timer === null) this.armIdleCheck(rec, this.o.idleTimeoutMs);
  }

  /**
   * Idle timeouts without a timer per request: parking only stamps `idleSince`, and one timer per connection
   * checks when the earliest possible expiry comes. If the connection was busy meanwhile or parked again
   * later, the check re-arms for the time still left (or, if busy, lets the next park arm it again).
   */
  private armIdleCheck(rec: PooledConnection, delayMs: number): void {
    rec.timer = setTimeout(() => {
      rec.timer = null;
      if (rec.state !== 'idle') return;
      const left = rec.idleSince + this.o.idleTimeoutMs - Date.now();
      if (left > 0) { this.armIdleCheck(rec, left); return; }
      this.o.stats.upstream_cx_idle_timeout.inc();
      this.closeConnection(rec, 'local');
    }, delayMs);
    rec.timer.unref();
  }

  private deliver(rec: PooledConnection, cb: AcquireCallback): void {
    rec.state = 'busy'; // an armed idle check stays: it finds the connection busy and stands down
    rec.requests++;
    this.o.host.activeRequests++;
    this.hostStats.rq_total++;
    cb(null, rec.conn!);
  }

  private removeWaiter(w: Waiter): boolean {
    const i = this.pending.indexOf(w);
    if (i < 0) return false;
    this.pending.splice(i, 1);
    this.o.host.activeRequests--; // deliver() counts it again if it gets a connection
    this.o.stats.upstream_rq_pending_active.dec();
    if (w.holdsPendingBudget) this.o.cluster.breakers.pendingRequests.release();
    return true;
  }

  /** The one way a connection leaves the pool; idempotent. */
  private closeConnection(rec: PooledConnection, by: 'local' | 'remote'): void {
    if (rec.state === 'closed') return;
    const was = rec.state;
    rec.state = 'closed';
    if (rec.timer !== null) { clearTimeout(rec.timer); rec.timer = null; }
    if (was === 'connecting') this.connecting--;
    if (was === 'idle') { const i = this.idle.indexOf(rec); if (i >= 0) this.idle.splice(i, 1); }
    if (was === 'busy' && rec.conn !== null) this.o.host.activeRequests--; // lost mid-request
    this.all.delete(rec);
    if (rec.conn !== null) this.byConn.delete(rec.conn);
    const { stats } = this.o;
    stats.upstream_cx_destroy.inc();
    (by === 'local' ? stats.upstream_cx_destroy_local : stats.upstream_cx_destroy_remote).inc();
    stats.upstream_cx_active.dec();
    this.hostStats.cx_active--;
    if (rec.budgeted) this.o.cluster.breakers.connections.release();
    if (by === 'local') {
      if (rec.conn !== null) rec.conn.close();
      rec.socket.destroy();
    }
    // A request that lost its connection mid-flight is the proxy's to fail; waiters may need a new connection.
    this.reconcile();
    this.o.onConnectionClosed?.();
  }
}
