/**
 * One downstream request through its phases (see README.md for the diagram):
 *
 *   headers -> route -> (direct_response | redirect | cluster) -> try -> response -> done
 *                                                     ^    |
 *                                                     +----+ retry (back-off, another host)
 *
 * One ActiveRequest per request holds everything the request needs: the downstream stream, the
 * route, the retry state, the body copy for retries, the timers and the current upstream try.
 * Every exit goes through `finish`, exactly once.
 */
import { SkiffError } from '../common/errors.js';
import type { DownstreamStream, HeaderList, HeadRewrite, BodyKind, ResponseHead } from '../types/http.js';
import type { RouteEntry } from '../types/router.js';
import type { Cluster, Host } from '../types/upstream.js';
import type { ConnectionManagerConfig } from './config.js';
import { HeaderEdits, applyHeaderMutation } from './header_mutation.js';
import { localReplyStatus, REPLY, sendLocalReply } from './local_reply.js';
import { redirectLocation } from './redirect.js';
import { RetryBodyBuffer } from './request_body.js';
import { downstreamHeaderEdits, upstreamHeadPlan, type UpstreamHeadPlan } from './request_headers.js';
import { parseRetryPolicy, pickWeighted, RetryState, type TryOutcome } from './retry_state.js';
import { type ConnectionManagerStats, extraClusterStats } from './stats.js';
import { isConnectFailure, isOverflow, type TryListener, UpstreamTry } from './upstream_try.js';
import type { ProxyDeps } from './deps.js';
import type { PathNormalizer } from './path_normalization.js';
import { requestFilterState } from './request_filter_state.js';
import type { FilterState } from '../types/network.js';
import { Deadline, requestDeadlines } from '../stream/deadlines.js';
import { effectiveTimeoutMs } from './stream_limits.js';

const ATTEMPT_COUNT_HEADER = 'x-envoy-attempt-count';

const EMPTY_HEADERS: HeaderList = {
  size: 0, name: () => '', value: () => '', get: () => undefined, getAll: () => [], has: () => false,
};

export type Phase = 'route' | 'upstream' | 'response' | 'done';

export class ActiveRequest implements TryListener {
  phase: Phase = 'route';
  /** The stream's filter state (set_filter_state on_request_headers) over the connection's; undefined when nothing set one. */
  filterState: FilterState | undefined;
  private route: RouteEntry | null = null;
  private cluster: Cluster | undefined;
  private retry = new RetryState(undefined);
  private readonly body = new RetryBodyBuffer();
  private plan: UpstreamHeadPlan | undefined;
  private readonly downstreamEdits: HeaderEdits;
  private current: UpstreamTry | undefined;
  private attempts = 0;
  /** Hosts tried before the current try; undefined until a retry (the load balancers' fast path). */
  private attempted: Set<Host> | undefined;
  /** The first try's host: the set above is made only when a retry needs it. */
  private firstHost: Host | undefined;
  private hash: bigint | undefined;
  /** The downstream request body was read to its end. */
  private requestComplete: boolean;
  /** Trailers that ended the request body (HTTP/2, chunked HTTP/1), forwarded where the upstream protocol carries them. */
  private requestTrailers: HeaderList | undefined;
  private bodyHandlerSet = false;
  private downstreamPausedForUpstream = false;
  private responseHeadSent = false;
  private continueSent = false;
  /** Route, per-try and idle deadlines: created on first use, re-armed in place (see deadlines.ts). */
  private globalDeadline: Deadline | undefined;
  private perTryDeadline: Deadline | undefined;
  /** The try the per-try deadline was armed for. */
  private perTryTry: UpstreamTry | undefined;
  private idleDeadline: Deadline | undefined;
  /** The route's max_stream_duration cap, armed when the request is routed to a cluster. */
  private streamDeadline: Deadline | undefined;
  /** The route timeout for this request (the route's, or its grpc-timeout when the route honours it). */
  private timeoutMs = 0;
  private backoffTimer: NodeJS.Timeout | undefined;
  private retryBudgetHeld = false;

  constructor(
    private readonly stream: DownstreamStream,
    private readonly cfg: ConnectionManagerConfig,
    private readonly stats: ConnectionManagerStats,
    private readonly deps: ProxyDeps,
    private readonly onDone: (req: ActiveRequest) => void,
  ) {
    this.requestComplete = stream.head.bodyKind === 'none';
    this.downstreamEdits = downstreamHeaderEdits(stream.head, stream.remoteAddress, cfg, deps.clientCert).edits;
  }

  /** Phase "headers" done in the constructor; starts routing. */
  start(): void {
    this.stats.downstream_rq_total.inc();
    this.stats.downstream_rq_active.inc();
    this.stream.onAbort(this.abortedByDownstream);
    this.armIdleTimer();
    if (this.deps.pathNormalizer !== undefined && !this.normalizePath(this.deps.pathNormalizer)) return;
    if (this.cfg.requestFilterState !== undefined) this.filterState = requestFilterState(this.cfg.requestFilterState, this.stream, this.deps);
    this.deps.resolver.resolve(this.stream.head, this.routed);
  }

  /** normalize_path & co. before routing: false when the request was answered (400, or 307 to the unescaped path). */
  private normalizePath(normalizer: PathNormalizer): boolean {
    const verdict = normalizer.apply(this.stream.head.recordPtr, this.stream.head.method);
    if (verdict.kind === 'reject') {
      this.stats.downstream_rq_failed_path_normalization.inc();
      this.localReply(400, ''); // Envoy's path_normalization_failed reply has no body
    } else if (verdict.kind === 'redirect') {
      this.stats.downstream_rq_redirected_with_normalized_path.inc();
      this.localReply(307, '', [['location', verdict.path]]);
    }
    return verdict.kind === 'unchanged' || verdict.kind === 'forward';
  }

  // The two callbacks every request registers: fields made once, not closures made per call.
  private readonly routed = (route: RouteEntry | null): void => {
    try { this.onRoute(route); } catch (e) { this.onInternalError(e); }
  };

  private readonly abortedByDownstream = (err: SkiffError): void => {
    try { this.onDownstreamAbort(err); } catch (e) { this.onInternalError(e); }
  };

  // ---- route ----

  private onRoute(route: RouteEntry | null): void {
    if (this.phase === 'done') return;
    this.touch();
    this.route = route;
    if (!route) {
      this.stats.no_route.inc();
      this.localReply(404, REPLY.noRoute);
      return;
    }
    const action = route.action;
    switch (action.kind) {
      case 'direct':
        this.stats.rq_direct_response.inc();
        this.localReply(action.status, action.body, this.localResponseHeaders(route));
        return;
      case 'redirect': {
        this.stats.rq_redirect.inc();
        const location = redirectLocation(this.stream.head, action, route);
        this.localReply(action.status, '', [['location', location], ...this.localResponseHeaders(route)]);
        return;
      }
      case 'cluster':
      case 'weighted': {
        const name = action.kind === 'cluster' ? action.cluster : pickWeighted(action.clusters, action.totalWeight, Math.random());
        const cluster = name === undefined ? undefined : this.deps.clusters.get(name);
        if (!cluster) {
          this.stats.no_cluster.inc();
          this.localReply(route.clusterNotFoundStatus ?? 503, REPLY.unknownCluster);
          return;
        }
        this.cluster = cluster;
        this.retry = new RetryState(parseRetryPolicy(route.retryPolicy));
        if (!this.retry.policy) this.body.drop();
        this.hash = this.routeHash(route);
        this.timeoutMs = effectiveTimeoutMs(route, this.stream.head.headers);
        const expected = this.retry.perTryTimeoutMs > 0 ? this.retry.perTryTimeoutMs : this.timeoutMs;
        this.plan = upstreamHeadPlan(this.stream.head, this.downstreamEdits, route, expected);
        this.phase = 'upstream';
        this.armStreamDuration(route);
        if (this.requestComplete) this.armRequestTimers();
        this.startTry();
        return;
      }
    }
  }

  private routeHash(route: RouteEntry): bigint | undefined {
    for (const name of route.hashHeaders) {
      const v = this.stream.head.headers.get(name);
      if (v !== undefined) return this.deps.hashKey(v);
    }
    return undefined;
  }

  private localResponseHeaders(route: RouteEntry): [string, string][] {
    const edits = new HeaderEdits(EMPTY_HEADERS);
    applyHeaderMutation(edits, route.responseHeaders);
    return edits.add;
  }

  // ---- upstream tries ----

  private startTry(): void {
    const cluster = this.cluster!;
    if (!cluster.breakers.requests.tryAcquire()) {
      cluster.stats.upstream_rq_pending_overflow.inc();
      this.releaseRetryBudget();
      this.localReply(503, REPLY.overflow, [['x-envoy-overloaded', 'true']]);
      return;
    }
    if (this.attempts > 0) this.attempted ??= new Set([this.firstHost!]);
    // Attempted hosts are avoided only under retry_host_predicate previous_hosts (Envoy's behaviour).
    const host = cluster.chooseHost({ hash: this.hash, attempted: this.retry.policy?.avoidPreviousHosts ? this.attempted : undefined });
    if (!host) {
      cluster.breakers.requests.release();
      this.releaseRetryBudget();
      cluster.stats.scope.counter('upstream_cx_none_healthy').inc();
      this.localReply(503, REPLY.noHealthyUpstream);
      return;
    }
    if (this.attempts === 0) this.firstHost = host;
    else this.attempted!.add(host);
    const t = new UpstreamTry(cluster, host, this.attempts++, this);
    this.current = t;
    const head = this.stream.head;
    const plan = this.plan!;
    const rewrite: HeadRewrite = {
      path: plan.path,
      // include_request_attempt_count: the try's number (1-based) replaces any value the client sent.
      remove: this.route?.includeAttemptCount ? [...(plan.remove ?? []), ATTEMPT_COUNT_HEADER] : plan.remove,
      add: this.route?.includeAttemptCount ? [...(plan.add ?? []), [ATTEMPT_COUNT_HEADER, String(this.attempts)]] : plan.add,
      bodyKind: head.bodyKind, contentLength: head.bodyKind === 'length' ? head.contentLength : undefined,
    };
    if (this.requestComplete && this.retry.perTryTimeoutMs > 0) this.armPerTryTimer();
    t.start(head, rewrite);
  }

  onStarted(t: UpstreamTry): void {
    if (t !== this.current) return;
    this.touch();
    const req = t.request!;
    // Replay what a previous try already consumed (only ever held when retries are possible).
    for (const chunk of this.body.held()) req.writeBody(chunk);
    if (this.requestComplete) { t.endRequest(this.requestTrailers); return; }
    if (this.stream.head.expectContinue && !this.continueSent) {
      // Skiff answers 100-continue itself once an upstream connection is ready (and strips Expect):
      // local replies before that point never make the client send its body.
      this.continueSent = true;
      this.stream.sendContinue();
    }
    if (!this.bodyHandlerSet) {
      this.bodyHandlerSet = true;
      this.stream.setBodyHandler({
        onData: (c) => this.guarded(() => this.onRequestData(c)),
        onEnd: (trailers) => this.guarded(() => this.onRequestEnd(trailers)),
        onError: (e) => this.guarded(() => this.onRequestBodyError(e)),
      });
    } else if (this.downstreamPausedForUpstream) {
      this.downstreamPausedForUpstream = false;
      this.stream.resumeBody();
    }
  }

  private onRequestData(chunk: Uint8Array): void {
    if (this.phase === 'done') return;
    this.touch();
    const t = this.current;
    const req = t && !t.done ? t.request : undefined;
    if (!req) {
      // Between tries: hold the bytes for the next try and stop reading.
      this.body.append(chunk, true);
      this.pauseForUpstream();
      return;
    }
    this.body.append(chunk);
    if (!req.writeBody(chunk)) {
      this.pauseForUpstream();
      req.onDrain(() => {
        if (this.current === t && this.downstreamPausedForUpstream && this.phase !== 'done') {
          this.downstreamPausedForUpstream = false;
          this.stream.resumeBody();
        }
      });
    }
  }

  private pauseForUpstream(): void {
    if (this.downstreamPausedForUpstream) return;
    this.downstreamPausedForUpstream = true;
    this.stream.pauseBody();
  }

  private onRequestEnd(trailers?: HeaderList): void {
    if (this.phase === 'done') return;
    this.touch();
    this.requestComplete = true;
    this.requestTrailers = trailers;
    this.armRequestTimers();
    const t = this.current;
    if (t && !t.done) {
      if (t.request) t.endRequest(trailers);
      if (this.retry.perTryTimeoutMs > 0) this.armPerTryTimer();
    }
  }

  onHead(t: UpstreamTry, head: ResponseHead): void {
    if (t !== this.current || this.phase === 'done') return;
    this.touch();
    // Without a retry policy no outcome is retriable: skip building one.
    const outcome: TryOutcome | undefined = this.retry.policy === undefined ? undefined : { kind: 'response', status: head.status };
    if (outcome !== undefined && this.retry.retriable(outcome) && this.mayRetry(outcome)) {
      t.cluster.stats.responseCode(head.status);
      this.endTry(t);
      t.abort();
      this.scheduleRetry();
      return;
    }
    this.clearPerTryTimer();
    const cluster = t.cluster;
    cluster.stats.responseCode(head.status);
    // A retried request succeeded when its final response is not one the policy would retry (Envoy's).
    if (t.attempt > 0 && outcome !== undefined && !this.retry.retriable(outcome)) extraClusterStats(cluster).upstream_rq_retry_success.inc();
    this.releaseRetryBudget();
    this.phase = 'response';
    this.responseHeadSent = true;
    this.stats.responseCode(head.status);
    const edits = new HeaderEdits(head.headers);
    applyHeaderMutation(edits, this.route!.responseHeaders);
    edits.set('server', this.cfg.serverName);
    let bodyKind = this.downstreamBodyKind(head);
    let contentLength = bodyKind === 'length' ? head.contentLength : undefined;
    const headLength = this.headResponseLength(head);
    if (headLength !== undefined) { bodyKind = 'length'; contentLength = headLength; }
    const close = this.deps.draining() || !this.requestComplete || bodyKind === 'close';
    this.stream.writeHead(head, { remove: edits.remove, add: edits.add, bodyKind, contentLength, close });
  }

  /** A response to HEAD announces the length of a body it does not carry: that content-length is kept. */
  private headResponseLength(head: ResponseHead): number | undefined {
    if (this.stream.head.method !== 'HEAD') return undefined;
    const v = head.headers.get('content-length');
    if (v === undefined || !/^\d{1,15}$/.test(v)) return undefined;
    return Number(v);
  }

  /** Upstream framing as the downstream client can read it: close-delimited becomes chunked for HTTP/1.1. */
  private downstreamBodyKind(head: ResponseHead): BodyKind {
    switch (head.bodyKind) {
      case 'none': return 'none';
      case 'length': return 'length';
      case 'chunked':
      case 'close': return this.stream.head.versionMinor >= 1 ? 'chunked' : 'close';
    }
  }

  onData(t: UpstreamTry, chunk: Uint8Array): void {
    if (t !== this.current || this.phase !== 'response') return;
    this.touch();
    if (!this.stream.writeBody(chunk)) {
      const req = t.request!;
      req.pauseResponse();
      this.stream.onDrain(() => { if (this.current === t && !t.done) req.resumeResponse(); });
    }
  }

  onEnd(t: UpstreamTry, trailers?: HeaderList): void {
    if (t !== this.current || this.phase !== 'response') return;
    extraClusterStats(t.cluster).upstream_rq_completed.inc();
    t.complete();
    this.stream.end(trailers);
    this.finish(true);
  }

  onFailure(t: UpstreamTry, err: SkiffError, responseStarted: boolean): void {
    if (t !== this.current || this.phase === 'done') return;
    this.endTry(t);
    const cluster = t.cluster;
    if (responseStarted) {
      // Bytes already went downstream: nothing to retry or reply, only a reset.
      cluster.stats.upstream_rq_rx_reset.inc();
      this.resetDownstream();
      return;
    }
    if (isOverflow(err)) {
      this.releaseRetryBudget();
      this.localReply(503, REPLY.overflow, [['x-envoy-overloaded', 'true']]);
      return;
    }
    if (err.code === 'SKIFF_UPSTREAM_PROTOCOL_ERROR') {
      this.releaseRetryBudget();
      this.localReply(502, REPLY.protocolError);
      return;
    }
    const outcome: TryOutcome = isConnectFailure(err) ? { kind: 'connect-failure' } : { kind: 'reset' };
    if (outcome.kind === 'reset') cluster.stats.upstream_rq_rx_reset.inc();
    if (this.mayRetry(outcome)) { this.scheduleRetry(); return; }
    this.releaseRetryBudget();
    this.localReply(503, outcome.kind === 'connect-failure' ? REPLY.connectFailure : REPLY.connectionTermination);
  }

  /** Retry budget check: the policy, the body copy, and the `retries` circuit breaker. */
  private mayRetry(outcome: TryOutcome): boolean {
    if (!this.body.complete) return false;
    if (!this.retry.shouldRetry(outcome)) return false;
    const cluster = this.cluster!;
    this.releaseRetryBudget();
    if (!cluster.breakers.retries.tryAcquire()) {
      cluster.stats.upstream_rq_retry_overflow.inc();
      return false;
    }
    this.retryBudgetHeld = true;
    cluster.stats.upstream_rq_retry.inc();
    return true;
  }

  private releaseRetryBudget(): void {
    if (!this.retryBudgetHeld) return;
    this.retryBudgetHeld = false;
    this.cluster!.breakers.retries.release();
  }

  private scheduleRetry(): void {
    this.current = undefined;
    if (!this.requestComplete) this.pauseForUpstream();
    this.backoffTimer = setTimeout(() => this.guarded(() => {
      this.backoffTimer = undefined;
      if (this.phase !== 'done') this.startTry();
    }), this.retry.backoffMs()).unref();
  }

  private endTry(t: UpstreamTry): void {
    this.clearPerTryTimer();
    if (this.current === t) this.current = undefined;
  }

  // ---- timers ----
  // Request timers are unref'd: the downstream socket keeps the process alive while a request is in flight.

  /** The route timeout runs from the end of the downstream request to the end of the response (Envoy's). */
  private armRequestTimers(): void {
    const ms = this.timeoutMs;
    if (ms <= 0 || this.globalDeadline?.armed || this.phase === 'done' || this.phase === 'route') return;
    this.globalDeadline ??= new Deadline(() => this.guarded(() => this.onGlobalTimeout()));
    requestDeadlines.arm(this.globalDeadline, ms);
  }

  /** max_stream_duration: from routing to the end of the response; 408 before a response head, a reset after (Envoy's). */
  private armStreamDuration(route: RouteEntry): void {
    const ms = route.maxStreamDurationMs ?? 0;
    if (ms <= 0) return;
    this.streamDeadline ??= new Deadline(() => this.guarded(() => this.onStreamDurationReached()));
    requestDeadlines.arm(this.streamDeadline, ms);
  }

  private onStreamDurationReached(): void {
    if (this.phase === 'done') return;
    this.cluster?.stats.scope.counter('upstream_rq_max_duration_reached').inc();
    const t = this.current;
    if (t) { this.endTry(t); t.abort(); }
    if (this.backoffTimer) { clearTimeout(this.backoffTimer); this.backoffTimer = undefined; }
    this.releaseRetryBudget();
    if (this.responseHeadSent) this.resetDownstream();
    else this.localReply(408, REPLY.maxStreamDuration);
  }

  private armPerTryTimer(): void {
    this.clearPerTryTimer();
    this.perTryDeadline ??= new Deadline(() => this.guarded(() => this.onPerTryTimeout()));
    this.perTryTry = this.current;
    requestDeadlines.arm(this.perTryDeadline, this.retry.perTryTimeoutMs);
  }

  private onPerTryTimeout(): void {
    const t = this.perTryTry;
    this.perTryTry = undefined;
    if (!t || t !== this.current || this.phase === 'done' || this.responseHeadSent) return;
    t.cluster.stats.upstream_rq_per_try_timeout.inc();
    this.endTry(t);
    t.timeout();
    const outcome: TryOutcome = { kind: 'per-try-timeout' };
    if (this.mayRetry(outcome)) { this.scheduleRetry(); return; }
    this.releaseRetryBudget();
    this.localReply(504, REPLY.timeout);
  }

  private clearPerTryTimer(): void {
    this.perTryDeadline?.cancel();
    this.perTryTry = undefined;
  }

  private onGlobalTimeout(): void {
    if (this.phase === 'done') return;
    this.cluster?.stats.upstream_rq_timeout.inc();
    const t = this.current;
    if (t) { this.endTry(t); t.timeout(); }
    if (this.backoffTimer) { clearTimeout(this.backoffTimer); this.backoffTimer = undefined; }
    this.releaseRetryBudget();
    if (this.responseHeadSent) this.resetDownstream();
    else this.localReply(504, REPLY.timeout);
  }

  /** stream_idle_timeout: activity moves the deadline to the end of its list, an O(1) relink. */
  private armIdleTimer(): void {
    const ms = this.cfg.streamIdleTimeoutMs;
    if (ms <= 0) return;
    this.idleDeadline = new Deadline(() => this.guarded(() => this.onIdleTimeout()));
    requestDeadlines.arm(this.idleDeadline, ms);
  }

  private onIdleTimeout(): void {
    if (this.phase === 'done') return;
    this.stats.downstream_rq_idle_timeout.inc();
    const t = this.current;
    if (t) { this.endTry(t); t.abort(); }
    this.releaseRetryBudget();
    if (this.responseHeadSent) this.resetDownstream();
    else this.localReply(408, REPLY.streamTimeout);
  }

  private touch(): void {
    const d = this.idleDeadline;
    if (d !== undefined && d.armed) requestDeadlines.arm(d, this.cfg.streamIdleTimeoutMs);
  }

  // ---- exits ----

  private localReply(status: number, body: string, extraHeaders: readonly (readonly [string, string])[] = []): void {
    if (this.phase === 'done') return;
    if (this.responseHeadSent) { this.resetDownstream(); return; }
    this.responseHeadSent = true;
    this.stats.responseCode(localReplyStatus(this.stream.head, status));
    // A body we did not read leaves the connection unusable for the next request.
    const close = this.deps.draining() || !this.requestComplete;
    try {
      sendLocalReply(this.stream, status, body, {
        serverName: this.cfg.serverName, close, extraHeaders, headOnly: this.stream.head.method === 'HEAD',
      });
    } finally {
      this.finish(true);
    }
  }

  private resetDownstream(): void {
    if (this.phase === 'done') return;
    this.stats.downstream_rq_tx_reset.inc();
    this.stream.reset();
    this.finish(false);
  }

  private onDownstreamAbort(_err: SkiffError): void {
    if (this.phase === 'done') return;
    this.stats.downstream_rq_rx_reset.inc();
    const t = this.current;
    if (t) { this.endTry(t); t.abort(); }
    this.releaseRetryBudget();
    this.finish(false);
  }

  /** A malformed or cut request body: nothing sensible can reach the upstream, so both sides are reset. */
  private onRequestBodyError(err: SkiffError): void {
    if (this.phase === 'done') return;
    this.deps.log?.debug(`request body error: ${err.code}`);
    const t = this.current;
    if (t) { this.endTry(t); t.abort(); }
    this.releaseRetryBudget();
    this.stats.downstream_rq_rx_reset.inc();
    this.stream.reset();
    this.finish(false);
  }

  /** Runs a callback from the stream layer or a timer; a throw is a bug contained to this request. */
  private guarded(fn: () => void): void {
    try { fn(); } catch (e) { this.onInternalError(e); }
  }

  onInternalError(e: unknown): void {
    try {
      this.internalError(e);
    } catch (again) {
      // Replying failed too: drop the request, never the process.
      this.deps.log?.error(`request cleanup failed: ${String(again)}`);
      this.finish(false);
    }
  }

  private internalError(e: unknown): void {
    this.deps.log?.error(`request failed internally: ${e instanceof Error ? e.stack ?? e.message : String(e)}`);
    const t = this.current;
    if (t) { this.endTry(t); t.abort(); }
    this.releaseRetryBudget();
    if (this.phase === 'done') return;
    if (this.responseHeadSent) this.resetDownstream();
    else this.localReply(500, 'internal error');
  }

  private finish(completed: boolean): void {
    if (this.phase === 'done') return;
    this.phase = 'done';
    this.globalDeadline?.cancel();
    this.perTryDeadline?.cancel();
    this.idleDeadline?.cancel();
    this.streamDeadline?.cancel();
    this.perTryTry = undefined;
    if (this.backoffTimer) { clearTimeout(this.backoffTimer); this.backoffTimer = undefined; }
    this.body.drop();
    this.stats.downstream_rq_active.dec();
    if (completed) this.stats.downstream_rq_completed.inc();
    this.onDone(this);
  }
}
