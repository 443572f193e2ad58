/**
 * envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy, read into what the session needs. Fields Skiff
 * does not implement are rejected by name (the config subset does the same on the validated bootstrap; this
 * check also covers filters built from hand-made config).
 */
import type { Any, Duration, UInt32Value } from '../types/envoy.js';
import { ConfigError } from '../common/errors.js';
import { checkFields, durationMs, requireString, u32 } from '../config/values.js';
import { accessLoggers, type AccessLogger } from '../access_log/config.js';
import { tunnelingConfig, type TunnelingConfig, type TunnelingConfigMessage } from './tunnel.js';

export const TCP_PROXY_FILTER_NAME = 'envoy.filters.network.tcp_proxy';
export const TCP_PROXY_TYPE_URL = 'type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy';

/** Envoy's default idle_timeout (1 hour); 0 disables it. */
export const DEFAULT_IDLE_TIMEOUT_MS = 3_600_000;
/** Envoy's default max_connect_attempts. */
export const DEFAULT_MAX_CONNECT_ATTEMPTS = 1;

/** The decoded TcpProxy message (snake_case, as every decoded Envoy message). */
export interface TcpProxyMessage {
  stat_prefix?: string;
  cluster?: string;
  weighted_clusters?: { clusters?: { name?: string; weight?: number }[] };
  idle_timeout?: Duration;
  max_connect_attempts?: UInt32Value;
  access_log?: unknown[];
  tunneling_config?: TunnelingConfigMessage;
}

export interface WeightedTarget { readonly name: string; readonly weight: number }

export interface TcpProxyConfig {
  readonly statPrefix: string;
  /** One entry for `cluster`; the weighted list for `weighted_clusters`. */
  readonly clusters: readonly WeightedTarget[];
  readonly totalWeight: number;
  /** 0 = no idle timeout. */
  readonly idleTimeoutMs: number;
  readonly maxConnectAttempts: number;
  /** One entry per connection when it ends. */
  readonly accessLoggers: readonly AccessLogger[];
  /** The bytes go inside an HTTP CONNECT (or POST) to the cluster (src/tcp_proxy/tunnel.ts); undefined: raw TCP. */
  readonly tunneling?: TunnelingConfig;
}

const FIELDS = ['@type', 'stat_prefix', 'cluster', 'weighted_clusters', 'idle_timeout', 'max_connect_attempts', 'access_log', 'tunneling_config'];

export function tcpProxyConfig(any: Any, path: string): TcpProxyConfig {
  const m = any as unknown as TcpProxyMessage;
  checkFields(m, FIELDS, path);
  const statPrefix = requireString(m.stat_prefix, `${path}.stat_prefix`);
  let clusters: WeightedTarget[];
  if (m.cluster !== undefined && m.cluster !== '') {
    if (m.weighted_clusters !== undefined) throw new ConfigError(`${path}.weighted_clusters`, 'set either cluster or weighted_clusters, not both');
    clusters = [{ name: m.cluster, weight: 1 }];
  } else if (m.weighted_clusters !== undefined) {
    const list = m.weighted_clusters.clusters ?? [];
    if (list.length === 0) throw new ConfigError(`${path}.weighted_clusters.clusters`, 'at least one cluster is required');
    clusters = list.map((c, i) => {
      const at = `${path}.weighted_clusters.clusters[${i}]`;
      checkFields(c, ['name', 'weight'], at);
      const weight = u32(c.weight, 0, `${at}.weight`);
      if (weight < 1) throw new ConfigError(`${at}.weight`, 'must be at least 1');
      return { name: requireString(c.name, `${at}.name`), weight };
    });
  } else {
    throw new ConfigError(`${path}.cluster`, 'a cluster or weighted_clusters is required');
  }
  const maxConnectAttempts = u32(m.max_connect_attempts, DEFAULT_MAX_CONNECT_ATTEMPTS, `${path}.max_connect_attempts`);
  if (maxConnectAttempts < 1) throw new ConfigError(`${path}.max_connect_attempts`, 'must be at least 1');
  return {
    statPrefix,
    clusters,
    totalWeight: clusters.reduce((s, c) => s + c.weight, 0),
    idleTimeoutMs: durationMs(m.idle_timeout, DEFAULT_IDLE_TIMEOUT_MS, `${path}.idle_timeout`),
    maxConnectAttempts,
    accessLoggers: accessLoggers(m.access_log, `${path}.access_log`),
    ...(m.tunneling_config !== undefined && m.tunneling_config !== null ? { tunneling: tunnelingConfig(m.tunneling_config, `${path}.tunneling_config`) } : {}),
  };
}

/** The cluster for one connection: weighted pick by `r` in [0, 1). */
export function pickCluster(config: TcpProxyConfig, r: number): string {
  let point = Math.floor(r * config.totalWeight);
  for (const c of config.clusters) {
    if (point < c.weight) return c.name;
    point -= c.weight;
  }
  return config.clusters[config.clusters.length - 1].name;
}
