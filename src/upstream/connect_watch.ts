/**
 * The connect phase of a pooled upstream connection, shared by the HTTP/1.1 and HTTP/2 pools: the connect
 * timeout, a connect error, the ready event, and the close that follows either. Counts Envoy's
 * upstream_cx_connect_timeout / upstream_cx_connect_fail and the host's cx_connect_fail. Main thread only.
 */
import type { Duplex } from 'node:stream';
import type { SkiffError } from '../common/errors.js';
import type { HostStats } from '../types/upstream.js';
import type { ClusterStatsImpl } from './cluster_stats.js';
import { connectFailureError, connectTimeoutError } from './errors.js';

/** A pool's record of one connection while it opens. */
export interface ConnectingRecord {
  state: string;
  timer: NodeJS.Timeout | null;
}

export interface ConnectWatch<R extends ConnectingRecord> {
  readonly clusterName: string;
  readonly hostKey: string;
  readonly timeoutMs: number;
  readonly stats: ClusterStatsImpl;
  readonly hostStats: HostStats;
  /** The connect failed or timed out (the record is still 'connecting'). */
  failed(rec: R, err: SkiffError): void;
  /** The socket is ready ('connect' / 'secureConnect'). */
  connected(rec: R): void;
  /** The socket closed, in any state. */
  closed(rec: R): void;
}

/** Arms the connect timeout and the socket listeners of a record in state 'connecting'. */
export function watchConnect<R extends ConnectingRecord>(socket: Duplex, ready: string, rec: R, w: ConnectWatch<R>): void {
  if (w.timeoutMs > 0) {
    rec.timer = setTimeout(() => {
      rec.timer = null;
      if (rec.state !== 'connecting') return;
      w.stats.upstream_cx_connect_timeout.inc();
      w.failed(rec, connectTimeoutError(w.clusterName, w.hostKey, w.timeoutMs));
    }, w.timeoutMs);
  }
  // Errors after connect belong to the codec and are followed by 'close'; this listener only keeps an
  // unhandled socket error from ever reaching the process.
  socket.on('error', (err) => {
    if (rec.state !== 'connecting') return;
    w.stats.upstream_cx_connect_fail.inc();
    w.hostStats.cx_connect_fail++;
    w.failed(rec, connectFailureError(w.clusterName, w.hostKey, err));
  });
  socket.once(ready, () => w.connected(rec));
  socket.once('close', () => w.closed(rec));
}
