/**
 * compileRouteTable: a decoded RouteConfiguration -> an immutable RouteTable (JS RouteEntry objects plus a
 * binary table in the shared route arena that assembly/router matches on). Main thread only. Invalid
 * input throws ConfigError naming the field, e.g. `virtual_hosts[1].routes[3].match.safe_regex.regex`.
 */
import { ConfigError } from '../common/errors.js';
import type { BoolValue, RouteConfiguration } from '../types/envoy.js';
import type { RouteEntry } from '../types/router.js';
import type { WasmInstance } from '../wasm/module.js';
import { RC_ENTRY_SIZE } from '../wasm/layout.js';
import { levelMutations, routeEntry } from './actions.js';
import { routeArena } from './arena.js';
import { bool, checkFields, requireString, u32 } from '../config/values.js';
import { domainSpec, RegexRegistry, routeMatchSpec, type RouteMatchSpec } from './match-spec.js';
import { buildTableBlob, type VirtualHostSpec } from './table-blob.js';
import { CompiledRouteTable } from './table.js';

export interface CompileOptions {
  /** Use the shared route cache (default true). */
  readonly cache?: boolean;
  /** Overrides route_config.ignore_port_in_host_matching. */
  readonly ignorePortInHostMatching?: boolean;
}

const ROUTE_CONFIG_FIELDS = ['name', 'virtual_hosts', 'request_headers_to_add', 'request_headers_to_remove',
  'response_headers_to_add', 'response_headers_to_remove', 'ignore_port_in_host_matching', 'validate_clusters',
  'max_direct_response_body_size_bytes'];
// `metadata` is opaque data for filters and logs; accepted, and not used by routing.
// Istio compatibility (src/config/istio.ts): include_request_attempt_count is applied; a decorator (tracing)
// and typed_per_filter_config of no-op filters (the config subset rejects the others) change nothing here.
const VIRTUAL_HOST_FIELDS = ['name', 'domains', 'routes', 'retry_policy', 'metadata', 'request_headers_to_add',
  'request_headers_to_remove', 'response_headers_to_add', 'response_headers_to_remove',
  'include_request_attempt_count', 'typed_per_filter_config'];
const ROUTE_FIELDS = ['name', 'match', 'route', 'direct_response', 'redirect', 'metadata', 'request_headers_to_add',
  'request_headers_to_remove', 'response_headers_to_add', 'response_headers_to_remove', 'decorator', 'typed_per_filter_config'];
/** Envoy's default cap on a direct_response body. */
const DEFAULT_MAX_DIRECT_RESPONSE_BODY = 4096;

// Table versions tag route cache entries, so they are unique for the process (never 0: zeroed memory).
let nextVersion = 1;

function cacheEntries(wasm: WasmInstance): number {
  let n = 1;
  while (n * 2 * RC_ENTRY_SIZE <= wasm.map.routeCache.len) n *= 2;
  return n >= 2 ? n : 0;
}

export function compileRouteTable(config: RouteConfiguration, wasm: WasmInstance, options: CompileOptions = {}): CompiledRouteTable {
  if (config === null || typeof config !== 'object') throw new ConfigError('route_config', 'must be an object');
  checkFields(config, ROUTE_CONFIG_FIELDS, 'route_config');
  const extra = config as { ignore_port_in_host_matching?: BoolValue | boolean; validate_clusters?: BoolValue | boolean };
  if (bool(extra.validate_clusters, false)) {
    throw new ConfigError('validate_clusters', 'validate_clusters: true is not supported (clusters are checked when a request is routed)');
  }
  const vhostsIn = config.virtual_hosts ?? [];
  if (!Array.isArray(vhostsIn)) throw new ConfigError('virtual_hosts', 'must be a list');
  const configLevel = levelMutations(config, '');
  const regexes = new RegexRegistry();
  const names = new Set<string>();
  const entries: RouteEntry[] = [];
  const maxBody = u32((config as { max_direct_response_body_size_bytes?: { value: number } }).max_direct_response_body_size_bytes, DEFAULT_MAX_DIRECT_RESPONSE_BODY);
  const vhosts: VirtualHostSpec[] = vhostsIn.map((vh, v) => {
    const vpath = `virtual_hosts[${v}]`;
    if (vh === null || typeof vh !== 'object') throw new ConfigError(vpath, 'must be an object');
    checkFields(vh, VIRTUAL_HOST_FIELDS, vpath);
    const name = requireString(vh.name, `${vpath}.name`);
    if (names.has(name)) throw new ConfigError(`${vpath}.name`, `duplicate virtual host name ${JSON.stringify(name)}`);
    names.add(name);
    const vhLevel = levelMutations(vh, `${vpath}.`);
    const firstRoute = entries.length;
    const routesIn = vh.routes ?? [];
    if (!Array.isArray(routesIn)) throw new ConfigError(`${vpath}.routes`, 'must be a list');
    const routes: RouteMatchSpec[] = routesIn.map((route, r) => {
      const rpath = `${vpath}.routes[${r}]`;
      if (route === null || typeof route !== 'object') throw new ConfigError(rpath, 'must be an object');
      checkFields(route, ROUTE_FIELDS, rpath);
      const spec = routeMatchSpec(route.match, `${rpath}.match`, regexes);
      const entry = routeEntry(configLevel, vh, vhLevel, route, entries.length, rpath);
      if (entry.action.kind === 'direct' && Buffer.byteLength(entry.action.body, 'latin1') > maxBody) {
        throw new ConfigError(`${rpath}.direct_response.body`, `longer than max_direct_response_body_size_bytes (${maxBody})`);
      }
      entries.push(entry);
      return spec;
    });
    return { firstRoute, routes };
  });
  const domains = domainSpec(vhostsIn);

  const version = nextVersion++;
  const blob = buildTableBlob({
    version, domains, vhosts,
    ignorePort: options.ignorePortInHostMatching ?? bool(extra.ignore_port_in_host_matching, false),
    cacheBase: wasm.map.routeCache.base,
    cacheEntries: options.cache === false ? 0 : cacheEntries(wasm),
  });
  const arena = routeArena(wasm);
  const handle = arena.allocate(blob.length);
  wasm.u8.set(blob, handle);
  return new CompiledRouteTable(wasm, handle, version, entries, regexes.patterns, regexes.compiled, arena);
}
