/**
 * The xDS client's public shapes: the bootstrap pieces it is built from (decoded shape, as src/config
 * produces: snake_case, Duration {seconds, nanos}, Struct as plain JSON) and the update events it delivers.
 */
import type { Duration } from '../types/envoy.js';

export interface GrpcServiceConfig {
  /** A cluster defined elsewhere (static_resources): resolved to host:port by the caller's callback. */
  envoy_grpc?: { cluster_name: string; authority?: string };
  /** A gRPC target Skiff dials itself, e.g. "127.0.0.1:18000" or "dns:///cp.example:18000". */
  google_grpc?: { target_uri: string; stat_prefix?: string };
  timeout?: Duration;
}

export interface RateLimitSettingsConfig { max_tokens?: { value?: number }; fill_rate?: { value?: number } }

export interface ApiConfigSourceConfig {
  api_type?: string;
  transport_api_version?: string;
  grpc_services?: GrpcServiceConfig[];
  set_node_on_first_message_only?: boolean;
  rate_limit_settings?: RateLimitSettingsConfig;
}

export interface ConfigSourceConfig {
  ads?: Record<string, never>;
  initial_fetch_timeout?: Duration;
  resource_api_version?: string;
  /** Anything else (path, api_config_source) is rejected by name. */
  [other: string]: unknown;
}

export interface DynamicResourcesConfig {
  ads_config?: ApiConfigSourceConfig;
  lds_config?: ConfigSourceConfig;
  cds_config?: ConfigSourceConfig;
  [other: string]: unknown;
}

export interface NodeConfig {
  id?: string;
  cluster?: string;
  metadata?: Record<string, unknown>;
  locality?: { region?: string; zone?: string; sub_zone?: string };
  user_agent_name?: string;
  [other: string]: unknown;
}

/** One accepted resource: decoded by src/config (decodeResource + validateResource). */
export interface XdsResource {
  name: string;
  /** Per-resource version (delta) or the response's version_info (state of the world). */
  version: string;
  /** Decoded shape of src/types/envoy.ts (Listener, Cluster, RouteConfiguration, ClusterLoadAssignment), with '@type'. */
  resource: Record<string, unknown>;
  /** Envoy's JSON form (for /config_dump). */
  json: Record<string, unknown>;
  /** What the type's `prepare` hook returned for it (UpdateOptions), when there is one. */
  prepared?: unknown;
}

export interface UpdateOptions {
  /**
   * Called on each resource right after it is decoded and validated, before the rest of the response is in;
   * the result is handed to the handler as `resource.prepared`, and the decoded tree is dropped at once (reading
   * `resource` again decodes the bytes). For types whose handler keeps only a digest of each resource (EDS keeps
   * checked endpoints): 10 000 decoded trees then never live long enough to burden the old generation. Throwing
   * rejects the response like a throwing handler.
   */
  prepare?(resource: XdsResource): unknown;
  /**
   * The same work as `prepare`, for the xDS worker thread that decodes large responses: `module[name](body, path)`
   * with `body` the decoded resource without '@type' and `path` its name as errors give it (`ClusterLoadAssignment
   * "svc"`). Its result must survive structured clone (plain data); it is handed over as `resource.prepared` just
   * as `prepare`'s. Without it, `prepare` runs on the main thread for offloaded responses too.
   */
  preparer?: { url: string; name: string };
}

/** One whole response's worth of change for one type: applied all at once or not at all. */
export interface XdsUpdate {
  typeUrl: string;
  /** New or changed resources (unchanged ones of a state-of-the-world response are left out). */
  added: Map<string, XdsResource>;
  /** Names that are gone. */
  removed: string[];
  /** version_info (SotW) or system_version_info (delta). */
  versionInfo: string;
}

/**
 * Throwing (or rejecting: a ConfigError naming the field, ideally) rejects the whole response: it is NACKed and
 * nothing is kept. A handler may return a promise to apply a large update in slices; the response is ACKed when
 * it settles, and the next response waits for it.
 */
export type UpdateHandler = (update: XdsUpdate) => void | Promise<void>;

export type InitialFetchOutcome = 'accepted' | 'rejected' | 'timeout';
