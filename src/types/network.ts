/**
 * The network layer between a listener and what serves its connections (MOSN's NET-IO -> network filter
 * boundary; Envoy's filter chains).
 *
 * A listener accepts a socket, runs its listener filters (tls_inspector, http_inspector: they read the first
 * bytes), picks one filter chain by filter_chain_match, wraps the socket in the chain's transport socket
 * (raw_buffer or TLS) and hands the resulting connection to the chain's terminal network filter:
 * envoy.filters.network.http_connection_manager (HTTP/1.1, HTTP/2, AUTO), envoy.filters.network.tcp_proxy,
 * skiff.filters.network.xprotocol, envoy.filters.network.dubbo_proxy. Filters register a factory in
 * src/listener/network_filters.ts (one line each); the factory validates the typed_config when the listener
 * is built (LDS or bootstrap) and the instance serves every connection of that chain until it drains.
 *
 * Threads: main thread only.
 */
import type { Duplex } from 'node:stream';
import type { Logger } from '../common/logger.js';
import type { StatsStore } from '../common/stats.js';
import type { WasmInstance } from '../wasm/module.js';
import type { Any } from './envoy.js';
import type { RouteResolver, RouteTable } from './router.js';
import type { ClusterManager } from './upstream.js';

/** What a listener filter and the transport socket learned about a downstream connection. */
export interface ConnectionInfo {
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly localAddress: string;
  readonly localPort: number;
  /** 'tls' when the chain terminates TLS (or the inspector saw a ClientHello), else 'raw_buffer'. */
  readonly transportProtocol: 'raw_buffer' | 'tls';
  /** SNI from the ClientHello, '' when none. */
  readonly serverName: string;
  /** ALPN protocol negotiated by TLS ('h2', 'http/1.1'), or detected by http_inspector; '' when unknown. */
  readonly alpn: string;
  /** Verified peer certificate URI/DNS SANs (mTLS), empty without a client certificate. */
  readonly peerSans: readonly string[];
}

/**
 * Envoy's filter state: typed objects by key that filters attach to a connection or a stream and others read
 * (set_filter_state writes them; filter_chain_matcher's filter_state input, %FILTER_STATE(key)% in access
 * logs and, through an internal listener, the upstream side read them). Keys are Envoy's
 * (`envoy.filters.listener.original_dst.local_ip`, `io.istio.peer_principal`, ...). Main thread only.
 */
export interface FilterStateObject {
  /** The object as text (Envoy's serializeAsString): what matchers and %FILTER_STATE(key:PLAIN)% read. */
  readonly value: string;
  /** The object factory that made it (set_filter_state's factory_key, else the object key; `envoy.string` for plain strings). */
  readonly factoryKey: string;
  /** Set once: a later set() of the same key is refused. */
  readonly readOnly: boolean;
  /** Whether it goes along to an upstream connection: not, to the next hop only, or to every later hop. */
  readonly sharedWithUpstream: 'NONE' | 'ONCE' | 'TRANSITIVE';
}

export interface FilterState {
  get(key: string): FilterStateObject | undefined;
  /** Stores `object` under `key`; false (and nothing changes) when the key already holds a read-only object. */
  set(key: string, object: FilterStateObject): boolean;
  keys(): IterableIterator<string>;
  /**
   * What an upstream connection (an internal listener's) starts with: the objects shared ONCE (arriving as
   * NONE) or TRANSITIVE.
   */
  sharedWithUpstream(): FilterState;
}

/** A downstream connection handed to a terminal network filter. */
export interface DownstreamConnection {
  /**
   * net.Socket for raw_buffer, tls.TLSSocket for TLS. It may be paused (listener filters read from it):
   * attach the 'data' listener, then call resume() when `socket.readableFlowing === false`.
   */
  readonly socket: Duplex;
  readonly info: ConnectionInfo;
  /**
   * Bytes the listener filters already read from the socket and that the filter must process before
   * anything it reads itself (empty when none). Plain-text chains only: TLS chains receive decrypted bytes.
   */
  readonly initialData: Uint8Array;
  /**
   * The connection's filter state (absent on listeners that keep none). An internal listener's connection
   * starts with the objects its originating stream shared with upstream (passthrough metadata).
   */
  readonly filterState?: FilterState;
}

/** What a connection the filter serves offers the listener (drain, shutdown). */
export interface ServedConnection {
  /** Finish in-flight requests, tell the peer to go away where the protocol can (GOAWAY, Dubbo READONLY), close when idle. */
  drain(): void;
  /** Closes now. */
  destroy(): void;
}

/** Everything a network filter may use; one per listener. */
export interface NetworkFilterContext {
  readonly wasm: WasmInstance;
  readonly stats: StatsStore;
  readonly clusters: ClusterManager;
  /** The resolver of a route table; with `setTable` it follows RDS updates in place. */
  resolverFor(table: RouteTable): RouteResolver;
  readonly log?: Logger;
  /** The listener's name (stat and log prefixes). */
  readonly listenerName: string;
}

/** One configured terminal network filter of one filter chain. */
export interface NetworkFilter {
  /** RDS route config names this filter waits for before its listener may serve (empty = warm at once). */
  readonly rdsNames: readonly string[];
  /** A route table named in rdsNames arrived or changed (atomic swap: a request sees one version). */
  setRouteTable?(name: string, table: RouteTable): void;
  /** Takes over a connection; the filter owns the socket from here on and closes it when done. */
  onConnection(conn: DownstreamConnection): ServedConnection;
  /** The listener drains (replaced, removed, server shutdown): answer with `connection: close`, GOAWAY, ... */
  startDraining(): void;
  /** The chain is gone and all its connections closed: free tables, timers. */
  dispose(graceMs?: number): void;
}

export interface NetworkFilterFactory {
  /** Envoy filter names (e.g. envoy.filters.network.tcp_proxy) and typed_config type URLs it accepts. */
  readonly names: readonly string[];
  readonly typeUrls: readonly string[];
  /**
   * Validates `typedConfig` and builds the filter; throws ConfigError naming the field under `path`
   * (e.g. `static_resources.listeners[0].filter_chains[1].filters[0].typed_config.cluster`).
   */
  create(typedConfig: Any, path: string, ctx: NetworkFilterContext): NetworkFilter;
}

/**
 * A non-terminal network filter that acts once on each new connection of its chain before the terminal
 * filter takes it (envoy.filters.network.set_filter_state): it may return the connection with more filter
 * state. Registered in src/listener/network_filters.ts; filters run in their configured order.
 */
export interface ConnectionFilterFactory {
  readonly names: readonly string[];
  readonly typeUrls: readonly string[];
  /** Validates `typedConfig` (errors name fields under `path`) and returns the per-connection step. */
  create(typedConfig: Any, path: string, ctx: NetworkFilterContext): (conn: DownstreamConnection) => DownstreamConnection;
}
