/**
 * An in-process connection: two Duplex ends that behave like the two sockets of a TCP connection, for
 * Envoy's internal listeners (a cluster endpoint `envoy_internal_address` reaches a listener of the same
 * process without a port). What one end writes the other reads, with:
 *  - backpressure: a write the peer's readable buffer cannot take holds its callback until the peer reads,
 *    so the writer's `write()` returns false and 'drain' follows, as over a socket;
 *  - half-close: `end()` is a FIN (the peer reads EOF and may go on writing);
 *  - close: `destroy()` is a close after what was written (the peer reads EOF; its later writes fail with
 *    EPIPE); `destroy(err)` / `resetAndDestroy()` is a reset (the peer is destroyed with ECONNRESET);
 *  - addresses: the client end's remote is the listener (`envoy://<listener>/`), the listener end's remote
 *    `envoy://internal_client_address/` as Envoy reports it; ports 0.
 * Main thread only.
 */
import { Duplex } from 'node:stream';

/** Envoy's address of the client end of an internal connection. */
export const INTERNAL_CLIENT_ADDRESS = 'envoy://internal_client_address/';

function errnoError(code: 'EPIPE' | 'ECONNRESET' | 'ECONNREFUSED', message: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: ${message}`), { code });
}

export class InternalSocket extends Duplex {
  /** The other end; set once by internalSocketPair. */
  private peer!: InternalSocket;
  /** The peer's write waiting for this end to read (backpressure). */
  private heldWrite: ((err?: Error | null) => void) | undefined;
  /** This end will receive nothing more (EOF pushed). */
  private eofPushed = false;
  readonly connecting = false;
  readonly pending = false;
  bytesRead = 0;
  bytesWritten = 0;
  private timeoutMs = 0;
  private idleTimer: NodeJS.Timeout | undefined;

  constructor(
    readonly localAddress: string,
    readonly remoteAddress: string,
    allowHalfOpen: boolean,
  ) {
    super({ allowHalfOpen });
  }

  readonly localPort = 0;
  readonly remotePort = 0;
  readonly localFamily = 'internal';
  readonly remoteFamily = 'internal';
  get readyState(): string { return this.destroyed ? 'closed' : 'open'; }

  /** @internal */
  attach(peer: InternalSocket): void { this.peer = peer; }

  address(): { address: string; port: number; family: string } {
    return { address: this.localAddress, port: 0, family: 'internal' };
  }

  // Socket options have no meaning in-process; kept so users of a net.Socket need no special case.
  setNoDelay(): this { return this; }
  setKeepAlive(): this { return this; }
  ref(): this { return this; }
  unref(): this { return this; }

  /** As net.Socket: 'timeout' after `ms` without reads or writes (0 turns it off). */
  setTimeout(ms: number, cb?: () => void): this {
    this.timeoutMs = ms;
    if (cb !== undefined) this.once('timeout', cb);
    this.touch();
    return this;
  }

  /** Closes with a reset: the peer sees ECONNRESET. */
  resetAndDestroy(): this {
    return this.destroy(errnoError('ECONNRESET', 'internal connection reset'));
  }

  private touch(): void {
    if (this.idleTimer !== undefined) { clearTimeout(this.idleTimer); this.idleTimer = undefined; }
    if (this.timeoutMs > 0 && !this.destroyed) {
      this.idleTimer = setTimeout(() => { this.idleTimer = undefined; this.emit('timeout'); }, this.timeoutMs);
    }
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    const peer = this.peer;
    if (peer.destroyed || peer.eofPushed) {
      cb(errnoError('EPIPE', 'the other end of the internal connection is closed'));
      return;
    }
    this.bytesWritten += chunk.length;
    if (this.timeoutMs > 0) this.touch();
    // Delivered on a later tick, as a socket would: the reader never runs inside the writer's call (an HTTP
    // client writing a request must not see the response arrive before its write returned).
    process.nextTick(() => {
      if (peer.destroyed || peer.eofPushed) { cb(errnoError('EPIPE', 'the other end of the internal connection is closed')); return; }
      peer.bytesRead += chunk.length;
      if (peer.timeoutMs > 0) peer.touch();
      if (peer.push(chunk)) cb();
      else peer.heldWrite = cb;
    });
  }

  override _read(): void {
    const held = this.heldWrite;
    if (held !== undefined) {
      this.heldWrite = undefined;
      held();
    }
  }

  override _final(cb: (err?: Error | null) => void): void {
    // After every write's callback, i.e. after its bytes were pushed: the EOF comes last.
    process.nextTick(() => { this.peer.receiveEof(); cb(); });
  }

  private receiveEof(): void {
    if (this.eofPushed || this.destroyed) return;
    this.eofPushed = true;
    this.push(null);
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    if (this.idleTimer !== undefined) { clearTimeout(this.idleTimer); this.idleTimer = undefined; }
    const peer = this.peer;
    // A write of the peer that waited for this end to read will never be read.
    const held = this.heldWrite;
    this.heldWrite = undefined;
    held?.(errnoError('EPIPE', 'the other end of the internal connection is closed'));
    if (peer !== undefined && !peer.destroyed) {
      if (err !== null) {
        process.nextTick(() => peer.destroy(errnoError('ECONNRESET', 'internal connection reset by peer')));
      } else {
        // A close: EOF after the bytes this end wrote (deliveries already queued run first), as a FIN after the data.
        process.nextTick(() => peer.receiveEof());
        // A write the peer made that this end held is gone; later ones fail in _write.
      }
    }
    cb(err);
  }
}

/**
 * A connected pair: `client` for the upstream user (tcp_proxy, a connection pool), `server` for the listener.
 * `listenerName` names the target in the client's remoteAddress.
 */
export function internalSocketPair(listenerName: string): { client: InternalSocket; server: InternalSocket } {
  const listenerAddress = `envoy://${listenerName}/`;
  const client = new InternalSocket(INTERNAL_CLIENT_ADDRESS, listenerAddress, false);
  // The listener's end lets its network filter decide half-close (tcp_proxy keeps writing after a FIN).
  const server = new InternalSocket(listenerAddress, INTERNAL_CLIENT_ADDRESS, false);
  client.attach(server);
  server.attach(client);
  // A reset reaches an end before its user may listen (still connecting, not yet accepted): never the process.
  client.on('error', () => {});
  server.on('error', () => {});
  return { client, server };
}

/** A client end whose connection was refused (no internal listener of that name): errors on the next turn. */
export function refusedInternalSocket(listenerName: string, why = `no internal listener named ${listenerName}`): InternalSocket {
  const { client } = internalSocketPair(listenerName);
  process.nextTick(() => client.destroy(errnoError('ECONNREFUSED', why)));
  return client;
}
