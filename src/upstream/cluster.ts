/**
 * One upstream cluster: its host set (STATIC from load_assignment, or STRICT_DNS re-resolved every
 * dns_refresh_rate), its load balancer, circuit breakers, stats and a connection pool per host.
 *
 * Host-set updates happen in place: a host whose address:port stays is the same object with the same pool;
 * a removed host's pool drains (idle connections close, in-flight requests finish) and is forgotten once
 * its last connection closes.
 */
import * as net from 'node:net';
import type { Cluster as EnvoyCluster, LbEndpoint } from '../types/envoy.js';
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

/** One endpoint of load_assignment as configured: a name (STRICT_DNS) or an IP (STATIC), port, weight. */
interface EndpointSpec { readonly name: string; readonly port: number; readonly weight: number }

/** A host as an update describes it, before it becomes (or matches) an UpstreamHost. */
interface HostSpec { readonly address: string; readonly port: number; readonly weight: number; readonly hostname: string }

function endpointSpecs(config: EnvoyCluster, path: string, needIp: boolean): EndpointSpec[] {
  const specs: EndpointSpec[] = [];
  (config.load_assignment?.endpoints ?? []).forEach((group, g) => {
    const gp = `${path}.load_assignment.endpoints[${g}]`;
    if ((group.priority ?? 0) !== 0) throw new UnsupportedConfigError(`${gp}.priority`, `endpoint priority ${group.priority}`);
    (group.lb_endpoints ?? []).forEach((ep: LbEndpoint, i) => {
      const ep_ = `${gp}.lb_endpoints[${i}]`;
      const sa = ep.endpoint?.address?.socket_address;
      if (sa === undefined) throw new ConfigError(`${ep_}.endpoint.address`, 'a socket_address is required');
      if ((sa.protocol ?? 'TCP') !== 'TCP') throw new UnsupportedConfigError(`${ep_}.endpoint.address.socket_address.protocol`, `protocol ${sa.protocol}`);
      const port = sa.port_value ?? 0;
      if (!Number.isInteger(port) || port < 1 || port > 65535) throw new ConfigError(`${ep_}.endpoint.address.socket_address.port_value`, `invalid port ${String(sa.port_value)}`);
      if (needIp && net.isIP(sa.address) === 0) throw new ConfigError(`${ep_}.endpoint.address.socket_address.address`, `STATIC clusters need an IP address, got ${JSON.stringify(sa.address)}`);
      if (!needIp && (typeof sa.address !== 'string' || sa.address.length === 0)) throw new ConfigError(`${ep_}.endpoint.address.socket_address.address`, 'a hostname is required');
      const weight = u32(ep.load_balancing_weight, CLUSTER_DEFAULTS.endpointWeight, `${ep_}.load_balancing_weight`);
      if (weight < 1) throw new ConfigError(`${ep_}.load_balancing_weight`, 'must be at least 1');
      specs.push({ name: sa.address, port, weight });
    });
  });
  return specs;
}

export class ClusterImpl implements Cluster {
  readonly name: string;
  readonly stats: ClusterStatsImpl;
  readonly breakers: CircuitBreakers;
  readonly connectTimeoutMs: number;
  readonly idleTimeoutMs: number;
  readonly maxRequestsPerConnection: number;
  /** Resolves once the first host set is known (at once for STATIC; after the first DNS round otherwise). */
  readonly ready: Promise<void>;

  private current: UpstreamHost[] = [];
  private readonly pools = new Map<Host, Http1Pool>();
  private readonly lb: HostSetLoadBalancer;
  private readonly dnsRefreshMs: number;
  private readonly lookupFamily: LookupFamily;
  private readonly endpoints: EndpointSpec[];
  /** STRICT_DNS: the last good answer per endpoint (kept when a refresh of it fails). */
  private readonly lastAnswer: (string[] | undefined)[];
  private dnsTimer: NodeJS.Timeout | null = null;
  private closed = false;
  /** Replaced or removed (CDS): no more DNS, every pool draining. */
  private retired = false;

  constructor(readonly config: EnvoyCluster, readonly path: string, private readonly deps: ClusterDeps) {
    if (typeof config.name !== 'string' || config.name.length === 0) throw new ConfigError(`${path}.name`, 'a cluster name is required');
    this.name = config.name;
    const type = config.type ?? CLUSTER_DEFAULTS.type;
    if (type !== 'STATIC' && type !== 'STRICT_DNS') throw new UnsupportedConfigError(`${path}.type`, `cluster type ${String(type)}`);
    this.connectTimeoutMs = durationMs(config.connect_timeout, CLUSTER_DEFAULTS.connectTimeoutMs, `${path}.connect_timeout`);
    const http = config.common_http_protocol_options;
    this.idleTimeoutMs = durationMs(http?.idle_timeout, CLUSTER_DEFAULTS.idleTimeoutMs, `${path}.common_http_protocol_options.idle_timeout`);
    this.maxRequestsPerConnection = u32(http?.max_requests_per_connection, CLUSTER_DEFAULTS.maxRequestsPerConnection, `${path}.common_http_protocol_options.max_requests_per_connection`);
    this.dnsRefreshMs = durationMs(config.dns_refresh_rate, CLUSTER_DEFAULTS.dnsRefreshRateMs, `${path}.dns_refresh_rate`);
    if (type === 'STRICT_DNS' && this.dnsRefreshMs < 1) throw new ConfigError(`${path}.dns_refresh_rate`, 'must be at least 1 ms');
    this.lookupFamily = config.dns_lookup_family ?? CLUSTER_DEFAULTS.dnsLookupFamily;
    this.endpoints = endpointSpecs(config, path, type === 'STATIC');
    this.lastAnswer = this.endpoints.map(() => undefined);
    this.stats = createClusterStats(deps.stats, this.name);
    this.breakers = createCircuitBreakers(config.circuit_breakers?.thresholds, this.stats.scope, path);
    this.lb = createLoadBalancer([], { config, path, random: deps.random ?? Math.random });
    if (type === 'STATIC') {
      this.setHosts(this.endpoints.map((e) => ({ address: e.name, port: e.port, weight: e.weight, hostname: e.name })));
      this.ready = Promise.resolve();
    } else {
      this.ready = this.refreshDns();
    }
  }

  hosts(): readonly UpstreamHost[] { return this.current; }

  chooseHost(ctx: LoadBalancerContext): Host | null { return this.lb.chooseHost(ctx); }

  pool(host: Host): HttpConnectionPool {
    let p = this.pools.get(host);
    if (p === undefined) {
      p = new Http1Pool({
        host, cluster: this, stats: this.stats, connect: this.deps.connect, log: this.deps.log,
        idleTimeoutMs: this.idleTimeoutMs, maxRequestsPerConnection: this.maxRequestsPerConnection,
        onConnectionClosed: () => this.connectionClosed(),
      });
      this.pools.set(host, p);
      // A host that is not (or no longer) in the set gets a pool that refuses work.
      if (this.closed || this.retired || !this.current.includes(host as UpstreamHost)) p.drain();
    }
    return p;
  }

  /** Call after flipping `host.healthy` (health checking), so the membership_healthy gauge follows. */
  hostHealthChanged(): void {
    this.stats.membership_healthy.set(this.current.filter((h) => h.healthy).length);
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
    for (const [host, p] of [...this.pools]) {
      p.drain();
      if (p.activeConnections === 0 && p.pendingRequests === 0) this.pools.delete(host);
    }
  }

  /** Connections still open in this cluster's pools (draining ones included). */
  get openConnections(): number {
    let n = 0;
    for (const p of this.pools.values()) n += p.activeConnections;
    return n;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.dnsTimer !== null) { clearTimeout(this.dnsTimer); this.dnsTimer = null; }
    for (const p of [...this.pools.values()]) p.close();
    this.pools.clear();
  }

  /** Replaces the host set in place (see the file comment). */
  private setHosts(specs: readonly HostSpec[]): void {
    const byKey = new Map<string, UpstreamHost>();
    for (const h of this.current) byKey.set(h.key, h);
    const next: UpstreamHost[] = [];
    const kept = new Set<UpstreamHost>();
    for (const s of specs) {
      const probe = new UpstreamHost(s.address, s.port, s.weight, s.hostname);
      const existing = byKey.get(probe.key);
      if (existing !== undefined && kept.has(existing)) continue; // two endpoints resolved to one address
      if (existing !== undefined) { existing.weight = s.weight; kept.add(existing); next.push(existing); continue; }
      if (next.some((h) => h.key === probe.key)) continue;
      next.push(probe);
    }
    for (const h of this.current) {
      if (kept.has(h)) continue;
      const p = this.pools.get(h);
      if (p !== undefined) { p.drain(); if (p.activeConnections === 0) this.pools.delete(h); }
    }
    this.current = next;
    this.lb.update(next);
    this.stats.membership_total.set(next.length);
    this.hostHealthChanged();
  }

  /** Forgets drained pools whose last connection closed, and lets waiting pools use the freed budget. */
  private connectionClosed(): void {
    for (const [host, p] of this.pools) {
      const gone = this.retired || !this.current.includes(host as UpstreamHost);
      if (p.isDraining && p.activeConnections === 0 && p.pendingRequests === 0 && gone) this.pools.delete(host);
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
      for (const address of this.lastAnswer[i] ?? []) specs.push({ address, port: e.port, weight: e.weight, hostname: e.name });
    });
    this.setHosts(specs);
    this.dnsTimer = setTimeout(() => { this.dnsTimer = null; void this.refreshDns(); }, this.dnsRefreshMs);
    this.dnsTimer.unref();
  }
}
