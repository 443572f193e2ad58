/**
 * One try of a request against one upstream host: circuit-breaker budget (taken by the caller, released here), pool acquire, the upstream
 * request, and its accounting (host active requests, cluster rq stats). It reports back through
 * TryListener and never decides on retries or replies: the ActiveRequest does. Host.activeRequests is
 * kept by the host's connection pool, not here.
 *
 * Ownership: the try owns the pooled connection from acquire until `finish` hands it back to the pool
 * (reusable) or closes it (aborted).
 */
import { SkiffError } from '../common/errors.js';
import type {
  ClientConnection, HeaderList, HeadRewrite, RequestHead, ResponseHandler, ResponseHead, UpstreamRequest,
} from '../types/http.js';
import type { Cluster, Host, PoolHandle } from '../types/upstream.js';
import { recordHostResponse, recordHostTimeout } from '../upstream/host.js';

export interface TryListener {
  /** The connection is ready and the request head has been sent: the body may flow. */
  onStarted(t: UpstreamTry): void;
  onHead(t: UpstreamTry, head: ResponseHead): void;
  onData(t: UpstreamTry, chunk: Uint8Array): void;
  onEnd(t: UpstreamTry, trailers?: HeaderList): void;
  /** The try failed before or during the response. `responseStarted` says whether onHead ran. */
  onFailure(t: UpstreamTry, err: SkiffError, responseStarted: boolean): void;
  /** A listener call threw: a bug, contained to this request. */
  onInternalError(e: unknown): void;
}

/** Error codes from the upstream area that mean "no connection was made". */
export function isConnectFailure(err: SkiffError): boolean {
  return err.code === 'SKIFF_UPSTREAM_CONNECT_FAILURE' || err.code === 'SKIFF_UPSTREAM_CONNECT_TIMEOUT';
}

export function isOverflow(err: SkiffError): boolean { return err.code === 'SKIFF_UPSTREAM_OVERFLOW'; }

/**
 * The try is also the ResponseHandler of its upstream request (onHead/onData/onEnd/onError below): one
 * object per try, no handler object or closures per request.
 */
export class UpstreamTry implements ResponseHandler {
  private handle: PoolHandle | undefined;
  private conn: ClientConnection | undefined;
  private req: UpstreamRequest | undefined;
  private finished = false;
  private responseStarted = false;
  private responseDone = false;
  private requestDone = false;
  private callbackDepth = 0;
  private head: RequestHead | undefined;
  private rewrite: HeadRewrite | undefined;
  /** Whether the pool has answered the acquire (it may do so synchronously, inside acquire()). */
  private answered = false;

  constructor(
    readonly cluster: Cluster,
    readonly host: Host,
    readonly attempt: number,
    private readonly listener: TryListener,
  ) {}

  /** The upstream request once the connection is ready. */
  get request(): UpstreamRequest | undefined { return this.req; }
  get done(): boolean { return this.finished; }

  /** Takes the pool's connection (or a place in its queue) and sends the head. */
  start(head: RequestHead, rewrite: HeadRewrite): void {
    this.cluster.stats.upstream_rq_total.inc();
    this.cluster.stats.upstream_rq_active.inc();
    this.head = head;
    this.rewrite = rewrite;
    // The request head lets a pool that follows the downstream protocol pick HTTP/1.1 or HTTP/2.
    const handle = this.cluster.pool(this.host).acquire(this.onAcquired, head);
    // An idle connection answers synchronously: only a pending acquire keeps a handle to cancel.
    if (!this.answered) this.handle = handle;
  }

  private readonly onAcquired = (err: SkiffError | null, conn?: ClientConnection): void => {
    this.answered = true;
    this.handle = undefined;
    if (this.finished) { if (conn) this.cluster.pool(this.host).release(conn); return; }
    if (err || !conn) {
      this.fail(err ?? new SkiffError('SKIFF_UPSTREAM_CONNECT_FAILURE', 'no connection', 'upstream', true));
      return;
    }
    this.conn = conn;
    try {
      this.req = conn.request(this.head!, this.rewrite!, this);
    } catch (e) {
      this.fail(e instanceof SkiffError ? e : new SkiffError('SKIFF_UPSTREAM_REQUEST_FAILED', String(e), 'internal', false, { cause: e }));
      return;
    }
    try { this.listener.onStarted(this); } catch (e) { this.listener.onInternalError(e); }
  };

  // ---- ResponseHandler: called by the codec. Listener calls made from here count in callbackDepth (see abort). ----

  onHead(h: ResponseHead): void {
    if (this.finished) return;
    this.responseStarted = true;
    recordHostResponse(this.host, h.status);
    this.callbackDepth++;
    try { this.listener.onHead(this, h); } catch (e) { this.listener.onInternalError(e); } finally { this.callbackDepth--; }
  }

  onData(c: Uint8Array): void {
    if (this.finished) return;
    this.callbackDepth++;
    try { this.listener.onData(this, c); } catch (e) { this.listener.onInternalError(e); } finally { this.callbackDepth--; }
  }

  onEnd(trailers?: HeaderList): void {
    if (this.finished) return;
    this.responseDone = true;
    try { this.listener.onEnd(this, trailers); } catch (e) { this.listener.onInternalError(e); }
  }

  onError(e: SkiffError): void { this.fail(e); }

  /** Marks the request body as fully sent. */
  endRequest(trailers?: HeaderList): void {
    if (this.finished || this.requestDone) return;
    this.requestDone = true;
    this.req?.end(trailers);
  }

  /** Whether the request body was fully sent upstream. */
  get requestComplete(): boolean { return this.requestDone; }

  private fail(err: SkiffError): void {
    if (this.finished) return;
    const started = this.responseStarted;
    if (!started) recordHostResponse(this.host, 0);
    this.abort();
    try { this.listener.onFailure(this, err, started); } catch (e) { this.listener.onInternalError(e); }
  }

  /** The try ran out of time (route or per-try timeout): counted on the host, then abandoned. */
  timeout(): void {
    if (this.finished) return;
    recordHostTimeout(this.host);
    if (!this.responseStarted) recordHostResponse(this.host, 0);
    this.abort();
  }

  /** Abandons the try: cancels a pending acquire or aborts the request; the connection is not reused. */
  abort(): void {
    if (this.finished) return;
    this.handle?.cancel();
    this.handle = undefined;
    const req = this.req;
    const conn = this.conn;
    const abortConn = (): void => {
      if (req && !this.responseDone) req.abort();
      else if (conn && !req) conn.close();
    };
    // Aborting from inside the codec's onHead/onData would pull its parser state away mid-call: defer
    // the connection work to a microtask; the accounting below happens now.
    if (this.callbackDepth > 0) { this.settle(abortConn); return; }
    abortConn();
    this.settle();
  }

  /** The response completed: the connection goes back to the pool (the pool closes it if not reusable). */
  complete(): void {
    if (this.finished) return;
    this.settle();
  }

  /** Accounting once per try; the connection always goes back to the pool, which closes it unless reusable. */
  private settle(deferredAbort?: () => void): void {
    this.finished = true;
    this.cluster.stats.upstream_rq_active.dec();
    this.cluster.breakers.requests.release();
    const conn = this.conn;
    this.conn = undefined;
    const pool = this.cluster.pool(this.host);
    if (deferredAbort) {
      queueMicrotask(() => { deferredAbort(); if (conn) pool.release(conn); });
    } else if (conn) {
      pool.release(conn);
    }
  }
}
