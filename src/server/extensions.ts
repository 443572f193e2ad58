/**
 * The explicit list of built-in extensions (MOSN's rule: call the extensions that are needed here, instead of
 * in module side effects). Supported now: the HTTP connection manager network filter and the router HTTP
 * filter; both are handled by the core (src/listener, src/proxy). Later extensions register here.
 */
export const BUILTIN_NETWORK_FILTERS = ['envoy.filters.network.http_connection_manager'] as const;
export const BUILTIN_HTTP_FILTERS = ['envoy.filters.http.router'] as const;
