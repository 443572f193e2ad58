/**
 * Istio compatibility: what Skiff does with each extension istiod puts in the LDS/RDS/CDS it serves, one
 * decision per extension, read by the config subset (src/config/subset.ts), the connection manager's filter
 * reading (src/proxy/config.ts) and the listener's network/listener filter registry (src/listener).
 *
 * Three treatments:
 * - `noop`: accepted and ignored, because nothing it does changes which bytes reach which upstream (stats,
 *   telemetry metadata, tracing). Logged once per extension name per process, and kept as received in
 *   /config_dump (the resource's JSON is stored whole).
 * - `noop-if-empty`: an Envoy filter that only acts through a policy (a CORS policy, a fault to inject):
 *   accepted when neither it nor any route gives it one; with one, rejected by name (Skiff would not apply it).
 * - `reject`: rejected by name, with the reason (and, where another part of Skiff brings it, which one).
 *
 * This module imports only the logger: the protobuf-free router and proxy read it too.
 */
import { logger, type Logger } from '../common/logger.js';

export type IstioTreatment = 'noop' | 'noop-if-empty' | 'noop-when' | 'reject';
export type ExtensionKind = 'http_filter' | 'network_filter' | 'listener_filter' | 'upstream_network_filter';

export interface ExtensionDecision {
  /** The `name` istiod gives it (an extension is matched by type URL first, by name when it has none). */
  readonly name: string;
  /** Type URLs it arrives with; for a TypedStruct, the `type_url` inside it. */
  readonly typeUrls: readonly string[];
  readonly kinds: readonly ExtensionKind[];
  readonly treatment: IstioTreatment;
  /** Why: printed in the warning and in the rejection. */
  readonly why: string;
  /** For `noop-when`: whether this config is the harmless kind (else rejected with `why`). */
  readonly when?: (typedConfig: Record<string, unknown>) => boolean;
}

/** Istio's own plugins built into its proxy and run on the null VM: telemetry only. */
const ISTIO_NULL_VM_PLUGINS = new Set(['envoy.wasm.stats', 'envoy.wasm.metadata_exchange']);

/** A Wasm filter config that runs one of Istio's null-VM telemetry plugins (older istiod's stats and metadata exchange). */
export function isIstioTelemetryWasm(typedConfig: Record<string, unknown>): boolean {
  const code = (typedConfig as { config?: { vm_config?: { runtime?: string; code?: { local?: { inline_string?: string } } } } }).config?.vm_config;
  return code?.runtime === 'envoy.wasm.runtime.null' && ISTIO_NULL_VM_PLUGINS.has(code.code?.local?.inline_string ?? '');
}

const T = 'type.googleapis.com/';
export const TYPED_STRUCT_URLS: readonly string[] = [`${T}udpa.type.v1.TypedStruct`, `${T}xds.type.v3.TypedStruct`];

/**
 * Every extension istiod emits that Envoy's router and connection manager alone do not cover, with Skiff's
 * treatment. Istio's own ones (not in Envoy's API protos) come first.
 */
export const ISTIO_EXTENSIONS: readonly ExtensionDecision[] = [
  // ---- Istio's own extensions (istio/proxy); Envoy's API protos lack them ----
  {
    name: 'istio.metadata_exchange', kinds: ['http_filter', 'network_filter', 'upstream_network_filter'], treatment: 'noop',
    typeUrls: [`${T}envoy.tcp.metadataexchange.config.MetadataExchange`, `${T}io.istio.http.peer_metadata.Config`,
      `${T}istio.envoy.config.filter.http.metadata_exchange.v1alpha1.MetadataExchange`],
    why: 'peer workload metadata for telemetry; Skiff exchanges none and forwards the same bytes',
  },
  {
    name: 'envoy.tcp.metadataexchange', kinds: ['network_filter', 'upstream_network_filter'], treatment: 'noop',
    typeUrls: [`${T}envoy.tcp.metadataexchange.config.MetadataExchange`],
    why: 'peer workload metadata over ALPN istio-peer-exchange for telemetry; Skiff exchanges none',
  },
  {
    name: 'istio.stats', kinds: ['http_filter', 'network_filter'], treatment: 'noop',
    typeUrls: [`${T}stats.PluginConfig`, `${T}istio.stats.PluginConfig`],
    why: "Istio's standard metrics (istio_requests_total, ...); Skiff serves Envoy's own stat names",
  },
  {
    name: 'istio.alpn', kinds: ['http_filter'], treatment: 'noop',
    typeUrls: [`${T}istio.envoy.config.filter.http.alpn.v2alpha1.FilterConfig`],
    why: 'overrides the upstream TLS ALPN for mTLS peers; Skiff offers no upstream ALPN override (plain upstreams)',
  },
  {
    name: 'waypoint_downstream_peer_metadata', kinds: ['http_filter'], treatment: 'noop',
    typeUrls: [`${T}io.istio.http.peer_metadata.Config`],
    why: 'peer metadata discovery for telemetry (ambient waypoints)',
  },
  {
    name: 'waypoint_upstream_peer_metadata', kinds: ['http_filter'], treatment: 'noop',
    typeUrls: [`${T}io.istio.http.peer_metadata.Config`],
    why: 'peer metadata discovery for telemetry (ambient waypoints)',
  },
  {
    name: 'peer_metadata', kinds: ['http_filter', 'network_filter'], treatment: 'noop',
    typeUrls: [`${T}io.istio.http.peer_metadata.Config`],
    why: 'peer metadata discovery for telemetry',
  },
  {
    name: 'istio_authn', kinds: ['http_filter'], treatment: 'noop',
    typeUrls: [`${T}io.istio.network.authn.Config`],
    why: 'copies the mTLS peer identity into filter state for RBAC and telemetry; Skiff has no RBAC reading it',
  },
  {
    // Istio's stats and metadata exchange as null-VM plugins (older istiod); any other plugin may change traffic.
    name: 'envoy.filters.http.wasm', kinds: ['http_filter'], treatment: 'noop-when', when: isIstioTelemetryWasm,
    typeUrls: [`${T}envoy.extensions.filters.http.wasm.v3.Wasm`],
    why: 'Proxy-Wasm plugins are not run by Skiff; only Istio\'s null-VM telemetry plugins (envoy.wasm.stats, envoy.wasm.metadata_exchange) are accepted, as no-ops',
  },
  {
    name: 'envoy.filters.network.wasm', kinds: ['network_filter'], treatment: 'noop-when', when: isIstioTelemetryWasm,
    typeUrls: [`${T}envoy.extensions.filters.network.wasm.v3.Wasm`],
    why: 'Proxy-Wasm plugins are not run by Skiff; only Istio\'s null-VM telemetry plugins (envoy.wasm.stats, envoy.wasm.metadata_exchange) are accepted, as no-ops',
  },
  // ---- Envoy's HTTP filters in istiod's chains ----
  {
    name: 'envoy.filters.http.grpc_stats', kinds: ['http_filter'], treatment: 'noop',
    typeUrls: [`${T}envoy.extensions.filters.http.grpc_stats.v3.FilterConfig`],
    why: 'per-method gRPC counters only',
  },
  {
    name: 'envoy.filters.http.fault', kinds: ['http_filter'], treatment: 'noop-if-empty',
    typeUrls: [`${T}envoy.extensions.filters.http.fault.v3.HTTPFault`],
    why: 'with no delay or abort (istiod puts faults in routes\' typed_per_filter_config) it passes every request through',
  },
  {
    name: 'envoy.filters.http.cors', kinds: ['http_filter'], treatment: 'noop-if-empty',
    typeUrls: [`${T}envoy.extensions.filters.http.cors.v3.Cors`],
    why: 'with no CORS policy on any route or virtual host it passes every request through',
  },
  {
    name: 'envoy.filters.http.grpc_web', kinds: ['http_filter'], treatment: 'reject',
    typeUrls: [`${T}envoy.extensions.filters.http.grpc_web.v3.GrpcWeb`],
    why: 'translates gRPC-Web to gRPC (changes the body); not implemented',
  },
  {
    name: 'envoy.filters.http.rbac', kinds: ['http_filter'], treatment: 'reject',
    typeUrls: [`${T}envoy.extensions.filters.http.rbac.v3.RBAC`],
    why: 'authorization policies are not enforced by Skiff: accepting them would let denied requests through',
  },
  {
    name: 'envoy.filters.http.jwt_authn', kinds: ['http_filter'], treatment: 'reject',
    typeUrls: [`${T}envoy.extensions.filters.http.jwt_authn.v3.JwtAuthentication`],
    why: 'request authentication is not enforced by Skiff',
  },
  {
    name: 'envoy.filters.http.ext_authz', kinds: ['http_filter'], treatment: 'reject',
    typeUrls: [`${T}envoy.extensions.filters.http.ext_authz.v3.ExtAuthz`],
    why: 'external authorization is not enforced by Skiff',
  },
  // ---- network and listener filters: registered by the listener branch's registry ----
  {
    name: 'envoy.filters.network.rbac', kinds: ['network_filter'], treatment: 'reject',
    typeUrls: [`${T}envoy.extensions.filters.network.rbac.v3.RBAC`],
    why: 'authorization policies are not enforced by Skiff',
  },
];

/** Type URLs of Istio's own config messages: no Envoy proto declares them, so they are kept opaque when decoded. */
export const ISTIO_OWN_TYPE_URLS: ReadonlySet<string> = new Set(ISTIO_EXTENSIONS
  .flatMap((e) => e.typeUrls)
  .filter((u) => !u.startsWith(`${T}envoy.extensions.`)));

/**
 * Envoy API protos of the extensions above that Skiff decides on (and the TypedStruct wrappers istiod packs
 * Istio's configs in): loaded into the config Root so they decode, validate and travel over xDS as bytes.
 */
export const ISTIO_ENVOY_PROTOS: readonly string[] = [
  'udpa/type/v1/typed_struct.proto',
  'xds/type/v3/typed_struct.proto',
  'envoy/extensions/filters/http/grpc_stats/v3/config.proto',
  'envoy/extensions/filters/http/fault/v3/fault.proto',
  'envoy/extensions/filters/http/cors/v3/cors.proto',
  'envoy/extensions/retry/host/previous_hosts/v3/previous_hosts.proto',
  'envoy/extensions/request_id/uuid/v3/uuid.proto',
];

/** Network filters the listener registry should register as no-ops (`registerNoopNetworkFilter`). */
export const ISTIO_NOOP_NETWORK_FILTERS: readonly ExtensionDecision[] = ISTIO_EXTENSIONS
  .filter((e) => e.treatment === 'noop' && e.kinds.includes('network_filter'));
/** Upstream (cluster `filters`) network filters Skiff accepts as no-ops. */
export const ISTIO_NOOP_UPSTREAM_FILTERS: readonly ExtensionDecision[] = ISTIO_EXTENSIONS
  .filter((e) => e.treatment === 'noop' && e.kinds.includes('upstream_network_filter'));
/** Listener filters istiod emits that are Istio's own (none today: tls_inspector, http_inspector, original_dst are Envoy's, in the listener branch). */
export const ISTIO_NOOP_LISTENER_FILTERS: readonly ExtensionDecision[] = ISTIO_EXTENSIONS
  .filter((e) => e.treatment === 'noop' && e.kinds.includes('listener_filter'));

/**
 * The no-op network and listener filters as `[name or type URL, reason]` pairs: the shape the listener's
 * registry takes (`registerNoopNetworkFilter(name, reason)`, `registerNoopListenerFilter(name, reason)`).
 */
export function noopRegistryEntries(kind: ExtensionKind): [string, string][] {
  const out: [string, string][] = [];
  for (const e of ISTIO_EXTENSIONS) {
    if (e.treatment !== 'noop' || !e.kinds.includes(kind)) continue;
    out.push([e.name, e.why]);
    for (const url of e.typeUrls) if (!out.some(([k]) => k === url)) out.push([url, e.why]);
  }
  return out;
}

export interface TypedExtension {
  name?: string;
  typed_config?: Record<string, unknown>;
  /** ECDS: istiod delivers its telemetry filters this way (`istio.io/telemetry/stats/...`); Skiff does not subscribe. */
  config_discovery?: { type_urls?: string[] };
}

/** The type URL that says what an extension is: a TypedStruct's inner `type_url`, else the Any's `@type`. */
export function effectiveTypeUrl(ext: TypedExtension): string | undefined {
  const tc = ext.typed_config;
  const url = tc?.['@type'];
  if (typeof url !== 'string') return undefined;
  if (TYPED_STRUCT_URLS.includes(url) && typeof tc!.type_url === 'string') return tc!.type_url;
  return url;
}

/**
 * Skiff's decision for one {name, typed_config} of the given kind, or undefined when it is not one of the
 * listed extensions. Matched by type URL, as Envoy picks a factory (the name then only has to agree when the
 * type is shared, e.g. peer_metadata), by name when there is no typed_config.
 */
export function istioDecision(kind: ExtensionKind, ext: TypedExtension): ExtensionDecision | undefined {
  const url = effectiveTypeUrl(ext);
  const candidates = ISTIO_EXTENSIONS.filter((e) => e.kinds.includes(kind));
  const discovered = ext.typed_config === undefined ? ext.config_discovery?.type_urls : undefined;
  if (discovered !== undefined) {
    // An ECDS filter is judged by the types it may be given: a no-op only if every one of them is.
    const decisions = discovered.map((u) => candidates.find((e) => e.typeUrls.includes(u)));
    if (decisions.length === 0 || decisions.some((d) => d === undefined)) return undefined;
    return decisions.find((d) => d!.treatment !== 'noop') ?? decisions[0];
  }
  if (url === undefined) return candidates.find((e) => e.name === ext.name);
  const byUrl = candidates.filter((e) => e.typeUrls.includes(url));
  return byUrl.find((e) => e.name === ext.name) ?? byUrl[0];
}

function isEmptyConfig(ext: TypedExtension): boolean {
  const tc = ext.typed_config ?? {};
  return Object.keys(tc).every((k) => k === '@type');
}

export type ExtensionVerdict =
  | { readonly accept: true; readonly decision: ExtensionDecision }
  | { readonly accept: false; readonly decision: ExtensionDecision | undefined; readonly reason: string };

/** Accept or reject one extension of this kind; `noop-if-empty` filters only with an empty config. */
export function judgeExtension(kind: ExtensionKind, ext: TypedExtension): ExtensionVerdict {
  const decision = istioDecision(kind, ext);
  if (!decision) return { accept: false, decision, reason: 'not implemented' };
  if (decision.treatment === 'noop') return { accept: true, decision };
  if (decision.treatment === 'noop-when') {
    return decision.when!(ext.typed_config ?? {}) ? { accept: true, decision } : { accept: false, decision, reason: decision.why };
  }
  if (decision.treatment === 'noop-if-empty') {
    return isEmptyConfig(ext) ? { accept: true, decision } : { accept: false, decision, reason: `a non-empty config is not applied by Skiff (${decision.why})` };
  }
  return { accept: false, decision, reason: decision.why };
}

/**
 * Per-route configs (`typed_per_filter_config` keys) that are safe to ignore: those of the pure no-op
 * extensions. A CORS policy or a fault to inject given per route is not (Skiff would not apply it).
 */
export function perRouteConfigIgnorable(filterName: string): boolean {
  return ISTIO_EXTENSIONS.some((e) => e.name === filterName && e.treatment === 'noop' && e.kinds.includes('http_filter'));
}

const warned = new Set<string>();
let log: Logger = logger('istio');

/** True the first time an extension name is seen in this process (the caller then warns about it, once). */
export function firstSighting(name: string): boolean {
  if (warned.has(name)) return false;
  warned.add(name);
  return true;
}

/**
 * Logs "accepted as a no-op" for an extension the first time its name is seen in this process (one line per
 * name however many listeners or pushes carry it). Returns whether this was the first time.
 */
export function warnNoopOnce(decision: ExtensionDecision, at: string): boolean {
  if (!firstSighting(decision.name)) return false;
  log.warn(`${at}: ${noopWarning(decision)} (logged once per process)`);
  return true;
}

/** The warning text for an accepted no-op extension. */
export function noopWarning(decision: ExtensionDecision): string {
  return `extension ${decision.name} accepted as a no-op: ${decision.why}`;
}

/** Forgets which names were warned about and optionally redirects the log (tests). */
export function resetIstioWarnings(to?: Logger): void {
  warned.clear();
  if (to) log = to;
}
