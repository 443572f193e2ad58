/**
 * A filter chain's transport_socket on the downstream side: raw_buffer (the socket as it is) or TLS
 * (src/tls/downstream.ts). Main thread only.
 */
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { ConfigError, UnsupportedConfigError } from '../common/errors.js';
import type { Logger } from '../common/logger.js';
import type { Any } from '../types/envoy.js';
import type { TlsStats } from './listener_stats.js';
import { buildDownstreamTls } from '../tls/downstream.js';

export const RAW_BUFFER = 'envoy.transport_sockets.raw_buffer';
export const RAW_BUFFER_TYPE_URL = 'type.googleapis.com/envoy.extensions.transport_sockets.raw_buffer.v3.RawBuffer';
export const TLS_TRANSPORT = 'envoy.transport_sockets.tls';
export const DOWNSTREAM_TLS_TYPE_URL = 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext';
export const UPSTREAM_TLS_TYPE_URL = 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext';

export interface TransportSocketConfig { name: string; typed_config?: Any }

/** What a secured connection learned in its handshake. */
export interface SecuredConnection {
  readonly socket: Duplex;
  readonly serverName: string;
  readonly alpn: string;
  readonly peerSans: readonly string[];
}

export type AcceptOutcome = { ok: true; conn: SecuredConnection } | { ok: false; reason: string };

/** A chain's downstream transport (absent for raw_buffer). */
export interface DownstreamTransport {
  /**
   * Secures a fresh socket. `peeked` are bytes listener filters already read (replayed to the handshake).
   * `done` is called once; on failure the transport has counted it in `stats` and the caller closes the socket.
   */
  accept(socket: Socket, peeked: Buffer, stats: TlsStats, done: (outcome: AcceptOutcome) => void): void;
  /** Stops watching certificate files. */
  dispose(): void;
}

/** Reads a chain's transport_socket; undefined for raw_buffer (or none). */
export function buildDownstreamTransport(ts: TransportSocketConfig | undefined, path: string, log: Logger | undefined): DownstreamTransport | undefined {
  if (ts === undefined) return undefined;
  const url = ts.typed_config?.['@type'];
  if (url === RAW_BUFFER_TYPE_URL || (url === undefined && ts.name === RAW_BUFFER)) return undefined;
  if (url === DOWNSTREAM_TLS_TYPE_URL || (url === undefined && ts.name === TLS_TRANSPORT)) {
    if (ts.typed_config === undefined) throw new ConfigError(`${path}.typed_config`, `expected ${DOWNSTREAM_TLS_TYPE_URL}`);
    return buildDownstreamTls(ts.typed_config, `${path}.typed_config`, log);
  }
  throw new UnsupportedConfigError(path, `transport socket ${ts.name}${url ? ` (${url})` : ''}`);
}
