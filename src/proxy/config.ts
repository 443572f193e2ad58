/**
 * The HTTP connection manager's settings, read once per listener from its decoded Envoy config
 * (envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager) with Envoy's
 * defaults filled in. Fields Skiff does not implement are rejected by name, never ignored.
 */
import { ConfigError, UnsupportedConfigError } from '../common/errors.js';
import type { Duration, HttpConnectionManager, RouteConfiguration } from '../types/envoy.js';
import { http2OptionsFromConfig } from '../stream/http2/config.js';
import type { Http2Options } from '../stream/http2/options.js';
import { judgeExtension, warnNoopOnce } from '../config/istio.js';
import { pathNormalizationConfig, type PathNormalizationConfig } from './path_normalization.js';
import { xfccConfig, type XfccConfig } from './xfcc.js';
import { compileFilterStateRules, HTTP_SET_FILTER_STATE_TYPE_URL, type FilterStateRule } from './set_filter_state.js';

export const HCM_TYPE_URL = 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager';
export const HCM_FILTER_NAME = 'envoy.filters.network.http_connection_manager';
export const ROUTER_FILTER_NAME = 'envoy.filters.http.router';
const ROUTER_TYPE_URL = 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router';

export interface ConnectionManagerConfig {
  readonly statPrefix: string;
  /** The inline route_config; undefined when the routes come over RDS (`rdsRouteConfigName`). */
  readonly routeConfig: RouteConfiguration | undefined;
  /** HCM `rds.route_config_name`: the RouteConfiguration this manager follows over xDS. */
  readonly rdsRouteConfigName: string | undefined;
  /** 0 = disabled (Envoy's default). */
  readonly requestHeadersTimeoutMs: number;
  /** Envoy's default 5 minutes; 0 = disabled. */
  readonly streamIdleTimeoutMs: number;
  readonly maxRequestHeadersKb: number;
  readonly maxHeadersCount: number;
  /** Downstream connection idle timeout; Envoy's default 1 hour; 0 = disabled. */
  readonly idleTimeoutMs: number;
  readonly useRemoteAddress: boolean;
  readonly xffNumTrustedHops: number;
  readonly generateRequestId: boolean;
  readonly serverName: string;
  /** codec_type: which server codec serves a connection (AUTO detects; see src/stream/server_codecs.ts). */
  readonly codecType: 'AUTO' | 'HTTP1' | 'HTTP2';
  /** http2_protocol_options for HTTP/2 connections. */
  readonly http2Options: Http2Options;
  /** normalize_path, merge_slashes, path_with_escaped_slashes_action; undefined when all are off. */
  readonly pathNormalization?: PathNormalizationConfig;
  /** forward_client_cert_details / set_current_client_cert_details (src/proxy/xfcc.ts); undefined = SANITIZE. */
  readonly xfcc?: XfccConfig;
  /** on_request_headers of the chain's envoy.filters.http.set_filter_state filters, in order (src/proxy/set_filter_state.ts). */
  readonly requestFilterState?: readonly FilterStateRule[];
}

const KNOWN_FIELDS = new Set([
  '@type', 'stat_prefix', 'codec_type', 'route_config', 'rds', 'http_filters', 'request_headers_timeout',
  'stream_idle_timeout', 'max_request_headers_kb', 'common_http_protocol_options', 'use_remote_address',
  'xff_num_trusted_hops', 'generate_request_id', 'server_name', 'http2_protocol_options',
  // Istio compatibility (src/config/istio.ts): accepted, change no forwarding (no tracing, no HCM access log;
  // UUID request ids are what Skiff generates; escaped slashes kept unchanged is Skiff's behaviour).
  'tracing', 'access_log', 'request_id_extension',
  // src/proxy/path_normalization.ts
  'path_with_escaped_slashes_action', 'normalize_path', 'merge_slashes',
  // src/proxy/xfcc.ts
  'forward_client_cert_details', 'set_current_client_cert_details',
]);

/** Milliseconds of a Duration; `fallback` when absent. */
export function durationMs(d: Duration | undefined, fallback: number): number {
  if (d === undefined || d === null) return fallback;
  return Math.round((d.seconds ?? 0) * 1000 + (d.nanos ?? 0) / 1e6);
}

/** Reads and validates one HCM config. `path` names it in errors (e.g. `listeners[0].filter_chains[0].filters[0]`). */
export function connectionManagerConfig(hcm: HttpConnectionManager, path: string): ConnectionManagerConfig {
  for (const key of Object.keys(hcm)) {
    if (!KNOWN_FIELDS.has(key)) throw new UnsupportedConfigError(`${path}.typed_config.${key}`, `HttpConnectionManager field ${key}`);
  }
  if (typeof hcm.stat_prefix !== 'string' || hcm.stat_prefix === '') throw new ConfigError(`${path}.typed_config.stat_prefix`, 'required');
  if (hcm.codec_type !== undefined && hcm.codec_type !== 'AUTO' && hcm.codec_type !== 'HTTP1' && hcm.codec_type !== 'HTTP2') {
    throw new UnsupportedConfigError(`${path}.typed_config.codec_type`, `codec_type ${hcm.codec_type}`);
  }
  const rds = (hcm as { rds?: { route_config_name?: string; config_source?: Record<string, unknown> } }).rds;
  if (hcm.route_config && rds) throw new ConfigError(`${path}.typed_config.rds`, 'route_config and rds are exclusive');
  if (!hcm.route_config && !rds) throw new ConfigError(`${path}.typed_config.route_config`, 'an inline route_config or rds is required');
  if (rds) {
    if (typeof rds.route_config_name !== 'string' || rds.route_config_name === '') throw new ConfigError(`${path}.typed_config.rds.route_config_name`, 'required');
    // Routes come over the bootstrap's ADS stream only.
    if (rds.config_source?.ads === undefined) throw new UnsupportedConfigError(`${path}.typed_config.rds.config_source`, 'an RDS config source other than ads: {}');
  }
  const filters = hcm.http_filters ?? [];
  const requestFilterState: FilterStateRule[] = [];
  filters.forEach((f, i) => {
    const type = f.typed_config?.['@type'];
    const at = `${path}.typed_config.http_filters[${i}]`;
    if (type !== undefined ? type === ROUTER_TYPE_URL : f.name === ROUTER_FILTER_NAME) {
      if (i !== filters.length - 1) throw new ConfigError(at, 'the router must be the last http filter');
      return;
    }
    if (type === HTTP_SET_FILTER_STATE_TYPE_URL) {
      const tc = f.typed_config as { on_request_headers?: Parameters<typeof compileFilterStateRules>[0]; [k: string]: unknown };
      for (const k of Object.keys(tc)) if (k !== '@type' && k !== 'on_request_headers') throw new UnsupportedConfigError(`${at}.typed_config.${k}`, 'field');
      requestFilterState.push(...compileFilterStateRules(tc.on_request_headers, `${at}.typed_config.on_request_headers`));
      return;
    }
    // Istio's chains carry no-op filters (stats, metadata exchange, an empty CORS or fault filter): see src/config/istio.ts.
    const verdict = judgeExtension('http_filter', f as { name?: string; typed_config?: Record<string, unknown> });
    if (!verdict.accept) throw new UnsupportedConfigError(at, `http filter ${f.name}${verdict.decision ? `: ${verdict.reason}` : ''}`);
    warnNoopOnce(verdict.decision, at);
  });
  const pathNormalization = pathNormalizationConfig(hcm as Parameters<typeof pathNormalizationConfig>[0], `${path}.typed_config`);
  const maxKb = hcm.max_request_headers_kb?.value ?? 60;
  if (maxKb < 1 || maxKb > 8192) throw new ConfigError(`${path}.typed_config.max_request_headers_kb`, 'must be in 1..8192');
  const maxHeaders = hcm.common_http_protocol_options?.max_headers_count?.value ?? 100;
  if (maxHeaders < 1) throw new ConfigError(`${path}.typed_config.common_http_protocol_options.max_headers_count`, 'must be at least 1');
  const trusted = hcm.xff_num_trusted_hops ?? 0;
  if (!Number.isInteger(trusted) || trusted < 0) throw new ConfigError(`${path}.typed_config.xff_num_trusted_hops`, 'must be a non-negative integer');
  return {
    statPrefix: hcm.stat_prefix,
    routeConfig: hcm.route_config,
    rdsRouteConfigName: rds?.route_config_name,
    requestHeadersTimeoutMs: durationMs(hcm.request_headers_timeout, 0),
    streamIdleTimeoutMs: durationMs(hcm.stream_idle_timeout, 300_000),
    maxRequestHeadersKb: maxKb,
    maxHeadersCount: maxHeaders,
    idleTimeoutMs: durationMs(hcm.common_http_protocol_options?.idle_timeout, 3_600_000),
    useRemoteAddress: hcm.use_remote_address?.value ?? false,
    xffNumTrustedHops: trusted,
    generateRequestId: hcm.generate_request_id?.value ?? true,
    serverName: hcm.server_name ?? 'skiff',
    codecType: hcm.codec_type ?? 'AUTO',
    http2Options: http2OptionsFromConfig((hcm as { http2_protocol_options?: Record<string, unknown> }).http2_protocol_options,
      `${path}.typed_config.http2_protocol_options`),
    pathNormalization,
    xfcc: xfccConfig(hcm as Parameters<typeof xfccConfig>[0], `${path}.typed_config`),
    requestFilterState: requestFilterState.length > 0 ? requestFilterState : undefined,
  };
}
