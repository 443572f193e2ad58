// Pieces of Envoy v3 config that integration tests repeat: type URLs, the router filter, an admin on a free
// port, a one-host load assignment, and the cluster option that makes the upstream HTTP/2. Each call
// returns a fresh object, so a test may edit what it gets.
export const HCM = 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager';
export const ROUTER = 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router';
export const DOWNSTREAM_TLS = 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext';
export const UPSTREAM_TLS = 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext';
const HTTP_PROTOCOL_OPTIONS = 'envoy.extensions.upstreams.http.v3.HttpProtocolOptions';

/** `http_filters` entry for the router (the last HTTP filter). */
export function routerFilter(): Record<string, unknown> {
  return { name: 'envoy.filters.http.router', typed_config: { '@type': ROUTER } };
}

/** Bootstrap `admin` on 127.0.0.1, a free port. */
export function adminAnyPort(): Record<string, unknown> {
  return { address: { socket_address: { address: '127.0.0.1', port_value: 0 } } };
}

/** A cluster's `load_assignment` with the one host 127.0.0.1:`port`. */
export function loadAssignment(clusterName: string, port: number): Record<string, unknown> {
  return { cluster_name: clusterName, endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: '127.0.0.1', port_value: port } } } }] }] };
}

/** A cluster's `typed_extension_protocol_options` that make it speak HTTP/2 upstream (explicit_http_config). */
export function explicitHttp2(): Record<string, unknown> {
  return {
    [HTTP_PROTOCOL_OPTIONS]: { '@type': `type.googleapis.com/${HTTP_PROTOCOL_OPTIONS}`, explicit_http_config: { http2_protocol_options: {} } },
  };
}
