/**
 * A multiplexed connection pool for one upstream host (MOSN's xprotocol multiplex / ping-pong pools): a few
 * raw connections, many requests in flight on each, told apart by request id.
 *
 * - Ids: every request gets an id unique on its connection (a per-connection counter); the caller patches it
 *   into the frame (`MuxRequest.encode`) and maps the response back to its own id.
 * - Multiplex mode: up to `connectionsPerHost` connections, requests spread round robin. Ping-pong mode (for
 *   protocols whose servers answer in order only): one request per connection at a time, more connections
 *   up to the max_connections breaker, the rest wait.
 * - Keepalive: a connection with no traffic for `heartbeatIntervalMs` gets a heartbeat; no answer by the next
 *   interval closes it. A closed connection (upstream restart) is replaced on the next request.
 * - Accounting via the cluster: max_connections (src/upstream/raw_connect.ts), max_requests, max_pending_requests,
 *   `upstream_rq_total`, `upstream_rq_active`, `upstream_rq_pending_*`, `upstream_rq_timeout`, host counters.
 *
 * The protocol is abstract here (MuxCodec): src/upstream knows frames only by kind and id. Main thread only.
 */
import type * as net from 'node:net';
import { SkiffError } from '../common/errors.js';
import type { Logger } from '../common/logger.js';
import type { Cluster, Host } from '../types/upstream.js';
import { overflowError, UPSTREAM_POOL_DRAINED } from './errors.js';
import { connectRaw } from './raw_connect.js';
import { Deadline, requestDeadlines } from '../stream/deadlines.js';

export const UPSTREAM_RQ_TIMEOUT = 'SKIFF_UPSTREAM_RQ_TIMEOUT';
export const UPSTREAM_RESET = 'SKIFF_UPSTREAM_RESET';

/** A decoded upstream frame, as far as the pool needs to know it. */
export interface MuxFrame {
  readonly kind: 'response' | 'heartbeat' | 'heartbeat_reply' | 'goaway' | 'other';
  readonly requestId: number;
  /** Frees the frame's buffers (the pool calls it for frames nobody takes). */
  release(): void;
}

export interface MuxReader { feed(chunk: Uint8Array): void; stop(): void }

export interface MuxCodec<F extends MuxFrame> {
  readonly pingPong: boolean;
  reader(onFrame: (f: F) => void, onError: (err: SkiffError) => void): MuxReader;
  /** A heartbeat request with `id`, or null when the protocol has none. */
  heartbeat(id: number): Uint8Array | null;
  /** The reply to a heartbeat the upstream sent, or null. */
  heartbeatReply(f: F): Uint8Array | null;
}

export interface MuxRequest {
  /** Patches `upstreamId` into the request and returns the bytes to write (valid until `written`). */
  encode(upstreamId: number): Uint8Array;
  /**
   * The bytes `encode` returned went out (or the connection died): their buffers may be freed. Called exactly
   * once for a request that was encoded, never for one that did not reach a connection (its owner keeps the bytes,
   * e.g. to try another host).
   */
  written(): void;
  /** One-way: nothing comes back; the request completes once written. */
  readonly oneway: boolean;
  /** 0 = no timeout. */
  readonly timeoutMs: number;
}

export interface MuxCallbacks<F extends MuxFrame> {
  /** The response (the callee owns and releases it); for a one-way request called with null once written. */
  onResponse(f: F | null): void;
  /** SKIFF_UPSTREAM_* errors: connect failure / timeout / overflow / pool drained (retryable ones may go to another host), rq timeout, reset. */
  onError(err: SkiffError): void;
}

export interface MuxHandle { cancel(): void }

export interface MuxPoolOptions<F extends MuxFrame> {
  readonly cluster: Cluster;
  readonly host: Host;
  readonly codec: MuxCodec<F>;
  readonly connectionsPerHost: number;
  readonly heartbeatIntervalMs: number;
  /**
   * Request ids run 1..maxRequestId on each connection, then wrap to 1, skipping ids still in flight. The default
   * 2^31-1 keeps ids positive for peers that read them as a signed 32-bit int (Java's Bolt and Dubbo).
   */
  readonly maxRequestId?: number;
  /** The first id of a new connection (default 1); tests start it near maxRequestId to exercise the wrap. */
  readonly firstRequestId?: number;
  readonly log?: Logger;
}

interface Call<F extends MuxFrame> {
  readonly req: MuxRequest;
  readonly cb: MuxCallbacks<F>;
  conn: MuxConnection<F> | null;
  id: number;
  timer: Deadline | null;
  done: boolean;
  pendingBudget: boolean;
}

const MAX_ID = 0x7fff_ffff;

/**
 * Writes `bytes`, corking the socket until the end of this tick: the requests (or responses) of one read
 * leave in one writev instead of one syscall each.
 */
export function writeBatched(socket: { writableCorked: number; cork(): void; uncork(): void; write(b: Uint8Array, cb?: (err?: Error | null) => void): boolean }, bytes: Uint8Array, cb?: () => void): boolean {
  if (socket.writableCorked === 0) {
    socket.cork();
    process.nextTick(() => socket.uncork());
  }
  return socket.write(bytes, cb);
}

class MuxConnection<F extends MuxFrame> {
  socket: net.Socket | null = null;
  state: 'connecting' | 'ready' | 'draining' | 'closed' = 'connecting';
  readonly calls = new Map<number, Call<F>>();
  private nextId: number;
  lastActivity = Date.now();
  heartbeatOutstanding = false;
  cancelConnect: (() => void) | null = null;
  reader: MuxReader | null = null;

  constructor(private readonly maxId: number, firstId: number) {
    this.nextId = firstId;
  }

  allocId(): number {
    // Bounded: at most `calls.size + 1` probes find a free id (calls.size < maxId: the pool's breakers and
    // connectionsPerHost cap what is in flight far below the id space).
    for (;;) {
      const id = this.nextId;
      this.nextId = id >= this.maxId ? 1 : id + 1;
      if (!this.calls.has(id)) return id;
    }
  }
}

export class MuxPool<F extends MuxFrame> {
  private readonly conns: MuxConnection<F>[] = [];
  private readonly waiting: Call<F>[] = [];
  private rr = 0;
  private draining = false;
  private closed = false;
  private keepaliveTimer: NodeJS.Timeout | null = null;

  constructor(private readonly o: MuxPoolOptions<F>) {}

  get activeConnections(): number { return this.conns.length; }
  get activeRequests(): number { let n = 0; for (const c of this.conns) n += c.calls.size; return n; }

  send(req: MuxRequest, cb: MuxCallbacks<F>): MuxHandle {
    const { cluster, host } = this.o;
    const stats = cluster.stats;
    if (this.draining || this.closed) {
      cb.onError(new SkiffError(UPSTREAM_POOL_DRAINED, `cluster ${cluster.name}: host pool is draining`, 'upstream', true));
      return { cancel: () => {} };
    }
    if (!cluster.breakers.requests.tryAcquire()) {
      stats.upstream_rq_pending_overflow.inc();
      cb.onError(overflowError(cluster.name, 'max_requests'));
      return { cancel: () => {} };
    }
    stats.upstream_rq_total.inc();
    stats.upstream_rq_active.inc();
    host.activeRequests++;
    if (host.stats) host.stats.rq_total++;
    const call: Call<F> = { req, cb, conn: null, id: 0, timer: null, done: false, pendingBudget: false };
    if (req.timeoutMs > 0) {
      // Deadlines of one duration share one list and one timer (src/stream/deadlines.ts): no Node timer per request.
      call.timer = new Deadline(() => {
        call.timer = null;
        if (call.done) return;
        stats.upstream_rq_timeout.inc();
        if (host.stats) host.stats.rq_timeout++;
        this.finish(call, new SkiffError(UPSTREAM_RQ_TIMEOUT, `cluster ${cluster.name}: request timed out after ${req.timeoutMs} ms`, 'upstream', false));
      });
      requestDeadlines.arm(call.timer, req.timeoutMs);
    }
    const conn = this.pick();
    if (conn !== null) this.dispatch(conn, call);
    else this.enqueue(call);
    return { cancel: () => { if (!call.done) this.finish(call, null); } };
  }

  /** No new requests; connections close once their requests completed. */
  drain(): void {
    this.draining = true;
    for (const c of [...this.conns]) if (c.calls.size === 0 && c.state !== 'connecting') this.closeConnection(c);
  }

  close(): void {
    this.closed = true;
    if (this.keepaliveTimer !== null) { clearInterval(this.keepaliveTimer); this.keepaliveTimer = null; }
    for (const c of [...this.conns]) this.closeConnection(c);
    for (const call of this.waiting.splice(0)) this.finish(call, new SkiffError(UPSTREAM_POOL_DRAINED, 'pool closed', 'upstream', true));
  }

  /** A connection that can take a request now, opening one when the mode allows; null = wait. */
  private pick(): MuxConnection<F> | null {
    let open = 0;
    let connecting = 0;
    const ready: MuxConnection<F>[] = [];
    for (const c of this.conns) {
      if (c.state === 'connecting') { open++; connecting++; }
      else if (c.state === 'ready') { open++; if (!this.o.codec.pingPong || c.calls.size === 0) ready.push(c); }
    }
    if (this.o.codec.pingPong) {
      // One request per connection: another connection for every waiter no connection is on its way for.
      if (ready.length === 0 && connecting <= this.waiting.length) this.open(open === 0);
    } else if (open < Math.max(1, this.o.connectionsPerHost)) {
      // Multiplex: grow to connectionsPerHost as requests arrive.
      this.open(open === 0);
    }
    if (ready.length === 0) return null;
    this.rr = (this.rr + 1) % ready.length;
    return ready[this.rr];
  }

  private enqueue(call: Call<F>): void {
    const { cluster } = this.o;
    if (!cluster.breakers.pendingRequests.tryAcquire()) {
      cluster.stats.upstream_rq_pending_overflow.inc();
      this.finish(call, overflowError(cluster.name, 'max_pending_requests'));
      return;
    }
    call.pendingBudget = true;
    cluster.stats.upstream_rq_pending_total.inc();
    cluster.stats.upstream_rq_pending_active.inc();
    this.waiting.push(call);
  }

  private open(overBudget: boolean): void {
    const maxId = this.o.maxRequestId ?? MAX_ID;
    const conn = new MuxConnection<F>(maxId, Math.min(Math.max(this.o.firstRequestId ?? 1, 1), maxId));
    this.conns.push(conn);
    conn.cancelConnect = connectRaw(this.o.cluster, this.o.host, (err, socket) => {
      conn.cancelConnect = null;
      if (err !== null) {
        this.removeConnection(conn);
        // Waiters fail only when nothing else can serve them.
        if (!this.conns.some((c) => c.state === 'ready' || c.state === 'connecting')) {
          for (const call of this.waiting.splice(0)) this.finish(call, err);
        }
        return;
      }
      if (this.closed || conn.state === 'closed') { socket!.destroy(); return; }
      this.connected(conn, socket!);
    }, { overBudget, onClose: () => this.connectionLost(conn) });
  }

  private connected(conn: MuxConnection<F>, socket: net.Socket): void {
    conn.socket = socket;
    conn.state = this.draining ? 'draining' : 'ready';
    socket.on('error', () => { /* followed by 'close' */ });
    conn.reader = this.o.codec.reader((f) => this.onFrame(conn, f), (err) => {
      this.o.log?.warn(`cluster ${this.o.cluster.name}: undecodable bytes from ${this.o.host.address}:${this.o.host.port}: ${err.message}`);
      socket.destroy();
    });
    socket.on('data', (d: Buffer) => { conn.lastActivity = Date.now(); conn.reader!.feed(d); });
    this.armKeepalive();
    this.serveWaiting();
  }

  private serveWaiting(): void {
    // Bounded by the queue length: each pass dispatches one waiter or stops.
    while (this.waiting.length > 0) {
      const conn = this.pick();
      if (conn === null) return;
      const call = this.waiting.shift()!;
      if (call.pendingBudget) {
        call.pendingBudget = false;
        this.o.cluster.breakers.pendingRequests.release();
        this.o.cluster.stats.upstream_rq_pending_active.dec();
      }
      if (!call.done) this.dispatch(conn, call);
    }
  }

  private dispatch(conn: MuxConnection<F>, call: Call<F>): void {
    const id = conn.allocId();
    call.conn = conn;
    call.id = id;
    conn.calls.set(id, call);
    conn.lastActivity = Date.now();
    const bytes = call.req.encode(id);
    const oneway = call.req.oneway;
    writeBatched(conn.socket!, bytes, () => {
      call.req.written();
      if (oneway && !call.done) this.finish(call, null, null);
    });
  }

  private onFrame(conn: MuxConnection<F>, f: F): void {
    switch (f.kind) {
      case 'response': {
        const call = conn.calls.get(f.requestId);
        if (call === undefined || call.done) { f.release(); return; } // timed out or cancelled
        this.finish(call, null, f);
        return;
      }
      case 'heartbeat_reply':
        conn.heartbeatOutstanding = false;
        f.release();
        return;
      case 'heartbeat': {
        const reply = this.o.codec.heartbeatReply(f);
        f.release();
        if (reply !== null) conn.socket?.write(reply);
        return;
      }
      case 'goaway':
        // The server asks us to stop using this connection (Dubbo READONLY): finish what is in flight only.
        f.release();
        if (conn.state === 'ready') conn.state = 'draining';
        if (conn.calls.size === 0) this.closeConnection(conn);
        return;
      default:
        f.release();
    }
  }

  /** Completes a call: response (or null for one-way), or an error; `null, null` = cancelled quietly. */
  private finish(call: Call<F>, err: SkiffError | null, f?: F | null): void {
    if (call.done) { f?.release(); return; }
    call.done = true;
    const { cluster, host } = this.o;
    if (call.timer !== null) { call.timer.cancel(); call.timer = null; }
    if (call.pendingBudget) {
      call.pendingBudget = false;
      cluster.breakers.pendingRequests.release();
      cluster.stats.upstream_rq_pending_active.dec();
      const i = this.waiting.indexOf(call);
      if (i >= 0) this.waiting.splice(i, 1);
    }
    const conn = call.conn;
    if (conn !== null) conn.calls.delete(call.id);
    cluster.breakers.requests.release();
    cluster.stats.upstream_rq_active.dec();
    host.activeRequests--;
    if (err !== null) call.cb.onError(err);
    else if (f !== undefined) call.cb.onResponse(f);
    if (conn !== null && conn.calls.size === 0 && (conn.state === 'draining' || this.draining)) this.closeConnection(conn);
    else if (conn !== null && this.o.codec.pingPong) this.serveWaiting();
  }

  private armKeepalive(): void {
    const ms = this.o.heartbeatIntervalMs;
    if (ms <= 0 || this.keepaliveTimer !== null) return;
    this.keepaliveTimer = setInterval(() => this.keepalive(), ms);
    this.keepaliveTimer.unref();
  }

  private keepalive(): void {
    const now = Date.now();
    for (const conn of [...this.conns]) {
      if (conn.state !== 'ready' || conn.socket === null) continue;
      if (conn.heartbeatOutstanding) {
        this.o.log?.warn(`cluster ${this.o.cluster.name}: no heartbeat reply from ${this.o.host.address}:${this.o.host.port}; closing`);
        this.closeConnection(conn);
        continue;
      }
      if (conn.calls.size > 0 || now - conn.lastActivity < this.o.heartbeatIntervalMs) continue;
      const hb = this.o.codec.heartbeat(conn.allocId());
      if (hb === null) continue;
      conn.heartbeatOutstanding = true;
      conn.socket.write(hb);
    }
    if (this.conns.length === 0 && this.keepaliveTimer !== null) { clearInterval(this.keepaliveTimer); this.keepaliveTimer = null; }
  }

  private closeConnection(conn: MuxConnection<F>): void {
    if (conn.state === 'closed') return;
    conn.cancelConnect?.();
    conn.socket?.destroy();
    this.connectionLost(conn);
  }

  private removeConnection(conn: MuxConnection<F>): void {
    conn.state = 'closed';
    const i = this.conns.indexOf(conn);
    if (i >= 0) this.conns.splice(i, 1);
  }

  /** The connection is gone: its requests fail (they may have been processed: not retried), waiters get a new one. */
  private connectionLost(conn: MuxConnection<F>): void {
    const wasOpen = conn.state !== 'closed';
    this.removeConnection(conn);
    conn.reader?.stop();
    if (!wasOpen && conn.calls.size === 0) return;
    const lost = [...conn.calls.values()];
    conn.calls.clear();
    if (lost.length > 0) this.o.cluster.stats.upstream_rq_rx_reset.inc(lost.length);
    for (const call of lost) {
      call.conn = null;
      if (!call.done) {
        this.finish(call, new SkiffError(UPSTREAM_RESET, `cluster ${this.o.cluster.name}: upstream connection closed with the request in flight`, 'upstream', false));
      }
    }
    if (!this.closed && this.waiting.length > 0) this.serveWaiting();
  }
}
