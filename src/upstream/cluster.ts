/**
 * One upstream cluster: its host set (STATIC from load_assignment, or STRICT_DNS re-resolved every
 * dns_refresh_rate), its load balancer, circuit breakers, stats and a connection pool per host.
 *
 * Host-set updates happen in place: a host whose address:port stays is the same object with the same pool;
 * a removed host's pool drains (idle connections close, in-flight requests finish) and is forgotten once
 * its last connection closes.
 */
import * as net from 'node:net';
import type { Any, ClusterLoadAssignment, Cluster as EnvoyCluster, LbEndpoint } from '../types/envoy.js';
import type { CircuitBreakers, Cluster, Host, HttpConnectionPool, LoadBalancerContext } from '../types/upstream.js';
import { ConfigError, UnsupportedConfigError } from '../common/errors.js';
import type { Logger } from '../common/logger.js';
import type { StatsStore } from '../common/stats.js';
import { CLUSTER_DEFAULTS, durationMs, u32 } from '../config/values.js';
import { createCircuitBreakers } from './circuit_breakers.js';
import { createClusterStats, type ClusterStatsImpl } from './cluster_stats.js';
import { resolve, systemLookup, type Lookup, type LookupFamily } from './dns.js';
import { UpstreamHost } from './host.js';
import { Http1Pool, type ConnectionFactory } from './http1_pool.js';
import { Http2Pool, upstreamHttpProtocolOf, type UpstreamHttpProtocol } from './http2_pool.js';
import { AlpnPool, type ProtocolPool } from './alpn_pool.js';
import { DownstreamProtocolPool } from './downstream_protocol_pool.js';
import { upstreamTransport, type OpenedSocket, type SocketOpener, type UpstreamTls } from './transport.js';
import { TransportSocketMatcher, transportMatchLabels } from './transport_socket_match.js';
import { internalUpstreamOf, isInternalUpstream, passthroughMetadata, type InternalUpstream } from './internal_upstream.js';
import { createLoadBalancer } from './lb/registry.js';
import type { HostSetLoadBalancer } from './lb/load_balancer.js';

/** A lookup that has not answered by then counts as a failed resolution (the system resolver can stall). */
export const DNS_LOOKUP_TIMEOUT_MS = 5000;

function timeLimited<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(Object.assign(new Error(`${what} timed out after ${ms} ms`), { code: 'ETIMEOUT' })), ms);
  });
  return Promise.race([p, limit]).finally(() => clearTimeout(timer));
}

export interface ClusterDeps {
  readonly stats: StatsStore;
  readonly connect: ConnectionFactory;
  readonly log?: Logger;
  /** Uniform in [0, 1) for the load balancers (default Math.random). */
  readonly random?: () => number;
  /** Name resolution for STRICT_DNS (default: dns.lookup). */
  readonly lookup?: Lookup;
  /** How long one lookup may take before it counts as failed (default DNS_LOOKUP_TIMEOUT_MS). */
  readonly dnsLookupTimeoutMs?: number;
}

/** One endpoint of a load assignment: a name (STRICT_DNS) or an IP (STATIC, EDS), port, weight, health. */
interface EndpointSpec {
  readonly name: string; readonly port: number; readonly weight: number; readonly healthy: boolean | undefined; readonly labels?: Record<string, unknown>;
  /** An envoy_internal_address endpoint, with its metadata (passthrough_metadata reads it). */
  readonly internal?: InternalEndpoint;
}

/** An endpoint that is an internal listener (`envoy_internal_address`). */
interface InternalEndpoint { readonly listenerName: string; readonly endpointId: string; readonly metadata: unknown }

/** A host as an update describes it, before it becomes (or matches) an UpstreamHost. */
interface HostSpec { readonly address: string; readonly port: number; readonly weight: number; readonly hostname: string; readonly healthy: boolean | undefined; readonly labels?: Record<string, unknown>; readonly internal?: InternalEndpoint }

/** EDS health states in which Envoy sends a host no new requests. */
const UNUSABLE_HEALTH = new Set(['UNHEALTHY', 'DRAINING', 'TIMEOUT']);

/**
 * The endpoints of a ClusterLoadAssignment (a cluster's load_assignment or an EDS update): every locality's
 * lb_endpoints at priority 0 (other priorities are rejected: Skiff has no priority failover), each with its
 * weight. Locality weights are not used (no locality-weighted balancing).
 */
/** `needIp`: the cluster type that requires IP addresses (STATIC, EDS), or undefined when names are resolved. */
function endpointSpecs(cla: ClusterLoadAssignment | undefined, path: string, needIp: 'STATIC' | 'EDS' | undefined): EndpointSpec[] {
  const specs: EndpointSpec[] = [];
  (cla?.endpoints ?? []).forEach((group, g) => {
    if ((group.priority ?? 0) !== 0) throw new UnsupportedConfigError(`${path}.endpoints[${g}].priority`, `endpoint priority ${group.priority}`);
    (group.lb_endpoints ?? []).forEach((ep: LbEndpoint, i) => {
      // Built only for an error: 50 000 endpoints need no 50 000 path strings when they are fine.
      const at = (field: string): string => `${path}.endpoints[${g}].lb_endpoints[${i}]${field}`;
      const pipe = ep.endpoint?.address?.pipe;
      if (pipe !== undefined && ep.endpoint?.address?.socket_address === undefined) {
        // A unix socket (istio-agent's xds-grpc / sds-grpc): port 0 marks it (no TCP endpoint has port 0).
        if (typeof pipe.path !== 'string' || pipe.path === '') throw new ConfigError(at('.endpoint.address.pipe.path'), 'required');
        if (needIp !== 'STATIC') throw new UnsupportedConfigError(at('.endpoint.address.pipe'), 'a pipe endpoint outside a STATIC cluster');
        specs.push({ name: pipe.path, port: 0, weight: u32(ep.load_balancing_weight, CLUSTER_DEFAULTS.endpointWeight, at('.load_balancing_weight')), healthy: undefined });
        return;
      }
      const internal = (ep.endpoint?.address as { envoy_internal_address?: { server_listener_name?: string; endpoint_id?: string } } | undefined)?.envoy_internal_address;
      if (internal !== undefined && ep.endpoint?.address?.socket_address === undefined) {
        // An internal listener of this process (src/upstream/internal_listeners.ts): no IP, no port.
        if (typeof internal.server_listener_name !== 'string' || internal.server_listener_name === '') {
          throw new ConfigError(at('.endpoint.address.envoy_internal_address.server_listener_name'), 'required');
        }
        if (needIp === undefined) throw new UnsupportedConfigError(at('.endpoint.address.envoy_internal_address'), 'an internal address in a STRICT_DNS cluster');
        const endpointId = internal.endpoint_id ?? '';
        const weight = ep.load_balancing_weight === undefined ? CLUSTER_DEFAULTS.endpointWeight : u32(ep.load_balancing_weight, CLUSTER_DEFAULTS.endpointWeight, at('.load_balancing_weight'));
        if (weight < 1) throw new ConfigError(at('.load_balancing_weight'), 'must be at least 1');
        specs.push({
          name: `envoy://${internal.server_listener_name}/${endpointId}`, port: 0, weight,
          healthy: ep.health_status === undefined ? undefined : !UNUSABLE_HEALTH.has(ep.health_status),
          internal: { listenerName: internal.server_listener_name, endpointId, metadata: ep.metadata },
        });
        return;
      }
      const sa = ep.endpoint?.address?.socket_address;
      if (sa === undefined) throw new ConfigError(at('.endpoint.address'), 'a socket_address is required');
      if ((sa.protocol ?? 'TCP') !== 'TCP') throw new UnsupportedConfigError(at('.endpoint.address.socket_address.protocol'), `protocol ${sa.protocol}`);
      const port = sa.port_value ?? 0;
      if (!Number.isInteger(port) || port < 1 || port > 65535) throw new ConfigError(at('.endpoint.address.socket_address.port_value'), `invalid port ${String(sa.port_value)}`);
      if (needIp && net.isIP(sa.address) === 0) throw new ConfigError(at('.endpoint.address.socket_address.address'), `${needIp} clusters need an IP address, got ${JSON.stringify(sa.address)}`);
      if (needIp === undefined && (typeof sa.address !== 'string' || sa.address.length === 0)) throw new ConfigError(at('.endpoint.address.socket_address.address'), 'a hostname is required');
      const weight = ep.load_balancing_weight === undefined ? CLUSTER_DEFAULTS.endpointWeight : u32(ep.load_balancing_weight, CLUSTER_DEFAULTS.endpointWeight, at('.load_balancing_weight'));
      if (weight < 1) throw new ConfigError(at('.load_balancing_weight'), 'must be at least 1');
      // Only an explicit EDS health status overrides what health checking decided.
      // transport_socket_matches labels: the endpoint's, else its locality's.
      const labels = transportMatchLabels(ep.metadata) ?? transportMatchLabels((group as { metadata?: unknown }).metadata);
      specs.push({ name: sa.address, port, weight, healthy: ep.health_status === undefined ? undefined : !UNUSABLE_HEALTH.has(ep.health_status), ...(labels ? { labels } : {}) });
    });
  });
  // Exact size: what is kept (lastSpecs) should not carry the pushed-to array's spare capacity.
  return specs.slice();
}

/** The IP endpoints of an assignment as hosts (STATIC and EDS). */
function countHealthy(hosts: readonly UpstreamHost[]): number {
  let n = 0;
  for (let i = 0; i < hosts.length; i++) if (hosts[i].healthy) n++;
  return n;
}

function ipHostSpecs(specs: readonly EndpointSpec[]): HostSpec[] {
  return specs.map((e) => ({ address: e.name, port: e.port, weight: e.weight, hostname: e.name, healthy: e.healthy, labels: e.labels, ...(e.internal ? { internal: e.internal } : {}) }));
}

/** Shared by every cluster that has none (EDS clusters: 10 000 of them need no 20 000 empty lists). Never mutated. */
const NO_ENDPOINTS: EndpointSpec[] = [];
const NO_ANSWERS: (string[] | undefined)[] = [];

/** A ClusterLoadAssignment checked by ClusterImpl.prepareEndpoints, ready for commitEndpoints. */
export interface PreparedEndpoints { readonly __prepared: unique symbol }

/**
 * An EDS assignment checked on its own (any EDS cluster can take the result with commitEndpoints): what xDS
 * keeps of a ClusterLoadAssignment instead of its decoded tree. Throws ConfigError naming `path` and the field.
 */
export function prepareAssignment(cla: ClusterLoadAssignment, path: string): PreparedEndpoints {
  return { specs: endpointSpecs(cla, path, 'EDS') } as unknown as PreparedEndpoints;
}

/** Everything but the endpoints: two configs equal here differ only in their host set. */
export function withoutEndpoints(config: EnvoyCluster): string {
  const { load_assignment: _ignored, ...rest } = config;
  return JSON.stringify(rest);
}

export class ClusterImpl implements Cluster {
  readonly name: string;
  readonly stats: ClusterStatsImpl;
  readonly breakers: CircuitBreakers;
  readonly connectTimeoutMs: number;
  readonly idleTimeoutMs: number;
  readonly maxRequestsPerConnection: number;
  /** STATIC / STRICT_DNS: resolves once the first host set is known (EDS: see the `ready` getter). */
  private readonly firstHosts: Promise<void> | undefined;
  readonly type: 'STATIC' | 'STRICT_DNS' | 'EDS';
  /** EDS: the name endpoints are asked for (eds_cluster_config.service_name, else the cluster's name). */
  readonly edsServiceName: string | undefined;
  /**
   * False until the cluster has its first host set (STATIC at once, STRICT_DNS after its first DNS round,
   * EDS after its first ClusterLoadAssignment). Envoy's warming: a cluster is used only once initialized.
   */
  initialized = false;
  /** EDS: the last assignment applied (carried over when the cluster is replaced). */
  get lastAssignment(): ClusterLoadAssignment | undefined {
    const specs = this.lastSpecs;
    if (specs === undefined) return undefined;
    // Rebuilt from the checked endpoints: the decoded assignment itself is not kept (10 000 of them are ~20 MB).
    return {
      cluster_name: this.edsServiceName ?? this.name,
      endpoints: [{ lb_endpoints: specs.map((e) => ({
        endpoint: { address: e.internal !== undefined
          ? { envoy_internal_address: { server_listener_name: e.internal.listenerName, ...(e.internal.endpointId ? { endpoint_id: e.internal.endpointId } : {}) } }
          : { socket_address: { address: e.name, port_value: e.port } } },
        ...(e.internal?.metadata !== undefined ? { metadata: e.internal.metadata } : {}),
        load_balancing_weight: { value: e.weight },
        ...(e.healthy === undefined ? {} : { health_status: e.healthy ? 'HEALTHY' : 'UNHEALTHY' }),
      })) }],
    } as ClusterLoadAssignment;
  }
  /** EDS: the endpoints of the last assignment applied. */
  private lastSpecs: readonly EndpointSpec[] | undefined;
  /** Made only when someone waits (whenInitialized): 10 000 EDS clusters need no 10 000 promises. */
  private initWaiter: { promise: Promise<void>; resolve: () => void } | undefined;

  private current: UpstreamHost[] = [];
  /** Made on the first request: most of 10 000 xDS clusters never see one, and an empty Map is ~200 bytes. */
  private poolsByHost: Map<Host, ProtocolPool> | undefined;
  private get pools(): Map<Host, ProtocolPool> { return (this.poolsByHost ??= new Map()); }
  /** HTTP/1.1, HTTP/2 or chosen by ALPN per host (typed_extension_protocol_options). */
  private readonly protocol: UpstreamHttpProtocol;
  /** The protocol's kind (Cluster.httpProtocol: what a tcp_proxy tunnel speaks). */
  get httpProtocol(): UpstreamHttpProtocol['kind'] { return this.protocol.kind; }
  private readonly lb: HostSetLoadBalancer;
  private readonly dnsRefreshMs: number;
  private readonly lookupFamily: LookupFamily;
  private endpoints: EndpointSpec[];
  /** STRICT_DNS: the last good answer per endpoint (kept when a refresh of it fails). */
  private readonly lastAnswer: (string[] | undefined)[];
  private dnsTimer: NodeJS.Timeout | null = null;
  private closed = false;
  /** Replaced or removed (CDS): no more DNS, every pool draining. */
  private retired = false;

  /** The cluster's internal_upstream transport (passthrough_metadata for internal endpoints), if any. */
  private readonly internalUpstream: InternalUpstream | undefined;
  /** The cluster's UpstreamTlsContext (src/upstream/transport.ts); undefined for plain TCP. */
  private readonly tls: UpstreamTls | undefined;
  private readonly tlsMatches: TransportSocketMatcher;
  /** The cluster-wide transport for raw connections (tcp_proxy, RPC pools); HTTP pools pick per host (tlsFor). */
  get upstreamTls(): UpstreamTls | undefined { return this.tls; }

  /** Written only by updateStaticEndpoints (a CDS update that changed only the endpoints). */
  config: EnvoyCluster;

  constructor(config: EnvoyCluster, readonly path: string, private readonly deps: ClusterDeps) {
    this.config = config;
    if (typeof config.name !== 'string' || config.name.length === 0) throw new ConfigError(`${path}.name`, 'a cluster name is required');
    this.name = config.name;
    const type = config.type ?? CLUSTER_DEFAULTS.type;
    if (type !== 'STATIC' && type !== 'STRICT_DNS' && type !== 'EDS') throw new UnsupportedConfigError(`${path}.type`, `cluster type ${String(type)}`);
    this.type = type;
    if (type === 'EDS') {
      const eds = config.eds_cluster_config;
      if (eds?.eds_config?.ads === undefined) throw new UnsupportedConfigError(`${path}.eds_cluster_config.eds_config`, 'an EDS source other than ads: {}');
      this.edsServiceName = eds.service_name !== undefined && eds.service_name !== '' ? eds.service_name : this.name;
    }
    this.connectTimeoutMs = durationMs(config.connect_timeout, CLUSTER_DEFAULTS.connectTimeoutMs, `${path}.connect_timeout`);
    const http = config.common_http_protocol_options;
    this.idleTimeoutMs = durationMs(http?.idle_timeout, CLUSTER_DEFAULTS.idleTimeoutMs, `${path}.common_http_protocol_options.idle_timeout`);
    this.maxRequestsPerConnection = u32(http?.max_requests_per_connection, CLUSTER_DEFAULTS.maxRequestsPerConnection, `${path}.common_http_protocol_options.max_requests_per_connection`);
    this.dnsRefreshMs = durationMs(config.dns_refresh_rate, CLUSTER_DEFAULTS.dnsRefreshRateMs, `${path}.dns_refresh_rate`);
    if (type === 'STRICT_DNS' && this.dnsRefreshMs < 1) throw new ConfigError(`${path}.dns_refresh_rate`, 'must be at least 1 ms');
    this.lookupFamily = config.dns_lookup_family ?? CLUSTER_DEFAULTS.dnsLookupFamily;
    // An EDS cluster's hosts come from updateEndpoints only (Envoy ignores its load_assignment too).
    this.endpoints = type === 'EDS' ? NO_ENDPOINTS : endpointSpecs(config.load_assignment, `${path}.load_assignment`, type === 'STATIC' ? 'STATIC' : undefined);
    this.lastAnswer = type === 'STRICT_DNS' ? this.endpoints.map(() => undefined) : NO_ANSWERS;
    this.stats = createClusterStats(deps.stats, this.name);
    this.protocol = upstreamHttpProtocolOf(config, path);
    this.breakers = createCircuitBreakers(config.circuit_breakers?.thresholds, this.stats.breakerSlots(), path);
    this.tls = upstreamTransport((config as { transport_socket?: { name?: string; typed_config?: Any } }).transport_socket, `${path}.transport_socket`, deps.log);
    const ts = (config as { transport_socket?: { name?: string; typed_config?: Any } }).transport_socket;
    this.internalUpstream = ts !== undefined && isInternalUpstream(ts) ? internalUpstreamOf(ts, `${path}.transport_socket`) : undefined;
    this.tlsMatches = TransportSocketMatcher.build((config as { transport_socket_matches?: [] }).transport_socket_matches, this.tls, path, deps.log);
    this.lb = createLoadBalancer([], { config, path, random: deps.random ?? Math.random });
    if (type === 'STATIC') {
      this.setHosts(ipHostSpecs(this.endpoints));
      this.firstHosts = Promise.resolve();
    } else if (type === 'STRICT_DNS') {
      this.firstHosts = this.refreshDns();
    }
  }

  /** Resolves once the first host set is known (at once for STATIC; after the first DNS round or EDS update otherwise). */
  get ready(): Promise<void> { return this.firstHosts ?? this.whenInitialized(); }

  /** Resolves when `initialized` turns true (never, for an EDS cluster that gets no endpoints). */
  whenInitialized(): Promise<void> {
    if (this.initialized) return Promise.resolve();
    if (this.initWaiter === undefined) {
      let resolve!: () => void;
      const promise = new Promise<void>((r) => { resolve = r; });
      this.initWaiter = { promise, resolve };
    }
    return this.initWaiter.promise;
  }

  /**
   * EDS: replaces the host set with the assignment's (hosts that stay keep their pools and counters; removed
   * hosts' pools drain) and marks the cluster initialized. Throws ConfigError / UnsupportedConfigError before
   * changing anything when the assignment is invalid.
   */
  updateEndpoints(cla: ClusterLoadAssignment, path = `endpoints[${JSON.stringify(cla.cluster_name)}]`): void {
    this.commitEndpoints(this.prepareEndpoints(cla, path));
  }

  /** updateEndpoints, first half: checks the assignment (throws naming the field) and changes nothing. */
  prepareEndpoints(cla: ClusterLoadAssignment, path = `endpoints[${JSON.stringify(cla.cluster_name)}]`): PreparedEndpoints {
    if (this.type !== 'EDS') throw new ConfigError(path, `cluster ${this.name} is of type ${this.type}, not EDS`);
    return prepareAssignment(cla, path);
  }

  /** updateEndpoints, second half: applies what prepareEndpoints accepted (cannot fail). */
  commitEndpoints(prepared: PreparedEndpoints): void {
    if (this.closed || this.retired) return;
    const specs = (prepared as unknown as { specs: EndpointSpec[] }).specs;
    this.lastSpecs = specs;
    this.stats.recordUpdate('success');
    this.setHosts(ipHostSpecs(specs));
  }

  /**
   * STATIC: a new load_assignment for the same cluster (CDS changed only its endpoints): applied in place so
   * unchanged hosts keep their pools. Throws before changing anything when it is invalid.
   */
  updateStaticEndpoints(config: EnvoyCluster): void {
    if (this.type !== 'STATIC') throw new ConfigError(this.path, `cluster ${this.name} is of type ${this.type}, not STATIC`);
    const specs = endpointSpecs(config.load_assignment, `${this.path}.load_assignment`, 'STATIC');
    this.config = config;
    this.endpoints = specs;
    this.setHosts(ipHostSpecs(specs));
  }

  hosts(): readonly UpstreamHost[] { return this.current; }

  chooseHost(ctx: LoadBalancerContext): Host | null { return this.lb.chooseHost(ctx); }

  pool(host: Host): HttpConnectionPool {
    let p = this.pools.get(host);
    if (p === undefined) {
      const protocol = this.protocol;
      // The host's transport: the cluster's, or the one its transport_socket_matches labels pick.
      const tls = this.tlsFor(host);
      if (protocol.kind === 'auto' && tls !== undefined) {
        p = new AlpnPool({
          host, cluster: this, stats: this.stats, tls,
          makePool: (negotiated, open) => negotiated === 'http2' ? this.http2Pool(host, tls, open) : this.http1Pool(host, tls, open),
        });
      } else if (protocol.kind === 'downstream') {
        p = new DownstreamProtocolPool((wanted) => wanted === 'http2'
          ? this.http2Pool(host, tls, alpnOpener(tls, ['h2'])) : this.http1Pool(host, tls, alpnOpener(tls, ['http/1.1'])));
      } else {
        p = protocol.kind === 'http2' ? this.http2Pool(host, tls) : this.http1Pool(host, tls);
      }
      this.pools.set(host, p);
      // A host that is not (or no longer) in the set gets a pool that refuses work.
      if (this.closed || this.retired || !this.current.includes(host as UpstreamHost)) p.drain();
    }
    return p;
  }

  private http2Pool(host: Host, tls: UpstreamTls | undefined, open?: SocketOpener): Http2Pool {
    const http2 = this.protocol.kind === 'http1' ? {} : this.protocol.http2;
    return new Http2Pool({
      host, cluster: this, stats: this.stats, statsStore: this.deps.stats, http2, tls, open, log: this.deps.log,
      idleTimeoutMs: this.idleTimeoutMs,
      onConnectionClosed: () => this.connectionClosed(),
    });
  }

  private http1Pool(host: Host, tls: UpstreamTls | undefined, open?: SocketOpener): Http1Pool {
    return new Http1Pool({
      host, cluster: this, stats: this.stats, connect: this.deps.connect, log: this.deps.log,
      idleTimeoutMs: this.idleTimeoutMs, maxRequestsPerConnection: this.maxRequestsPerConnection,
      onConnectionClosed: () => this.connectionClosed(),
      tls, open,
    });
  }

  /** Call after flipping `host.healthy` (health checking), so the membership_healthy gauge follows. */
  hostHealthChanged(): void {
    this.stats.setMembershipHealthy(countHealthy(this.current));
  }

  /**
   * Retires the cluster after a replacement or removal: DNS stops, pools drain (idle connections close,
   * requests in flight finish, new acquires fail with SKIFF_UPSTREAM_POOL_DRAINED), and each pool is
   * forgotten once its last connection closes.
   */
  retire(): void {
    if (this.retired || this.closed) return;
    this.retired = true;
    if (this.dnsTimer !== null) { clearTimeout(this.dnsTimer); this.dnsTimer = null; }
    const pools = this.poolsByHost;
    if (pools === undefined) return;
    for (const [host, p] of [...pools]) {
      p.drain();
      if (p.activeConnections === 0 && p.pendingRequests === 0) pools.delete(host);
    }
  }

  /** Connections still open in this cluster's pools (draining ones included). */
  get openConnections(): number {
    let n = 0;
    if (this.poolsByHost !== undefined) for (const p of this.poolsByHost.values()) n += p.activeConnections;
    return n;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.dnsTimer !== null) { clearTimeout(this.dnsTimer); this.dnsTimer = null; }
    const pools = this.poolsByHost;
    if (pools !== undefined) {
      for (const p of [...pools.values()]) p.close();
      pools.clear();
    }
    this.tls?.dispose();
    this.tlsMatches.dispose();
  }

  /** The transport of a host's connections: transport_socket_matches on its labels, else the cluster's. */
  private tlsFor(host: Host): UpstreamTls | undefined {
    return this.tlsMatches.empty ? this.tls : this.tlsMatches.select((host as UpstreamHost).transportLabels);
  }

  /** Replaces the host set in place (see the file comment). */
  private setHosts(specs: readonly HostSpec[]): void {
    const byKey = new Map<string, UpstreamHost>();
    for (const h of this.current) byKey.set(h.key, h);
    const next: UpstreamHost[] = [];
    const kept = new Set<UpstreamHost>();
    for (const s of specs) {
      const probe = new UpstreamHost(s.address, s.port, s.weight, s.hostname);
      if (s.labels !== undefined) probe.transportLabels = s.labels;
      if (s.internal !== undefined) {
        probe.internal = {
          listenerName: s.internal.listenerName, endpointId: s.internal.endpointId,
          metadata: passthroughMetadata(this.internalUpstream, s.internal.metadata, (this.config as { metadata?: unknown }).metadata),
        };
      }
      const existing = byKey.get(probe.key);
      if (existing !== undefined && kept.has(existing)) continue; // two endpoints resolved to one address
      if (existing !== undefined) {
        existing.weight = s.weight;
        if (probe.internal !== undefined) existing.internal = probe.internal; // its metadata may have changed
        if (s.healthy !== undefined) existing.healthy = s.healthy;
        kept.add(existing);
        next.push(existing);
        continue;
      }
      if (next.some((h) => h.key === probe.key)) continue;
      if (s.healthy !== undefined) probe.healthy = s.healthy;
      next.push(probe);
    }
    const pools = this.poolsByHost;
    if (pools !== undefined) {
      for (const h of this.current) {
        if (kept.has(h)) continue;
        const p = pools.get(h);
        if (p !== undefined) { p.drain(); if (p.activeConnections === 0) pools.delete(h); }
      }
    }
    // An exact-size copy: the pushed-to array keeps spare capacity (~3x for 5 hosts), times 10 000 clusters.
    const hosts = next.slice();
    this.current = hosts;
    this.lb.update(hosts);
    this.stats.setMembership(hosts.length, countHealthy(hosts));
    if (!this.initialized) { this.initialized = true; this.initWaiter?.resolve(); }
  }

  /** Forgets drained pools whose last connection closed, and lets waiting pools use the freed budget. */
  private connectionClosed(): void {
    const pools = this.poolsByHost;
    if (pools === undefined) return;
    for (const [host, p] of pools) {
      const gone = this.retired || !this.current.includes(host as UpstreamHost);
      if (p.isDraining && p.activeConnections === 0 && p.pendingRequests === 0 && gone) pools.delete(host);
      else if (p.pendingRequests > 0) p.reconcile();
    }
  }

  /** One STRICT_DNS round: every endpoint resolved; a failed one keeps its last answer. */
  private async refreshDns(): Promise<void> {
    const lookup = this.deps.lookup ?? systemLookup;
    this.stats.update_attempt.inc();
    if (this.retired) return;
    const results = await Promise.allSettled(this.endpoints.map((e) =>
      timeLimited(resolve(lookup, e.name, this.lookupFamily), this.deps.dnsLookupTimeoutMs ?? DNS_LOOKUP_TIMEOUT_MS, `resolving ${e.name}`)));
    if (this.closed || this.retired) return;
    let failed = false;
    results.forEach((r, i) => {
      if (r.status === 'fulfilled') this.lastAnswer[i] = r.value;
      else {
        failed = true;
        this.deps.log?.warn(`cluster ${this.name}: resolving ${this.endpoints[i].name} failed: ${String((r.reason as Error)?.message ?? r.reason)}`);
      }
    });
    (failed ? this.stats.update_failure : this.stats.update_success).inc();
    const specs: HostSpec[] = [];
    this.endpoints.forEach((e, i) => {
      for (const address of this.lastAnswer[i] ?? []) specs.push({ address, port: e.port, weight: e.weight, hostname: e.name, healthy: undefined });
    });
    this.setHosts(specs);
    this.dnsTimer = setTimeout(() => { this.dnsTimer = null; void this.refreshDns(); }, this.dnsRefreshMs);
    this.dnsTimer.unref();
  }
}

/** Over TLS without configured alpn_protocols: connections that offer exactly `alpn` (else the default opener). */
function alpnOpener(tls: UpstreamTls | undefined, alpn: readonly string[]): SocketOpener | undefined {
  if (tls === undefined || tls.alpn.length > 0) return undefined;
  return (host): OpenedSocket => ({ socket: tls.connect(host.address, host.port, alpn), ready: 'secureConnect' });
}
