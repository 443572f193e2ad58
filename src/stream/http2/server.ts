/**
 * The downstream side of one HTTP/2 connection: reads the client preface and frames, turns each request
 * stream into a DownstreamStream for the proxy (the same contract as HTTP/1.1, src/types/http.ts), and
 * writes responses as HEADERS, DATA and trailers. Many streams are served at once; the proxy sees each as
 * an independent request.
 *
 * Request heads come from HPACK in the HTTP/1 head record layout, so the router and the HTTP/1 upstream
 * encoder read them unchanged. The body arrives as DATA frames (copied out of the input slab, since the
 * proxy may hold a chunk until an upstream write completes) and is handed to the BodyHandler; each chunk
 * handed on gives its bytes back to the stream's flow-control window, so a paused proxy stops the client.
 */
import type { Socket } from 'node:net';
import { SkiffError } from '../../common/errors.js';
import type {
  BodyHandler, DownstreamStream, HeaderList, HeadRewrite, RequestHead, ResponseHead, ServerConnectionHandler,
} from '../../types/http.js';
import type { WasmInstance } from '../../wasm/module.js';
import * as L from '../../wasm/layout.js';
import { CLIENT_PREFACE } from '../../codec/http2/index.js';
import { Http2Connection } from './connection.js';
import { isFailure, type Decoded, type HeaderFailure, type ServerHeaderCodec } from './header_codec.js';
import type { Http2Options } from './options.js';
import { H2Stream } from './stream.js';
import { releaseLater } from './release_queue.js';
import { Deadline, requestDeadlines } from '../deadlines.js';

export type ServerHeaderCodecFactory = (wasm: WasmInstance, options: { maxHeaderBytes: number; maxHeadersCount: number }) => ServerHeaderCodec;

export class Http2ServerConnection extends Http2Connection<Http2ServerStream> {
  private readonly headers: ServerHeaderCodec;
  private prefaceSeen = 0;
  private readonly idleTimeoutMs: number;
  private idleDeadline: Deadline | undefined;

  constructor(wasm: WasmInstance, socket: Socket, readonly handler: ServerConnectionHandler,
    headerCodec: ServerHeaderCodecFactory, options: Http2Options = {}) {
    super(wasm, socket, options);
    this.headers = headerCodec(wasm, { maxHeaderBytes: this.o.maxHeaderBytes, maxHeadersCount: this.o.maxHeadersCount });
    this.idleTimeoutMs = options.idleTimeoutMs ?? 0;
    this.sendPreamble();
    this.armIdle();
    const initial = options.initialData;
    if (initial && initial.length > 0) this.guard(() => this.onData(Buffer.from(initial)));
  }

  /** Matches the 24-byte client preface (possibly split over chunks); a mismatch closes the connection. */
  protected override acceptPrefix(chunk: Buffer): Buffer | undefined {
    const want = CLIENT_PREFACE.length;
    if (this.prefaceSeen >= want) return chunk;
    const n = Math.min(want - this.prefaceSeen, chunk.length);
    if (!chunk.subarray(0, n).equals(CLIENT_PREFACE.subarray(this.prefaceSeen, this.prefaceSeen + n))) {
      this.stats.rx_messaging_error.inc();
      this.connectionError(L.H2E_PROTOCOL_ERROR, 'invalid connection preface', true);
      return undefined;
    }
    this.prefaceSeen += n;
    return chunk.subarray(n);
  }

  protected isPeerStreamId(sid: number): boolean { return (sid & 1) === 1; }

  protected onHeaderBlock(sid: number, ptr: number, len: number, endStream: boolean): void {
    const live = this.streams.get(sid);
    if (live) { this.onTrailers(live, ptr, len, endStream); return; }
    if (!this.isPeerStreamId(sid) || sid <= this.lastPeerStreamId) {
      // Late trailers of a stream this side reset are expected; anything else reuses or rewinds stream ids.
      if (this.wasReset(sid)) { this.discardBlock(this.headers.decodeTrailers(ptr, len)); return; }
      this.stats.rx_messaging_error.inc();
      this.connectionError(L.H2E_PROTOCOL_ERROR, `HEADERS reuses or rewinds stream id ${sid}`);
      return;
    }
    this.lastPeerStreamId = sid;
    const r = this.headers.decodeRequest(ptr, len);
    if (isFailure(r)) { this.requestHeadFailed(sid, r, endStream); return; }
    if (this.state !== 'open') { r.release(); this.refuse(sid); return; }
    if (this.streams.size >= this.o.maxConcurrentStreams) {
      r.release();
      this.stats.stream_refused_errors.inc();
      this.refuse(sid);
      return;
    }
    const stream = new Http2ServerStream(this, sid, r, endStream);
    this.streamOpened(stream);
    this.idleDeadline?.cancel();
    if (endStream) this.streamRemoteEnded(stream);
    this.handler.onRequest(stream);
  }

  private refuse(sid: number): void {
    this.resetStreamId(sid, L.H2E_REFUSED_STREAM);
  }

  private discardBlock(r: Decoded<unknown> | HeaderFailure): void {
    if (!isFailure(r)) { r.release(); return; }
    if (r.failure === 'compression') this.connectionError(L.H2E_COMPRESSION_ERROR, r.detail);
  }

  private requestHeadFailed(sid: number, f: HeaderFailure, endStream: boolean): void {
    switch (f.failure) {
      case 'compression':
        this.connectionError(L.H2E_COMPRESSION_ERROR, f.detail);
        return;
      case 'overflow':
      case 'too_many': {
        // Envoy's answer to an oversized header list: a 431 on that stream, the connection stays.
        (f.failure === 'overflow' ? this.stats.header_overflow : this.stats.too_many_headers).inc();
        const block = this.headers.encodeLocalResponse(431, [], { bodyKind: 'length', contentLength: 0 });
        this.sendHeaderBlock(sid, block, true);
        if (!endStream) this.resetStreamId(sid, L.H2E_NO_ERROR);
        else this.rememberReset(sid);
        return;
      }
      case 'malformed':
        this.stats.rx_messaging_error.inc();
        this.resetStreamId(sid, L.H2E_PROTOCOL_ERROR);
        return;
    }
  }

  private onTrailers(stream: Http2ServerStream, ptr: number, len: number, endStream: boolean): void {
    const r = this.headers.decodeTrailers(ptr, len);
    if (isFailure(r) && r.failure === 'compression') { this.connectionError(L.H2E_COMPRESSION_ERROR, r.detail); return; }
    if (stream.remoteEnded) {
      if (!isFailure(r)) r.release();
      this.resetStream(stream, L.H2E_STREAM_CLOSED, 'HEADERS after END_STREAM');
      return;
    }
    // §8.1: a second HEADERS is a trailer section and must end the stream.
    if (isFailure(r) || !endStream) {
      if (!isFailure(r)) r.release();
      this.stats.rx_messaging_error.inc();
      this.resetStream(stream, L.H2E_PROTOCOL_ERROR, 'malformed trailers');
      return;
    }
    stream.receiveEnd(r);
  }

  protected onStreamData(stream: Http2ServerStream, data: Buffer, endStream: boolean): void {
    stream.receiveData(data, endStream);
  }

  protected onRstStreamFrame(sid: number, code: number): void {
    const stream = this.streams.get(sid);
    if (!stream) {
      if (sid > this.lastPeerStreamId) this.connectionError(L.H2E_PROTOCOL_ERROR, `RST_STREAM on idle stream ${sid}`);
      return;
    }
    // Rapid reset (CVE-2023-44487): a reset soon after opening, before the response completed, is premature.
    const premature = !stream.responseEnded && performance.now() - stream.openedAt < this.o.prematureResetLifetimeMs;
    stream.localEnded = true;
    stream.remoteEnded = true;
    this.rememberReset(sid);
    this.closeStream(stream, premature);
    stream.failed(new SkiffError('SKIFF_DOWNSTREAM_RESET', `downstream reset stream ${sid} (code ${code})`, 'downstream'));
  }

  protected onGoawayFrame(): void {
    // A client's GOAWAY names the last server-initiated stream; Skiff opens none. Its own streams finish.
    if (this.streams.size === 0) this.closeNow();
  }

  protected onPeerHeaderTableSize(size: number): void {
    this.headers.setEncoderTableSize(size);
  }

  /**
   * The response ended while the request body still flows: stop it (RFC 9113 §8.1, RST_STREAM NO_ERROR).
   * A tunnel's end is a half-close instead (§8.5): the client's DATA keeps flowing until its END_STREAM.
   */
  protected onLocalEndBeforeRemote(stream: Http2ServerStream): void {
    if (stream.tunnel) return;
    this.resetStreamId(stream.id, L.H2E_NO_ERROR);
    this.closeStream(stream, false);
    stream.bodyAbandoned();
  }

  protected onStreamClosed(stream: Http2ServerStream): void {
    if (this.streams.size === 0) this.armIdle();
    releaseLater(stream.decoded);
    const t = stream.receivedTrailers;
    if (t) releaseLater(t);
  }

  protected onConnectionClosed(): void {
    this.idleDeadline?.cancel();
    this.headers.release();
  }

  /** The idle timeout runs while no stream is open; it ends the connection gracefully (GOAWAY). */
  private armIdle(): void {
    if (this.idleTimeoutMs <= 0 || this.state !== 'open') return;
    this.idleDeadline ??= new Deadline(() => this.guard(() => { if (this.streams.size === 0) this.drain(); }));
    requestDeadlines.arm(this.idleDeadline, this.idleTimeoutMs);
  }

  // ---- called by the streams ----

  encodeResponse(head: ResponseHead, rewrite: HeadRewrite): Uint8Array { return this.headers.encodeResponse(head, rewrite); }

  encodeLocalResponse(status: number, headers: readonly (readonly [string, string])[], rewrite: HeadRewrite): Uint8Array {
    return this.headers.encodeLocalResponse(status, headers, rewrite);
  }

  encodeTrailers(trailers: HeaderList): Uint8Array { return this.headers.encodeTrailers(trailers); }

  consumed(stream: Http2ServerStream, n: number): void { this.streamConsumed(stream, n); }
}

/** A request head as HTTP/2 frames it: the body's framing comes from END_STREAM and content-length. */
class H2RequestHead implements RequestHead {
  readonly protocol = 'http2';
  readonly bodyKind: 'none' | 'length' | 'chunked';
  readonly contentLength: number;

  constructor(private readonly h: RequestHead, endStream: boolean) {
    const cl = h.headers.get('content-length');
    const n = cl !== undefined && /^\d{1,15}$/.test(cl) ? Number(cl) : -1;
    this.contentLength = endStream ? -1 : n;
    this.bodyKind = endStream ? 'none' : n >= 0 ? 'length' : 'chunked';
  }

  get method(): string { return this.h.method; }
  get target(): string { return this.h.target; }
  get path(): string { return this.h.path; }
  get host(): string { return this.h.host; }
  get headers(): HeaderList { return this.h.headers; }
  get recordPtr(): number { return this.h.recordPtr; }
  /** HTTP/2 carries HTTP/1.1 semantics: forwarded upstream as 1.1, bodies of unknown length streamed. */
  get versionMinor(): number { return 1; }
  get keepAlive(): boolean { return true; }
  get expectContinue(): boolean { return false; }
  get upgrade(): boolean { return false; }
}

/** One request stream of an Http2ServerConnection. */
export class Http2ServerStream extends H2Stream implements DownstreamStream {
  readonly head: RequestHead;
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly localPort: number;
  responseEnded = false;
  /** The response opened a tunnel (HeadRewrite.tunnel): END_STREAM from this side is a half-close. */
  tunnel = false;
  private bodyHandler: BodyHandler | undefined;
  private paused = false;
  /** The request trailers, freed with the stream. */
  get receivedTrailers(): Decoded<HeaderList> | undefined { return this.trailers; }
  private bodyDone = false;
  private delivering = false;
  private received = 0;
  private headWritten = false;
  /** A bodiless response head, held so that it leaves with END_STREAM when the response ends. */
  private heldHead: (() => Uint8Array) | undefined;
  private bodiless = false;
  private aborted = false;
  private drainCb: (() => void) | undefined;
  private abortCb: ((err: SkiffError) => void) | undefined;

  constructor(private readonly conn: Http2ServerConnection, id: number, readonly decoded: Decoded<RequestHead>, endStream: boolean) {
    super(id, conn);
    this.head = new H2RequestHead(decoded.value, endStream);
    this.endReceived = endStream;
    this.bodyDone = endStream;
    const s = conn.socket;
    this.remoteAddress = s.remoteAddress ?? '';
    this.remotePort = s.remotePort ?? 0;
    this.localPort = s.localPort ?? 0;
  }

  // ---- request body ----

  setBodyHandler(h: BodyHandler): void {
    this.bodyHandler = h;
    this.deliver();
  }

  pauseBody(): void { this.paused = true; }

  resumeBody(): void {
    if (!this.paused) return;
    this.paused = false;
    this.conn.guard(() => this.deliver());
  }

  sendContinue(): void { /* expectContinue is always false on HTTP/2 */ }

  override receiveData(data: Buffer, endStream: boolean): void {
    this.received += data.length;
    const cl = this.head.contentLength;
    // RFC 9113 §8.1.1: content-length must match the DATA received.
    if (cl >= 0 && (this.received > cl || (endStream && this.received !== cl))) {
      this.conn.resetStream(this, L.H2E_PROTOCOL_ERROR, 'content-length does not match the DATA received');
      return;
    }
    super.receiveData(data, endStream);
  }

  /** Hands queued body chunks to the handler while it is set and not paused; then the end. */
  protected deliver(): void {
    if (this.delivering || this.bodyDone && this.recvQueue.length === 0) return;
    this.delivering = true;
    try {
      // Bounded by the queue, which only this loop shrinks; a handler that pauses or resets stops it.
      while (this.bodyHandler && !this.paused && this.recvQueue.length > 0 && !this.aborted) {
        const chunk = this.recvQueue.shift()!;
        this.conn.consumed(this, chunk.length);
        this.bodyHandler.onData(chunk);
      }
      if (this.bodyHandler && this.recvQueue.length === 0 && this.endReceived && !this.bodyDone) {
        this.bodyDone = true;
        this.bodyHandler.onEnd(this.trailers?.value);
      }
    } finally {
      this.delivering = false;
    }
  }

  /** The response ended first and the stream was reset: the rest of the body will not come. */
  bodyAbandoned(): void {
    if (this.bodyDone) return;
    this.bodyDone = true;
    this.recvQueue.length = 0;
    this.bodyHandler?.onError(new SkiffError('SKIFF_DOWNSTREAM_RESET', 'request body abandoned: the response ended first', 'downstream'));
  }

  // ---- response ----

  writeHead(head: ResponseHead, rewrite: HeadRewrite): void {
    if (!this.beginResponse(head.status, rewrite)) return;
    // Encoded now unless held (no closure per response on the common path).
    if (this.bodiless) this.heldHead = () => this.conn.encodeResponse(head, rewrite);
    else this.conn.sendHeaders(this, this.conn.encodeResponse(head, rewrite), false);
  }

  writeLocalHead(status: number, headers: readonly (readonly [string, string])[], rewrite: HeadRewrite): void {
    if (!this.beginResponse(status, rewrite)) return;
    if (this.bodiless) this.heldHead = () => this.conn.encodeLocalResponse(status, headers, rewrite);
    else this.conn.sendHeaders(this, this.conn.encodeLocalResponse(status, headers, rewrite), false);
  }

  /**
   * Marks the head written and decides whether the response is bodiless; false when nothing is to be sent.
   * A bodiless head is held and leaves with END_STREAM at end(); it is encoded only then, since HPACK
   * blocks must be encoded in the order they are sent and other streams may send theirs meanwhile.
   */
  private beginResponse(status: number, rewrite: HeadRewrite): boolean {
    if (this.headWritten) throw new SkiffError('SKIFF_H2_HEAD_ALREADY_WRITTEN', 'response head already written', 'internal');
    this.headWritten = true;
    if (this.closed || this.aborted) return false;
    if (rewrite.tunnel === true) { this.tunnel = true; this.bodiless = false; return true; }
    this.bodiless = this.head.method === 'HEAD' || status === 204 || status === 304
      || rewrite.bodyKind === 'none' || (rewrite.bodyKind === 'length' && rewrite.contentLength === 0);
    return true;
  }

  writeBody(chunk: Uint8Array): boolean {
    if (!this.headWritten) throw new SkiffError('SKIFF_H2_NO_HEAD', 'writeBody before the response head', 'internal');
    if (this.bodiless || this.closed || this.aborted) return true;
    return this.conn.sendData(this, chunk);
  }

  onDrain(cb: () => void): void { this.drainCb = cb; }

  drained(): void { this.drainCb?.(); }

  end(trailers?: HeaderList): void {
    if (this.responseEnded || this.aborted) return;
    if (!this.headWritten) throw new SkiffError('SKIFF_H2_NO_HEAD', 'end before the response head', 'internal');
    this.responseEnded = true;
    if (this.closed) return;
    const held = this.heldHead;
    if (held) {
      this.heldHead = undefined;
      this.conn.sendHeaders(this, held(), true);
      return;
    }
    this.conn.endData(this, trailers && trailers.size > 0 ? () => this.conn.encodeTrailers(trailers) : undefined);
  }

  reset(): void {
    if (this.aborted) return;
    this.aborted = true;
    this.conn.resetStream(this, L.H2E_INTERNAL_ERROR, 'reset by the proxy');
  }

  onAbort(cb: (err: SkiffError) => void): void { this.abortCb = cb; }

  failed(err: SkiffError): void {
    if (!this.bodyDone) {
      this.bodyDone = true;
      this.recvQueue.length = 0;
      this.bodyHandler?.onError(err);
    }
    if (this.aborted || this.responseEnded) return;
    this.aborted = true;
    this.abortCb?.(err);
  }
}
