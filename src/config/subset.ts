/**
 * Skiff's supported subset of the Envoy v3 API as an explicit allow-list per message. A field set outside
 * the list, an enum value Skiff does not implement, or an extension whose type URL (or name, when it has
 * no typed_config) is not supported is reported as an UnsupportedConfigError naming the field path: never
 * silently ignored. The same message type can be allowed different sub-fields in different places
 * (HttpProtocolOptions under a listener's HCM and under a cluster).
 */
import protobuf from 'protobufjs';
import { UnsupportedConfigError } from '../common/errors.js';
import { fieldPath, isWellKnownType } from './decode.js';
import { lookupMessage, resolveTypeUrl, typeName } from './protos.js';
import { firstSighting, ISTIO_EXTENSIONS, judgeExtension, noopWarning, perRouteConfigIgnorable, type ExtensionKind } from './istio.js';
import { HCM_TYPE_URL } from './values.js';

export interface ExtensionSpec { name: string; typeUrl: string }

export interface FieldRule {
  /** Allowed sub-fields of this field's message here (overrides the message's own list). */
  only?: readonly string[];
  /** Allowed enum values. */
  values?: readonly string[];
  /** Allowed extensions of a list of TypedExtensionConfig-like {name, typed_config} items. */
  extensions?: readonly ExtensionSpec[];
  /** Accepted only when empty (a list without items, a message without fields). */
  emptyOnly?: boolean;
  /** At most this many items; `what` names the extra item in the error. */
  maxItems?: { count: number; what: string };
  /** Accepted, but it changes nothing in Skiff: logged as a warning. */
  hint?: string;
  /**
   * Accepted as a documented no-op: warned about (once per load) and not looked into, because nothing
   * inside it changes how Skiff forwards traffic (stats, tracing, runtime, logging settings).
   */
  noop?: string;
  /**
   * With `extensions`: an item that is not one of them is judged by src/config/istio.ts as an extension of
   * this kind (accepted as a no-op with a once-per-name warning, or rejected naming why). Accepted no-ops do
   * not count against `maxItems`.
   */
  istioKind?: ExtensionKind;
  /** A typed_per_filter_config map: keys of no-op filters (src/config/istio.ts) are accepted, others rejected. */
  perFilterConfig?: true;
}

/** '*' accepts every field of the message and stops there (informational messages such as Node). */
type MessageRules = Record<string, FieldRule | true> | '*';

// Defined beside the value readers, which must not load this module's protobuf dependencies.
export { HCM_TYPE_URL };
export const ROUTER_TYPE_URL = 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router';
export const HCM_EXTENSION: ExtensionSpec = { name: 'envoy.filters.network.http_connection_manager', typeUrl: HCM_TYPE_URL };
export const ROUTER_EXTENSION: ExtensionSpec = { name: 'envoy.filters.http.router', typeUrl: ROUTER_TYPE_URL };
export const PREVIOUS_HOSTS_EXTENSION: ExtensionSpec = {
  name: 'envoy.retry_host_predicates.previous_hosts',
  typeUrl: 'type.googleapis.com/envoy.extensions.retry.host.previous_hosts.v3.PreviousHostsPredicate',
};

// istiomisc: set_filter_state (src/proxy/set_filter_state.ts).
const HTTP_SET_FILTER_STATE_EXTENSION: ExtensionSpec = {
  name: 'envoy.filters.http.set_filter_state', typeUrl: 'type.googleapis.com/envoy.extensions.filters.http.set_filter_state.v3.Config',
};
/** A filter chain's network filters (src/listener/network_filters.ts builds them; one line per extension). */
export const NETWORK_FILTER_EXTENSIONS: ExtensionSpec[] = [HCM_EXTENSION, {
  name: 'envoy.filters.network.set_filter_state', typeUrl: 'type.googleapis.com/envoy.extensions.filters.network.set_filter_state.v3.Config',
}];

// ---- x5: access loggers (tcp_proxy access_log) (begin) ----
const ACCESS_LOG_EXTENSIONS: ExtensionSpec[] = [
  { name: 'envoy.access_loggers.file', typeUrl: 'type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog' },
  { name: 'envoy.access_loggers.stdout', typeUrl: 'type.googleapis.com/envoy.extensions.access_loggers.stream.v3.StdoutAccessLog' },
  { name: 'envoy.access_loggers.stderr', typeUrl: 'type.googleapis.com/envoy.extensions.access_loggers.stream.v3.StderrAccessLog' },
];
const ACCESS_LOG_RULES: Readonly<Record<string, MessageRules>> = {
  'envoy.config.accesslog.v3.AccessLog': { name: true, typed_config: true },
  'envoy.extensions.access_loggers.file.v3.FileAccessLog': { path: true, format: true, log_format: true },
  'envoy.extensions.access_loggers.stream.v3.StdoutAccessLog': { log_format: true },
  'envoy.extensions.access_loggers.stream.v3.StderrAccessLog': { log_format: true },
  'envoy.config.core.v3.SubstitutionFormatString': { text_format: true, text_format_source: { only: ['inline_string'] } },
};
// ---- x5 (end) ----
// ---- xproxy: tcp_proxy and the x-protocol filter (begin) ----
NETWORK_FILTER_EXTENSIONS.push(
  { name: 'envoy.filters.network.tcp_proxy', typeUrl: 'type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy' },
  { name: 'skiff.filters.network.xprotocol', typeUrl: 'type.googleapis.com/skiff.filters.network.xprotocol.v1.XProtocol' },
  { name: 'envoy.filters.network.dubbo_proxy', typeUrl: 'type.googleapis.com/envoy.extensions.filters.network.dubbo_proxy.v3.DubboProxy' },
);
const XPROXY_RULES: Readonly<Record<string, MessageRules>> = {
  'envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy': {
    stat_prefix: true, cluster: true, weighted_clusters: true, idle_timeout: true, max_connect_attempts: true,
    access_log: { extensions: ACCESS_LOG_EXTENSIONS },
  },
  'envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy.WeightedCluster': { clusters: true },
  'envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy.WeightedCluster.ClusterWeight': { name: true, weight: true },
  'skiff.filters.network.xprotocol.v1.XProtocol': {
    stat_prefix: true, protocol: true, route_config: true, rds: true, max_frame_bytes: true, request_timeout: true,
    heartbeat: true, connections_per_host: true, opt_in_goaway: true,
  },
  'skiff.filters.network.xprotocol.v1.XProtocol.Heartbeat': { upstream_interval: true },
  'envoy.extensions.filters.network.dubbo_proxy.v3.DubboProxy': {
    stat_prefix: true, protocol_type: { values: ['Dubbo'] }, serialization_type: { values: ['Hessian2'] },
    route_config: true, multiple_route_config: true,
    dubbo_filters: { extensions: [{ name: 'envoy.filters.dubbo.router', typeUrl: 'type.googleapis.com/envoy.extensions.filters.network.dubbo_proxy.router.v3.Router' }] },
  },
  'envoy.extensions.filters.network.dubbo_proxy.v3.DubboFilter': { name: true, config: true },
  'envoy.extensions.filters.network.dubbo_proxy.router.v3.Router': {},
  'envoy.extensions.filters.network.dubbo_proxy.v3.MultipleRouteConfiguration': { name: true, route_config: true },
  'envoy.extensions.filters.network.dubbo_proxy.v3.RouteConfiguration': { name: true, interface: true, group: true, version: true, routes: true },
  'envoy.extensions.filters.network.dubbo_proxy.v3.Route': { match: true, route: true },
  'envoy.extensions.filters.network.dubbo_proxy.v3.RouteMatch': { method: true, headers: true },
  'envoy.extensions.filters.network.dubbo_proxy.v3.MethodMatch': { name: true, params_match: true },
  'envoy.extensions.filters.network.dubbo_proxy.v3.MethodMatch.ParameterMatchSpecifier': { exact_match: true, range_match: true },
  'envoy.type.v3.Int64Range': { start: true, end: true },
  'envoy.extensions.filters.network.dubbo_proxy.v3.RouteAction': { cluster: true, weighted_clusters: true },
};
// ---- xproxy (end) ----
// ---- istiomisc: filter_chain_matcher (src/listener/filter_chain_matcher.ts) (begin) ----
const NETWORK_INPUT = 'envoy.extensions.matching.common_inputs.network.v3.';
const MATCHER = 'xds.type.matcher.v3.Matcher';
const MATCHER_RULES: Readonly<Record<string, MessageRules>> = {
  [MATCHER]: { matcher_list: true, matcher_tree: true, on_no_match: true },
  [`${MATCHER}.OnMatch`]: { matcher: true, action: true },
  [`${MATCHER}.MatcherList`]: { matchers: true },
  [`${MATCHER}.MatcherList.FieldMatcher`]: { predicate: true, on_match: true },
  [`${MATCHER}.MatcherList.Predicate`]: { single_predicate: true, or_matcher: true, and_matcher: true, not_matcher: true },
  [`${MATCHER}.MatcherList.Predicate.SinglePredicate`]: { input: true, value_match: true },
  [`${MATCHER}.MatcherList.Predicate.PredicateList`]: { predicate: true },
  [`${MATCHER}.MatcherTree`]: { input: true, exact_match_map: true, prefix_match_map: true, custom_match: true },
  [`${MATCHER}.MatcherTree.MatchMap`]: { map: true },
  'xds.core.v3.TypedExtensionConfig': { name: true, typed_config: true },
  'xds.type.matcher.v3.StringMatcher': { exact: true, prefix: true, suffix: true, contains: true, safe_regex: true, ignore_case: true },
  'xds.type.matcher.v3.RegexMatcher': { regex: true, google_re2: { emptyOnly: true } },
  'xds.type.matcher.v3.IPMatcher': { range_matchers: true },
  'xds.type.matcher.v3.IPMatcher.IPRangeMatcher': { ranges: true, on_match: true, exclusive: true },
  'xds.core.v3.CidrRange': { address_prefix: true, prefix_len: true },
  ...Object.fromEntries(['DestinationIPInput', 'DestinationPortInput', 'SourceIPInput', 'SourcePortInput', 'DirectSourceIPInput',
    'SourceTypeInput', 'ServerNameInput', 'TransportProtocolInput', 'ApplicationProtocolInput'].map((n) => [`${NETWORK_INPUT}${n}`, {}])),
  [`${NETWORK_INPUT}FilterStateInput`]: { key: true },
  'envoy.extensions.filters.http.set_filter_state.v3.Config': { on_request_headers: true },
  'envoy.extensions.filters.network.set_filter_state.v3.Config': { on_new_connection: true },
  'envoy.extensions.filters.common.set_filter_state.v3.FilterStateValue': {
    object_key: true, factory_key: true, format_string: true, read_only: true, shared_with_upstream: true, skip_if_empty: true,
  },
};
// ---- istiomisc (end) ----
/** Listener filters src/listener/listener_filters.ts runs (original_dst: an accepted no-op). */
export const LISTENER_FILTER_EXTENSIONS: ExtensionSpec[] = [
  { name: 'envoy.filters.listener.tls_inspector', typeUrl: 'type.googleapis.com/envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector' },
  { name: 'envoy.filters.listener.http_inspector', typeUrl: 'type.googleapis.com/envoy.extensions.filters.listener.http_inspector.v3.HttpInspector' },
  { name: 'envoy.filters.listener.original_dst', typeUrl: 'type.googleapis.com/envoy.extensions.filters.listener.original_dst.v3.OriginalDst' },
];
// ---- xdetect: protocol_inspector listener filter (begin) ----
LISTENER_FILTER_EXTENSIONS.push(
  { name: 'skiff.filters.listener.protocol_inspector', typeUrl: 'type.googleapis.com/skiff.filters.listener.protocol_inspector.v1.ProtocolInspector' },
);
const XDETECT_RULES: Readonly<Record<string, MessageRules>> = {
  'skiff.filters.listener.protocol_inspector.v1.ProtocolInspector': {},
};
// ---- xdetect (end) ----
const RAW_BUFFER_EXTENSION: ExtensionSpec = { name: 'envoy.transport_sockets.raw_buffer', typeUrl: 'type.googleapis.com/envoy.extensions.transport_sockets.raw_buffer.v3.RawBuffer' };
export const DOWNSTREAM_TRANSPORT_EXTENSIONS: ExtensionSpec[] = [
  RAW_BUFFER_EXTENSION,
  { name: 'envoy.transport_sockets.tls', typeUrl: 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext' },
];
export const UPSTREAM_TRANSPORT_EXTENSIONS: ExtensionSpec[] = [
  RAW_BUFFER_EXTENSION,
  { name: 'envoy.transport_sockets.tls', typeUrl: 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext' },
];

/** A ConfigSource for LDS, CDS, RDS and EDS: the ADS stream (api_config_source is for SDS only). */
const ADS_SOURCE: readonly string[] = ['ads', 'resource_api_version', 'initial_fetch_timeout'];

const HEADER_MUTATIONS = {
  request_headers_to_add: true, request_headers_to_remove: true,
  response_headers_to_add: true, response_headers_to_remove: true,
} as const;

/** Message full name -> the fields Skiff implements. Everything not listed is unsupported. */
export const SUPPORTED: Readonly<Record<string, MessageRules>> = {
  'envoy.config.bootstrap.v3.Bootstrap': {
    node: true, admin: true, static_resources: true, dynamic_resources: true,
    // istio-agent's bootstrap sets these; none of them changes how a request is forwarded.
    stats_config: { noop: 'stat tags and matchers: Skiff keeps its own stat names' },
    stats_sinks: { noop: 'stats sinks: Skiff serves /stats and /stats/prometheus only' },
    deferred_stat_options: { noop: 'stat allocation hint' },
    layered_runtime: { noop: 'runtime layers: Skiff has no runtime overrides' },
    overload_manager: { noop: 'overload actions are not implemented' },
    tracing: { noop: 'tracing is not implemented; no spans are sent' },
    application_log_config: { noop: 'log format: Skiff keeps its own log format' },
    bootstrap_extensions: { noop: 'bootstrap extensions (Istio: internal listener registry) are not loaded' },
    cluster_manager: { noop: 'cluster manager defaults (outlier event log, local cluster) are not used' },
  },
  'envoy.config.bootstrap.v3.Bootstrap.DynamicResources': { ads_config: true, lds_config: { only: ADS_SOURCE }, cds_config: { only: ADS_SOURCE } },
  // The ADS stream: src/xds follows gRPC SotW and delta over one envoy_grpc cluster or a google_grpc target.
  'envoy.config.core.v3.ApiConfigSource': {
    api_type: { values: ['GRPC', 'DELTA_GRPC', 'AGGREGATED_GRPC', 'AGGREGATED_DELTA_GRPC'] },
    transport_api_version: { values: ['V3'] }, grpc_services: { maxItems: { count: 1, what: 'gRPC service (one ADS server is followed)' } },
    set_node_on_first_message_only: true,
  },
  'envoy.config.core.v3.GrpcService': { envoy_grpc: true, google_grpc: true, timeout: true },
  'envoy.config.core.v3.GrpcService.EnvoyGrpc': { cluster_name: true },
  'envoy.config.core.v3.GrpcService.GoogleGrpc': { target_uri: true, stat_prefix: true },
  // Resources come over the bootstrap's ADS stream only.
  // api_config_source only where secrets are fetched (SdsSecretConfig.sds_config); every other source is ADS_SOURCE.
  'envoy.config.core.v3.ConfigSource': { ads: true, resource_api_version: { values: ['V3'] }, initial_fetch_timeout: true, api_config_source: true },
  'envoy.config.core.v3.AggregatedConfigSource': {},
  'envoy.config.bootstrap.v3.Bootstrap.StaticResources': { listeners: true, clusters: true, secrets: true },
  'envoy.config.bootstrap.v3.Admin': {
    address: true, access_log: { noop: 'admin access log is not written' },
    profile_path: { noop: 'Skiff has no CPU profiler endpoint' },
  },
  // Node only describes this proxy to a management server; nothing in it changes how Skiff behaves.
  'envoy.config.core.v3.Node': '*',
  // pipe (a unix socket): istio-agent's xds-grpc and sds-grpc clusters; only cluster endpoints connect to one.
  'envoy.config.core.v3.Address': { socket_address: true, pipe: true },
  'envoy.config.core.v3.Pipe': { path: true },
  'envoy.config.core.v3.SocketAddress': { address: true, port_value: true, protocol: { values: ['TCP'] } },

  'envoy.config.listener.v3.Listener': {
    name: true, address: true, filter_chains: true, default_filter_chain: true,
    listener_filters: { extensions: LISTENER_FILTER_EXTENSIONS }, listener_filters_timeout: true,
    continue_on_listener_filters_timeout: true,
    // ---- Istio compatibility (xdsistio) ----
    // Envoy's docs: the direction only labels tracing and stats.
    traffic_direction: { hint: 'traffic_direction only labels tracing and stats; accepted, not used' },
    // istio2: Skiff is not a transparent proxy (no iptables REDIRECT / SO_ORIGINAL_DST): connections stay on the
    // listener that accepted them, as if Envoy found no listener for the original destination.
    // istio-agent's static listeners (prometheus, health): Skiff has no global connection limit to ignore.
    ignore_global_conn_limit: { noop: 'Skiff has no global downstream connection limit (no overload manager)' },
    bypass_overload_manager: { noop: 'Skiff has no overload manager to bypass' },
    use_original_dst: { noop: 'Skiff is not a transparent proxy: connections are not handed to the listener of their original destination' },
    // ---- end Istio compatibility ----
    // istiomisc: the generic matcher picking chains by name (src/listener/filter_chain_matcher.ts).
    filter_chain_matcher: true,
  },
  'envoy.config.listener.v3.FilterChain': {
    name: true, filter_chain_match: true,
    // Istio's no-op network filters (src/config/istio.ts) are accepted beside the registered ones.
    filters: { extensions: NETWORK_FILTER_EXTENSIONS, istioKind: 'network_filter' },
    transport_socket: { extensions: DOWNSTREAM_TRANSPORT_EXTENSIONS },
  },
  'envoy.config.listener.v3.FilterChainMatch': {
    destination_port: true, prefix_ranges: true, direct_source_prefix_ranges: true, source_type: true,
    source_prefix_ranges: true, source_ports: true, server_names: true, transport_protocol: true, application_protocols: true,
  },
  'envoy.config.core.v3.CidrRange': { address_prefix: true, prefix_len: true },
  'envoy.config.listener.v3.Filter': { name: true, typed_config: true },
  'envoy.config.listener.v3.ListenerFilter': { name: true, typed_config: true },
  'envoy.config.core.v3.TransportSocket': { name: true, typed_config: true },
  'envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector': {},
  'envoy.extensions.filters.listener.http_inspector.v3.HttpInspector': {},
  'envoy.extensions.filters.listener.original_dst.v3.OriginalDst': {},
  'envoy.extensions.transport_sockets.raw_buffer.v3.RawBuffer': {},
  'envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext': { common_tls_context: true, require_client_certificate: true },
  'envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext': { common_tls_context: true, sni: true },
  'envoy.extensions.transport_sockets.tls.v3.CommonTlsContext': {
    tls_certificates: true, validation_context: true, alpn_protocols: true, tls_params: true,
    // ---- SDS (istio2): src/tls/sds.ts ----
    tls_certificate_sds_secret_configs: true, validation_context_sds_secret_config: true, combined_validation_context: true,
  },
  // Secrets come from static_resources.secrets (no sds_config), over ADS (sds_config: {ads: {}}), or from an SDS
  // server of its own (api_config_source: Istio's sds-grpc; src/tls/sds_client.ts).
  'envoy.extensions.transport_sockets.tls.v3.SdsSecretConfig': {
    name: true, sds_config: { only: ['ads', 'api_config_source', 'initial_fetch_timeout', 'resource_api_version'] },
  },
  'envoy.extensions.transport_sockets.tls.v3.CommonTlsContext.CombinedCertificateValidationContext': {
    default_validation_context: true, validation_context_sds_secret_config: true,
  },
  'envoy.extensions.transport_sockets.tls.v3.Secret': { name: true, tls_certificate: true, validation_context: true },
  // ---- end SDS ----
  'envoy.extensions.transport_sockets.tls.v3.TlsCertificate': { certificate_chain: true, private_key: true },
  // match_subject_alt_names (deprecated, istiod still sends it): each matcher is tried against every SAN type.
  'envoy.extensions.transport_sockets.tls.v3.CertificateValidationContext': { trusted_ca: true, match_typed_subject_alt_names: true, match_subject_alt_names: true },
  'envoy.extensions.transport_sockets.tls.v3.SubjectAltNameMatcher': { san_type: { values: ['EMAIL', 'DNS', 'URI', 'IP_ADDRESS'] }, matcher: true },
  'envoy.extensions.transport_sockets.tls.v3.TlsParameters': {
    tls_minimum_protocol_version: true, tls_maximum_protocol_version: true, cipher_suites: true,
  },

  'envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager': {
    stat_prefix: true, codec_type: { values: ['AUTO', 'HTTP1', 'HTTP2'] }, route_config: true, rds: true,
    http_filters: { extensions: [ROUTER_EXTENSION, HTTP_SET_FILTER_STATE_EXTENSION], istioKind: 'http_filter' },
    request_headers_timeout: true, stream_idle_timeout: true, max_request_headers_kb: true,
    common_http_protocol_options: { only: ['idle_timeout', 'max_headers_count'] },
    use_remote_address: true, xff_num_trusted_hops: true, generate_request_id: true, server_name: true,
    http2_protocol_options: true,
    // ---- Istio compatibility (xdsistio): src/config/istio.ts, README "Istio" ----
    tracing: { noop: 'tracing is not implemented; no spans are sent' },
    access_log: { noop: 'connection manager access logs are not written' },
    // Skiff generates UUIDv4 x-request-id, which is what the UUID extension configures.
    request_id_extension: { only: ['typed_config'] },
    // ---- istiomisc: path normalization (src/proxy/path_normalization.ts) ----
    path_with_escaped_slashes_action: { values: ['IMPLEMENTATION_SPECIFIC_DEFAULT', 'KEEP_UNCHANGED', 'REJECT_REQUEST', 'UNESCAPE_AND_REDIRECT', 'UNESCAPE_AND_FORWARD'] },
    normalize_path: true, merge_slashes: true,
    // ---- istiomisc: x-forwarded-client-cert (src/proxy/xfcc.ts) ----
    forward_client_cert_details: true, set_current_client_cert_details: true,
    // ---- end Istio compatibility ----
  },
  'envoy.config.core.v3.Http2ProtocolOptions': {
    max_concurrent_streams: true, initial_stream_window_size: true, initial_connection_window_size: true,
    hpack_table_size: true, max_outbound_frames: true, max_outbound_control_frames: true,
    max_consecutive_inbound_frames_with_empty_payload: true, max_inbound_priority_frames_per_stream: true,
    max_inbound_window_update_frames_per_data_frame_sent: true,
  },
  'envoy.extensions.filters.network.http_connection_manager.v3.RequestIDExtension': { typed_config: true },
  'envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager.SetCurrentClientCertDetails': {
    subject: true, cert: true, chain: true, dns: true, uri: true,
  },
  'envoy.extensions.request_id.uuid.v3.UuidRequestIdConfig': {
    pack_trace_reason: { hint: 'trace reasons are not packed (no tracing)' },
    use_request_id_for_trace_sampling: { hint: 'no tracing: nothing is sampled' },
  },
  'envoy.extensions.filters.network.http_connection_manager.v3.Rds': { config_source: { only: ADS_SOURCE }, route_config_name: true },
  'envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter': { name: true, typed_config: true },
  'envoy.extensions.filters.http.router.v3.Router': {},

  'envoy.config.core.v3.HttpProtocolOptions': {
    idle_timeout: true, max_headers_count: true, max_requests_per_connection: true,
  },

  'envoy.config.route.v3.RouteConfiguration': {
    name: true, virtual_hosts: true, ...HEADER_MUTATIONS,
    // ---- Istio compatibility (xdsistio) ----
    // Only `false` (Envoy's RDS default): a route to an unknown cluster is a 503 at request time; the router rejects `true`.
    validate_clusters: true,
    // Host matching without the port (istiod sets it on gateways): the router implements it.
    ignore_port_in_host_matching: true,
    // Checked by the router against every direct_response body.
    max_direct_response_body_size_bytes: true,
    // ---- end Istio compatibility ----
  },
  'envoy.config.route.v3.VirtualHost': {
    name: true, domains: true, routes: true, retry_policy: true, ...HEADER_MUTATIONS,
    // ---- Istio compatibility (xdsistio) ----
    metadata: true,
    include_request_attempt_count: true,
    typed_per_filter_config: { perFilterConfig: true },
    // ---- end Istio compatibility ----
  },
  'envoy.config.route.v3.Route': {
    name: true, match: true, route: true, direct_response: true, redirect: true, ...HEADER_MUTATIONS,
    // ---- Istio compatibility (xdsistio) ----
    metadata: true,
    decorator: { noop: 'the decorator names a tracing span; no tracing' },
    typed_per_filter_config: { perFilterConfig: true },
    // ---- end Istio compatibility ----
  },
  'envoy.config.route.v3.RouteMatch': {
    prefix: true, path: true, safe_regex: true, path_separated_prefix: true, case_sensitive: true,
    headers: true, query_parameters: true,
  },
  // `google_re2: {}` (deprecated) only restates the default engine: accepted when it sets nothing.
  'envoy.type.matcher.v3.RegexMatcher': { regex: true, google_re2: { emptyOnly: true } },
  'envoy.type.matcher.v3.StringMatcher': { exact: true, prefix: true, suffix: true, contains: true, safe_regex: true, ignore_case: true },
  'envoy.config.route.v3.HeaderMatcher': {
    name: true, string_match: true, exact_match: true, prefix_match: true, suffix_match: true, contains_match: true,
    safe_regex_match: true, present_match: true, invert_match: true, treat_missing_header_as_empty: true,
  },
  'envoy.config.route.v3.QueryParameterMatcher': { name: true, string_match: true, present_match: true },
  'envoy.config.route.v3.RouteAction': {
    cluster: true, weighted_clusters: true, prefix_rewrite: true, host_rewrite_literal: true, timeout: true,
    retry_policy: true, hash_policy: true,
    // ---- Istio compatibility (xdsistio) ----
    // A cap on the whole stream (0: none) and the gRPC timeout header's cap (src/proxy/stream_limits.ts).
    max_stream_duration: true, max_grpc_timeout: true, grpc_timeout_offset: true,
    // The status of the local reply for a route whose cluster is unknown (the proxy applies it; 503 by default).
    cluster_not_found_response_code: { values: ['SERVICE_UNAVAILABLE', 'NOT_FOUND', 'INTERNAL_SERVER_ERROR'] },
    // ---- end Istio compatibility ----
  },
  'envoy.config.route.v3.RouteAction.MaxStreamDuration': {
    max_stream_duration: true, grpc_timeout_header_max: true, grpc_timeout_header_offset: true,
  },
  'envoy.config.route.v3.Decorator': { operation: true, propagate: true },
  'envoy.config.route.v3.WeightedCluster': { clusters: true, total_weight: true },
  'envoy.config.route.v3.WeightedCluster.ClusterWeight': { name: true, weight: true },
  'envoy.config.route.v3.RetryPolicy': {
    retry_on: true, num_retries: true, per_try_timeout: true, retriable_status_codes: true,
    // ---- Istio compatibility (xdsistio): src/proxy/retry_state.ts ----
    retry_host_predicate: { extensions: [PREVIOUS_HOSTS_EXTENSION] },
    host_selection_retry_max_attempts: true,
    // ---- end Istio compatibility ----
  },
  'envoy.config.route.v3.RetryPolicy.RetryHostPredicate': { name: true, typed_config: true },
  'envoy.extensions.retry.host.previous_hosts.v3.PreviousHostsPredicate': {},
  'envoy.config.route.v3.RouteAction.HashPolicy': { header: true, terminal: true },
  'envoy.config.route.v3.RouteAction.HashPolicy.Header': { header_name: true },
  'envoy.config.route.v3.DirectResponseAction': { status: true, body: true },
  'envoy.config.core.v3.DataSource': { inline_string: true, inline_bytes: true, filename: true },
  'envoy.config.route.v3.RedirectAction': {
    host_redirect: true, port_redirect: true, path_redirect: true, prefix_rewrite: true, scheme_redirect: true,
    https_redirect: true, strip_query: true, response_code: true,
  },
  'envoy.config.core.v3.HeaderValueOption': { header: true, append: true, append_action: true, keep_empty_value: true },
  'envoy.config.core.v3.HeaderValue': { key: true, value: true },

  'envoy.config.cluster.v3.Cluster': {
    name: true, type: { values: ['STATIC', 'STRICT_DNS', 'EDS'] }, eds_cluster_config: true, connect_timeout: true,
    lb_policy: { values: ['ROUND_ROBIN', 'LEAST_REQUEST', 'RANDOM', 'RING_HASH', 'MAGLEV'] },
    load_assignment: true, circuit_breakers: true, dns_refresh_rate: true, dns_lookup_family: true,
    ring_hash_lb_config: true, maglev_lb_config: true, least_request_lb_config: true,
    common_http_protocol_options: { only: ['idle_timeout', 'max_requests_per_connection'] },
    per_connection_buffer_limit_bytes: true,
    // ---- Istio compatibility (xdsistio): one decision per field istiod sets; README "Istio" ----
    metadata: true,
    alt_stat_name: { noop: 'cluster stats keep the cluster name' },
    track_cluster_stats: { noop: 'the optional timeout-budget and request/response size histograms are not kept' },
    ignore_health_on_host_removal: { noop: 'no active health checking: a host removed by EDS always leaves at once' },
    respect_dns_ttl: { noop: 'DNS clusters re-resolve every dns_refresh_rate' },
    upstream_connection_options: { only: ['tcp_keepalive'] },
    common_lb_config: { only: ['locality_weighted_lb_config', 'healthy_panic_threshold'] },
    filters: { extensions: [], istioKind: 'upstream_network_filter' },
    // Deprecated spelling of common_http_protocol_options.max_requests_per_connection (istio-agent's xds-grpc).
    max_requests_per_connection: true,
    // ---- end Istio compatibility ----
    transport_socket: { extensions: UPSTREAM_TRANSPORT_EXTENSIONS },
    typed_extension_protocol_options: true,
    // istio2: the transport per host by its envoy.transport_socket_match labels (src/upstream/transport_socket_match.ts).
    transport_socket_matches: true,
  },
  'envoy.config.cluster.v3.Cluster.TransportSocketMatch': { name: true, match: true, transport_socket: { extensions: UPSTREAM_TRANSPORT_EXTENSIONS } },
  'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': {
    explicit_http_config: true, auto_config: true, use_downstream_protocol_config: true,
    common_http_protocol_options: { only: ['idle_timeout', 'max_requests_per_connection'] },
  },
  'envoy.extensions.upstreams.http.v3.HttpProtocolOptions.ExplicitHttpConfig': { http_protocol_options: { emptyOnly: true }, http2_protocol_options: true },
  'envoy.extensions.upstreams.http.v3.HttpProtocolOptions.AutoHttpConfig': { http_protocol_options: { emptyOnly: true }, http2_protocol_options: true },
  'envoy.extensions.upstreams.http.v3.HttpProtocolOptions.UseDownstreamHttpConfig': { http_protocol_options: { emptyOnly: true }, http2_protocol_options: true },
  'envoy.config.cluster.v3.UpstreamConnectionOptions': {
    tcp_keepalive: { noop: 'TCP keepalive probes are not configured on upstream sockets' },
  },
  'envoy.config.cluster.v3.Cluster.CommonLbConfig': {
    // Skiff balances over priority 0 as one set of hosts: locality weights are not applied (Istio sets an
    // empty one when locality load balancing is on).
    locality_weighted_lb_config: { noop: 'locality weights are not applied; hosts are balanced as one set' },
    healthy_panic_threshold: { noop: 'no active health checking: every host counts as healthy unless EDS says otherwise' },
  },
  'envoy.config.cluster.v3.Filter': { name: true, typed_config: true },
  'envoy.config.cluster.v3.Cluster.EdsClusterConfig': { eds_config: { only: ADS_SOURCE }, service_name: true },
  'envoy.config.cluster.v3.CircuitBreakers': { thresholds: true },
  'envoy.config.cluster.v3.CircuitBreakers.Thresholds': {
    // HIGH thresholds govern routes of priority HIGH only; Skiff routes are all DEFAULT, so they never apply.
    priority: { values: ['DEFAULT', 'HIGH'] }, max_connections: true, max_pending_requests: true, max_requests: true, max_retries: true,
    // ---- Istio compatibility (xdsistio) ----
    track_remaining: { noop: 'the remaining_* gauges are not published' },
    // ---- end Istio compatibility ----
  },
  'envoy.config.cluster.v3.Cluster.RingHashLbConfig': { minimum_ring_size: true, maximum_ring_size: true },
  'envoy.config.cluster.v3.Cluster.MaglevLbConfig': { table_size: true },
  'envoy.config.cluster.v3.Cluster.LeastRequestLbConfig': { choice_count: true },
  'envoy.config.endpoint.v3.ClusterLoadAssignment': {
    cluster_name: true, endpoints: true,
    // Overprovisioning and drop overloads only act across priorities and localities; Skiff has priority 0 only.
    policy: { noop: 'load-assignment policy: one priority, no locality weighting' },
  },
  // metadata: its envoy.transport_socket_match labels apply to endpoints without their own (transport_socket_matches).
  'envoy.config.endpoint.v3.LocalityLbEndpoints': { locality: true, lb_endpoints: true, load_balancing_weight: true, priority: true, metadata: true },
  'envoy.config.core.v3.Locality': { region: true, zone: true, sub_zone: true },
  'envoy.config.endpoint.v3.LbEndpoint': { endpoint: true, load_balancing_weight: true, health_status: true, metadata: true },
  // Metadata only labels a resource (Istio: workload names, TLS mode); nothing in Skiff reads it yet.
  'envoy.config.core.v3.Metadata': '*',
  'envoy.config.endpoint.v3.Endpoint': {
    address: true, hostname: true,
    health_check_config: { noop: 'health-check port override: Skiff does not health check EDS hosts' },
  },
  ...XPROXY_RULES,
  ...MATCHER_RULES,
  ...ACCESS_LOG_RULES,
  ...XDETECT_RULES,
};

/** Fields accepted although Skiff does nothing with them, because Envoy's docs call them hints. */
export const HINT_FIELDS: readonly string[] = [
  'envoy.config.core.v3.Node.listening_addresses',
];

export interface SubsetResult { unsupported: UnsupportedConfigError[]; warnings: string[] }

const MAX_DEPTH = 64;

/**
 * Every place where a decoded message leaves Skiff's subset, in document order. Stops descending into a
 * field once it is reported, so one unsupported extension gives one error, not one per field inside it.
 */
export function findUnsupported(typeName: string, value: unknown, path: string): SubsetResult {
  const result: SubsetResult = { unsupported: [], warnings: [] };
  walk(typeName, value, path, undefined, result, 0);
  return result;
}

function walk(typeName: string, value: unknown, path: string, only: readonly string[] | undefined, out: SubsetResult, depth: number): void {
  if (depth > MAX_DEPTH || typeof value !== 'object' || value === null) return;
  const rules = SUPPORTED[typeName];
  if (rules === '*') {
    for (const hint of HINT_FIELDS) {
      const field = hint.slice(typeName.length + 1);
      if (hint.startsWith(`${typeName}.`) && (value as Record<string, unknown>)[field] !== undefined) {
        out.warnings.push(`${fieldPath(path, field)}: accepted as a hint; Skiff does not use it`);
      }
    }
    return;
  }
  if (!rules) {
    out.unsupported.push(new UnsupportedConfigError(path, `message ${typeName}`));
    return;
  }
  const table = tableOf(typeName, rules);
  const msg = value as Record<string, unknown>;
  for (const key in msg) {
    if (key === '@type' || !Object.prototype.hasOwnProperty.call(msg, key)) continue;
    const entry = table.get(key);
    if (entry === undefined || (only && !only.includes(key))) {
      const at = fieldPath(path, key);
      if (HINT_FIELDS.includes(`${typeName}.${key}`)) out.warnings.push(`${at}: accepted as a hint; Skiff does not use it`);
      else out.unsupported.push(new UnsupportedConfigError(at, 'field'));
      continue;
    }
    if (entry.field === undefined) continue;
    walkField(entry.field, entry.rule, msg[key], fieldPath(path, key), out, depth);
  }
}

interface TableEntry { rule: FieldRule; field: protobuf.Field | undefined }
const tables = new Map<string, Map<string, TableEntry>>();

/** Per message type, once: each supported field's rule and proto field. */
function tableOf(typeName: string, rules: Record<string, FieldRule | true>): Map<string, TableEntry> {
  let t = tables.get(typeName);
  if (t === undefined) {
    const type = lookupMessage(typeName);
    t = new Map(Object.entries(rules).map(([key, rule]) => [key, { rule: rule === true ? {} : rule, field: type?.fields[key] }]));
    tables.set(typeName, t);
  }
  return t;
}

function walkField(field: protobuf.Field, rule: FieldRule, value: unknown, path: string, out: SubsetResult, depth: number): void {
  if (rule.hint) out.warnings.push(`${path}: ${rule.hint}`);
  if (rule.noop) {
    out.warnings.push(`${path}: accepted and ignored (${rule.noop})`);
    return;
  }
  if (rule.values && !rule.values.includes(String(value))) {
    out.unsupported.push(new UnsupportedConfigError(path, `value ${String(value)} (supported: ${rule.values.join(', ')})`));
    return;
  }
  if (rule.emptyOnly) {
    const isEmpty = field.map || field.repeated
      ? (field.map ? Object.keys(value as object).length : (value as unknown[]).length) === 0
      : Object.keys(value as object).length === 0;
    // Nothing inside an empty value to look at.
    if (!isEmpty) out.unsupported.push(new UnsupportedConfigError(path, 'field (accepted only when empty)'));
    return;
  }
  if (rule.perFilterConfig) {
    // Per-route configs of no-op filters change nothing; any other filter's (a CORS policy, a fault) would be ignored: rejected.
    for (const key of Object.keys(value as object)) {
      const at = `${path}[${JSON.stringify(key)}]`;
      if (perRouteConfigIgnorable(key)) {
        // Warned about once per process (the caller logs the warnings it gets).
        const decision = ISTIO_EXTENSIONS.find((e) => e.name === key)!;
        if (firstSighting(decision.name)) out.warnings.push(`${at}: per-route config of ${noopWarning(decision)}`);
      } else {
        out.unsupported.push(new UnsupportedConfigError(at, `extension ${key} (its per-route config would not be applied)`));
      }
    }
    return;
  }
  const counter = { counted: 0 };
  if (field.map) {
    for (const [k, v] of Object.entries(value as object)) walkItem(field, rule, v, `${path}[${JSON.stringify(k)}]`, counter, out, depth);
  } else if (field.repeated) {
    const list = value as unknown[];
    for (let i = 0; i < list.length; i++) walkItem(field, rule, list[i], `${path}[${i}]`, counter, out, depth);
  } else {
    walkItem(field, rule, value, path, counter, out, depth);
  }
}

/**
 * One value of a field (the value, a list item or a map value) at `at`. `counter` counts the items that take
 * a place under maxItems (accepted no-op extensions do not).
 */
function walkItem(field: protobuf.Field, rule: FieldRule, item: unknown, at: string, counter: { counted: number }, out: SubsetResult, depth: number): void {
  if (rule.extensions) {
    const ext = item as { name?: string; typed_config?: { '@type': string } };
    const url = ext.typed_config?.['@type'];
    // As Envoy does, the typed_config's type picks the extension; the name only when there is none.
    const supported = rule.extensions.some((s) => (url !== undefined ? s.typeUrl === url : s.name === ext.name));
    if (!supported) {
      const verdict = rule.istioKind ? judgeExtension(rule.istioKind, ext as { name?: string; typed_config?: Record<string, unknown> }) : undefined;
      if (verdict?.accept) {
        // A no-op (src/config/istio.ts): warned about once per name per process (the caller logs the
        // warnings it gets), not looked into, not counted.
        // Network filters are warned about by the listener's registry when it builds the chain.
        if (rule.istioKind !== 'network_filter' && firstSighting(verdict.decision.name)) out.warnings.push(`${at}: ${noopWarning(verdict.decision)}`);
        return;
      }
      const why = verdict?.decision ? `: ${verdict.reason}` : '';
      out.unsupported.push(new UnsupportedConfigError(at, `extension ${ext.name ?? '(unnamed)'}${url ? ` (${url})` : ''}${why}`));
      return;
    }
  }
  if (rule.maxItems && counter.counted++ >= rule.maxItems.count) {
    out.unsupported.push(new UnsupportedConfigError(at, `additional ${rule.maxItems.what}`));
    return;
  }
  const sub = field.resolvedType;
  if (!(sub instanceof protobuf.Type)) return;
  walkMessage(sub, item, at, rule.only, out, depth + 1);
}

function walkMessage(type: protobuf.Type, value: unknown, path: string, only: readonly string[] | undefined, out: SubsetResult, depth: number): void {
  const name = typeName(type);
  if (name === 'google.protobuf.Any') {
    const url = (value as { '@type'?: string })['@type'] ?? '';
    const packed = resolveTypeUrl(url);
    if (!packed) {
      out.unsupported.push(new UnsupportedConfigError(path, `type ${url}`));
      return;
    }
    if (!isWellKnownType(typeName(packed))) walk(typeName(packed), value, path, only, out, depth + 1);
    return;
  }
  if (isWellKnownType(name)) return;
  walk(name, value, path, only, out, depth);
}
