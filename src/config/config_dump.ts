/**
 * Envoy's admin ConfigDump for a static bootstrap, as /config_dump returns it: one section per resource
 * kind, in Envoy's order (bootstrap, clusters, listeners, routes), each with its `@type`; every resource
 * packed as an Any with its own `@type`; field names and values in Envoy's JSON form (the loader's `raw`).
 * Inline route configs of connection managers are listed as static route configs, as Envoy does.
 */
import type { LoadedBootstrap } from './types.js';
import { HCM_TYPE_URL } from './subset.js';

const ADMIN = 'type.googleapis.com/envoy.admin.v3.';
export const CONFIG_DUMP_TYPES = {
  bootstrap: `${ADMIN}BootstrapConfigDump`,
  clusters: `${ADMIN}ClustersConfigDump`,
  listeners: `${ADMIN}ListenersConfigDump`,
  routes: `${ADMIN}RoutesConfigDump`,
} as const;
export const RESOURCE_TYPES = {
  listener: 'type.googleapis.com/envoy.config.listener.v3.Listener',
  cluster: 'type.googleapis.com/envoy.config.cluster.v3.Cluster',
  routeConfiguration: 'type.googleapis.com/envoy.config.route.v3.RouteConfiguration',
} as const;

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

export function buildConfigDump(loaded: LoadedBootstrap, loadedAt: Date): ConfigDump {
  const lastUpdated = loadedAt.toISOString();
  const raw = (loaded.raw ?? {}) as Json;
  const statics = (raw.static_resources ?? {}) as Json;
  const listeners = asList(statics.listeners);
  return {
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
}

/** The section of a dump with the given `@type` (consumers should not rely on positions). */
export function configDumpSection(dump: ConfigDump, type: string): Json | undefined {
  return dump.configs.find((c) => c['@type'] === type);
}
