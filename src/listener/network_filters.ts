/**
 * Network filters and listener filters by name and typed_config type URL (MOSN's RegisterNetwork, Envoy's
 * NamedNetworkFilterConfigFactory). A filter chain's filters are looked up here when its listener is built:
 * a registered factory validates and builds the filter; a registered no-op is skipped with one warning; any
 * other name is an UnsupportedConfigError naming `...filters[i]` and the filter.
 *
 * The HTTP connection manager is the first factory (registered below, it is core); the others register from
 * src/server/extensions.ts. Main thread only.
 */
import { ConfigError, UnsupportedConfigError } from '../common/errors.js';
import type { Logger } from '../common/logger.js';
import type { Any } from '../types/envoy.js';
import type {
  ConnectionFilterFactory, DownstreamConnection, NetworkFilter, NetworkFilterContext, NetworkFilterFactory, ServedConnection,
} from '../types/network.js';
import type { RouteTable } from '../types/router.js';
import { hcmFilterFactory } from '../proxy/hcm_filter.js';
import { networkSetFilterStateFactory } from '../proxy/set_filter_state.js';

const factories = new Map<string, NetworkFilterFactory>();
/** Non-terminal filters that act once on a new connection (set_filter_state). */
const connectionFilters = new Map<string, ConnectionFilterFactory>();
/** A no-op's reason, and when it applies (some filters are no-ops only with a given config, e.g. wasm stats). */
interface Noop { reason: string; applies?: (typedConfig: Any | undefined) => boolean }
const noopNetwork = new Map<string, Noop>();
const noopListener = new Map<string, string>();
/** No-op names already warned about: one warning per name per process. */
const warned = new Set<string>();

function claim(map: Map<string, unknown>, key: string, value: unknown, what: string): void {
  const had = map.get(key);
  if (had !== undefined && had !== value) throw new Error(`${what} ${key} is already registered`);
}

/** Registers a terminal network filter under its names and type URLs; registering the same factory twice is harmless. */
export function registerNetworkFilter(f: NetworkFilterFactory): void {
  for (const key of [...f.names, ...f.typeUrls]) {
    claim(factories, key, f, 'network filter');
    if (noopNetwork.has(key)) throw new Error(`network filter ${key} is registered as a no-op`);
  }
  for (const key of [...f.names, ...f.typeUrls]) factories.set(key, f);
}

/** Registers a non-terminal filter that acts on each new connection before the terminal filter. */
export function registerConnectionFilter(f: ConnectionFilterFactory): void {
  for (const key of [...f.names, ...f.typeUrls]) {
    claim(connectionFilters, key, f, 'connection filter');
    if (factories.has(key) || noopNetwork.has(key)) throw new Error(`network filter ${key} is already registered`);
  }
  for (const key of [...f.names, ...f.typeUrls]) connectionFilters.set(key, f);
}

/** A terminal filter behind the chain's connection filters: each new connection passes them in order first. */
class ConnectionFiltered implements NetworkFilter {
  constructor(private readonly inner: NetworkFilter, private readonly steps: readonly ((c: DownstreamConnection) => DownstreamConnection)[]) {}
  get rdsNames(): readonly string[] { return this.inner.rdsNames; }
  setRouteTable(name: string, table: RouteTable): void { this.inner.setRouteTable?.(name, table); }
  onConnection(conn: DownstreamConnection): ServedConnection {
    let c = conn;
    for (const step of this.steps) c = step(c);
    return this.inner.onConnection(c);
  }
  startDraining(): void { this.inner.startDraining(); }
  dispose(graceMs?: number): void { this.inner.dispose(graceMs); }
}

/** The factory for a filter name or typed_config type URL, undefined when none is registered. */
export function networkFilterFor(nameOrTypeUrl: string): NetworkFilterFactory | undefined {
  return factories.get(nameOrTypeUrl);
}

/**
 * Accepts a network filter name (or type URL) as a documented no-op: a chain that lists it is built without
 * it and a warning says why, once. For filters that change nothing about how bytes are forwarded (Istio's
 * metadata exchange and stats filters).
 */
export function registerNoopNetworkFilter(name: string, reason: string, applies?: (typedConfig: Any | undefined) => boolean): void {
  if (factories.has(name)) throw new Error(`network filter ${name} has a factory; it cannot be a no-op`);
  noopNetwork.set(name, { reason, applies });
}

/** Accepts a listener filter name (or type URL) as a documented no-op (original_dst, Istio's metadata exchange). */
export function registerNoopListenerFilter(name: string, reason: string): void {
  noopListener.set(name, reason);
}

/** Why a filter is a no-op, or undefined when it is not one (for this typed_config). */
export function noopNetworkFilterReason(nameOrTypeUrl: string, typedConfig?: Any): string | undefined {
  const n = noopNetwork.get(nameOrTypeUrl);
  return n === undefined || (n.applies !== undefined && !n.applies(typedConfig)) ? undefined : n.reason;
}

export function noopListenerFilterReason(nameOrTypeUrl: string): string | undefined {
  return noopListener.get(nameOrTypeUrl);
}

/** Logs a no-op filter's reason the first time its name is seen. */
export function warnNoopOnce(kind: string, name: string, reason: string, log: Logger | undefined): void {
  const key = `${kind}:${name}`;
  if (warned.has(key)) return;
  warned.add(key);
  log?.warn(`${kind} ${name} accepted as a no-op: ${reason}`);
}

export interface FilterConfig { name: string; typed_config?: Any }

/**
 * Builds a chain's filters: zero or more no-ops, then exactly one terminal filter (last). `path` names the
 * chain (`...filter_chains[1]`). Filters already built are disposed when a later one fails.
 */
export function buildNetworkFilter(filters: readonly FilterConfig[], path: string, ctx: NetworkFilterContext): NetworkFilter {
  let terminal: { f: FilterConfig; i: number; factory: NetworkFilterFactory } | undefined;
  const steps: ((c: DownstreamConnection) => DownstreamConnection)[] = [];
  for (let i = 0; i < filters.length; i++) {
    const f = filters[i]!;
    const at = `${path}.filters[${i}]`;
    const url = f.typed_config?.['@type'];
    // As Envoy does, a known typed_config type picks the extension; the name when there is none or the type is
    // a wrapper Skiff does not know (Istio's TypedStruct).
    const key = url !== undefined && (factories.has(url) || noopNetwork.has(url) || connectionFilters.has(url)) ? url : f.name;
    const factory = factories.get(key);
    const noop = noopNetworkFilterReason(key, f.typed_config);
    const connectionFilter = connectionFilters.get(key);
    if (connectionFilter !== undefined) {
      if (terminal !== undefined) throw new ConfigError(at, `network filter ${f.name} after the terminal filter ${terminal.f.name}`);
      if (f.typed_config === undefined) throw new ConfigError(`${at}.typed_config`, 'required');
      steps.push(connectionFilter.create(f.typed_config, at, ctx));
    } else if (factory !== undefined) {
      if (terminal !== undefined) throw new ConfigError(at, `network filter ${f.name} after the terminal filter ${terminal.f.name}`);
      terminal = { f, i, factory };
    } else if (noop !== undefined) {
      if (terminal !== undefined) throw new ConfigError(at, `network filter ${f.name} after the terminal filter ${terminal.f.name}`);
      warnNoopOnce('network filter', f.name, noop, ctx.log);
    } else {
      throw new UnsupportedConfigError(at, `network filter ${f.name}${url ? ` (${url})` : ''}`);
    }
  }
  if (terminal === undefined) throw new ConfigError(`${path}.filters`, 'a terminal network filter (http_connection_manager, tcp_proxy, ...) is required');
  const { f, i, factory } = terminal;
  const at = `${path}.filters[${i}]`;
  if (f.typed_config === undefined) throw new ConfigError(`${at}.typed_config`, 'required');
  if (factory.typeUrls.length > 0 && !factory.typeUrls.includes(f.typed_config['@type'])) {
    throw new ConfigError(`${at}.typed_config`, `expected ${factory.typeUrls.join(' or ')}`);
  }
  const built = factory.create(f.typed_config, at, ctx);
  return steps.length === 0 ? built : new ConnectionFiltered(built, steps);
}

registerNetworkFilter(hcmFilterFactory);
registerConnectionFilter(networkSetFilterStateFactory);
