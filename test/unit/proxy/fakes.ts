/**
 * In-memory doubles of the stream and upstream contracts (src/types) so the request lifecycle can be
 * driven step by step. They record what the proxy did; the tests decide what the peers do.
 */
import { SkiffError } from '../../../src/common/errors.js';
import { StatsStore } from '../../../src/common/stats.js';
import type {
  BodyHandler, BodyKind, ClientConnection, DownstreamStream, HeaderList, HeadRewrite, RequestHead, ResponseHandler,
  ResponseHead, UpstreamRequest,
} from '../../../src/types/http.js';
import type { RouteEntry, RouteResolver } from '../../../src/types/router.js';
import type {
  CircuitBreakers, Cluster, ClusterManager, ClusterStats, Host, HttpConnectionPool, LoadBalancerContext, PoolHandle, ResourceLimit,
} from '../../../src/types/upstream.js';
import { connectionManagerConfig, type ConnectionManagerConfig } from '../../../src/proxy/config.js';

export function headerList(pairs: readonly (readonly [string, string])[]): HeaderList {
  const list = pairs.map(([n, v]) => [n.toLowerCase(), v] as const);
  return {
    size: list.length,
    name: (i) => list[i]![0],
    value: (i) => list[i]![1],
    get: (n) => list.find(([k]) => k === n)?.[1],
    getAll: (n) => list.filter(([k]) => k === n).map(([, v]) => v),
    has: (n) => list.some(([k]) => k === n),
  };
}

export function requestHead(opts: { method?: string; path?: string; host?: string; headers?: [string, string][]; bodyKind?: 'none' | 'length' | 'chunked'; contentLength?: number; expectContinue?: boolean; versionMinor?: number } = {}): RequestHead {
  const path = opts.path ?? '/';
  return {
    method: opts.method ?? 'GET', target: path, path, host: opts.host ?? 'example.com', versionMinor: opts.versionMinor ?? 1,
    headers: headerList([['host', opts.host ?? 'example.com'], ...(opts.headers ?? [])]), keepAlive: true,
    expectContinue: opts.expectContinue ?? false, upgrade: false, bodyKind: opts.bodyKind ?? 'none',
    contentLength: opts.contentLength ?? -1, recordPtr: 0,
  };
}

export function responseHead(status: number, headers: [string, string][] = [], bodyKind: BodyKind = 'length', contentLength = 0): ResponseHead {
  return { status, reason: 'X', versionMinor: 1, headers: headerList(headers), keepAlive: true, bodyKind, contentLength, recordPtr: 0 };
}

export class FakeStream implements DownstreamStream {
  readonly remoteAddress = '10.1.2.3';
  readonly remotePort = 5555;
  readonly localPort = 8080;
  status = 0;
  localHeaders: (readonly [string, string])[] = [];
  rewrite: HeadRewrite | undefined;
  upstreamHead: ResponseHead | undefined;
  body: Buffer[] = [];
  ended = false;
  wasReset = false;
  continued = 0;
  paused = false;
  bodyHandler: BodyHandler | undefined;
  writable = true;
  private drainCb: (() => void) | undefined;
  private abortCb: ((e: SkiffError) => void) | undefined;

  constructor(readonly head: RequestHead) {}

  setBodyHandler(h: BodyHandler): void { this.bodyHandler = h; }
  pauseBody(): void { this.paused = true; }
  resumeBody(): void { this.paused = false; }
  sendContinue(): void { this.continued++; }
  throwOnWriteHead = false;
  writeHead(head: ResponseHead, rewrite: HeadRewrite): void {
    if (this.throwOnWriteHead) throw new Error('socket gone');
    this.status = head.status; this.upstreamHead = head; this.rewrite = rewrite; }
  writeLocalHead(status: number, headers: readonly (readonly [string, string])[], rewrite: HeadRewrite): void {
    this.status = status; this.localHeaders = [...headers]; this.rewrite = rewrite;
  }
  writeBody(chunk: Uint8Array): boolean { this.body.push(Buffer.from(chunk)); return this.writable; }
  onDrain(cb: () => void): void { this.drainCb = cb; }
  drain(): void { this.writable = true; const cb = this.drainCb; this.drainCb = undefined; cb?.(); }
  end(): void { this.ended = true; }
  reset(): void { this.wasReset = true; }
  onAbort(cb: (err: SkiffError) => void): void { this.abortCb = cb; }
  abort(): void { this.abortCb?.(new SkiffError('SKIFF_DOWNSTREAM_RESET', 'peer closed', 'downstream')); }

  header(name: string): string | undefined { return this.localHeaders.find(([n]) => n === name)?.[1]; }
  bodyText(): string { return Buffer.concat(this.body).toString(); }
}

export class FakeUpstreamRequest implements UpstreamRequest {
  body: Buffer[] = [];
  ended = false;
  aborted = false;
  writable = true;
  responsePaused = false;
  private drainCb: (() => void) | undefined;
  constructor(readonly head: RequestHead, readonly rewrite: HeadRewrite, readonly handler: ResponseHandler) {}
  writeBody(chunk: Uint8Array): boolean { this.body.push(Buffer.from(chunk)); return this.writable; }
  onDrain(cb: () => void): void { this.drainCb = cb; }
  drain(): void { this.writable = true; const cb = this.drainCb; this.drainCb = undefined; cb?.(); }
  end(): void { this.ended = true; }
  pauseResponse(): void { this.responsePaused = true; }
  resumeResponse(): void { this.responsePaused = false; }
  abort(): void { this.aborted = true; }
  added(name: string): string | undefined { return this.rewrite.add?.find(([n]) => n === name)?.[1]; }
}

let nextConnId = 1;

export class FakeConnection implements ClientConnection {
  readonly id = nextConnId++;
  reusable = true;
  closed = false;
  requests: FakeUpstreamRequest[] = [];
  constructor(readonly host: FakeHost) {}
  request(head: RequestHead, rewrite: HeadRewrite, handler: ResponseHandler): UpstreamRequest {
    const r = new FakeUpstreamRequest(head, rewrite, handler);
    this.requests.push(r);
    this.host.requests.push(r);
    return r;
  }
  requestLocal(): UpstreamRequest { throw new Error('not used'); }
  close(): void { this.closed = true; }
  onClose(): void {}
}

export class FakeHost implements Host {
  activeRequests = 0;
  healthy = true;
  readonly weight = 1;
  requests: FakeUpstreamRequest[] = [];
  /** What acquire does: 'connect' hands a connection, 'sync' hands it before acquire returns, an error code fails it, 'hold' leaves it pending. */
  acquireMode: 'connect' | 'hold' | string = 'connect';
  pending: ((err: SkiffError | null, conn?: ClientConnection) => void)[] = [];
  released: ClientConnection[] = [];
  cancelled = 0;
  constructor(readonly address: string, readonly port: number) {}
  last(): FakeUpstreamRequest { const r = this.requests[this.requests.length - 1]; if (!r) throw new Error(`no request on ${this.address}`); return r; }
}

class FakePool implements HttpConnectionPool {
  activeConnections = 0;
  constructor(private readonly host: FakeHost) {}
  acquire(cb: (err: SkiffError | null, conn?: ClientConnection) => void): PoolHandle {
    const h = this.host;
    if (h.acquireMode === 'connect') queueMicrotask(() => cb(null, new FakeConnection(h)));
    else if (h.acquireMode === 'sync') cb(null, new FakeConnection(h));
    else if (h.acquireMode === 'hold') h.pending.push(cb);
    else { const code = h.acquireMode; queueMicrotask(() => cb(new SkiffError(code, code, 'upstream', code !== 'SKIFF_UPSTREAM_OVERFLOW'))); }
    return { cancel: () => { h.cancelled++; } };
  }
  release(conn: ClientConnection): void { this.host.released.push(conn); }
  drain(): void {}
}

export class Limit implements ResourceLimit {
  current = 0;
  constructor(public max: number) {}
  tryAcquire(): boolean { if (this.current >= this.max) return false; this.current++; return true; }
  release(): void { this.current--; }
}

export class FakeCluster implements Cluster {
  readonly stats: ClusterStats;
  readonly breakers: CircuitBreakers & { requests: Limit; retries: Limit };
  readonly connectTimeoutMs = 1000;
  private rr = 0;
  private readonly pools = new Map<Host, FakePool>();
  lastContext: LoadBalancerContext | undefined;
  constructor(readonly name: string, readonly hostList: FakeHost[], readonly store: StatsStore) {
    const scope = store.scope(`cluster.${name}.`);
    const c = (n: string) => scope.counter(n);
    const g = (n: string) => scope.gauge(n);
    this.stats = {
      scope,
      upstream_rq_total: c('upstream_rq_total'), upstream_rq_active: g('upstream_rq_active'),
      upstream_rq_pending_total: c('upstream_rq_pending_total'), upstream_rq_pending_active: g('upstream_rq_pending_active'),
      upstream_rq_pending_overflow: c('upstream_rq_pending_overflow'), upstream_rq_retry: c('upstream_rq_retry'),
      upstream_rq_retry_overflow: c('upstream_rq_retry_overflow'), upstream_rq_timeout: c('upstream_rq_timeout'),
      upstream_rq_per_try_timeout: c('upstream_rq_per_try_timeout'), upstream_cx_total: c('upstream_cx_total'),
      upstream_cx_active: g('upstream_cx_active'), upstream_cx_connect_fail: c('upstream_cx_connect_fail'),
      upstream_cx_connect_timeout: c('upstream_cx_connect_timeout'), upstream_cx_overflow: c('upstream_cx_overflow'),
      upstream_cx_destroy: c('upstream_cx_destroy'), upstream_rq_rx_reset: c('upstream_rq_rx_reset'),
      responseCode: (s: number) => { c(`upstream_rq_${s}`).inc(); c(`upstream_rq_${Math.floor(s / 100)}xx`).inc(); },
    };
    this.breakers = { connections: new Limit(1024), pendingRequests: new Limit(1024), requests: new Limit(1024), retries: new Limit(3) };
  }
  hosts(): readonly Host[] { return this.hostList; }
  chooseHost(ctx: LoadBalancerContext): Host | null {
    this.lastContext = ctx;
    const healthy = this.hostList.filter((h) => h.healthy);
    if (healthy.length === 0) return null;
    const fresh = healthy.filter((h) => !ctx.attempted?.has(h));
    const from = fresh.length > 0 ? fresh : healthy;
    return from[this.rr++ % from.length]!;
  }
  pool(host: Host): HttpConnectionPool {
    let p = this.pools.get(host);
    if (!p) { p = new FakePool(host as FakeHost); this.pools.set(host, p); }
    return p;
  }
  close(): void {}
}

export function clusterManager(clusters: FakeCluster[]): ClusterManager {
  return { get: (n) => clusters.find((c) => c.name === n), all: () => clusters, close: () => {} };
}

export function route(partial: Partial<RouteEntry> & Pick<RouteEntry, 'action'>): RouteEntry {
  return {
    index: 0, name: 'r', virtualHost: 'vh', timeoutMs: 15_000, hashHeaders: [],
    requestHeaders: { add: [], remove: [] }, responseHeaders: { add: [], remove: [] }, ...partial,
  };
}

export class FixedResolver implements RouteResolver {
  constructor(public entry: RouteEntry | null) {}
  resolve(_head: RequestHead, cb: (r: RouteEntry | null) => void): void { cb(this.entry); }
}

export function hcmConfig(overrides: Record<string, unknown> = {}): ConnectionManagerConfig {
  return connectionManagerConfig({
    '@type': 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager',
    stat_prefix: 'ingress', route_config: { virtual_hosts: [] }, ...overrides,
  } as never, 'test');
}

/** Lets queued microtasks and immediate callbacks run. */
export const tick = (): Promise<void> => new Promise((r) => setImmediate(r));
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Upstream requests made so far across `hosts` (a retry shows up as one more, after its backoff timer). */
export const requestCount = (hosts: readonly FakeHost[]): number => hosts.reduce((n, h) => n + h.requests.length, 0);

export { eventually } from '../../helpers/wait.js';
