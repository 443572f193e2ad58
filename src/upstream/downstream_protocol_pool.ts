/**
 * The connection pool of one host of a `use_downstream_protocol_config` cluster: each request goes upstream
 * in the protocol it arrived in (RequestHead.protocol), HTTP/2 requests on an Http2Pool, HTTP/1.x ones on an
 * Http1Pool, both made on first use. Over TLS each pool offers its own protocol by ALPN (h2 or http/1.1)
 * unless the cluster's TLS context names its alpn_protocols.
 */
import type { ClientConnection, RequestHead } from '../types/http.js';
import type { PoolHandle } from '../types/upstream.js';
import type { AcquireCallback } from './http1_pool.js';
import type { ProtocolPool } from './alpn_pool.js';

export class DownstreamProtocolPool implements ProtocolPool {
  private h1: ProtocolPool | undefined;
  private h2: ProtocolPool | undefined;
  private draining = false;
  private closed = false;

  constructor(private readonly make: (protocol: 'http1' | 'http2') => ProtocolPool) {}

  get activeConnections(): number { return (this.h1?.activeConnections ?? 0) + (this.h2?.activeConnections ?? 0); }
  get pendingRequests(): number { return (this.h1?.pendingRequests ?? 0) + (this.h2?.pendingRequests ?? 0); }
  get isDraining(): boolean { return this.draining; }

  acquire(cb: AcquireCallback, request?: RequestHead): PoolHandle {
    return this.poolFor(request?.protocol === 'http2' ? 'http2' : 'http1').acquire(cb, request);
  }

  /** Each pool ignores a connection it did not hand out, so both are told. */
  release(conn: ClientConnection): void {
    this.h1?.release(conn);
    this.h2?.release(conn);
  }

  drain(): void {
    this.draining = true;
    this.h1?.drain();
    this.h2?.drain();
  }

  close(): void {
    this.draining = true;
    this.closed = true;
    this.h1?.close();
    this.h2?.close();
  }

  reconcile(): void {
    this.h1?.reconcile();
    this.h2?.reconcile();
  }

  private poolFor(protocol: 'http1' | 'http2'): ProtocolPool {
    let p = protocol === 'http2' ? this.h2 : this.h1;
    if (p === undefined) {
      p = this.make(protocol);
      if (protocol === 'http2') this.h2 = p; else this.h1 = p;
      // A drained or closed host still answers: the new pool refuses the work the same way.
      if (this.closed) p.close(); else if (this.draining) p.drain();
    }
    return p;
  }
}
