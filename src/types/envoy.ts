/**
 * The shape of decoded Envoy v3 config as every Skiff module reads it.
 *
 * src/config decodes YAML/JSON bootstraps with protobufjs against Envoy's own protos and hands out plain
 * objects in this shape: field names in snake_case exactly as in Envoy's docs and YAML; enums as their
 * names ('ROUND_ROBIN'); 64-bit ints as numbers; google.protobuf.Duration as { seconds, nanos };
 * wrapper types (UInt32Value, BoolValue) as { value }; Any as { '@type': url, ...fields } with the packed
 * message decoded the same way; oneofs as the one field that is set. Absent fields are absent (no
 * defaults filled in): use the helpers in src/config/values.ts for defaults.
 *
 * Only the subset Skiff supports is typed here; src/config rejects anything else by name.
 */
export interface Duration { seconds?: number; nanos?: number }
export interface UInt32Value { value?: number }
export interface BoolValue { value?: boolean }
export interface Any { '@type': string; [field: string]: unknown }

export interface SocketAddress { address: string; port_value?: number; protocol?: 'TCP' | 'UDP' }
export interface Address { socket_address?: SocketAddress; /** A unix socket (cluster endpoints only). */ pipe?: { path?: string; mode?: number } }

export interface Bootstrap {
  node?: { id?: string; cluster?: string; metadata?: Record<string, unknown>; locality?: { region?: string; zone?: string; sub_zone?: string } };
  /** xDS: the ADS stream and what comes over it (src/xds reads it). */
  dynamic_resources?: {
    ads_config?: {
      api_type?: 'GRPC' | 'DELTA_GRPC' | 'AGGREGATED_GRPC' | 'AGGREGATED_DELTA_GRPC' | 'REST';
      transport_api_version?: 'AUTO' | 'V2' | 'V3';
      grpc_services?: { envoy_grpc?: { cluster_name: string }; google_grpc?: { target_uri: string; stat_prefix?: string }; timeout?: Duration }[];
      set_node_on_first_message_only?: boolean;
    };
    lds_config?: ConfigSource;
    cds_config?: ConfigSource;
  };
  admin?: { address?: Address; access_log?: unknown[] };
  static_resources?: { listeners?: Listener[]; clusters?: Cluster[] };
}

export interface Listener {
  name?: string;
  address?: Address;
  filter_chains?: FilterChain[];
}

export interface FilterChain {
  name?: string;
  filters?: { name: string; typed_config?: Any }[];
}

export interface HttpConnectionManager {
  '@type': string;
  stat_prefix: string;
  codec_type?: 'AUTO' | 'HTTP1' | 'HTTP2' | 'HTTP3';
  route_config?: RouteConfiguration;
  /** RDS: the route table named route_config_name, from config_source (`ads: {}`). */
  rds?: { config_source?: ConfigSource; route_config_name: string };
  http_filters?: { name: string; typed_config?: Any }[];
  request_headers_timeout?: Duration;
  stream_idle_timeout?: Duration;
  max_request_headers_kb?: UInt32Value;
  common_http_protocol_options?: { idle_timeout?: Duration; max_headers_count?: UInt32Value };
  use_remote_address?: BoolValue;
  xff_num_trusted_hops?: number;
  generate_request_id?: BoolValue;
  server_name?: string;
}

export interface HeaderValueOption {
  header: { key: string; value?: string };
  append?: BoolValue;
  append_action?: 'APPEND_IF_EXISTS_OR_ADD' | 'ADD_IF_ABSENT' | 'OVERWRITE_IF_EXISTS_OR_ADD' | 'OVERWRITE_IF_EXISTS';
  keep_empty_value?: boolean;
}

export interface HeaderMutations {
  request_headers_to_add?: HeaderValueOption[];
  request_headers_to_remove?: string[];
  response_headers_to_add?: HeaderValueOption[];
  response_headers_to_remove?: string[];
}

export interface RouteConfiguration extends HeaderMutations {
  name?: string;
  virtual_hosts?: VirtualHost[];
}

export interface VirtualHost extends HeaderMutations {
  name: string;
  domains: string[];
  routes?: Route[];
  retry_policy?: RetryPolicy;
}

export interface StringMatcher {
  exact?: string; prefix?: string; suffix?: string; contains?: string;
  safe_regex?: { regex: string };
  ignore_case?: boolean;
}

export interface HeaderMatcher {
  name: string;
  string_match?: StringMatcher;
  exact_match?: string; prefix_match?: string; suffix_match?: string; contains_match?: string;
  safe_regex_match?: { regex: string };
  present_match?: boolean;
  invert_match?: boolean;
  treat_missing_header_as_empty?: boolean;
}

export interface QueryParameterMatcher { name: string; string_match?: StringMatcher; present_match?: boolean }

export interface RouteMatch {
  prefix?: string; path?: string; safe_regex?: { regex: string }; path_separated_prefix?: string;
  /** Matches CONNECT requests (an empty message). */
  connect_matcher?: Record<string, never>;
  case_sensitive?: BoolValue;
  headers?: HeaderMatcher[];
  query_parameters?: QueryParameterMatcher[];
}

export interface RetryPolicy {
  retry_on?: string;
  num_retries?: UInt32Value;
  per_try_timeout?: Duration;
  retriable_status_codes?: number[];
}

export interface HashPolicy { header?: { header_name: string }; terminal?: boolean }

export interface RouteAction {
  cluster?: string;
  weighted_clusters?: { clusters: { name: string; weight?: UInt32Value }[]; total_weight?: UInt32Value };
  prefix_rewrite?: string;
  host_rewrite_literal?: string;
  timeout?: Duration;
  retry_policy?: RetryPolicy;
  hash_policy?: HashPolicy[];
}

export interface Route extends HeaderMutations {
  name?: string;
  match: RouteMatch;
  route?: RouteAction;
  direct_response?: { status: number; body?: { inline_string?: string; inline_bytes?: string } };
  redirect?: {
    host_redirect?: string; port_redirect?: number; path_redirect?: string; prefix_rewrite?: string;
    scheme_redirect?: string; https_redirect?: boolean; strip_query?: boolean;
    response_code?: 'MOVED_PERMANENTLY' | 'FOUND' | 'SEE_OTHER' | 'TEMPORARY_REDIRECT' | 'PERMANENT_REDIRECT';
  };
}

export interface Threshold {
  priority?: 'DEFAULT' | 'HIGH';
  max_connections?: UInt32Value; max_pending_requests?: UInt32Value;
  max_requests?: UInt32Value; max_retries?: UInt32Value;
}

export interface LbEndpoint {
  endpoint?: { address?: Address; hostname?: string };
  load_balancing_weight?: UInt32Value;
  /** EDS: UNHEALTHY, DRAINING and TIMEOUT hosts take no new requests; the rest are used. */
  health_status?: 'UNKNOWN' | 'HEALTHY' | 'UNHEALTHY' | 'DRAINING' | 'TIMEOUT' | 'DEGRADED';
  metadata?: unknown;
}

/** A source of xDS resources: Skiff follows `ads: {}` (the bootstrap's ADS stream). */
export interface ConfigSource { ads?: Record<string, never>; resource_api_version?: 'AUTO' | 'V2' | 'V3'; initial_fetch_timeout?: Duration }

export interface ClusterLoadAssignment {
  cluster_name: string;
  endpoints?: { locality?: unknown; lb_endpoints?: LbEndpoint[]; load_balancing_weight?: UInt32Value; priority?: number }[];
}

export interface Cluster {
  name: string;
  type?: 'STATIC' | 'STRICT_DNS' | 'LOGICAL_DNS' | 'EDS' | 'ORIGINAL_DST';
  connect_timeout?: Duration;
  lb_policy?: 'ROUND_ROBIN' | 'LEAST_REQUEST' | 'RANDOM' | 'RING_HASH' | 'MAGLEV';
  load_assignment?: ClusterLoadAssignment;
  circuit_breakers?: { thresholds?: Threshold[] };
  dns_refresh_rate?: Duration;
  dns_lookup_family?: 'AUTO' | 'V4_ONLY' | 'V6_ONLY' | 'V4_PREFERRED' | 'ALL';
  ring_hash_lb_config?: { minimum_ring_size?: UInt32Value; maximum_ring_size?: UInt32Value };
  maglev_lb_config?: { table_size?: UInt32Value };
  least_request_lb_config?: { choice_count?: UInt32Value };
  common_http_protocol_options?: { idle_timeout?: Duration; max_requests_per_connection?: UInt32Value };
  per_connection_buffer_limit_bytes?: UInt32Value;
  /** type EDS: where the endpoints come from, and the name they are asked for (default: the cluster's). */
  eds_cluster_config?: { eds_config?: ConfigSource; service_name?: string };
}
