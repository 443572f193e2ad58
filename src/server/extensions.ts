/**
 * The explicit list of built-in extensions (MOSN's rule: call the extensions that are needed here, instead of
 * in module side effects). The HTTP connection manager network filter and the http1 server codec are core and
 * registered by src/listener and src/stream themselves; later extensions register here, one line each.
 */
import { ISTIO_EXTENSIONS, noopRegistryEntries } from '../config/istio.js';
import { registerNetworkFilter, registerNoopListenerFilter, registerNoopNetworkFilter } from '../listener/network_filters.js';
import { registerServerCodec } from '../stream/server_codecs.js';
import { http2ServerCodec } from '../stream/http2/codec.js';
import { tcpProxyFilterFactory } from '../tcp_proxy/filter.js';
import { xprotocolFilterFactory } from '../xprotocol/filter.js';
import { dubboProxyFilterFactory } from '../xprotocol/dubbo_proxy.js';

export const BUILTIN_NETWORK_FILTERS = ['envoy.filters.network.http_connection_manager', 'envoy.filters.network.tcp_proxy', 'skiff.filters.network.xprotocol', 'envoy.filters.network.dubbo_proxy'] as const;
export const BUILTIN_HTTP_FILTERS = ['envoy.filters.http.router'] as const;

/**
 * Listener filters accepted as documented no-ops (Istio's metadata exchange as a listener filter; Istio's own
 * network and HTTP filter decisions live in src/config/istio.ts, the one list for the config layer and here).
 */
const ISTIO_MX = 'Istio metadata exchange only labels telemetry with the peer workload; it changes nothing about forwarding';
export const NOOP_LISTENER_FILTERS: readonly (readonly [string, string])[] = [
  ['istio.metadata_exchange', ISTIO_MX],
  ['envoy.filters.listener.metadata_exchange', ISTIO_MX],
];

let registered = false;

/** Registers every built-in extension once (the server calls it before it builds listeners). */
export function registerBuiltinExtensions(): void {
  if (registered) return;
  registered = true;
  registerNetworkFilter(tcpProxyFilterFactory);
  registerNetworkFilter(xprotocolFilterFactory);
  registerNetworkFilter(dubboProxyFilterFactory);
  for (const [name, reason] of noopRegistryEntries('network_filter')) registerNoopNetworkFilter(name, reason);
  // Conditional no-ops (a wasm filter only when it runs Istio's null-VM telemetry plugins).
  for (const e of ISTIO_EXTENSIONS) {
    if (e.treatment !== 'noop-when' || !e.kinds.includes('network_filter') || !e.when) continue;
    const when = e.when;
    const applies = (tc: Record<string, unknown> | undefined): boolean => tc !== undefined && when(tc);
    for (const key of [e.name, ...e.typeUrls]) registerNoopNetworkFilter(key, e.why, applies);
  }
  for (const [name, reason] of NOOP_LISTENER_FILTERS) registerNoopListenerFilter(name, reason);
  registerServerCodec('http2', http2ServerCodec);
}
