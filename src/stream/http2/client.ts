/**
 * The upstream side of one HTTP/2 connection: many requests multiplexed on one socket, each an
 * Http2ClientStream (the proxy's UpstreamRequest). src/upstream/http2_pool.ts hands the proxy one
 * Http2ClientLease per request (the ClientConnection contract is one request per connection at a time), so
 * the proxy's close/abort of its lease never takes other streams down.
 *
 * Responses: HEADERS decode through HPACK into a response head record (1xx skipped, 100 reported), DATA goes
 * to the handler and its bytes go back to the stream window as the handler takes them (pauseResponse stops
 * both), a second HEADERS is the trailer section. RST_STREAM and GOAWAY fail the streams they name with a
 * retryable reset when no response byte arrived.
 */
import type { Socket } from 'node:net';
import { SkiffError } from '../../common/errors.js';
import type { ClientConnection, HeaderList, HeadRewrite, RequestHead, ResponseHandler, ResponseHead, UpstreamRequest } from '../../types/http.js';
import type { WasmInstance } from '../../wasm/module.js';
import * as L from '../../wasm/layout.js';
import { CLIENT_PREFACE, errorName } from '../../codec/http2/index.js';
import { UpstreamResetError } from '../http1/errors.js';
import { Http2Connection } from './connection.js';
import { isFailure, type ClientHeaderCodec, type Decoded } from './header_codec.js';
import type { HeaderCodecLimits } from './hpack_codec.js';
import type { Http2Options } from './options.js';
import type { Http2Rewrite } from '../../codec/hpack/index.js';
import { H2Stream } from './stream.js';
import { releaseLater } from './release_queue.js';

export type ClientHeaderCodecFactory = (wasm: WasmInstance, limits: HeaderCodecLimits) => ClientHeaderCodec;

/** Highest client stream id (2^31 - 1, odd); a connection that reaches it takes no more requests. */
const MAX_STREAM_ID = 0x7fffffff;

let nextConnectionId = 1;

export class Http2ClientConnection extends Http2Connection<Http2ClientStream> {
  readonly id = nextConnectionId++;
  private readonly headers: ClientHeaderCodec;
  private nextStreamId = 1;
  /** The peer's first SETTINGS arrived (its limits are known). */
  private peerSettled = false;

  /** The peer's first SETTINGS arrived: `capacity` is known. */
  get settled(): boolean { return this.peerSettled; }
  private readonly closeCallbacks: (() => void)[] = [];
  /** Called when a stream finishes (capacity freed) so the pool can serve a waiting request. */
  onStreamDone: (() => void) | undefined;

  constructor(wasm: WasmInstance, socket: Socket, headerCodec: ClientHeaderCodecFactory, options: Http2Options = {}) {
    super(wasm, socket, options);
    this.headers = headerCodec(wasm, { maxHeaderBytes: this.o.maxHeaderBytes, maxHeadersCount: this.o.maxHeadersCount });
    this.write(CLIENT_PREFACE, true);
    this.sendPreamble();
  }

  /**
   * Streams this connection can still open now (the peer's SETTINGS_MAX_CONCURRENT_STREAMS permitting). None
   * before the peer's first SETTINGS: its stream limit is unknown until then, and streams above it would be
   * refused.
   */
  get capacity(): number {
    if (!this.usable || !this.peerSettled) return 0;
    return Math.max(0, Math.min(this.peerMaxConcurrent, this.o.maxConcurrentStreams) - this.streams.size);
  }

  /** Open, not told to go away, and with stream ids left. */
  get usable(): boolean {
    return this.state === 'open' && !this.goawayReceived && this.nextStreamId < MAX_STREAM_ID && !this.socket.destroyed;
  }

  get activeStreams(): number { return this.streams.size; }

  onClose(cb: () => void): void { this.closeCallbacks.push(cb); }

  close(): void { this.destroy(); }

  /** Opens a stream for a forwarded request head. */
  request(head: RequestHead, rewrite: HeadRewrite, handler: ResponseHandler): Http2ClientStream {
    const withScheme: Http2Rewrite = { ...rewrite, scheme: this.scheme };
    return this.open(head.method, rewrite, handler, () => this.headers.encodeRequest(head, withScheme));
  }

  /** :scheme of the requests sent: the transport's (https over TLS). */
  private get scheme(): string { return (this.socket as { encrypted?: boolean }).encrypted === true ? 'https' : 'http'; }

  /** Opens a stream for a request built from scratch (health checks, mirrors). */
  requestLocal(method: string, path: string, headers: readonly (readonly [string, string])[], rewrite: HeadRewrite, handler: ResponseHandler): Http2ClientStream {
    const authority = headers.find(([n]) => n === 'host')?.[1] ?? `${this.socket.remoteAddress ?? ''}:${this.socket.remotePort ?? 0}`;
    const rest = headers.filter(([n]) => n !== 'host');
    return this.open(method, rewrite, handler, () => this.headers.encodeLocalRequest(method, path, authority, rest, { ...rewrite, scheme: this.scheme } as Http2Rewrite));
  }

  /**
   * Opens a CONNECT stream (RFC 9113 §8.5) to `authority`: the request never ends by itself, its DATA and the
   * response's DATA are the tunnel's bytes (tcp_proxy tunneling_config).
   */
  requestConnect(authority: string, headers: readonly (readonly [string, string])[], handler: ResponseHandler): Http2ClientStream {
    const encode = this.headers.encodeConnectRequest;
    if (encode === undefined) throw new SkiffError('SKIFF_UPSTREAM_CONNECT_UNSUPPORTED', 'this HTTP/2 header codec cannot encode CONNECT', 'internal', false);
    const stream = this.open('CONNECT', { bodyKind: 'chunked' }, handler, () => encode.call(this.headers, authority, headers));
    stream.tunnel = true;
    return stream;
  }

  private open(method: string, rewrite: HeadRewrite, handler: ResponseHandler, encode: () => Uint8Array): Http2ClientStream {
    if (!this.usable) throw new SkiffError('SKIFF_UPSTREAM_CONNECTION_BUSY', 'HTTP/2 connection cannot open more streams', 'upstream', true);
    const sid = this.nextStreamId;
    this.nextStreamId += 2;
    this.lastPeerStreamId = sid; // this side opens the streams: the last one opened bounds a GOAWAY
    const stream = new Http2ClientStream(this, sid, method, handler);
    this.streamOpened(stream);
    const noBody = rewrite.bodyKind === 'none' || (rewrite.bodyKind === 'length' && rewrite.contentLength === 0);
    this.sendHeaders(stream, encode(), noBody);
    if (noBody) stream.requestEnded = true;
    return stream;
  }

  /** The ids whose state this side tracks: its own (odd) ones; lastPeerStreamId is the last it opened. */
  protected isPeerStreamId(sid: number): boolean { return sid % 2 === 1; }

  protected onHeaderBlock(sid: number, ptr: number, len: number, endStream: boolean): void {
    const stream = this.streams.get(sid);
    if (!stream) {
      // A late response of a stream this side reset: decoded for the HPACK state, then dropped.
      if (this.wasReset(sid)) {
        const r = this.headers.decodeTrailers(ptr, len);
        if (!isFailure(r)) r.release();
        else if (r.failure === 'compression') this.connectionError(L.H2E_COMPRESSION_ERROR, r.detail);
        return;
      }
      this.stats.rx_messaging_error.inc();
      this.connectionError(L.H2E_PROTOCOL_ERROR, `HEADERS on unknown stream ${sid}`);
      return;
    }
    if (stream.head === undefined) {
      const r = this.headers.decodeResponse(ptr, len, stream.method, endStream);
      if (isFailure(r)) {
        if (r.failure === 'compression') { this.connectionError(L.H2E_COMPRESSION_ERROR, r.detail); return; }
        this.stats.rx_messaging_error.inc();
        this.resetStream(stream, L.H2E_PROTOCOL_ERROR, `malformed response head: ${r.detail}`);
        return;
      }
      const status = r.value.status;
      if (status < 200) {
        r.release();
        if (status === 100) stream.handler.onContinue?.();
        if (endStream) this.resetStream(stream, L.H2E_PROTOCOL_ERROR, 'informational response ended the stream');
        return;
      }
      stream.receiveHead(r, endStream);
      return;
    }
    const t = this.headers.decodeTrailers(ptr, len);
    if (isFailure(t) || !endStream) {
      if (!isFailure(t)) t.release();
      if (isFailure(t) && t.failure === 'compression') { this.connectionError(L.H2E_COMPRESSION_ERROR, t.detail); return; }
      this.stats.rx_messaging_error.inc();
      this.resetStream(stream, L.H2E_PROTOCOL_ERROR, 'malformed trailers');
      return;
    }
    stream.receiveEnd(t);
  }

  protected onStreamData(stream: Http2ClientStream, data: Buffer, endStream: boolean): void {
    if (stream.head === undefined) {
      this.resetStream(stream, L.H2E_PROTOCOL_ERROR, 'DATA before the response head');
      return;
    }
    stream.receiveData(data, endStream);
  }

  protected onRstStreamFrame(sid: number, code: number): void {
    const stream = this.streams.get(sid);
    if (!stream) return;
    stream.localEnded = true;
    stream.remoteEnded = true;
    this.rememberReset(sid);
    this.closeStream(stream, false);
    stream.failed(new UpstreamResetError(stream.responseBytes, `reset stream ${sid} (${errorName(code)})`));
  }

  protected onGoawayFrame(lastStreamId: number, code: number): void {
    // Streams above the last one the server will process were never seen: retryable elsewhere.
    for (const s of [...this.streams.values()]) {
      if (s.id <= lastStreamId) continue;
      this.closeStream(s, false);
      s.failed(new UpstreamResetError(0, `sent GOAWAY (${errorName(code)}) before stream ${s.id}`));
    }
    if (this.streams.size === 0) this.closeNow();
  }

  protected onPeerHeaderTableSize(size: number): void { this.headers.setEncoderTableSize(size); }

  /** The request was sent in full before the response: normal for a client, nothing to do. */
  protected onLocalEndBeforeRemote(): void { /* the response is still coming */ }

  protected override onFirstPeerSettings(): void {
    this.peerSettled = true;
    this.onStreamDone?.();
  }

  protected onStreamClosed(stream: Http2ClientStream): void {
    if (stream.decoded) releaseLater(stream.decoded);
    if (stream.trailers) releaseLater(stream.trailers);
    queueMicrotask(() => this.onStreamDone?.());
  }

  protected onConnectionClosed(): void {
    this.headers.release();
    for (const cb of this.closeCallbacks) cb();
  }

  consumed(stream: Http2ClientStream, n: number): void { this.streamConsumed(stream, n); }

  /** Request trailers as a header block (encoded when they are sent). */
  encodeTrailersFor(trailers: HeaderList): Uint8Array { return this.headers.encodeTrailers(trailers); }
}

/** One request/response exchange on an Http2ClientConnection. */
export class Http2ClientStream extends H2Stream implements UpstreamRequest {
  head: ResponseHead | undefined;
  decoded: Decoded<ResponseHead> | undefined;
  requestEnded = false;
  responseBytes = 0;
  /**
   * A tunnel (CONNECT, or a POST used as one): the response ending is the peer's half-close, not the end of the
   * exchange, so the request side keeps sending until it ends itself (no RST_STREAM NO_ERROR).
   */
  tunnel = false;
  private paused = false;
  private done = false;
  private aborted = false;
  private drainCb: (() => void) | undefined;

  constructor(private readonly conn: Http2ClientConnection, id: number, readonly method: string, readonly handler: ResponseHandler) {
    super(id, conn);
  }

  // ---- request body (UpstreamRequest) ----

  writeBody(chunk: Uint8Array): boolean {
    if (this.requestEnded || this.aborted || this.closed) return true;
    return this.conn.sendData(this, chunk);
  }

  onDrain(cb: () => void): void { this.drainCb = cb; }

  drained(): void { this.drainCb?.(); }

  end(trailers?: HeaderList): void {
    if (this.requestEnded || this.aborted || this.closed) return;
    this.requestEnded = true;
    this.conn.endData(this, trailers && trailers.size > 0 ? () => this.conn.encodeTrailersFor(trailers) : undefined);
  }

  pauseResponse(): void { this.paused = true; }

  resumeResponse(): void {
    if (!this.paused) return;
    this.paused = false;
    this.conn.guard(() => this.deliver());
  }

  abort(): void {
    if (this.aborted || this.done) return;
    this.aborted = true;
    this.conn.resetStream(this, L.H2E_CANCEL, 'abandoned by the proxy');
  }

  // ---- response (called by the connection) ----

  receiveHead(r: Decoded<ResponseHead>, endStream: boolean): void {
    this.decoded = r;
    this.head = r.value;
    this.responseBytes = 1;
    this.handler.onHead(r.value);
    if (endStream) this.receiveEnd(undefined);
  }

  override receiveData(data: Buffer, endStream: boolean): void {
    this.responseBytes += data.length;
    super.receiveData(data, endStream);
  }

  protected deliver(): void {
    // Bounded by the queue; a handler that pauses or aborts stops it.
    while (!this.paused && this.recvQueue.length > 0 && !this.aborted && !this.done) {
      const chunk = this.recvQueue.shift()!;
      this.conn.consumed(this, chunk.length);
      this.handler.onData(chunk);
    }
    if (!this.paused && this.recvQueue.length === 0 && this.endReceived && !this.done && !this.aborted) {
      this.done = true;
      // A response that ended before the request was sent in full: stop sending (RFC 9113 §8.1).
      if (!this.requestEnded && !this.localEnded && !this.tunnel) this.conn.resetStream(this, L.H2E_NO_ERROR, 'response complete');
      this.handler.onEnd(this.trailers?.value);
    }
  }

  failed(err: SkiffError): void {
    if (this.done || this.aborted) return;
    this.done = true;
    this.handler.onError(err);
  }
}

/**
 * What the pool hands the proxy for one request: a ClientConnection whose request goes out as one stream of
 * the shared connection. Closing the lease aborts only its own stream.
 */
export class Http2ClientLease implements ClientConnection {
  private stream: Http2ClientStream | undefined;

  /** @param onOpen called once when the lease's stream opens (the pool counts leases not yet opened). */
  constructor(readonly conn: Http2ClientConnection, private onOpen?: () => void) {}

  /** The lease's request was started. */
  get opened(): boolean { return this.stream !== undefined; }

  private opening(): void {
    const cb = this.onOpen;
    this.onOpen = undefined;
    cb?.();
  }

  get id(): number { return this.conn.id; }
  get reusable(): boolean { return this.conn.usable; }

  request(head: RequestHead, rewrite: HeadRewrite, handler: ResponseHandler): UpstreamRequest {
    this.opening();
    this.stream = this.conn.request(head, rewrite, handler);
    return this.stream;
  }

  requestLocal(method: string, path: string, headers: readonly (readonly [string, string])[], rewrite: HeadRewrite, handler: ResponseHandler): UpstreamRequest {
    this.opening();
    this.stream = this.conn.requestLocal(method, path, headers, rewrite, handler);
    return this.stream;
  }

  requestConnect(authority: string, headers: readonly (readonly [string, string])[], handler: ResponseHandler): UpstreamRequest {
    this.opening();
    this.stream = this.conn.requestConnect(authority, headers, handler);
    return this.stream;
  }

  /** The lease goes back unused or finished: a never-opened lease gives its reserved stream back. */
  settle(): void { this.opening(); }

  close(): void { this.stream?.abort(); }

  onClose(cb: () => void): void { this.conn.onClose(cb); }
}
