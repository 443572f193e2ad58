/**
 * The downstream side of one HTTP/1.1 connection: reads requests off a socket through the wasm head
 * parser, hands each to the ServerConnectionHandler as a DownstreamStream, and writes its response.
 * See README.md in this folder for the lifecycle, buffer ownership and backpressure.
 *
 * Reading is a small state machine driven by `pump()`:
 *   head  -> parse the bytes buffered in the head slab until a head is complete
 *   body  -> hand body bytes to the stream's BodyHandler (while it is set and not paused)
 *   rest  -> the request is read; later bytes (pipelined requests) wait in the head slab
 *   error -> a head error was reported; input is discarded until the reply has been flushed
 *   closing / closed
 * A stream completes when its request is read and its response has ended; only then is the next
 * pipelined head parsed, so responses leave in request order and head views stay valid for the stream.
 */
import type { Socket } from 'node:net';
import type {
  BodyHandler, CodecErrorInfo, DownstreamStream, HeadRewrite, RequestHead, ResponseHead, ServerConnectionHandler,
} from '../../types/http.js';
import type { SkiffError } from '../../common/errors.js';
import { logger } from '../../common/logger.js';
import type { WasmInstance } from '../../wasm/module.js';
import { slabPool, type SlabPool } from '../../wasm/slab.js';
import {
  HEAD_NEED_MORE, HEAD_OK, codecError, headLength, encodeLocalResponseHead, encodeResponseHead, parseRequestHead,
  requestHeadView,
} from './codec.js';
import type { HeadBuffer } from './head-buffer.js';
import { HeadSlabs } from './head-slabs.js';
import { BodyReader } from './body-reader.js';
import { BodyWriter } from './framing.js';
import { writeEncodedHead } from './head-writer.js';
import { HCM_DEFAULTS } from '../../config/values.js';
import { Inbox, ReadFlow, ReadPump, TickCork, attachSocket } from './socket-io.js';
import { Deadline, requestDeadlines } from '../deadlines.js';
import {
  downstreamReset, headTooLargeInfo, headersTimeoutInfo, outOfSlabsInfo,
} from './errors.js';
import { SkiffError as Err } from '../../common/errors.js';

const log = logger('http1.server');

export interface ServerConnectionOptions {
  /** Limit on the request head (request line and headers), in KiB. Envoy's max_request_headers_kb; default 60. */
  maxRequestHeadersKb?: number;
  /** Envoy's common_http_protocol_options.max_headers_count; default 100. */
  maxHeadersCount?: number;
  /** Time from a head's first byte to its last; 0 = none. */
  requestHeadersTimeoutMs?: number;
  /** Time without an active request after which the connection closes; 0 = none. */
  idleTimeoutMs?: number;
  /** After this many requests the connection closes (the last response says `connection: close`). */
  maxRequestsPerConnection?: number;
  /** After a final response, how long to wait for the peer to close before destroying the socket (Envoy's delayed_close_timeout, default 1 s). */
  delayedCloseMs?: number;
  /** Bytes already read from the socket (protocol detection, listener filters): parsed before anything else. */
  initialData?: Uint8Array;
}

/** 'tunnel': the connection left HTTP (an upgrade or CONNECT, see detachForTunnel) and reads nothing itself. */
type ReadState = 'head' | 'body' | 'rest' | 'error' | 'closing' | 'tunnel' | 'closed';

const CONTINUE = Buffer.from('HTTP/1.1 100 Continue\r\n\r\n', 'latin1');

export class ServerConnection {
  private readonly pool: SlabPool;
  private readonly slabs: HeadSlabs;
  private readonly buffer: HeadBuffer;
  private readonly maxRequests: number;
  private readonly headersTimeoutMs: number;
  private readonly idleTimeoutMs: number;
  private readonly delayedCloseMs: number;

  private state: ReadState = 'head';
  /** Socket chunks not yet taken in (at most one or two: the socket is paused while they wait). */
  private readonly inbox = new Inbox();
  private scanFrom = 0;
  private needParse = false;
  private readonly pumper = new ReadPump(() => this.step(), () => this.updateFlow());
  private readonly flow: ReadFlow;
  private readonly cork: TickCork;
  private peerEnded = false;
  private requests = 0;

  private stream: Http1ServerStream | undefined;
  private reader: BodyReader | undefined;

  /** request_headers_timeout and the keep-alive idle timeout: created on first use, then re-armed in place. */
  private headersDeadline: Deadline | undefined;
  private idleDeadline: Deadline | undefined;
  private closeTimer: NodeJS.Timeout | undefined;

  constructor(private readonly wasm: WasmInstance, readonly socket: Socket, private readonly handler: ServerConnectionHandler,
    options: ServerConnectionOptions = {}) {
    this.pool = slabPool(wasm);
    this.slabs = new HeadSlabs(wasm, this.pool, options.maxHeadersCount ?? HCM_DEFAULTS.maxHeadersCount,
      options.maxRequestHeadersKb ?? HCM_DEFAULTS.maxRequestHeadersKb);
    this.buffer = this.slabs.buffer;
    this.maxRequests = options.maxRequestsPerConnection ?? 0;
    this.headersTimeoutMs = options.requestHeadersTimeoutMs ?? 0;
    this.idleTimeoutMs = options.idleTimeoutMs ?? 0;
    this.delayedCloseMs = options.delayedCloseMs ?? HCM_DEFAULTS.delayedCloseTimeoutMs;
    this.flow = new ReadFlow(socket);
    this.cork = new TickCork(socket);

    const open = attachSocket(socket, (fn) => this.guard(fn), {
      data: (chunk) => this.onData(chunk),
      end: () => this.onPeerEnd(),
      drain: () => this.stream?.drained(),
      error: (err) => this.onSocketError(err),
      close: () => this.onClose(),
    });
    if (open) this.armIdle();
    const first = options.initialData;
    if (open && first !== undefined && first.length > 0) {
      const chunk = Buffer.isBuffer(first) ? first : Buffer.from(first.buffer, first.byteOffset, first.length);
      this.guard(() => this.onData(chunk));
    }
  }

  /** True once the socket has closed and every buffer is back in the pool. */
  get closed(): boolean { return this.state === 'closed'; }

  /** Closes the connection now (no graceful flush). */
  destroy(): void {
    this.socket.destroy();
  }

  // ---- input ----

  private onData(chunk: Buffer): void {
    if (this.state === 'closed') return;
    if (this.state === 'error' || this.state === 'closing' || this.state === 'tunnel') return; // discarded: a final reply is on its way, or the tunnel reads
    this.inbox.push(chunk);
    this.pump();
  }

  /** Runs the read state machine until it can make no more progress. Re-entrant calls fold into the running one. */
  pump(): void {
    this.pumper.run();
  }

  /** One step of the read state machine; false when nothing could be done. */
  private step(): boolean {
    switch (this.state) {
      case 'head': return this.stepHead();
      case 'body': return this.stepBody();
      case 'rest': return this.takeIntoBuffer(false);
      default: return false;
    }
  }

  private stepHead(): boolean {
    if (this.needParse) return this.parseHead();
    return this.takeIntoBuffer(true);
  }

  /** Copies the next inbox bytes into the head slab. `grow`: the head needs them, so the slab may grow. */
  private takeIntoBuffer(grow: boolean): boolean {
    if (this.inbox.empty) return false;
    if (!this.slabs.ensure()) {
      if (this.state !== 'head') return false; // pipelined bytes wait in the inbox (socket paused) until a head is due
      this.headError(outOfSlabsInfo);
      return true;
    }
    if (this.buffer.full && (!grow || !this.buffer.grow())) {
      if (grow) this.headError(headTooLargeInfo);
      return grow;
    }
    if (this.state === 'head' && this.buffer.length === 0) this.armHeadersTimer();
    this.inbox.copyInto(this.buffer);
    if (this.state === 'head') this.needParse = true;
    return true;
  }

  private parseHead(): boolean {
    this.needParse = false;
    const buf = this.buffer;
    const rc = parseRequestHead(this.wasm, buf.ptr, buf.length, this.scanFrom, this.slabs.recPtr, this.slabs.limits);
    if (rc === HEAD_NEED_MORE) {
      this.scanFrom = buf.length;
      if (buf.full && !buf.canGrow && !this.inbox.empty) this.headError(headTooLargeInfo);
      return true;
    }
    if (rc !== HEAD_OK) {
      this.headError(codecError(rc));
      return true;
    }
    const headBytes = headLength(this.wasm, this.slabs.recPtr);
    buf.consumed = headBytes;
    this.scanFrom = 0;
    this.startStream(requestHeadView(this.wasm, this.slabs.recPtr));
    return true;
  }

  private startStream(head: RequestHead): void {
    this.clearHeadersTimer();
    this.clearIdleTimer();
    this.requests++;
    const reader = new BodyReader(head.bodyKind, head.contentLength);
    this.reader = reader;
    this.state = reader.done ? 'rest' : 'body';
    const stream = new Http1ServerStream(this, head);
    this.stream = stream;
    this.handler.onRequest(stream);
  }

  private stepBody(): boolean {
    const stream = this.stream!;
    const reader = this.reader!;
    const handler = stream.bodyHandler;
    if (!handler || stream.bodyPaused || this.socket.destroyed) return false;
    const r = this.inbox.feedBody(this.buffer, reader, (piece) => handler.onData(piece));
    if (r === undefined) return false;
    if (this.socket.destroyed) return false; // reset from onData
    if (r.error !== undefined) {
      this.bodyFailed(new Err(r.error, `invalid chunked request body (${r.error})`, 'downstream'));
      return true;
    }
    if (r.done) {
      this.state = 'rest';
      stream.deliverEnd(reader.trailers);
      if (stream.responseEnded && this.state === 'rest') this.completeStream();
    }
    return true;
  }

  /** The request body broke off: the handler hears it, the connection cannot be reused. */
  private bodyFailed(err: SkiffError): void {
    const stream = this.stream;
    this.state = 'closing';
    this.inbox.clear();
    stream?.deliverError(err);
    if (stream && !stream.responseEnded) stream.abort(err);
    this.closeGracefully();
  }

  /** Reads the socket only while input can be taken: that is the backpressure towards the client. */
  private updateFlow(): void {
    if (this.state === 'closed' || this.state === 'tunnel') return;
    let pause = !this.inbox.empty;
    if (this.state === 'body') pause ||= !this.stream?.bodyHandler || this.stream.bodyPaused;
    this.flow.set(pause);
  }

  // ---- head errors and timeouts ----

  private headError(info: CodecErrorInfo): void {
    if (this.state !== 'head') return;
    this.state = 'error';
    this.inbox.clear();
    this.clearHeadersTimer();
    this.clearIdleTimer();
    let replied = false;
    const reply = (status: number, body: string): void => {
      if (replied || this.state === 'closed') return;
      replied = true;
      this.guard(() => this.writeFinalReply(status, body));
    };
    try {
      this.handler.onCodecError(info, reply);
    } catch (err) {
      log.warn(`onCodecError handler failed: ${String(err)}`);
      reply(info.status, info.detail);
    }
  }

  private writeFinalReply(status: number, body: string): void {
    const bytes = Buffer.from(body, 'utf8');
    const head = encodeLocalResponseHead(status, [['content-type', 'text/plain']],
      { bodyKind: 'length', contentLength: bytes.length, close: true });
    this.socket.cork();
    this.socket.write(head);
    if (bytes.length > 0) this.socket.write(bytes);
    this.socket.uncork();
    this.closeGracefully();
  }

  private armHeadersTimer(): void {
    if (this.headersTimeoutMs <= 0 || this.headersDeadline?.armed) return;
    this.headersDeadline ??= new Deadline(() => this.guard(() => {
      if (this.state === 'head') this.headError(headersTimeoutInfo);
    }));
    requestDeadlines.arm(this.headersDeadline, this.headersTimeoutMs);
  }

  private armIdle(): void {
    if (this.idleTimeoutMs <= 0 || this.idleDeadline?.armed) return;
    this.idleDeadline ??= new Deadline(() => this.guard(() => {
      if (this.state === 'head' && !this.stream) { this.state = 'closing'; this.closeGracefully(); }
    }));
    requestDeadlines.arm(this.idleDeadline, this.idleTimeoutMs);
  }

  // One method per timer: a keyed `this[which]` access is a megamorphic lookup on every request.
  private clearHeadersTimer(): void {
    this.headersDeadline?.cancel();
  }

  private clearIdleTimer(): void {
    this.idleDeadline?.cancel();
  }

  private clearCloseTimer(): void {
    if (this.closeTimer) { clearTimeout(this.closeTimer); this.closeTimer = undefined; }
  }

  // ---- response side (called by the stream) ----

  /** Whether the connection will close after the response now being written. */
  willClose(head: RequestHead, rewrite: HeadRewrite, bodyKind: HeadRewrite['bodyKind']): boolean {
    return rewrite.close === true || !head.keepAlive || bodyKind === 'close' || this.peerEnded
      || (this.maxRequests > 0 && this.requests >= this.maxRequests);
  }

  /** Holds writes until the end of this tick, so a head and the body written right after it leave in one writev. */
  corkForTick(): void {
    this.cork.hold();
  }

  /** The response is complete: what is held leaves now, before the stream's bookkeeping. */
  flushWrites(): void {
    this.cork.release();
  }

  writeResponseHead(head: ResponseHead, rewrite: HeadRewrite): void {
    this.corkForTick();
    writeEncodedHead(this.wasm, this.pool, this.socket, (out, cap) => encodeResponseHead(this.wasm, head, rewrite, out, cap));
  }

  sendContinue(): void {
    if (!this.socket.destroyed) this.socket.write(CONTINUE);
  }

  /** The current stream's response is complete. */
  responseEnded(stream: Http1ServerStream, close: boolean): void {
    if (stream !== this.stream || this.state === 'closed') return;
    if (close || this.state !== 'rest') {
      // A request whose body is still unread cannot be followed by another one on this connection.
      this.stream = undefined;
      if (this.state === 'body' && !stream.bodyEnded) stream.deliverError(downstreamReset('request body abandoned: the response ended first'));
      this.state = 'closing';
      this.inbox.clear();
      this.closeGracefully();
      return;
    }
    this.completeStream();
  }

  /** Request read and response ended: the next pipelined request may be parsed. */
  private completeStream(): void {
    this.stream = undefined;
    this.reader = undefined;
    this.buffer.compact();
    if (this.buffer.unread === 0) this.releaseBuffers(); // an idle keep-alive connection holds no slab
    this.state = 'head';
    this.scanFrom = 0;
    this.needParse = this.buffer.unread > 0;
    if (this.peerEnded && !this.needParse && this.inbox.empty) { this.state = 'closing'; this.closeGracefully(); return; }
    if (this.needParse) this.armHeadersTimer();
    this.armIdle();
    this.pump();
  }

  /** Flushes what was written, sends FIN, and destroys the socket if the peer has not closed within the delay. */
  private closeGracefully(): void {
    if (this.state === 'closed') return;
    this.flow.set(false); // keep reading (and dropping) so unread input does not turn the close into a reset
    if (!this.socket.writableEnded) this.socket.end();
    if (!this.closeTimer && this.delayedCloseMs > 0) {
      this.closeTimer = setTimeout(() => this.socket.destroy(), this.delayedCloseMs);
      this.closeTimer.unref();
    }
  }

  /**
   * The stream's upgrade or CONNECT response head is written: the connection leaves HTTP. Its socket and the
   * bytes received after the request head go to the caller, which owns the socket from here on; this object
   * only keeps its slabs until the socket closes (the request head view stays readable).
   */
  detachForTunnel(stream: Http1ServerStream): { socket: Socket; received: Buffer } | undefined {
    if (stream !== this.stream || this.state !== 'rest' || this.socket.destroyed) return undefined;
    this.cork.release();
    this.state = 'tunnel';
    this.stream = undefined;
    this.reader = undefined;
    this.clearHeadersTimer();
    this.clearIdleTimer();
    this.clearCloseTimer();
    const pieces: Buffer[] = [];
    if (this.buffer.unread > 0) pieces.push(Buffer.from(this.buffer.unreadView()));
    pieces.push(...this.inbox.takeAll());
    this.buffer.skip(this.buffer.unread);
    return { socket: this.socket, received: Buffer.concat(pieces) };
  }

  // ---- socket lifecycle ----

  private onPeerEnd(): void {
    this.peerEnded = true;
    switch (this.state) {
      case 'head':
        if (!this.stream) { this.state = 'closing'; this.closeGracefully(); }
        return;
      case 'body': {
        const reader = this.reader!;
        if (reader.endOfInput()) return;
        const err = downstreamReset('closed the connection in the middle of the request body');
        this.bodyFailed(err);
        return;
      }
      case 'rest':
        // The request was read in full. With half-open sockets the response may still go out; otherwise
        // node has already ended our side and the response can no longer be delivered.
        if (!this.socket.allowHalfOpen) this.abortStream(downstreamReset('closed the connection before the response'));
        return;
      default:
        return;
    }
  }

  private onSocketError(err: Error): void {
    if (this.state === 'tunnel') return; // the tunnel's own listener hears it
    log.debug(`downstream socket error: ${err.message}`);
    this.abortStream(downstreamReset(`socket error: ${err.message}`, err));
  }

  private abortStream(err: SkiffError): void {
    const stream = this.stream;
    if (!stream) return;
    this.stream = undefined;
    if (!stream.bodyEnded) stream.deliverError(err);
    if (!stream.responseEnded) stream.abort(err);
    this.socket.destroy();
  }

  private onClose(): void {
    if (this.state === 'closed') return;
    if (this.stream) this.abortStream(downstreamReset('connection closed'));
    this.state = 'closed';
    this.inbox.clear();
    this.clearHeadersTimer();
    this.clearIdleTimer();
    this.clearCloseTimer();
    this.releaseBuffers();
  }

  private releaseBuffers(): void {
    this.slabs.release();
  }

  /** Runs a socket callback; a failure is contained to this connection, which is then destroyed. */
  guard(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      log.error(`http1 connection failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}`);
      try {
        this.abortStream(new Err('SKIFF_HTTP1_INTERNAL', `connection failed: ${String(err)}`, 'internal', false, { cause: err }));
      } catch { /* the handler failed again; the socket is destroyed below regardless */ }
      this.socket.destroy();
    }
  }
}

/** One request/response exchange on a ServerConnection. */
class Http1ServerStream implements DownstreamStream {
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly localPort: number;
  bodyHandler: BodyHandler | undefined;
  bodyPaused = false;
  bodyEnded = false;
  responseEnded = false;
  private writer: BodyWriter | undefined;
  private closeAfter = false;
  private pendingClose = false;
  private continueSent = false;
  private drainCb: (() => void) | undefined;
  private abortCb: ((err: SkiffError) => void) | undefined;
  private aborted = false;
  private pendingTrailers: RequestHead['headers'] | undefined;
  private endReady: boolean;

  constructor(private readonly conn: ServerConnection, readonly head: RequestHead) {
    const s = conn.socket;
    this.remoteAddress = s.remoteAddress ?? '';
    this.remotePort = s.remotePort ?? 0;
    this.localPort = s.localPort ?? 0;
    this.endReady = head.bodyKind === 'none' || (head.bodyKind === 'length' && head.contentLength === 0);
  }

  setBodyHandler(h: BodyHandler): void {
    this.bodyHandler = h;
    if (this.endReady && !this.bodyEnded) this.deliverEnd(this.pendingTrailers);
    else this.conn.pump();
  }

  pauseBody(): void { this.bodyPaused = true; }

  resumeBody(): void {
    if (!this.bodyPaused) return;
    this.bodyPaused = false;
    this.conn.guard(() => this.conn.pump());
  }

  sendContinue(): void {
    if (this.continueSent || !this.head.expectContinue || this.writer || this.aborted) return;
    this.continueSent = true;
    this.conn.sendContinue();
  }

  writeHead(head: ResponseHead, rewrite: HeadRewrite): void {
    const { effective, writer } = this.prepare(head.status, rewrite);
    this.conn.writeResponseHead(head, effective);
    this.commit(writer);
  }

  writeLocalHead(status: number, headers: readonly (readonly [string, string])[], rewrite: HeadRewrite): void {
    const { effective, writer } = this.prepare(status, rewrite);
    const bytes = encodeLocalResponseHead(status, headers, effective);
    this.conn.corkForTick();
    this.conn.socket.write(bytes);
    this.commit(writer);
  }

  /** The head is written: body writes go through `writer` from now on. */
  private commit(writer: BodyWriter): void {
    this.writer = writer;
    this.closeAfter = this.pendingClose;
  }

  /** Settles the response framing: HTTP/1.0 clients get close-delimited bodies instead of chunked. */
  private prepare(status: number, rewrite: HeadRewrite): { effective: HeadRewrite; writer: BodyWriter } {
    if (this.writer) throw new Err('SKIFF_HTTP1_HEAD_ALREADY_WRITTEN', 'response head already written', 'internal');
    let bodyKind = rewrite.bodyKind;
    if (this.head.versionMinor === 0 && bodyKind === 'chunked') bodyKind = 'close';
    const bodiless = this.head.method === 'HEAD' || status === 204 || status === 304 || status < 200;
    if (bodiless && bodyKind === 'close') bodyKind = 'none';
    const close = this.conn.willClose(this.head, rewrite, bodyKind);
    this.pendingClose = close;
    const writer = new BodyWriter(this.conn.socket, bodyKind, rewrite.contentLength ?? -1, bodiless);
    let add = rewrite.add;
    // An HTTP/1.0 client keeps the connection only when told so.
    if (this.head.versionMinor === 0 && !close) add = [...(add ?? []), ['connection', 'keep-alive']];
    return { effective: { ...rewrite, bodyKind, close, add }, writer };
  }

  writeBody(chunk: Uint8Array): boolean {
    if (!this.writer) throw new Err('SKIFF_HTTP1_NO_HEAD', 'writeBody before the response head', 'internal');
    return this.writer.write(chunk);
  }

  onDrain(cb: () => void): void { this.drainCb = cb; }

  drained(): void { this.drainCb?.(); }

  end(): void {
    if (this.responseEnded || this.aborted) return;
    if (!this.writer) throw new Err('SKIFF_HTTP1_NO_HEAD', 'end before the response head', 'internal');
    this.writer.end();
    this.conn.flushWrites();
    this.responseEnded = true;
    this.conn.guard(() => this.conn.responseEnded(this, this.closeAfter || this.writer!.broken));
  }

  reset(): void {
    this.aborted = true;
    this.conn.destroy();
  }

  /** See ServerConnection.detachForTunnel; the response head must have been written. */
  detachSocket(): { socket: Socket; received: Buffer } | undefined {
    if (!this.writer || this.aborted) return undefined;
    const taken = this.conn.detachForTunnel(this);
    if (taken !== undefined) this.responseEnded = true;
    return taken;
  }

  onAbort(cb: (err: SkiffError) => void): void { this.abortCb = cb; }

  // ---- called by the connection ----

  deliverEnd(trailers: RequestHead['headers'] | undefined): void {
    if (this.bodyEnded) return;
    this.endReady = true;
    this.pendingTrailers = trailers;
    const h = this.bodyHandler;
    if (!h) return;
    this.bodyEnded = true;
    h.onEnd(trailers);
  }

  deliverError(err: SkiffError): void {
    if (this.bodyEnded) return;
    this.bodyEnded = true;
    this.bodyHandler?.onError(err);
  }

  abort(err: SkiffError): void {
    if (this.aborted || this.responseEnded) return;
    this.aborted = true;
    this.abortCb?.(err);
  }
}
