/**
 * skiff.filters.network.xprotocol.v1.XProtocol (protos/skiff/filters/network/xprotocol/v1/xprotocol.proto),
 * read into what the filter needs.
 */
import type { Any, Duration, RouteConfiguration, UInt32Value } from '../types/envoy.js';
import { ConfigError, UnsupportedConfigError } from '../common/errors.js';
import { checkFields, durationMs, requireString, u32 } from '../config/values.js';
import { getXProtocol, type XProtocolSpec } from '../codec/xprotocol/index.js';
import { DEFAULT_MAX_FRAME_BYTES } from '../codec/xprotocol/codec.js';

export const XPROTOCOL_FILTER_NAME = 'skiff.filters.network.xprotocol';
export const XPROTOCOL_TYPE_URL = 'type.googleapis.com/skiff.filters.network.xprotocol.v1.XProtocol';

/** A request's timeout when neither its frame nor its route sets one (Envoy's route default). */
export const DEFAULT_REQUEST_TIMEOUT_MS = 15_000;
export const DEFAULT_HEARTBEAT_INTERVAL_MS = 15_000;
export const DEFAULT_CONNECTIONS_PER_HOST = 2;

export interface XProtocolMessage {
  stat_prefix?: string;
  protocol?: string;
  route_config?: RouteConfiguration;
  rds?: { route_config_name?: string; config_source?: { ads?: unknown } };
  max_frame_bytes?: UInt32Value;
  request_timeout?: Duration;
  heartbeat?: { upstream_interval?: Duration };
  connections_per_host?: UInt32Value;
  opt_in_goaway?: boolean;
}

export interface XProtocolConfig {
  readonly statPrefix: string;
  /** undefined = auto (Bolt or Dubbo by the first bytes). */
  readonly spec: XProtocolSpec | undefined;
  readonly routeConfig: RouteConfiguration | undefined;
  readonly rdsRouteConfigName: string | undefined;
  readonly maxFrameBytes: number;
  readonly requestTimeoutMs: number;
  readonly heartbeatIntervalMs: number;
  readonly connectionsPerHost: number;
  /** Send opt-in goaway frames on drain (Bolt's MOSN command 100). */
  readonly optInGoaway: boolean;
}

const FIELDS = ['@type', 'stat_prefix', 'protocol', 'route_config', 'rds', 'max_frame_bytes', 'request_timeout', 'heartbeat', 'connections_per_host', 'opt_in_goaway'];

export function xprotocolConfig(any: Any, path: string): XProtocolConfig {
  const m = any as unknown as XProtocolMessage;
  checkFields(m, FIELDS, path);
  const statPrefix = requireString(m.stat_prefix, `${path}.stat_prefix`);
  const protocol = requireString(m.protocol, `${path}.protocol`, 'a protocol name (bolt, dubbo, auto, or a registered one)');
  const spec = protocol === 'auto' ? undefined : getXProtocol(protocol, `${path}.protocol`);
  if ((m.route_config === undefined) === (m.rds === undefined)) throw new ConfigError(`${path}.route_config`, 'exactly one of route_config or rds is required');
  let rdsName: string | undefined;
  if (m.rds !== undefined) {
    rdsName = requireString(m.rds.route_config_name, `${path}.rds.route_config_name`);
    if (m.rds.config_source?.ads === undefined) throw new UnsupportedConfigError(`${path}.rds.config_source`, 'an RDS config source other than ads: {}');
  }
  if (m.heartbeat !== undefined) checkFields(m.heartbeat, ['upstream_interval'], `${path}.heartbeat`);
  const maxFrameBytes = u32(m.max_frame_bytes, DEFAULT_MAX_FRAME_BYTES, `${path}.max_frame_bytes`);
  if (maxFrameBytes < 16) throw new ConfigError(`${path}.max_frame_bytes`, 'must be at least 16');
  const connectionsPerHost = u32(m.connections_per_host, DEFAULT_CONNECTIONS_PER_HOST, `${path}.connections_per_host`);
  if (connectionsPerHost < 1) throw new ConfigError(`${path}.connections_per_host`, 'must be at least 1');
  return {
    statPrefix, spec,
    routeConfig: m.route_config,
    rdsRouteConfigName: rdsName,
    maxFrameBytes,
    requestTimeoutMs: durationMs(m.request_timeout, DEFAULT_REQUEST_TIMEOUT_MS, `${path}.request_timeout`),
    heartbeatIntervalMs: durationMs(m.heartbeat?.upstream_interval, DEFAULT_HEARTBEAT_INTERVAL_MS, `${path}.heartbeat.upstream_interval`),
    connectionsPerHost,
    optInGoaway: m.opt_in_goaway === true,
  };
}
