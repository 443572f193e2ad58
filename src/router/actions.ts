/**
 * The JS half of a compiled route: what to do once a route matched (RouteEntry, src/types/router.ts).
 * Envoy's defaults: route timeout 15 s (0 disables), retry policy from the route else its virtual host,
 * header mutations applied route first, then virtual host, then route configuration.
 */
import { ConfigError, UnsupportedConfigError } from '../common/errors.js';
import type { Duration, HeaderMutations, HeaderValueOption, Route, VirtualHost } from '../types/envoy.js';
import type { HeaderMutation, RouteActionEntry, RouteEntry, RouteUpgrade } from '../types/router.js';
import { ROUTE_TIMEOUT_DEFAULT_MS, bool, checkFields, durationMs, requireString, u32 } from '../config/values.js';

/** Envoy's route timeout default, as src/config/values.ts writes it (kept under the router's name). */
export const DEFAULT_ROUTE_TIMEOUT_MS = ROUTE_TIMEOUT_DEFAULT_MS;

const ROUTE_ACTION_FIELDS = ['cluster', 'weighted_clusters', 'prefix_rewrite', 'host_rewrite_literal', 'timeout', 'retry_policy', 'hash_policy',
  // Istio compatibility (src/config/istio.ts): stream duration and gRPC timeout caps, the unknown-cluster status.
  'max_stream_duration', 'max_grpc_timeout', 'grpc_timeout_offset', 'cluster_not_found_response_code',
  // HTTP upgrades and CONNECT termination (src/proxy/upgrade.ts).
  'upgrade_configs'];
const CLUSTER_NOT_FOUND_CODES: Record<string, number> = { SERVICE_UNAVAILABLE: 503, NOT_FOUND: 404, INTERNAL_SERVER_ERROR: 500 };
const REDIRECT_CODES: Record<string, number> = {
  MOVED_PERMANENTLY: 301, FOUND: 302, SEE_OTHER: 303, TEMPORARY_REDIRECT: 307, PERMANENT_REDIRECT: 308,
};
const APPEND_ACTIONS: Record<string, HeaderMutation['add'][number]['mode']> = {
  APPEND_IF_EXISTS_OR_ADD: 'append', ADD_IF_ABSENT: 'add_if_absent',
  OVERWRITE_IF_EXISTS_OR_ADD: 'overwrite', OVERWRITE_IF_EXISTS: 'overwrite_if_exists',
};

function headerAdds(options: readonly HeaderValueOption[] | undefined, path: string): HeaderMutation['add'] {
  if (options === undefined) return [];
  if (!Array.isArray(options)) throw new ConfigError(path, 'must be a list');
  const adds: HeaderMutation['add'][number][] = [];
  options.forEach((o, i) => {
    const at = `${path}[${i}]`;
    checkFields(o, ['header', 'append', 'append_action', 'keep_empty_value'], at);
    const name = requireString(o.header?.key, `${at}.header.key`).toLowerCase();
    if (name.startsWith(':') || name === 'host') throw new ConfigError(`${at}.header.key`, `cannot add ${name}`);
    if (o.append !== undefined && o.append_action !== undefined) throw new ConfigError(`${at}.append`, 'append and append_action are exclusive');
    let mode: HeaderMutation['add'][number]['mode'] = bool(o.append, true) ? 'append' : 'overwrite';
    if (o.append_action !== undefined) {
      const m = APPEND_ACTIONS[o.append_action];
      if (!m) throw new ConfigError(`${at}.append_action`, `unknown action ${String(o.append_action)}`);
      mode = m;
    }
    const value = o.header.value ?? '';
    // Envoy drops a header whose value is empty unless keep_empty_value is set.
    if (value === '' && o.keep_empty_value !== true) return;
    adds.push({ name, value, mode });
  });
  return adds;
}

function headerRemoves(names: readonly string[] | undefined, path: string): string[] {
  if (names === undefined) return [];
  if (!Array.isArray(names)) throw new ConfigError(path, 'must be a list');
  return names.map((n, i) => {
    const name = requireString(n, `${path}[${i}]`).toLowerCase();
    if (name.startsWith(':') || name === 'host') throw new ConfigError(`${path}[${i}]`, `cannot remove ${name}`);
    return name;
  });
}

export interface Mutations { request: HeaderMutation; response: HeaderMutation }

/** The mutations one level (route, virtual host or route configuration) declares. */
export function levelMutations(m: HeaderMutations, path: string): Mutations {
  return {
    request: { add: headerAdds(m.request_headers_to_add, `${path}request_headers_to_add`), remove: headerRemoves(m.request_headers_to_remove, `${path}request_headers_to_remove`) },
    response: { add: headerAdds(m.response_headers_to_add, `${path}response_headers_to_add`), remove: headerRemoves(m.response_headers_to_remove, `${path}response_headers_to_remove`) },
  };
}

function merge(levels: readonly HeaderMutation[]): HeaderMutation {
  return { add: levels.flatMap((l) => l.add), remove: levels.flatMap((l) => l.remove) };
}

function routeAction(route: Route, path: string): RouteActionEntry {
  const set = [route.route, route.direct_response, route.redirect].filter((x) => x !== undefined).length;
  if (set !== 1) throw new ConfigError(path, 'exactly one of route, direct_response, redirect is required');
  if (route.route) {
    const a = route.route;
    const at = `${path}.route`;
    checkFields(a, ROUTE_ACTION_FIELDS, at);
    if ((a.cluster === undefined) === (a.weighted_clusters === undefined)) throw new ConfigError(at, 'exactly one of cluster, weighted_clusters is required');
    if (a.cluster !== undefined) return { kind: 'cluster', cluster: requireString(a.cluster, `${at}.cluster`) };
    const wc = a.weighted_clusters!;
    checkFields(wc, ['clusters', 'total_weight'], `${at}.weighted_clusters`);
    if (!Array.isArray(wc.clusters) || wc.clusters.length === 0) throw new ConfigError(`${at}.weighted_clusters.clusters`, 'must list at least one cluster');
    const clusters = wc.clusters.map((c, i) => {
      const cat = `${at}.weighted_clusters.clusters[${i}]`;
      checkFields(c, ['name', 'weight'], cat);
      const weight = u32(c.weight, 0);
      if (!Number.isInteger(weight) || weight < 0) throw new ConfigError(`${cat}.weight`, 'must be a non-negative integer');
      return { name: requireString(c.name, `${cat}.name`), weight };
    });
    const totalWeight = clusters.reduce((n, c) => n + c.weight, 0);
    if (totalWeight <= 0) throw new ConfigError(`${at}.weighted_clusters.clusters`, 'weights sum to 0');
    if (wc.total_weight !== undefined && u32(wc.total_weight, totalWeight) !== totalWeight) {
      throw new ConfigError(`${at}.weighted_clusters.total_weight`, `is ${u32(wc.total_weight, 0)} but the weights sum to ${totalWeight}`);
    }
    return { kind: 'weighted', clusters, totalWeight };
  }
  if (route.direct_response) {
    const d = route.direct_response;
    const at = `${path}.direct_response`;
    checkFields(d, ['status', 'body'], at);
    if (!Number.isInteger(d.status) || d.status < 200 || d.status > 599) throw new ConfigError(`${at}.status`, 'must be in [200, 600)');
    let body = '';
    if (d.body?.inline_string !== undefined) body = d.body.inline_string;
    else if (d.body?.inline_bytes !== undefined) body = Buffer.from(d.body.inline_bytes, 'base64').toString('latin1');
    else if (d.body !== undefined) checkFields(d.body, ['inline_string', 'inline_bytes'], `${at}.body`);
    return { kind: 'direct', status: d.status, body };
  }
  const r = route.redirect!;
  const at = `${path}.redirect`;
  checkFields(r, ['host_redirect', 'port_redirect', 'path_redirect', 'prefix_rewrite', 'scheme_redirect', 'https_redirect', 'strip_query', 'response_code'], at);
  if (r.path_redirect !== undefined && r.prefix_rewrite !== undefined) throw new ConfigError(at, 'path_redirect and prefix_rewrite are exclusive');
  if (r.https_redirect !== undefined && r.scheme_redirect !== undefined) throw new ConfigError(at, 'https_redirect and scheme_redirect are exclusive');
  const status = r.response_code === undefined ? 301 : REDIRECT_CODES[r.response_code];
  if (status === undefined) throw new ConfigError(`${at}.response_code`, `unknown code ${String(r.response_code)}`);
  return {
    kind: 'redirect', status,
    scheme: r.https_redirect ? 'https' : r.scheme_redirect,
    host: r.host_redirect, port: r.port_redirect, path: r.path_redirect, prefixRewrite: r.prefix_rewrite,
    stripQuery: r.strip_query ?? false,
  };
}

/** The RouteEntry for virtual_hosts[v].routes[r]. */
export function routeEntry(
  configLevel: Mutations, vh: VirtualHost, vhLevel: Mutations,
  route: Route, index: number, path: string,
): RouteEntry {
  const action = routeAction(route, path);
  const own = levelMutations(route, `${path}.`);
  const a = route.route;
  const timeoutMs = durationMs(a?.timeout, ROUTE_TIMEOUT_DEFAULT_MS, `${path}.route.timeout`);
  const hashHeaders = (a?.hash_policy ?? []).map((h, i) => {
    const hat = `${path}.route.hash_policy[${i}]`;
    checkFields(h, ['header', 'terminal'], hat);
    if (!h.header) throw new ConfigError(hat, 'only header hash policies are supported');
    return requireString(h.header.header_name, `${hat}.header.header_name`).toLowerCase();
  });
  const m = route.match;
  const matchPrefix = m.prefix ?? m.path ?? m.path_separated_prefix;
  const limits = streamLimits(a as StreamLimitFields | undefined, `${path}.route`);
  return {
    index,
    name: route.name ?? '',
    virtualHost: vh.name,
    action,
    matchPrefix,
    regexMatch: m.safe_regex !== undefined,
    prefixRewrite: a?.prefix_rewrite,
    hostRewrite: a?.host_rewrite_literal,
    timeoutMs,
    retryPolicy: a?.retry_policy ?? vh.retry_policy,
    hashHeaders,
    ...limits,
    ...routeUpgrades(a as { upgrade_configs?: unknown } | undefined, `${path}.route`),
    includeAttemptCount: bool((vh as { include_request_attempt_count?: boolean }).include_request_attempt_count, false),
    requestHeaders: merge([own.request, vhLevel.request, configLevel.request]),
    responseHeaders: merge([own.response, vhLevel.response, configLevel.response]),
  };
}

interface StreamLimitFields {
  max_stream_duration?: { max_stream_duration?: Duration; grpc_timeout_header_max?: Duration; grpc_timeout_header_offset?: Duration };
  max_grpc_timeout?: Duration;
  grpc_timeout_offset?: Duration;
  cluster_not_found_response_code?: string;
}

/** The Istio-set caps of a RouteAction (Envoy's precedence: max_stream_duration's fields over the deprecated ones). */
function streamLimits(a: StreamLimitFields | undefined, path: string): Pick<RouteEntry, 'maxStreamDurationMs' | 'grpcTimeoutHeaderMaxMs' | 'grpcTimeoutOffsetMs' | 'clusterNotFoundStatus'> {
  if (a === undefined) return {};
  const msd = a.max_stream_duration;
  const out: { maxStreamDurationMs?: number; grpcTimeoutHeaderMaxMs?: number; grpcTimeoutOffsetMs?: number; clusterNotFoundStatus?: number } = {};
  const cap = durationMs(msd?.max_stream_duration, 0, `${path}.max_stream_duration.max_stream_duration`);
  if (cap > 0) out.maxStreamDurationMs = cap;
  const headerMax = msd?.grpc_timeout_header_max ?? a.max_grpc_timeout;
  if (headerMax !== undefined) out.grpcTimeoutHeaderMaxMs = durationMs(headerMax, 0, `${path}.max_stream_duration.grpc_timeout_header_max`);
  const offset = msd?.grpc_timeout_header_offset ?? a.grpc_timeout_offset;
  if (offset !== undefined) out.grpcTimeoutOffsetMs = durationMs(offset, 0, `${path}.max_stream_duration.grpc_timeout_header_offset`);
  if (a.cluster_not_found_response_code !== undefined) {
    const status = CLUSTER_NOT_FOUND_CODES[a.cluster_not_found_response_code];
    if (status === undefined) throw new ConfigError(`${path}.cluster_not_found_response_code`, `unknown code ${String(a.cluster_not_found_response_code)}`);
    out.clusterNotFoundStatus = status;
  }
  return out;
}

interface RouteUpgradeConfig {
  upgrade_type?: unknown;
  enabled?: { value?: boolean } | boolean;
  connect_config?: { proxy_protocol_config?: unknown; allow_post?: boolean } & Record<string, unknown>;
}

/**
 * A RouteAction's upgrade_configs. `connect_config` terminates CONNECT here; of its fields only a false
 * `allow_post` is accepted (POST tunnels and PROXY protocol headers are not implemented).
 */
function routeUpgrades(a: { upgrade_configs?: unknown } | undefined, path: string): Pick<RouteEntry, 'upgrades'> {
  const list = a?.upgrade_configs;
  if (list === undefined || list === null) return {};
  if (!Array.isArray(list)) throw new ConfigError(`${path}.upgrade_configs`, 'must be a list');
  const upgrades = new Map<string, RouteUpgrade>();
  (list as RouteUpgradeConfig[]).forEach((u, i) => {
    const at = `${path}.upgrade_configs[${i}]`;
    checkFields(u, ['upgrade_type', 'enabled', 'connect_config'], at);
    const type = requireString(u.upgrade_type, `${at}.upgrade_type`).toLowerCase();
    if (upgrades.has(type)) throw new ConfigError(`${at}.upgrade_type`, `duplicate upgrade type ${type}`);
    const enabled = bool(u.enabled, true);
    const cc = u.connect_config;
    if (cc !== undefined && cc !== null) {
      if (type !== 'connect') throw new ConfigError(`${at}.connect_config`, 'only for upgrade_type CONNECT');
      for (const key of Object.keys(cc)) {
        if (key === 'allow_post' && cc.allow_post === false) continue;
        throw new UnsupportedConfigError(`${at}.connect_config.${key}`, `ConnectConfig field ${key}`);
      }
    }
    upgrades.set(type, { enabled, terminateConnect: cc !== undefined && cc !== null });
  });
  return { upgrades };
}
