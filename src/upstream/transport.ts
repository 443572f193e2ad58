/**
 * How a connection pool opens a socket to a host: plain TCP, or TLS when the cluster has an
 * UpstreamTlsContext transport_socket (src/tls/upstream.ts). `ready` is the event after which the socket
 * may carry requests: 'connect' for TCP, 'secureConnect' for TLS (the handshake and certificate checks are
 * done; a refused certificate is an 'error' before it, i.e. a connect failure).
 */
import net from 'node:net';
import { ConfigError, UnsupportedConfigError } from '../common/errors.js';
import type { Logger } from '../common/logger.js';
import type { Any } from '../types/envoy.js';
import type { Host } from '../types/upstream.js';
import { buildUpstreamTls, type UpstreamTls } from '../tls/upstream.js';
import { internalListeners } from './internal_listeners.js';
import { refusedInternalSocket } from './internal_socket.js';
import { isInternalUpstream } from './internal_upstream.js';

const RAW_BUFFER_TYPE_URL = 'type.googleapis.com/envoy.extensions.transport_sockets.raw_buffer.v3.RawBuffer';
const UPSTREAM_TLS_TYPE_URL = 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext';

export type { UpstreamTls };

/**
 * `ready`: 'adopted' for a socket that is already connected (an auto_config pool hands over the connection
 * whose ALPN chose the protocol): the event is emitted on the next turn, after the pool listens for it.
 */
export interface OpenedSocket { readonly socket: net.Socket; readonly ready: 'connect' | 'secureConnect' | 'adopted' }

/** Opens a pool's next connection to its host (default: `openSocket(host, tls)`). */
export type SocketOpener = (host: Host) => OpenedSocket;

/** An already connected socket as an OpenedSocket (see `ready: 'adopted'`). */
export function adoptSocket(socket: net.Socket): OpenedSocket {
  setImmediate(() => { if (!socket.destroyed) socket.emit('adopted'); });
  return { socket, ready: 'adopted' };
}

export function openSocket(host: Host, tls?: UpstreamTls): OpenedSocket {
  // An internal listener: an in-process connection that behaves like a socket (src/upstream/internal_socket.ts).
  if (host.internal !== undefined) {
    // TLS over an in-process connection is not implemented: refuse rather than send plain text.
    const socket = tls === undefined ? internalListeners.connect(host.internal) : refusedInternalSocket(host.internal.listenerName, 'TLS to an internal listener is not implemented');
    return { socket: socket as unknown as net.Socket, ready: 'connect' };
  }
  // Port 0: a pipe endpoint (src/upstream/cluster.ts), its address the socket's path.
  if (host.port === 0) return { socket: net.connect({ path: host.address }), ready: 'connect' };
  if (tls === undefined) return { socket: net.connect({ host: host.address, port: host.port, noDelay: true }), ready: 'connect' };
  return { socket: tls.connect(host.address, host.port), ready: 'secureConnect' };
}

/** A cluster's transport_socket: undefined for none or raw_buffer. `path` names the field. */
export function upstreamTransport(ts: { name?: string; typed_config?: Any } | undefined, path: string, log?: Logger): UpstreamTls | undefined {
  if (ts === undefined) return undefined;
  const url = ts.typed_config?.['@type'];
  if (url === RAW_BUFFER_TYPE_URL || (url === undefined && ts.name === 'envoy.transport_sockets.raw_buffer')) return undefined;
  // internal_upstream (raw_buffer inside, checked by internalUpstreamOf): no TLS, its metadata is the cluster's concern.
  if (isInternalUpstream(ts)) return undefined;
  if (url === UPSTREAM_TLS_TYPE_URL) return buildUpstreamTls(ts.typed_config!, `${path}.typed_config`, log);
  if (url === undefined && ts.name === 'envoy.transport_sockets.tls') throw new ConfigError(`${path}.typed_config`, `expected ${UPSTREAM_TLS_TYPE_URL}`);
  throw new UnsupportedConfigError(path, `transport socket ${ts.name ?? ''}${url ? ` (${url})` : ''}`);
}
