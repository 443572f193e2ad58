/**
 * Envoy's admin ConfigDump for a static bootstrap, as /config_dump returns it: one section per resource
 * kind, in Envoy's order (bootstrap, clusters, listeners, routes), each with its `@type`; every resource
 * packed as an Any with its own `@type`; field names and values in Envoy's JSON form (the loader's `raw`).
 * Inline route configs of connection managers are listed as static route configs, as Envoy does.
 */
import type { LoadedBootstrap } from './types.js';
import { HCM_TYPE_URL } from './values.js';

const ADMIN = 'type.googleapis.com/envoy.admin.v3.';
export const CONFIG_DUMP_TYPES = {
  bootstrap: `${ADMIN}BootstrapConfigDump`,
  clusters: `${ADMIN}ClustersConfigDump`,
  listeners: `${ADMIN}ListenersConfigDump`,
  routes: `${ADMIN}RoutesConfigDump`,
  endpoints: `${ADMIN}EndpointsConfigDump`,
} as const;
export const RESOURCE_TYPES = {
  listener: 'type.googleapis.com/envoy.config.listener.v3.Listener',
  cluster: 'type.googleapis.com/envoy.config.cluster.v3.Cluster',
  routeConfiguration: 'type.googleapis.com/envoy.config.route.v3.RouteConfiguration',
  clusterLoadAssignment: 'type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment',
} as const;

/** One resource that came over xDS, in Envoy's JSON form. */
export interface DynamicDumpEntry { name: string; version: string; lastUpdated: Date; json: Json }

/** What an xDS-fed server adds to its dump (src/server/xds_config.ts builds it). */
export interface DynamicConfigDump {
  listenersVersion: string;
  clustersVersion: string;
  listeners: (DynamicDumpEntry & { state: 'active' | 'warming' | 'draining' })[];
  clusters: (DynamicDumpEntry & { state: 'active' | 'warming' })[];
  routes: DynamicDumpEntry[];
  endpoints: DynamicDumpEntry[];
  /** Per kind, resource name -> the last NACK naming it (Envoy's UpdateFailureState), kept until it is accepted. */
  errors?: {
    listeners: ReadonlyMap<string, FailureState>; clusters: ReadonlyMap<string, FailureState>;
    routes: ReadonlyMap<string, FailureState>; endpoints: ReadonlyMap<string, FailureState>;
  };
}

export interface FailureState { details: string; lastUpdateAttempt: Date; versionInfo: string; failedConfiguration?: Json }

/** Envoy's UpdateFailureState JSON. */
function errorState(f: FailureState, type: string): Json {
  const out: Json = {};
  if (f.failedConfiguration) out.failed_configuration = { '@type': type, ...withoutType(f.failedConfiguration) };
  out.last_update_attempt = f.lastUpdateAttempt.toISOString();
  out.details = f.details;
  if (f.versionInfo) out.version_info = f.versionInfo;
  return out;
}

type Json = Record<string, unknown>;

export interface ConfigDump { configs: Json[] }

function asList(v: unknown): Json[] {
  return Array.isArray(v) ? (v as Json[]) : [];
}

/** Inline route_config of every HCM in every filter chain, in listener order. */
function inlineRouteConfigs(listeners: Json[]): Json[] {
  const out: Json[] = [];
  for (const listener of listeners) {
    for (const chain of asList(listener.filter_chains)) {
      for (const filter of asList(chain.filters)) {
        const hcm = filter.typed_config as Json | undefined;
        if (hcm?.['@type'] === HCM_TYPE_URL && hcm.route_config) out.push(hcm.route_config as Json);
      }
    }
  }
  return out;
}

/** Envoy's packing of one dynamic resource: `{version_info, <field>: {@type, ...}, last_updated}`. */
function dynamicEntry(e: DynamicDumpEntry, field: string, type: string): Json {
  return { version_info: e.version, [field]: { '@type': type, ...withoutType(e.json) }, last_updated: e.lastUpdated.toISOString() };
}

function withoutType(json: Json): Json {
  const { '@type': _ignored, ...rest } = json;
  return rest;
}

/**
 * Envoy's admin ConfigDump; with `dynamic` (an xDS-fed server) the sections also list what came over xDS, as
 * Envoy's v3 admin API shapes them: ListenersConfigDump.dynamic_listeners (each with active_state,
 * warming_state and/or draining_state), ClustersConfigDump.dynamic_active_clusters / dynamic_warming_clusters,
 * RoutesConfigDump.dynamic_route_configs and EndpointsConfigDump.dynamic_endpoint_configs.
 */
export function buildConfigDump(loaded: LoadedBootstrap, loadedAt: Date, dynamic?: DynamicConfigDump): ConfigDump {
  const lastUpdated = loadedAt.toISOString();
  const raw = (loaded.raw ?? {}) as Json;
  const statics = (raw.static_resources ?? {}) as Json;
  const listeners = asList(statics.listeners);
  const dump: ConfigDump = {
    configs: [
      { '@type': CONFIG_DUMP_TYPES.bootstrap, bootstrap: raw, last_updated: lastUpdated },
      {
        '@type': CONFIG_DUMP_TYPES.clusters,
        static_clusters: asList(statics.clusters).map((c) => ({ cluster: { '@type': RESOURCE_TYPES.cluster, ...c }, last_updated: lastUpdated })),
      },
      {
        '@type': CONFIG_DUMP_TYPES.listeners,
        static_listeners: listeners.map((l) => ({ listener: { '@type': RESOURCE_TYPES.listener, ...l }, last_updated: lastUpdated })),
      },
      {
        '@type': CONFIG_DUMP_TYPES.routes,
        static_route_configs: inlineRouteConfigs(listeners).map((r) => ({
          route_config: { '@type': RESOURCE_TYPES.routeConfiguration, ...r }, last_updated: lastUpdated,
        })),
      },
    ],
  };
  if (dynamic === undefined) return dump;
  const [, clusters, listenerSection, routes] = dump.configs as [Json, Json, Json, Json];
  clusters.version_info = dynamic.clustersVersion;
  clusters.dynamic_active_clusters = dynamic.clusters.filter((c) => c.state === 'active').map((c) => dynamicEntry(c, 'cluster', RESOURCE_TYPES.cluster));
  clusters.dynamic_warming_clusters = dynamic.clusters.filter((c) => c.state === 'warming').map((c) => dynamicEntry(c, 'cluster', RESOURCE_TYPES.cluster));
  listenerSection.version_info = dynamic.listenersVersion;
  // One DynamicListener per name, with a state for each version of it that exists (Envoy's shape).
  const byName = new Map<string, Json>();
  for (const l of dynamic.listeners) {
    const entry = byName.get(l.name) ?? { name: l.name };
    entry[`${l.state}_state`] = dynamicEntry(l, 'listener', RESOURCE_TYPES.listener);
    byName.set(l.name, entry);
  }
  // A NACKed listener shows its error_state, beside its last good version or alone (never accepted).
  for (const [name, f] of dynamic.errors?.listeners ?? []) {
    const entry = byName.get(name) ?? { name };
    entry.error_state = errorState(f, RESOURCE_TYPES.listener);
    byName.set(name, entry);
  }
  listenerSection.dynamic_listeners = [...byName.values()];
  const withError = (entry: Json, f: FailureState | undefined, type: string): Json => (f ? { ...entry, error_state: errorState(f, type) } : entry);
  for (const key of ['dynamic_active_clusters', 'dynamic_warming_clusters'] as const) {
    clusters[key] = (clusters[key] as Json[]).map((c) => withError(c, dynamic.errors?.clusters.get(String((c.cluster as Json).name)), RESOURCE_TYPES.cluster));
  }
  routes.dynamic_route_configs = dynamic.routes.map((r) => withError(dynamicEntry(r, 'route_config', RESOURCE_TYPES.routeConfiguration),
    dynamic.errors?.routes.get(r.name), RESOURCE_TYPES.routeConfiguration));
  dump.configs.push({
    '@type': CONFIG_DUMP_TYPES.endpoints,
    dynamic_endpoint_configs: dynamic.endpoints.map((e) => withError(dynamicEntry(e, 'endpoint_config', RESOURCE_TYPES.clusterLoadAssignment),
      dynamic.errors?.endpoints.get(e.name), RESOURCE_TYPES.clusterLoadAssignment)),
  });
  return dump;
}

/** The section of a dump with the given `@type` (consumers should not rely on positions). */
export function configDumpSection(dump: ConfigDump, type: string): Json | undefined {
  return dump.configs.find((c) => c['@type'] === type);
}

/** The resource kinds `?resource=` selects, by the field of the ConfigDump sections that lists them. */
const RESOURCE_FIELDS: Record<string, string> = {
  static_clusters: 'cluster', dynamic_active_clusters: 'cluster', dynamic_warming_clusters: 'cluster',
  static_listeners: 'listener', dynamic_listeners: '', static_route_configs: 'route_config', dynamic_route_configs: 'route_config',
  static_endpoint_configs: 'endpoint_config', dynamic_endpoint_configs: 'endpoint_config',
};

export class ConfigDumpQueryError extends Error {
  readonly code = 'SKIFF_ADMIN_BAD_QUERY';
}

/**
 * Envoy's /config_dump query parameters: `resource=<field>` returns the items of that repeated field across
 * every section, each as its own entry with the section's @type (e.g. `dynamic_active_clusters`); `mask=a,b`
 * keeps only those top-level fields (of each section, or with `resource`, of each item). Unknown resource
 * fields are an error (Envoy answers 400).
 */
export function queryConfigDump(dump: ConfigDump, resource: string | undefined, mask: string | undefined): ConfigDump {
  const fields = mask === undefined || mask === '' ? undefined : mask.split(',').map((f) => f.trim()).filter((f) => f !== '');
  const keep = (o: Json, always: readonly string[]): Json => (fields === undefined ? o
    : Object.fromEntries(Object.entries(o).filter(([k]) => fields.includes(k) || always.includes(k))));
  if (resource === undefined || resource === '') return { configs: dump.configs.map((c) => keep(c, ['@type'])) };
  if (!(resource in RESOURCE_FIELDS)) throw new ConfigDumpQueryError(`${resource} is not a repeated field of any config dump section`);
  const configs: Json[] = [];
  for (const section of dump.configs) {
    const items = section[resource];
    if (!Array.isArray(items)) continue;
    const type = String(section['@type']).replace(/ConfigDump$/, 'ConfigDump.' + itemTypeName(resource));
    for (const item of items as Json[]) configs.push({ '@type': type, ...keep(item, []) });
  }
  return { configs };
}

/** The message name of one item of a ConfigDump repeated field (Envoy's nested types). */
function itemTypeName(resource: string): string {
  switch (resource) {
    case 'static_clusters': return 'StaticCluster';
    case 'dynamic_active_clusters': case 'dynamic_warming_clusters': return 'DynamicCluster';
    case 'static_listeners': return 'StaticListener';
    case 'dynamic_listeners': return 'DynamicListener';
    case 'static_route_configs': return 'StaticRouteConfig';
    case 'dynamic_route_configs': return 'DynamicRouteConfig';
    case 'static_endpoint_configs': return 'StaticEndpointConfig';
    default: return 'DynamicEndpointConfig';
  }
}
