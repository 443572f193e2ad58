/**
 * Reading decoded config with Envoy's defaults in one place, so no consumer repeats them. The decoded
 * shape leaves absent fields absent; these helpers turn a field and its documented default into the value
 * to use (milliseconds for durations, where 0 means "disabled" exactly as it does in Envoy).
 *
 * This module must stay light: the router (loaded in every worker thread) reads its values through it, so it
 * imports nothing that loads protobuf descriptors.
 */
import { ConfigError, UnsupportedConfigError } from '../common/errors.js';
import type {
  Address, BoolValue, Cluster, Duration, HttpConnectionManager, Listener, RetryPolicy, RouteAction, Threshold, UInt32Value,
} from '../types/envoy.js';

export const HCM_TYPE_URL = 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager';

/**
 * A Duration in milliseconds (fractions of a millisecond kept), or `dflt` when absent. With `path`, a
 * non-finite duration or a negative seconds or nanos part is a ConfigError at that path (consumers that
 * validate as they read).
 */
export function durationMs(d: Duration | undefined | null, dflt: number, path?: string): number {
  if (d === undefined || d === null) return dflt;
  const s = d.seconds ?? 0;
  const n = d.nanos ?? 0;
  const ms = s * 1000 + n / 1e6;
  if (path !== undefined && (!Number.isFinite(ms) || s < 0 || n < 0)) throw new ConfigError(path, `invalid duration ${JSON.stringify(d)}`);
  return ms;
}

/**
 * A UInt32Value's value (or a plain number, as code that builds config by hand may pass), or `dflt` when
 * absent. With `path`, a value that is not a uint32 is a ConfigError there.
 */
export function u32(w: UInt32Value | number | undefined | null, dflt: number, path?: string): number {
  const n = typeof w === 'number' ? w : w?.value ?? (w === undefined || w === null ? dflt : 0);
  if (path !== undefined && (!Number.isInteger(n) || n < 0 || n > 0xffffffff)) throw new ConfigError(path, `not a uint32: ${String(n)}`);
  return n;
}

/** A BoolValue's value (or a plain boolean), or `dflt` when absent. */
export function bool(w: BoolValue | boolean | undefined | null, dflt: boolean): boolean {
  if (typeof w === 'boolean') return w;
  return w?.value ?? (w === undefined || w === null ? dflt : false);
}

/** A required string field; ConfigError at `path` when it is absent or empty. */
export function requireString(v: unknown, path: string, what = 'a non-empty string'): string {
  if (typeof v !== 'string' || v.length === 0) throw new ConfigError(path, `must be ${what}`);
  return v;
}

/**
 * Throws UnsupportedConfigError for the first set field of `obj` not in `allowed`: a field Skiff does not
 * implement is rejected by name rather than ignored.
 */
export function checkFields(obj: object, allowed: readonly string[], path: string): void {
  for (const [key, value] of Object.entries(obj)) {
    if (value === undefined || allowed.includes(key)) continue;
    throw new UnsupportedConfigError(`${path}.${key}`, 'field');
  }
}

/** The decoded HttpConnectionManager of a listener's filter chain; ConfigError when it has none. */
export function hcmOf(listener: Listener, chainIndex = 0): HttpConnectionManager {
  const chain = listener.filter_chains?.[chainIndex];
  const filter = chain?.filters?.find((f) => f.typed_config?.['@type'] === HCM_TYPE_URL);
  if (!filter) {
    throw new ConfigError(`listener ${listener.name ?? '(unnamed)'}.filter_chains[${chainIndex}]`, 'no http_connection_manager filter');
  }
  return filter.typed_config as unknown as HttpConnectionManager;
}

export interface SocketAddressValue { address: string; port: number }

/** `{address, port}` of an Address (port 0 when absent: an ephemeral port for listeners). */
export function socketAddressOf(address: Address | undefined): SocketAddressValue | undefined {
  const sa = address?.socket_address;
  return sa ? { address: sa.address, port: sa.port_value ?? 0 } : undefined;
}

/** A listener's name as Envoy shows it when none is configured: its address. */
export function listenerName(listener: Listener): string {
  if (listener.name) return listener.name;
  const sa = socketAddressOf(listener.address);
  return sa ? `${sa.address}:${sa.port}` : '(unnamed)';
}

/** Connection manager settings with Envoy's defaults applied. Times in ms; 0 disables a timeout. */
export interface HcmSettings {
  statPrefix: string;
  codecType: 'AUTO' | 'HTTP1' | 'HTTP2' | 'HTTP3';
  requestHeadersTimeoutMs: number;
  streamIdleTimeoutMs: number;
  maxRequestHeadersKb: number;
  maxHeadersCount: number;
  idleTimeoutMs: number;
  useRemoteAddress: boolean;
  xffNumTrustedHops: number;
  generateRequestId: boolean;
  /** undefined: the proxy's own default (`skiff`), as Envoy sends `envoy`. */
  serverName: string | undefined;
}

export const HCM_DEFAULTS = {
  requestHeadersTimeoutMs: 0,
  streamIdleTimeoutMs: 300_000,
  maxRequestHeadersKb: 60,
  maxHeadersCount: 100,
  idleTimeoutMs: 3_600_000,
  /** delayed_close_timeout: how long a closing connection waits for the peer's FIN. */
  delayedCloseTimeoutMs: 1000,
} as const;

export function hcmSettings(hcm: HttpConnectionManager): HcmSettings {
  return {
    statPrefix: hcm.stat_prefix,
    codecType: hcm.codec_type ?? 'AUTO',
    requestHeadersTimeoutMs: durationMs(hcm.request_headers_timeout, HCM_DEFAULTS.requestHeadersTimeoutMs),
    streamIdleTimeoutMs: durationMs(hcm.stream_idle_timeout, HCM_DEFAULTS.streamIdleTimeoutMs),
    maxRequestHeadersKb: u32(hcm.max_request_headers_kb, HCM_DEFAULTS.maxRequestHeadersKb),
    maxHeadersCount: u32(hcm.common_http_protocol_options?.max_headers_count, HCM_DEFAULTS.maxHeadersCount),
    idleTimeoutMs: durationMs(hcm.common_http_protocol_options?.idle_timeout, HCM_DEFAULTS.idleTimeoutMs),
    useRemoteAddress: bool(hcm.use_remote_address, false),
    xffNumTrustedHops: hcm.xff_num_trusted_hops ?? 0,
    generateRequestId: bool(hcm.generate_request_id, true),
    serverName: hcm.server_name || undefined,
  };
}

/** Circuit breaker limits of the DEFAULT priority, with Envoy's defaults. */
export interface BreakerLimits { maxConnections: number; maxPendingRequests: number; maxRequests: number; maxRetries: number }

export const BREAKER_DEFAULTS: BreakerLimits = { maxConnections: 1024, maxPendingRequests: 1024, maxRequests: 1024, maxRetries: 3 };

export function breakerLimits(cluster: Cluster): BreakerLimits {
  const t: Threshold | undefined = cluster.circuit_breakers?.thresholds?.find((x) => (x.priority ?? 'DEFAULT') === 'DEFAULT');
  return {
    maxConnections: u32(t?.max_connections, BREAKER_DEFAULTS.maxConnections),
    maxPendingRequests: u32(t?.max_pending_requests, BREAKER_DEFAULTS.maxPendingRequests),
    maxRequests: u32(t?.max_requests, BREAKER_DEFAULTS.maxRequests),
    maxRetries: u32(t?.max_retries, BREAKER_DEFAULTS.maxRetries),
  };
}

/** Cluster settings with Envoy's defaults. Times in ms. */
export interface ClusterSettings {
  name: string;
  type: NonNullable<Cluster['type']>;
  lbPolicy: NonNullable<Cluster['lb_policy']>;
  connectTimeoutMs: number;
  dnsRefreshRateMs: number;
  dnsLookupFamily: NonNullable<Cluster['dns_lookup_family']>;
  idleTimeoutMs: number;
  /** 0: unlimited. */
  maxRequestsPerConnection: number;
  perConnectionBufferLimitBytes: number;
  ringHash: { minimumRingSize: number; maximumRingSize: number };
  maglevTableSize: number;
  leastRequestChoiceCount: number;
  breakers: BreakerLimits;
}

export const CLUSTER_DEFAULTS = {
  type: 'STATIC',
  lbPolicy: 'ROUND_ROBIN',
  dnsLookupFamily: 'AUTO',
  connectTimeoutMs: 5000,
  dnsRefreshRateMs: 5000,
  idleTimeoutMs: 3_600_000,
  /** 0: unlimited. */
  maxRequestsPerConnection: 0,
  /** An endpoint's load_balancing_weight. */
  endpointWeight: 1,
  perConnectionBufferLimitBytes: 1024 * 1024,
  minimumRingSize: 1024,
  maximumRingSize: 8 * 1024 * 1024,
  maglevTableSize: 65537,
  leastRequestChoiceCount: 2,
  /** The upstream side's limits on a response head (common_http_protocol_options, http_protocol_options). */
  maxResponseHeadersKb: 60,
  maxHeadersCount: 100,
} as const;

export function clusterSettings(cluster: Cluster): ClusterSettings {
  const d = CLUSTER_DEFAULTS;
  return {
    name: cluster.name,
    type: cluster.type ?? d.type,
    lbPolicy: cluster.lb_policy ?? d.lbPolicy,
    connectTimeoutMs: durationMs(cluster.connect_timeout, d.connectTimeoutMs),
    dnsRefreshRateMs: durationMs(cluster.dns_refresh_rate, d.dnsRefreshRateMs),
    dnsLookupFamily: cluster.dns_lookup_family ?? d.dnsLookupFamily,
    idleTimeoutMs: durationMs(cluster.common_http_protocol_options?.idle_timeout, d.idleTimeoutMs),
    // ---- Istio compatibility (xdsistio): istio-agent's xds-grpc cluster sets the deprecated top-level spelling ----
    maxRequestsPerConnection: u32(cluster.common_http_protocol_options?.max_requests_per_connection
      ?? (cluster as { max_requests_per_connection?: UInt32Value }).max_requests_per_connection, d.maxRequestsPerConnection),
    perConnectionBufferLimitBytes: u32(cluster.per_connection_buffer_limit_bytes, d.perConnectionBufferLimitBytes),
    ringHash: {
      minimumRingSize: u32(cluster.ring_hash_lb_config?.minimum_ring_size, d.minimumRingSize),
      maximumRingSize: u32(cluster.ring_hash_lb_config?.maximum_ring_size, d.maximumRingSize),
    },
    maglevTableSize: u32(cluster.maglev_lb_config?.table_size, d.maglevTableSize),
    leastRequestChoiceCount: u32(cluster.least_request_lb_config?.choice_count, d.leastRequestChoiceCount),
    breakers: breakerLimits(cluster),
  };
}

/** An endpoint of a cluster's load_assignment, flattened with its locality's priority and weights. */
export interface EndpointValue { address: string; port: number; hostname?: string; weight: number; priority: number; localityWeight?: number }

export function clusterEndpoints(cluster: Cluster): EndpointValue[] {
  const out: EndpointValue[] = [];
  for (const locality of cluster.load_assignment?.endpoints ?? []) {
    for (const lb of locality.lb_endpoints ?? []) {
      const sa = socketAddressOf(lb.endpoint?.address);
      if (!sa) continue;
      out.push({
        address: sa.address, port: sa.port,
        ...(lb.endpoint?.hostname ? { hostname: lb.endpoint.hostname } : {}),
        weight: u32(lb.load_balancing_weight, CLUSTER_DEFAULTS.endpointWeight),
        priority: locality.priority ?? 0,
        ...(locality.load_balancing_weight ? { localityWeight: u32(locality.load_balancing_weight, 1) } : {}),
      });
    }
  }
  return out;
}

/** Envoy's route timeout default (15 s); an explicit 0 disables it. */
export const ROUTE_TIMEOUT_DEFAULT_MS = 15_000;

export function routeTimeoutMs(action: RouteAction): number {
  return durationMs(action.timeout, ROUTE_TIMEOUT_DEFAULT_MS);
}

/** Retries of a policy: num_retries defaults to 1 once retry_on is set; per_try_timeout 0 = the route's. */
export function retrySettings(policy: RetryPolicy | undefined): { retryOn: string[]; numRetries: number; perTryTimeoutMs: number; retriableStatusCodes: number[] } {
  const retryOn = (policy?.retry_on ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '');
  return {
    retryOn,
    numRetries: retryOn.length === 0 ? 0 : u32(policy?.num_retries, 1),
    perTryTimeoutMs: durationMs(policy?.per_try_timeout, 0),
    retriableStatusCodes: policy?.retriable_status_codes ?? [],
  };
}
