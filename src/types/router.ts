/**
 * Routing: a RouteConfiguration compiled into a route table (JS actions + a wasm blob that matches).
 * Tables are immutable; a config change compiles a new one and swaps it in by version.
 */
import type { RequestHead } from './http.js';
import type { RetryPolicy } from './envoy.js';

export interface HeaderMutation {
  readonly add: readonly { readonly name: string; readonly value: string; readonly mode: 'append' | 'add_if_absent' | 'overwrite' | 'overwrite_if_exists' }[];
  readonly remove: readonly string[];
}

export type RouteActionEntry =
  | { readonly kind: 'cluster'; readonly cluster: string }
  | { readonly kind: 'weighted'; readonly clusters: readonly { readonly name: string; readonly weight: number }[]; readonly totalWeight: number }
  | { readonly kind: 'direct'; readonly status: number; readonly body: string }
  | { readonly kind: 'redirect'; readonly status: number; readonly scheme?: string; readonly host?: string; readonly port?: number;
      readonly path?: string; readonly prefixRewrite?: string; readonly stripQuery: boolean };

/** One entry of a route's `upgrade_configs` (Envoy's RouteAction.UpgradeConfig). */
export interface RouteUpgrade {
  /** `enabled` (default true): overrides the connection manager's setting for this upgrade type on this route. */
  readonly enabled: boolean;
  /** `connect_config` is set (CONNECT only): the CONNECT is terminated and its payload sent to the cluster as raw TCP. */
  readonly terminateConnect: boolean;
}

export interface RouteEntry {
  readonly index: number;
  readonly name: string;
  readonly virtualHost: string;
  readonly action: RouteActionEntry;
  /** The route's prefix (or path) for prefix_rewrite. */
  readonly matchPrefix?: string;
  /** The route matched by safe_regex: prefix_rewrite then replaces the whole path (query kept), as Envoy does. */
  readonly regexMatch?: boolean;
  readonly prefixRewrite?: string;
  readonly hostRewrite?: string;
  /** Route timeout; 0 = none. Envoy's default is 15 s. */
  readonly timeoutMs: number;
  /** Route's retry policy, else the virtual host's. */
  readonly retryPolicy?: RetryPolicy;
  /** Header names for hash_policy (RING_HASH / MAGLEV), lowercase. */
  readonly hashHeaders: readonly string[];
  /**
   * Istio compatibility (all optional: absent = Envoy's defaults). `max_stream_duration.max_stream_duration`:
   * a cap on the upstream stream's whole life in ms (0 or absent: none).
   */
  readonly maxStreamDurationMs?: number;
  /**
   * `max_stream_duration.grpc_timeout_header_max` (else the deprecated `max_grpc_timeout`): when set, a
   * request's `grpc-timeout` header replaces the route timeout, capped at this many ms (0: no cap).
   * Absent: the header is not read.
   */
  readonly grpcTimeoutHeaderMaxMs?: number;
  /** `grpc_timeout_header_offset` / `grpc_timeout_offset`: subtracted from the header's timeout. */
  readonly grpcTimeoutOffsetMs?: number;
  /** The virtual host's `include_request_attempt_count`: send `x-envoy-attempt-count` upstream. */
  readonly includeAttemptCount?: boolean;
  /** `cluster_not_found_response_code` as an HTTP status (Envoy's default 503). */
  readonly clusterNotFoundStatus?: number;
  /** The route's `upgrade_configs`, keyed by lowercase upgrade type ('websocket', 'connect'); absent when none. */
  readonly upgrades?: ReadonlyMap<string, RouteUpgrade>;
  /** Route-level, then virtual-host-level, then config-level mutations, applied in that order (Envoy's). */
  readonly requestHeaders: HeaderMutation;
  readonly responseHeaders: HeaderMutation;
}

export type RouteResult = { readonly route: RouteEntry } | { readonly route: null };

export interface RouteTable {
  readonly version: number;
  /** Matches in wasm over the head record; regex matchers call back to JS. Same thread only. */
  match(head: RequestHead): RouteEntry | null;
}

/**
 * How the proxy asks for a route: inline (calls back synchronously) or through the worker pool
 * (batched per event-loop turn). The callback runs exactly once.
 */
export interface RouteResolver {
  resolve(head: RequestHead, cb: (route: RouteEntry | null) => void): void;
}
