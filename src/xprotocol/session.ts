/**
 * One downstream x-protocol connection (the stream layer): frames in, routed, forwarded over the host's
 * multiplexed pool with the request id rewritten, responses mapped back to the caller's id.
 *
 * - Heartbeats are answered here; upstream keepalive is the pool's.
 * - One-way requests are forwarded and forgotten.
 * - A request's timeout: the shorter of the frame's own (Bolt timeout field, Dubbo `timeout` attachment) and
 *   the route's, else the filter's request_timeout.
 * - Failures become an error reply in the protocol's own format (status mapped by the spec): no route 404,
 *   no healthy upstream / overflow / connect failure / upstream reset 503, timeout 504.
 * - Retries follow the route's retry_policy (src/proxy/retry_state.ts); without one, a connect failure (the
 *   request never left) is tried once more on another host. hash_policy headers key RING_HASH / MAGLEV.
 * - Drain: Dubbo gets a READONLY event (the protocol's goaway), Bolt MOSN's goaway command when the config opts
 *   in; every connection closes once the requests in flight are answered (as MOSN closes idle Bolt connections).
 * - Undecodable input closes the connection (counted as downstream_cx_protocol_error).
 */
import type { Duplex } from 'node:stream';
import type { SkiffError } from '../common/errors.js';
import type { DownstreamConnection, ServedConnection } from '../types/network.js';
import type { RequestHead } from '../types/http.js';
import type { HeaderMutation, RouteEntry } from '../types/router.js';
import type { Cluster, Host } from '../types/upstream.js';
import * as L from '../wasm/layout.js';
import { XStatus, type XProtocolSpec } from '../codec/xprotocol/spec.js';
import { getXProtocol, hasXProtocol, xProtocolForId } from '../codec/xprotocol/registry.js';
import { UPSTREAM_RESET, UPSTREAM_RQ_TIMEOUT, writeBatched, type MuxHandle } from '../upstream/mux_pool.js';
import { UPSTREAM_CONNECT_FAILURE, UPSTREAM_CONNECT_TIMEOUT, UPSTREAM_OVERFLOW, UPSTREAM_POOL_DRAINED } from '../upstream/errors.js';
import { parseRetryPolicy, pickWeighted, RetryState, type TryOutcome } from '../proxy/retry_state.js';
import { hash64 } from '../upstream/hash.js';
import { FrameReader, type Frame } from './frame_reader.js';
import { buildRouteHead } from './route_head.js';
import { paramsHeaderValue } from './param_match.js';
import { hasMutations, mutateFrame } from './header_mutation.js';
import { errorReply, goaway, heartbeatReply } from './local_reply.js';
import type { XProtocolFilter } from './filter.js';
import type { UpstreamFrame } from './upstream_codec.js';

/** One request from receipt to its reply. */
interface Inflight {
  readonly frame: Frame;
  readonly proto: number;
  readonly idLo: number;
  readonly idHi: number;
  readonly oneway: boolean;
  encoded: boolean;
  handle: MuxHandle | null;
  done: boolean;
  /** Socket writes of the frame's bytes not yet completed (the bytes must stay until 0). */
  writes: number;
  /** The bytes stay after being written (a retry may re-send them). */
  keepBytes: boolean;
  /** The route's retry state, null without a retry_policy. */
  retry: RetryState | null;
  /** With a per_try_timeout: the whole request's deadline across tries. */
  overallTimer: NodeJS.Timeout | null;
  /** Tries are bounded by the policy's per_try_timeout (a timeout is then retriable). */
  perTry: boolean;
  tryTimeoutMs: number;
  /** The cluster whose `retries` breaker this request holds. */
  retryBudget: Cluster | null;
  /** hash_policy value for RING_HASH / MAGLEV. */
  hash: bigint | undefined;
  /** The route's response header mutation, null when it has none. */
  responseHeaders: HeaderMutation | null;
}

export class XProtocolSession implements ServedConnection {
  private readonly socket: Duplex;
  private readonly reader: FrameReader;
  private spec: XProtocolSpec | undefined;
  private readonly inflight = new Set<Inflight>();
  private draining = false;
  private closed = false;
  private pausedForDrain = false;

  constructor(conn: DownstreamConnection, private readonly f: XProtocolFilter) {
    this.socket = conn.socket;
    // protocol auto behind protocol_inspector: the listener already named the protocol from the same bytes.
    this.spec = f.config.spec ?? (conn.info.alpn !== '' && hasXProtocol(conn.info.alpn) ? getXProtocol(conn.info.alpn) : undefined);
    if (f.config.spec === undefined && this.spec !== undefined) f.stats.downstream_cx_protocol_from_listener.inc();
    const stats = f.stats;
    stats.downstream_cx_total.inc();
    stats.downstream_cx_active.inc();
    this.reader = new FrameReader({
      wasm: f.wasm, slabs: f.slabs, proto: this.spec?.protoIds[0] ?? 0, maxFrameBytes: f.config.maxFrameBytes,
      onFrame: (frame) => this.onFrame(frame),
      onError: (err) => this.protocolError(err),
      onDetect: (id) => { this.spec = xProtocolForId(id); },
    });
    this.socket.on('error', () => { /* followed by 'close' */ });
    this.socket.once('close', () => this.onClose());
    this.socket.on('data', (d: Buffer) => this.reader.feed(d));
    if (conn.initialData.length > 0) this.reader.feed(conn.initialData);
    this.socket.resume();
  }

  drain(): void {
    if (this.draining || this.closed) return;
    this.draining = true;
    const spec = this.spec;
    if (spec?.goaway === true && (!spec.goawayOptIn || this.f.config.optInGoaway)) {
      const bytes = goaway(this.f.wasm, this.f.slabs, this.reader.proto || spec.protoIds[0], 0);
      if (bytes !== null) { this.socket.write(bytes); this.f.stats.downstream_goaway_sent.inc(); }
    }
    this.closeIfIdle();
  }

  destroy(): void {
    this.socket.destroy();
  }

  private closeIfIdle(): void {
    if (this.draining && this.inflight.size === 0 && !this.closed) this.socket.end();
  }

  private onClose(): void {
    if (this.closed) return;
    this.closed = true;
    this.reader.stop();
    this.f.stats.downstream_cx_active.dec();
    for (const r of [...this.inflight]) this.complete(r);
    this.f.sessionClosed(this);
  }

  /**
   * A client that does not read its responses gets no more requests read from it until it catches up: the
   * responses waiting for it stay bounded by what is in flight.
   */
  private pauseUntilDrained(): void {
    if (this.pausedForDrain) return;
    this.pausedForDrain = true;
    this.socket.pause();
    this.socket.once('drain', () => {
      this.pausedForDrain = false;
      if (!this.closed) this.socket.resume();
    });
  }

  private protocolError(err: SkiffError): void {
    this.f.stats.downstream_cx_protocol_error.inc();
    this.f.log?.debug(`xprotocol ${this.f.config.statPrefix}: closing a connection: ${err.code} ${err.message}`);
    // Answered requests still go out; the connection closes after them.
    this.socket.end();
    setTimeout(() => this.socket.destroy(), 1000).unref();
  }

  private onFrame(frame: Frame): void {
    const kind = frame.view.kindCode;
    if (kind === L.XK_HEARTBEAT) {
      this.f.stats.downstream_rq_heartbeat.inc();
      const reply = heartbeatReply(this.f.wasm, this.f.slabs, frame.view.proto, frame.rec);
      frame.release();
      if (reply !== null) this.socket.write(reply);
      return;
    }
    if (kind !== L.XK_REQUEST && kind !== L.XK_ONEWAY) { frame.release(); return; }
    const stats = this.f.stats;
    stats.downstream_rq_total.inc();
    stats.downstream_rq_active.inc();
    const oneway = kind === L.XK_ONEWAY;
    if (oneway) stats.downstream_rq_oneway.inc();
    const v = this.f.wasm.view;
    const r: Inflight = {
      frame, proto: frame.view.proto, oneway, encoded: false, handle: null, done: false,
      writes: 0, keepBytes: false, retry: null, overallTimer: null, perTry: false, tryTimeoutMs: 0, retryBudget: null, hash: undefined, responseHeaders: null,
      idLo: v.getUint32(frame.rec + L.XF_ID_LO, true), idHi: v.getUint32(frame.rec + L.XF_ID_HI, true),
    };
    this.inflight.add(r);
    const predicates = this.f.paramPredicates;
    const head = buildRouteHead(this.f.wasm, frame, predicates.length === 0 ? undefined : paramsHeaderValue(frame.view, predicates));
    this.f.resolver().resolve(head, (route) => this.routed(r, route, head));
  }

  private routed(r: Inflight, route: RouteEntry | null, head: RequestHead): void {
    if (r.done) return;
    const action = route?.action;
    let clusterName: string | undefined;
    if (action?.kind === 'cluster') clusterName = action.cluster;
    else if (action?.kind === 'weighted') clusterName = pickWeighted(action.clusters, action.totalWeight, Math.random());
    if (clusterName === undefined) {
      this.f.stats.downstream_rq_no_route.inc();
      return this.localReply(r, XStatus.NOT_FOUND, 'no route for this service');
    }
    // The caller's own deadline (carried in the frame) and the operator's (the route) both bound the wait.
    const fromFrame = r.frame.view.timeoutMs;
    const fromRoute = route!.timeoutMs;
    const timeoutMs = fromFrame > 0 && fromRoute > 0 ? Math.min(fromFrame, fromRoute)
      : fromFrame > 0 ? fromFrame : fromRoute > 0 ? fromRoute : this.f.config.requestTimeoutMs;
    // hash_policy headers: the pseudo-headers and the frame's own headers, read while the record is held.
    for (const name of route!.hashHeaders) {
      const v = head.headers.get(name);
      if (v !== undefined) { r.hash = hash64(v); break; }
    }
    // Header mutations rebuild the frame's map only when they change it (the received bytes go on otherwise).
    if (hasMutations(route!.requestHeaders)) this.mutate(r.frame, route!.requestHeaders);
    if (!r.oneway && hasMutations(route!.responseHeaders)) r.responseHeaders = route!.responseHeaders;
    const policy = r.oneway ? undefined : parseRetryPolicy(route!.retryPolicy);
    if (policy !== undefined) {
      r.retry = new RetryState(policy);
      // A retry re-sends the same bytes: they stay until the request is over.
      r.keepBytes = true;
      r.perTry = policy.perTryTimeoutMs > 0 && (timeoutMs === 0 || policy.perTryTimeoutMs < timeoutMs);
      if (r.perTry && timeoutMs > 0) {
        r.overallTimer = setTimeout(() => {
          r.overallTimer = null;
          if (r.done) return;
          this.f.stats.downstream_rq_timeout.inc();
          this.localReply(r, XStatus.GATEWAY_TIMEOUT, 'upstream request timeout');
        }, timeoutMs);
        r.overallTimer.unref?.();
      }
    }
    const tryTimeoutMs = r.perTry ? policy!.perTryTimeoutMs : timeoutMs;
    this.forward(r, clusterName, tryTimeoutMs, new Set(), 1);
  }

  /** Another try after `outcome` when the route's retry policy (or, without one, the built-in connect retry) allows. */
  private retryAfter(r: Inflight, outcome: TryOutcome, cluster: Cluster, host: Host, attempted: Set<Host>, attempt: number): boolean {
    const st = r.retry;
    if (st === null) {
      // No policy: a request that never left is tried once more on another host.
      if (outcome.kind !== 'connect-failure' || attempt >= 2) return false;
    } else if (!st.shouldRetry(outcome)) {
      return false;
    }
    // The `retries` breaker is held while a retry is outstanding (as HTTP's), one per request at most.
    if (r.retryBudget === null) {
      if (!cluster.breakers.retries.tryAcquire()) { cluster.stats.upstream_rq_retry_overflow.inc(); return false; }
      r.retryBudget = cluster;
    }
    attempted.add(host);
    this.f.stats.downstream_rq_retry.inc();
    cluster.stats.upstream_rq_retry.inc();
    r.handle = null;
    const again = (): void => { if (!r.done) this.forward(r, cluster.name, r.tryTimeoutMs, attempted, attempt + 1); };
    const backoff = st === null ? 0 : st.backoffMs();
    if (backoff > 0) setTimeout(again, backoff).unref?.();
    else again();
    return true;
  }

  private forward(r: Inflight, clusterName: string, timeoutMs: number, attempted: Set<Host>, attempt: number): void {
    const cluster: Cluster | undefined = this.f.clusters.get(clusterName);
    if (cluster === undefined) {
      this.f.stats.downstream_rq_no_healthy_upstream.inc();
      return this.localReply(r, XStatus.UNAVAILABLE, `no cluster ${clusterName}`);
    }
    r.tryTimeoutMs = timeoutMs;
    const host = cluster.chooseHost(r.hash === undefined ? { attempted } : { attempted, hash: r.hash });
    if (host === null || !host.healthy) {
      this.f.stats.downstream_rq_no_healthy_upstream.inc();
      return this.localReply(r, XStatus.UNAVAILABLE, 'no healthy upstream');
    }
    const spec = this.spec!;
    const pool = this.f.poolFor(cluster, host, spec);
    r.handle = pool.send({
      oneway: r.oneway,
      timeoutMs,
      encode: (id) => {
        r.encoded = true;
        r.writes++;
        r.frame.setRequestId(id);
        return r.frame.bytes();
      },
      written: () => {
        r.writes--;
        if (r.writes === 0 && (!r.keepBytes || r.done)) r.frame.releaseBytes();
      },
    }, {
      onResponse: (resp: UpstreamFrame | null) => {
        if (resp === null) { this.complete(r); return; }
        const code = spec.statusToHttp(resp.frame.view.status);
        cluster.stats.responseCode(code);
        if (r.done) { resp.release(); return; }
        if (r.retry !== null && !this.closed && this.retryAfter(r, { kind: 'response', status: code }, cluster, host, attempted, attempt)) {
          resp.release();
          return;
        }
        if (this.closed) { resp.release(); this.complete(r); return; }
        const fr = resp.frame;
        if (r.responseHeaders !== null) this.mutate(fr, r.responseHeaders);
        fr.setRequestId(r.idHi * 0x1_0000_0000 + r.idLo);
        if (!writeBatched(this.socket, fr.bytes(), () => resp.release())) this.pauseUntilDrained();
        this.complete(r);
      },
      onError: (err: SkiffError) => {
        if (r.done) return;
        const neverLeft = !r.encoded && (err.code === UPSTREAM_CONNECT_FAILURE || err.code === UPSTREAM_CONNECT_TIMEOUT || err.code === UPSTREAM_POOL_DRAINED);
        const outcome: TryOutcome | null = neverLeft ? { kind: 'connect-failure' }
          : err.code === UPSTREAM_RESET ? { kind: 'reset' }
          : err.code === UPSTREAM_RQ_TIMEOUT && r.perTry ? { kind: 'per-try-timeout' }
          : null;
        if (err.code === UPSTREAM_RQ_TIMEOUT && r.perTry) this.f.stats.downstream_rq_per_try_timeout.inc();
        if (outcome !== null && !this.closed && this.retryAfter(r, outcome, cluster, host, attempted, attempt)) return;
        this.upstreamFailed(r, err);
      },
    });
  }

  private mutate(frame: Frame, m: HeaderMutation): void {
    const result = mutateFrame(this.f.wasm, frame, m, this.f.config.maxFrameBytes);
    if (result === 'applied') this.f.stats.header_mutation_applied.inc();
    else if (result === 'skipped') this.f.stats.header_mutation_skipped.inc();
  }

  private upstreamFailed(r: Inflight, err: SkiffError): void {
    const stats = this.f.stats;
    switch (err.code) {
      case UPSTREAM_RQ_TIMEOUT: stats.downstream_rq_timeout.inc(); return this.localReply(r, XStatus.GATEWAY_TIMEOUT, 'upstream request timeout');
      case UPSTREAM_OVERFLOW: stats.downstream_rq_overflow.inc(); return this.localReply(r, XStatus.UNAVAILABLE, 'upstream overflow');
      case UPSTREAM_RESET: stats.downstream_rq_upstream_reset.inc(); return this.localReply(r, XStatus.UNAVAILABLE, 'upstream connection reset');
      default: stats.downstream_rq_no_healthy_upstream.inc(); return this.localReply(r, XStatus.UNAVAILABLE, `no healthy upstream (${err.code})`);
    }
  }

  private localReply(r: Inflight, code: number, msg: string): void {
    if (r.done) return;
    if (!r.oneway && !this.closed) {
      const spec = this.spec!;
      const bytes = errorReply(this.f.wasm, this.f.slabs, r.proto, r.frame.rec, r.idLo, r.idHi, spec.httpToStatus(code), msg);
      if (bytes !== null) { this.socket.write(bytes); this.f.stats.downstream_rq_local_reply.inc(); }
    }
    this.complete(r);
  }

  /** The request is over: its record is freed, its bytes too unless a socket write still holds them. */
  private complete(r: Inflight): void {
    if (r.done) return;
    r.done = true;
    this.inflight.delete(r);
    this.f.stats.downstream_rq_active.dec();
    r.handle?.cancel();
    if (r.overallTimer !== null) { clearTimeout(r.overallTimer); r.overallTimer = null; }
    if (r.retryBudget !== null) { r.retryBudget.breakers.retries.release(); r.retryBudget = null; }
    if (r.writes === 0) r.frame.releaseBytes();
    r.frame.releaseRecord();
    this.closeIfIdle();
  }
}
