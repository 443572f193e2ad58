/**
 * The explicit list of built-in extensions (MOSN's rule: call the extensions that are needed here, instead of
 * in module side effects). The HTTP connection manager network filter and the http1 server codec are core and
 * registered by src/listener and src/stream themselves; later extensions register here, one line each.
 */
import { registerNetworkFilter, registerNoopListenerFilter, registerNoopNetworkFilter } from '../listener/network_filters.js';
import { tcpProxyFilterFactory } from '../tcp_proxy/filter.js';
import { xprotocolFilterFactory } from '../xprotocol/filter.js';
import { registerServerCodec } from '../stream/server_codecs.js';
import { http2ServerCodec } from '../stream/http2/codec.js';
import { dubboProxyFilterFactory } from '../xprotocol/dubbo_proxy.js';

export const BUILTIN_NETWORK_FILTERS = ['envoy.filters.network.http_connection_manager', 'envoy.filters.network.tcp_proxy', 'skiff.filters.network.xprotocol', 'envoy.filters.network.dubbo_proxy'] as const;
export const BUILTIN_HTTP_FILTERS = ['envoy.filters.http.router'] as const;

const ISTIO_MX = 'Istio metadata exchange only labels telemetry with the peer workload; it changes nothing about forwarding';
const ISTIO_STATS = 'Istio stats: Skiff keeps its own Envoy-named stats';

/** Network and listener filters accepted as documented no-ops: they warn once and are skipped. */
export const NOOP_NETWORK_FILTERS: readonly (readonly [string, string])[] = [
  ['istio.metadata_exchange', ISTIO_MX],
  ['envoy.filters.network.metadata_exchange', ISTIO_MX],
  ['type.googleapis.com/envoy.tcp.metadataexchange.config.MetadataExchange', ISTIO_MX],
  ['istio.stats', ISTIO_STATS],
  ['type.googleapis.com/stats.PluginConfig', ISTIO_STATS],
];
export const NOOP_LISTENER_FILTERS: readonly (readonly [string, string])[] = [
  ['istio.metadata_exchange', ISTIO_MX],
  ['envoy.filters.listener.metadata_exchange', ISTIO_MX],
];

const WASM_NETWORK_FILTER = 'type.googleapis.com/envoy.extensions.filters.network.wasm.v3.Wasm';

/** Istio's stats plugin as a wasm network filter (null VM `envoy.wasm.stats`); any other wasm filter is refused. */
export function isIstioWasmStats(typedConfig: Record<string, unknown> | undefined): boolean {
  const config = (typedConfig as { config?: { root_id?: string; vm_config?: { code?: { local?: { inline_string?: string } } } } } | undefined)?.config;
  return config?.vm_config?.code?.local?.inline_string === 'envoy.wasm.stats';
}

let registered = false;

/** Registers every built-in extension once (the server calls it before it builds listeners). */
export function registerBuiltinExtensions(): void {
  if (registered) return;
  registered = true;
  registerNetworkFilter(tcpProxyFilterFactory);
  registerNetworkFilter(xprotocolFilterFactory);
  registerNetworkFilter(dubboProxyFilterFactory);
  for (const [name, reason] of NOOP_NETWORK_FILTERS) registerNoopNetworkFilter(name, reason);
  registerNoopNetworkFilter(WASM_NETWORK_FILTER, ISTIO_STATS, isIstioWasmStats);
  registerNoopNetworkFilter('envoy.filters.network.wasm', ISTIO_STATS, isIstioWasmStats);
  for (const [name, reason] of NOOP_LISTENER_FILTERS) registerNoopListenerFilter(name, reason);
  registerServerCodec('http2', http2ServerCodec);
}
