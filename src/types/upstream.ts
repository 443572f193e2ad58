/**
 * Clusters, hosts, load balancing, circuit breakers and connection pools (src/upstream).
 * Main thread only.
 */
import type { SkiffError } from '../common/errors.js';
import type { StatsScope, Counter, Gauge } from '../common/stats.js';
import type { ClientConnection, RequestHead } from './http.js';

export interface Host {
  readonly address: string;
  readonly port: number;
  readonly weight: number;
  /** Requests in flight on this host (LEAST_REQUEST); kept by the host's connection pool. */
  activeRequests: number;
  healthy: boolean;
  /** Per-host counters shown by admin /clusters (Envoy's host stats); absent until the upstream fills them. */
  readonly stats?: HostStats;
  /**
   * An internal listener endpoint (`envoy_internal_address`): connections go in-process to the listener of
   * that name (src/upstream/internal_listeners.ts), carrying the cluster's passthrough metadata. Absent for TCP.
   */
  readonly internal?: { readonly listenerName: string; readonly endpointId: string; readonly metadata?: ReadonlyMap<string, Record<string, unknown>> };
}

/** Envoy's per-host stats (not in the stats store: /clusters reads them from the host). */
export interface HostStats {
  cx_total: number;
  cx_active: number;
  cx_connect_fail: number;
  rq_total: number;
  rq_error: number;
  rq_success: number;
  rq_timeout: number;
}

export interface LoadBalancerContext {
  /** Hash from the route's hash_policy (RING_HASH / MAGLEV); undefined picks like RANDOM. */
  readonly hash?: bigint;
  /** Hosts to avoid (already tried by a retry). */
  readonly attempted?: ReadonlySet<Host>;
}

export interface LoadBalancer {
  chooseHost(ctx: LoadBalancerContext): Host | null;
}

/** A circuit-breaker budget (Envoy's ResourceManager): `tryAcquire` false = overflow. */
export interface ResourceLimit {
  readonly max: number;
  readonly current: number;
  tryAcquire(): boolean;
  release(): void;
}

export interface CircuitBreakers {
  readonly connections: ResourceLimit;
  readonly pendingRequests: ResourceLimit;
  readonly requests: ResourceLimit;
  readonly retries: ResourceLimit;
}

/** Envoy's cluster stats, created once per cluster (names under `cluster.<name>.`). */
export interface ClusterStats {
  readonly scope: StatsScope;
  readonly upstream_rq_total: Counter;
  readonly upstream_rq_active: Gauge;
  readonly upstream_rq_pending_total: Counter;
  readonly upstream_rq_pending_active: Gauge;
  readonly upstream_rq_pending_overflow: Counter;
  readonly upstream_rq_retry: Counter;
  readonly upstream_rq_retry_overflow: Counter;
  readonly upstream_rq_timeout: Counter;
  readonly upstream_rq_per_try_timeout: Counter;
  readonly upstream_cx_total: Counter;
  readonly upstream_cx_active: Gauge;
  readonly upstream_cx_connect_fail: Counter;
  readonly upstream_cx_connect_timeout: Counter;
  readonly upstream_cx_overflow: Counter;
  readonly upstream_cx_destroy: Counter;
  readonly upstream_rq_rx_reset: Counter;
  /** upstream_rq_<code> and upstream_rq_<N>xx counters. */
  responseCode(status: number): void;
}

export interface PoolHandle { cancel(): void }

export interface HttpConnectionPool {
  /**
   * An idle keep-alive connection, or a new one (circuit breaker max_connections permitting), or a place
   * in the pending queue (max_pending_requests permitting; overflow fails with SKIFF_UPSTREAM_OVERFLOW).
   * `request`: the downstream request the connection is for (a use_downstream_protocol_config pool picks
   * its protocol from it).
   */
  acquire(cb: (err: SkiffError | null, conn?: ClientConnection) => void, request?: RequestHead): PoolHandle;
  /** Returns a connection after its request completed; closed instead when not reusable. */
  release(conn: ClientConnection): void;
  /** Closes idle connections and rejects new work (cluster or host removed). */
  drain(): void;
  readonly activeConnections: number;
}

export interface Cluster {
  readonly name: string;
  readonly stats: ClusterStats;
  readonly breakers: CircuitBreakers;
  readonly connectTimeoutMs: number;
  hosts(): readonly Host[];
  chooseHost(ctx: LoadBalancerContext): Host | null;
  pool(host: Host): HttpConnectionPool;
  /**
   * The cluster's UpstreamTlsContext (src/tls/upstream.ts UpstreamTls) for the raw connections of tcp_proxy and
   * the x-protocol pools (src/upstream/raw_connect.ts); undefined for plain TCP.
   */
  readonly upstreamTls?: { connect(address: string, port: number): import('node:tls').TLSSocket };
  /**
   * The HTTP protocol its typed_extension_protocol_options choose ('auto': by ALPN over TLS): what a tcp_proxy
   * tunnel (tunneling_config) speaks CONNECT in. Absent: HTTP/1.1.
   */
  readonly httpProtocol?: 'http1' | 'http2' | 'auto' | 'downstream';
  /** Stops DNS refresh and closes pools. */
  close(): void;
}

export interface ClusterManager {
  get(name: string): Cluster | undefined;
  all(): readonly Cluster[];
  close(): void;
}
