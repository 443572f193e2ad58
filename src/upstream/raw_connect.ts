/**
 * One raw TCP connection to one host of a cluster, for the network filters that speak bytes or frames
 * themselves (tcp_proxy, the x-protocol multiplexed pool) rather than through an HttpConnectionPool.
 * Does the same accounting as the HTTP/1 pool: the max_connections circuit breaker, the cluster's
 * upstream_cx_* counters, the host's cx_* counters, and the cluster's connect timeout. A cluster with an
 * UpstreamTlsContext transport_socket gets TLS (src/upstream/transport.ts openSocket): the socket is handed over
 * once the handshake and certificate checks are done; a refused certificate is a connect failure.
 *
 * Main thread only.
 */
import type * as net from 'node:net';
import type { SkiffError } from '../common/errors.js';
import type { Cluster, Host } from '../types/upstream.js';
import { connectFailureError, connectTimeoutError, overflowError } from './errors.js';
import { openSocket, type UpstreamTls } from './transport.js';
import { hostKeyOf, hostStatsOf } from './host.js';

export interface RawConnectOptions {
  /** Over the max_connections budget anyway (a pool that has no connection at all), counted as overflow. */
  readonly overBudget?: boolean;
  /** The connection closed, for any reason, after `cb` was called with it (not called after a failed connect). */
  readonly onClose?: (socket: net.Socket) => void;
}

/**
 * Connects to `host`; `cb` runs exactly once, with the connected socket (no-delay set, paused nothing) or an
 * error: SKIFF_UPSTREAM_OVERFLOW (max_connections), SKIFF_UPSTREAM_CONNECT_TIMEOUT, SKIFF_UPSTREAM_CONNECT_FAILURE
 * (the last two retryable on another host). Returns a cancel function that destroys a connection still connecting.
 */
export function connectRaw(cluster: Cluster, host: Host, cb: (err: SkiffError | null, socket?: net.Socket) => void,
  opts: RawConnectOptions = {}): () => void {
  const stats = cluster.stats;
  let budgeted = true;
  if (!cluster.breakers.connections.tryAcquire()) {
    stats.upstream_cx_overflow.inc();
    if (opts.overBudget !== true) {
      cb(overflowError(cluster.name, 'max_connections'));
      return () => {};
    }
    budgeted = false;
  }
  const hs = hostStatsOf(host);
  // The cluster's upstreamTls is the UpstreamTls its transport_socket was built into (src/upstream/cluster.ts).
  const { socket, ready } = openSocket(host, cluster.upstreamTls as UpstreamTls | undefined);
  socket.setNoDelay(true);
  stats.upstream_cx_total.inc();
  stats.upstream_cx_active.inc();
  hs.cx_total++;
  hs.cx_active++;
  let state: 'connecting' | 'open' | 'closed' = 'connecting';
  let timer: NodeJS.Timeout | null = null;
  const fail = (err: SkiffError): void => {
    if (state !== 'connecting') return;
    state = 'closed';
    if (timer !== null) { clearTimeout(timer); timer = null; }
    hs.cx_connect_fail++;
    stats.upstream_cx_connect_fail.inc();
    socket.destroy();
    cb(err);
  };
  if (cluster.connectTimeoutMs > 0) {
    timer = setTimeout(() => {
      timer = null;
      if (state !== 'connecting') return;
      stats.upstream_cx_connect_timeout.inc();
      fail(connectTimeoutError(cluster.name, hostKeyOf(host), cluster.connectTimeoutMs));
    }, cluster.connectTimeoutMs);
  }
  // After connect, errors belong to the user of the socket and are followed by 'close'; this listener only
  // keeps an unhandled socket error from ever reaching the process.
  socket.on('error', (err) => { if (state === 'connecting') fail(connectFailureError(cluster.name, hostKeyOf(host), err)); });
  socket.once(ready, () => {
    if (state !== 'connecting') return;
    state = 'open';
    if (timer !== null) { clearTimeout(timer); timer = null; }
    cb(null, socket);
  });
  socket.once('close', () => {
    const wasOpen = state === 'open';
    state = 'closed';
    stats.upstream_cx_destroy.inc();
    stats.upstream_cx_active.dec();
    hs.cx_active--;
    if (budgeted) cluster.breakers.connections.release();
    if (wasOpen) opts.onClose?.(socket);
  });
  return () => {
    if (state !== 'connecting') return;
    state = 'closed';
    if (timer !== null) { clearTimeout(timer); timer = null; }
    socket.destroy();
  };
}
