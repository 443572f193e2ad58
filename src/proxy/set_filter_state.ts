/**
 * set_filter_state, as Envoy documents it: `envoy.filters.http.set_filter_state` (on_request_headers: each
 * request's stream filter state) and `envoy.filters.network.set_filter_state` (on_new_connection: the
 * connection's). Each FilterStateValue formats its format_string with the access-log formatter
 * (src/access_log/format.ts) and stores the text under object_key through an object factory (factory_key,
 * else the object key's own): `envoy.string` keeps the text; the original_dst address keys
 * (`envoy.filters.listener.original_dst.local_ip` / `remote_ip`) accept an `ip:port` address and skip
 * anything else, as Envoy does. read_only objects are set once; shared_with_upstream (NONE, ONCE,
 * TRANSITIVE) says whether an internal listener's connection inherits the object (FilterStateStore
 * .sharedWithUpstream). skip_if_empty leaves the key alone when the text is empty or "-".
 */
import net from 'node:net';
import { ConfigError, UnsupportedConfigError } from '../common/errors.js';
import { compileFormat, type AccessLogEntry, type AccessLogFormatter } from '../access_log/format.js';
import { TLSSocket } from 'node:tls';
import { FilterStateStore } from '../common/filter_state.js';
import type { Any } from '../types/envoy.js';
import type { ConnectionFilterFactory, DownstreamConnection, FilterState, FilterStateObject } from '../types/network.js';
import { DownstreamClientCert } from './xfcc.js';

export const HTTP_SET_FILTER_STATE_TYPE_URL = 'type.googleapis.com/envoy.extensions.filters.http.set_filter_state.v3.Config';
export const NETWORK_SET_FILTER_STATE_TYPE_URL = 'type.googleapis.com/envoy.extensions.filters.network.set_filter_state.v3.Config';
export const HTTP_SET_FILTER_STATE = 'envoy.filters.http.set_filter_state';
export const NETWORK_SET_FILTER_STATE = 'envoy.filters.network.set_filter_state';

export const ORIGINAL_DST_LOCAL_IP = 'envoy.filters.listener.original_dst.local_ip';
export const ORIGINAL_DST_REMOTE_IP = 'envoy.filters.listener.original_dst.remote_ip';

/** How a factory turns the formatted text into an object's value; undefined = the text is not valid for it. */
type Factory = (text: string) => string | undefined;

/** An `ip:port` (IPv6 in brackets) address, normalized; undefined when it is not one. */
function addressObject(text: string): string | undefined {
  const m = /^\[([^\]]+)\]:(\d{1,5})$/.exec(text) ?? /^([^:]+):(\d{1,5})$/.exec(text);
  if (m === null || net.isIP(m[1]!) === 0 || Number(m[2]) > 65535) return undefined;
  return net.isIPv6(m[1]!) ? `[${m[1]}]:${Number(m[2])}` : `${m[1]}:${Number(m[2])}`;
}

/** The object factories Skiff has, by factory key (Envoy's registry names). */
const FACTORIES: ReadonlyMap<string, Factory> = new Map<string, Factory>([
  ['envoy.string', (t) => t],
  [ORIGINAL_DST_LOCAL_IP, addressObject],
  [ORIGINAL_DST_REMOTE_IP, addressObject],
  // Keys Envoy's filters read as plain strings.
  ['envoy.network.upstream_server_name', (t) => t],
  ['envoy.tcp_proxy.cluster', (t) => t],
  ['envoy.upstream.dynamic_host', (t) => t],
]);

export interface FilterStateRule {
  readonly key: string;
  readonly factoryKey: string;
  readonly make: Factory;
  readonly format: AccessLogFormatter;
  readonly readOnly: boolean;
  readonly sharedWithUpstream: FilterStateObject['sharedWithUpstream'];
  readonly skipIfEmpty: boolean;
}

interface FilterStateValueConfig {
  object_key?: string;
  factory_key?: string;
  format_string?: { text_format?: string; text_format_source?: { inline_string?: string }; json_format?: unknown };
  read_only?: boolean;
  shared_with_upstream?: string;
  skip_if_empty?: boolean;
  [field: string]: unknown;
}

const VALUE_FIELDS = new Set(['object_key', 'factory_key', 'format_string', 'read_only', 'shared_with_upstream', 'skip_if_empty']);
const SHARING = ['NONE', 'ONCE', 'TRANSITIVE'] as const;

/** Compiles a list of FilterStateValue (`path` names the list). */
export function compileFilterStateRules(list: readonly FilterStateValueConfig[] | undefined, path: string): FilterStateRule[] {
  return (list ?? []).map((v, i) => {
    const at = `${path}[${i}]`;
    for (const k of Object.keys(v)) if (!VALUE_FIELDS.has(k)) throw new UnsupportedConfigError(`${at}.${k}`, 'field');
    if (typeof v.object_key !== 'string' || v.object_key === '') throw new ConfigError(`${at}.object_key`, 'required');
    const factoryKey = v.factory_key || v.object_key;
    const make = FACTORIES.get(factoryKey);
    if (make === undefined) {
      throw new UnsupportedConfigError(v.factory_key ? `${at}.factory_key` : `${at}.object_key`,
        `object factory ${factoryKey} (Skiff has: ${[...FACTORIES.keys()].join(', ')})`);
    }
    const fs = v.format_string;
    if (fs === undefined) throw new ConfigError(`${at}.format_string`, 'required');
    if (fs.json_format !== undefined) throw new UnsupportedConfigError(`${at}.format_string.json_format`, 'JSON format strings');
    const text = fs.text_format ?? fs.text_format_source?.inline_string;
    if (typeof text !== 'string') throw new UnsupportedConfigError(`${at}.format_string`, 'a format string other than text_format or text_format_source.inline_string');
    const sharing = (v.shared_with_upstream ?? 'NONE') as FilterStateObject['sharedWithUpstream'];
    if (!SHARING.includes(sharing)) throw new ConfigError(`${at}.shared_with_upstream`, `unknown value ${String(sharing)}`);
    return {
      key: v.object_key, factoryKey, make, format: compileFormat(text, `${at}.format_string`),
      readOnly: v.read_only === true, sharedWithUpstream: sharing, skipIfEmpty: v.skip_if_empty === true,
    };
  });
}

/** Sets each rule's object in `state` from `entry`; returns how many were set (skipped: invalid value, read-only key, empty). */
export function applyFilterStateRules(rules: readonly FilterStateRule[], state: FilterState, entry: AccessLogEntry): number {
  let set = 0;
  for (const r of rules) {
    const text = r.format({ ...entry, filterState: state });
    if (r.skipIfEmpty && (text === '' || text === '-')) continue;
    const value = r.make(text);
    if (value === undefined) continue;
    if (state.set(r.key, { value, factoryKey: r.factoryKey, readOnly: r.readOnly, sharedWithUpstream: r.sharedWithUpstream })) set++;
  }
  return set;
}

/** What a set_filter_state entry knows about a connection (addresses, mTLS SANs). */
export interface FilterStateContext {
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly localAddress: string;
  readonly localPort: number;
  readonly peerUriSans?: readonly string[];
  readonly localUriSans?: readonly string[];
}

/** The formatter's entry for a connection and, on HTTP, its request: no upstream, no bytes, no duration yet. */
export function filterStateEntry(c: FilterStateContext, request?: AccessLogEntry['request']): AccessLogEntry {
  const now = Date.now();
  return {
    startMs: now, endMs: now,
    downstreamRemoteAddress: c.remoteAddress, downstreamRemotePort: c.remotePort,
    downstreamLocalAddress: c.localAddress, downstreamLocalPort: c.localPort,
    upstreamHost: '', upstreamCluster: '', bytesReceived: 0, bytesSent: 0, responseFlags: [], terminationDetails: '',
    request, downstreamPeerUriSans: c.peerUriSans, downstreamLocalUriSans: c.localUriSans,
  };
}

/** envoy.filters.network.set_filter_state: on_new_connection, into the connection's filter state. */
export const networkSetFilterStateFactory: ConnectionFilterFactory = {
  names: [NETWORK_SET_FILTER_STATE],
  typeUrls: [NETWORK_SET_FILTER_STATE_TYPE_URL],
  create(typedConfig: Any, path: string) {
    const tc = typedConfig as unknown as { on_new_connection?: Parameters<typeof compileFilterStateRules>[0]; [k: string]: unknown };
    for (const k of Object.keys(tc)) if (k !== '@type' && k !== 'on_new_connection') throw new UnsupportedConfigError(`${path}.typed_config.${k}`, 'field');
    const rules = compileFilterStateRules(tc.on_new_connection, `${path}.typed_config.on_new_connection`);
    return (conn: DownstreamConnection): DownstreamConnection => {
      const state = conn.filterState ?? new FilterStateStore();
      const cert = conn.socket instanceof TLSSocket ? new DownstreamClientCert(conn.socket) : undefined;
      const i = conn.info;
      applyFilterStateRules(rules, state, filterStateEntry({
        remoteAddress: i.remoteAddress, remotePort: i.remotePort, localAddress: i.localAddress, localPort: i.localPort,
        peerUriSans: cert?.peerUriSans, localUriSans: cert?.localUriSans,
      }));
      return conn.filterState === state ? conn : { socket: conn.socket, info: conn.info, initialData: conn.initialData, filterState: state };
    };
  },
};
