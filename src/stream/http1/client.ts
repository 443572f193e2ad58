/**
 * The upstream side of one HTTP/1.1 connection: one request at a time (no upstream pipelining), the
 * request head encoded by the wasm codec into a slab and written from it, the response head parsed in
 * wasm from a slab the socket chunks are copied into once, the response body streamed to the
 * ResponseHandler with pause/resume backpressure. See README.md in this folder.
 *
 * Response reading is a small state machine driven by `pump()`: head -> body -> done. Slabs are leased
 * when a response starts arriving and returned when it completes, so an idle pooled connection holds none.
 */
import type { Socket } from 'node:net';
import type {
  ClientConnection, HeadRewrite, RequestHead, ResponseHandler, UpstreamRequest,
} from '../../types/http.js';
import { SkiffError } from '../../common/errors.js';
import { logger } from '../../common/logger.js';
import type { WasmInstance } from '../../wasm/module.js';
import { slabPool, type SlabPool } from '../../wasm/slab.js';
import {
  HEAD_NEED_MORE, HEAD_OK, codecError, headLength, encodeLocalRequestHead, encodeRequestHead, parseResponseHead,
  responseHeadView,
} from './codec.js';
import type { HeadBuffer } from './head-buffer.js';
import { HeadSlabs } from './head-slabs.js';
import { BodyReader } from './body-reader.js';
import { BodyWriter } from './framing.js';
import { writeEncodedHead } from './head-writer.js';
import { CLUSTER_DEFAULTS } from '../../config/values.js';
import { Inbox, ReadFlow, ReadPump, TickCork, attachSocket, writesBatched } from './socket-io.js';
import { UPSTREAM_CONNECTION_BUSY, UPSTREAM_PROTOCOL_ERROR, UpstreamResetError } from './errors.js';

const log = logger('http1.client');

export interface ClientConnectionOptions {
  /** Limit on a response head, in KiB; default 60. */
  maxResponseHeadersKb?: number;
  /** Limit on response header lines; default 100. */
  maxHeadersCount?: number;
}

let nextConnectionId = 1;

export function createClientConnection(wasm: WasmInstance, socket: Socket, options: ClientConnectionOptions = {}): ClientConnection {
  return new Http1ClientConnection(wasm, socket, options);
}

type ResponseState = 'head' | 'body' | 'done';

class Http1ClientConnection implements ClientConnection {
  readonly id = nextConnectionId++;
  private readonly pool: SlabPool;
  private readonly slabs: HeadSlabs;
  private readonly buffer: HeadBuffer;
  private open = true;
  /** False once anything makes the connection unfit for another request. */
  private keepAlive = true;
  private active: Http1UpstreamRequest | undefined;
  private readonly inbox = new Inbox();
  private scanFrom = 0;
  private needParse = false;
  private readonly pumper = new ReadPump(() => this.step(), () => this.updateFlow());
  private readonly flow: ReadFlow;
  private readonly cork: TickCork;
  private readonly closeCbs: (() => void)[] = [];
  /** The socket was handed over after a 101 (ResponseHandler.onSwitchingProtocols): its bytes are not ours. */
  private detached = false;

  constructor(private readonly wasm: WasmInstance, readonly socket: Socket, options: ClientConnectionOptions) {
    this.pool = slabPool(wasm);
    this.slabs = new HeadSlabs(wasm, this.pool, options.maxHeadersCount ?? CLUSTER_DEFAULTS.maxHeadersCount,
      options.maxResponseHeadersKb ?? CLUSTER_DEFAULTS.maxResponseHeadersKb);
    this.buffer = this.slabs.buffer;
    this.flow = new ReadFlow(socket);
    this.cork = new TickCork(socket);
    attachSocket(socket, (fn) => this.guard(fn), {
      data: (chunk) => this.onData(chunk),
      end: () => this.onPeerEnd(),
      drain: () => this.active?.drained(),
      error: (err) => this.onSocketError(err),
      close: () => this.onSocketClose(),
    });
  }

  get reusable(): boolean {
    return this.open && this.keepAlive && !this.active && !this.socket.destroyed;
  }

  request(head: RequestHead, rewrite: HeadRewrite, handler: ResponseHandler): UpstreamRequest {
    const req = this.begin(head.method, rewrite, handler);
    this.sendHead(req, () => writeEncodedHead(this.wasm, this.pool, this.socket,
      (out, cap) => encodeRequestHead(this.wasm, head, rewrite, out, cap)));
    return req;
  }

  requestLocal(method: string, path: string, headers: readonly (readonly [string, string])[], rewrite: HeadRewrite,
    handler: ResponseHandler): UpstreamRequest {
    const req = this.begin(method, rewrite, handler);
    this.sendHead(req, () => this.socket.write(encodeLocalRequestHead(method, path, headers, rewrite)));
    return req;
  }

  /** Writes the request head; if it cannot be encoded the exchange is abandoned and the caller gets the error. */
  private sendHead(req: Http1UpstreamRequest, write: () => void): void {
    // A head followed by a body is held so that the body written in the same event leaves with it in one
    // writev; a head alone leaves at once (no buffering in the stream, and the upstream starts sooner),
    // unless this turn's writes leave together (socket-io.ts, writesBatched).
    if (req.writer.kind !== 'none' || writesBatched()) this.cork.hold();
    try {
      write();
    } catch (err) {
      this.finish(req);
      throw err;
    }
  }

  private begin(method: string, rewrite: HeadRewrite, handler: ResponseHandler): Http1UpstreamRequest {
    if (!this.reusable) {
      throw new SkiffError(UPSTREAM_CONNECTION_BUSY, `upstream connection ${this.id} is ${this.active ? 'busy' : 'not reusable'}`, 'internal');
    }
    if (rewrite.close) this.keepAlive = false;
    const bodyKind = rewrite.bodyKind === 'close' ? 'none' : rewrite.bodyKind;
    const writer = new BodyWriter(this.socket, bodyKind, rewrite.contentLength ?? -1, false);
    const req = new Http1UpstreamRequest(this, method, handler, writer);
    // The previous exchange's head (if its handler started this one from onEnd) is no longer needed.
    this.releaseBuffers();
    this.active = req;
    this.responseState = 'head';
    this.reader = undefined;
    this.scanFrom = 0;
    this.needParse = false;
    return req;
  }

  close(): void {
    this.keepAlive = false;
    const req = this.active;
    if (req && !req.finished) this.reset(req, 'connection closed locally');
    this.socket.destroy();
  }

  onClose(cb: () => void): void {
    if (!this.open) { queueMicrotask(cb); return; }
    this.closeCbs.push(cb);
  }

  // ---- response reading ----

  private responseState: ResponseState = 'done';
  private reader: BodyReader | undefined;

  private onData(chunk: Buffer): void {
    if (this.detached) return;
    if (!this.active || this.responseState === 'done') {
      // Bytes nobody asked for: the connection's framing can no longer be trusted.
      this.keepAlive = false;
      this.socket.destroy();
      return;
    }
    this.active.responseBytes += chunk.length;
    this.inbox.push(chunk);
    this.pump();
  }

  pump(): void {
    this.pumper.run();
  }

  private step(): boolean {
    const req = this.active;
    if (!req || req.finished) return false;
    if (this.responseState === 'head') return this.needParse ? this.parseHead(req) : this.takeIntoBuffer(req);
    if (this.responseState === 'body') return this.stepBody(req);
    return false;
  }

  private takeIntoBuffer(req: Http1UpstreamRequest): boolean {
    if (this.inbox.empty) return false;
    if (!this.slabs.ensure()) {
      this.protocolError(req, 'no buffer available for the response head');
      return true;
    }
    if (this.buffer.full && !this.buffer.grow()) {
      this.protocolError(req, 'response head exceeds the configured limit');
      return true;
    }
    this.inbox.copyInto(this.buffer);
    this.needParse = true;
    return true;
  }

  private parseHead(req: Http1UpstreamRequest): boolean {
    this.needParse = false;
    const buf = this.buffer;
    const rc = parseResponseHead(this.wasm, buf.ptr + buf.consumed, buf.unread, this.scanFrom, this.slabs.recPtr, this.slabs.limits);
    if (rc === HEAD_NEED_MORE) { this.scanFrom = buf.unread; return true; }
    if (rc !== HEAD_OK) {
      this.protocolError(req, `unparsable response head: ${codecError(rc).detail}`);
      return true;
    }
    const headBytes = headLength(this.wasm, this.slabs.recPtr);
    const head = responseHeadView(this.wasm, this.slabs.recPtr, req.method);
    this.scanFrom = 0;
    if (head.status >= 100 && head.status < 200 && head.status !== 101) {
      // Interim response: dropped (100 Continue is announced); the final head follows in the same buffer.
      buf.skip(headBytes);
      buf.compact();
      this.needParse = buf.unread > 0;
      if (head.status === 100) req.handler.onContinue?.();
      return true;
    }
    buf.skip(headBytes);
    if (head.status === 101 && req.handler.onSwitchingProtocols !== undefined) { this.switchProtocols(req, head); return false; }
    const bodyless = req.method === 'HEAD' || head.status === 204 || head.status === 304;
    const kind = bodyless ? 'none' : head.status === 101 ? 'close' : head.bodyKind;
    if (!head.keepAlive || kind === 'close') this.keepAlive = false;
    this.reader = new BodyReader(kind, head.contentLength);
    this.responseState = 'body';
    req.handler.onHead(head);
    if (!req.finished && this.reader?.done) this.responseComplete(req);
    return true;
  }

  /** A 101 the handler takes: the socket and the bytes after the head go to it; this connection is done. */
  private switchProtocols(req: Http1UpstreamRequest, head: ReturnType<typeof responseHeadView>): void {
    const pieces: Buffer[] = [];
    if (this.buffer.unread > 0) pieces.push(Buffer.from(this.buffer.unreadView()));
    pieces.push(...this.inbox.takeAll());
    this.buffer.skip(this.buffer.unread);
    this.detached = true;
    this.keepAlive = false;
    req.finished = true;
    this.active = undefined;
    this.responseState = 'done';
    this.cork.release();
    req.handler.onSwitchingProtocols!(head, this.socket, Buffer.concat(pieces));
  }

  private stepBody(req: Http1UpstreamRequest): boolean {
    if (req.paused) return false;
    const r = this.inbox.feedBody(this.buffer, this.reader!, (piece) => { if (!req.finished) req.handler.onData(piece); });
    if (r === undefined) return false;
    if (req.finished) return true; // aborted from onData
    if (r.error !== undefined) {
      this.protocolError(req, `invalid chunked response body: ${r.error}`);
      return true;
    }
    if (r.done) this.responseComplete(req);
    return true;
  }

  private responseComplete(req: Http1UpstreamRequest): void {
    if (req.finished) return; // aborted by its handler meanwhile
    this.responseState = 'done';
    // Bytes beyond the response, or a request still being sent: this connection cannot carry another exchange.
    if (this.buffer.unread > 0 || !this.inbox.empty || !req.requestEnded) this.keepAlive = false;
    const trailers = this.reader?.trailers;
    this.finish(req, false);
    // The head view reads the slabs: they go back only after the handler has heard the end.
    req.handler.onEnd(trailers);
    if (!this.active) this.releaseBuffers();
    if (!this.keepAlive) this.socket.destroy();
  }

  /** The exchange is over: slabs go back to the pool (unless `keepBuffers`), the connection is free. */
  private finish(req: Http1UpstreamRequest, releaseBuffers = true): void {
    req.finished = true;
    if (this.active === req) this.active = undefined;
    this.reader = undefined;
    this.inbox.clear();
    if (releaseBuffers) this.releaseBuffers();
    this.flow.set(false);
  }

  private releaseBuffers(): void {
    this.slabs.release();
  }

  private protocolError(req: Http1UpstreamRequest, why: string): void {
    this.keepAlive = false;
    this.finish(req);
    this.socket.destroy();
    req.handler.onError(new SkiffError(UPSTREAM_PROTOCOL_ERROR, `upstream protocol error: ${why}`, 'upstream', false));
  }

  /** Reads the socket only while input can be taken: that is the backpressure towards the upstream. */
  updateFlow(): void {
    if (!this.open || this.detached) return;
    this.flow.set(!this.inbox.empty || (this.active?.paused === true && this.responseState === 'body'));
  }

  // ---- socket lifecycle ----

  private onPeerEnd(): void {
    this.keepAlive = false;
    const req = this.active;
    if (!req || req.finished) return;
    // A close-delimited body ends here, once everything buffered has been delivered.
    if (this.responseState === 'body' && this.reader!.kind === 'close') {
      req.peerEnded = true;
      this.pumpEndOfInput(req);
      return;
    }
    this.reset(req, 'closed the connection');
  }

  /** Delivers buffered bytes of a close-delimited body (respecting pause), then ends it. */
  pumpEndOfInput(req: Http1UpstreamRequest): void {
    this.pump();
    if (req.finished || req.paused || this.buffer.unread > 0 || !this.inbox.empty) return;
    this.reader!.endOfInput();
    this.responseComplete(req);
  }

  private onSocketError(err: Error): void {
    this.keepAlive = false;
    log.debug(`upstream connection ${this.id}: ${err.message}`);
    const req = this.active;
    if (req && !req.finished) this.reset(req, `reset the connection (${(err as NodeJS.ErrnoException).code ?? err.message})`, err);
  }

  private reset(req: Http1UpstreamRequest, why: string, cause?: unknown): void {
    this.finish(req);
    this.socket.destroy();
    req.handler.onError(new UpstreamResetError(req.responseBytes, why, { cause }));
  }

  private onSocketClose(): void {
    if (!this.open) return;
    this.keepAlive = false;
    const req = this.active;
    if (req && !req.finished) {
      if (this.responseState === 'body' && this.reader?.kind === 'close' && req.peerEnded) {
        // Closed while a paused close-delimited body was still buffered: what arrived is the whole body.
        this.reader.endOfInput();
        this.pump();
        if (!req.finished) this.responseComplete(req);
      } else {
        this.reset(req, 'closed the connection');
      }
    }
    this.open = false;
    this.releaseBuffers();
    for (const cb of this.closeCbs.splice(0)) {
      try { cb(); } catch (err) { log.error(`onClose callback failed: ${String(err)}`); }
    }
  }

  /** Runs a socket callback; a failure is contained to this connection, which is then destroyed. */
  guard(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      log.error(`upstream connection ${this.id} failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}`);
      this.keepAlive = false;
      const req = this.active;
      if (req && !req.finished) {
        this.finish(req);
        try {
          req.handler.onError(new SkiffError('SKIFF_HTTP1_INTERNAL', `upstream connection failed: ${String(err)}`, 'internal', false, { cause: err }));
        } catch { /* the handler failed again; the socket is destroyed below regardless */ }
      }
      this.socket.destroy();
    }
  }

  // ---- called by the request ----

  /** The request is complete: what is held leaves now, before the caller's bookkeeping. */
  flushWrites(): void {
    this.cork.release();
  }

  requestEnded(req: Http1UpstreamRequest): void {
    if (req.writer.broken) { this.keepAlive = false; }
  }

  abort(req: Http1UpstreamRequest): void {
    if (req.finished) return;
    this.keepAlive = false;
    this.finish(req);
    this.socket.destroy();
  }
}

class Http1UpstreamRequest implements UpstreamRequest {
  paused = false;
  finished = false;
  requestEnded = false;
  peerEnded = false;
  /** Response bytes received (head and body), for reset errors. */
  responseBytes = 0;
  private drainCb: (() => void) | undefined;

  constructor(private readonly conn: Http1ClientConnection, readonly method: string, readonly handler: ResponseHandler,
    readonly writer: BodyWriter) {}

  writeBody(chunk: Uint8Array): boolean {
    if (this.requestEnded) return false;
    return this.writer.write(chunk);
  }

  onDrain(cb: () => void): void { this.drainCb = cb; }

  drained(): void { this.drainCb?.(); }

  end(): void {
    if (this.requestEnded) return;
    this.requestEnded = true;
    this.writer.end();
    this.conn.requestEnded(this);
    this.conn.flushWrites();
  }

  pauseResponse(): void {
    if (this.paused || this.finished) return;
    this.paused = true;
    this.conn.updateFlow();
  }

  resumeResponse(): void {
    if (!this.paused) return;
    this.paused = false;
    this.conn.guard(() => {
      if (this.peerEnded) this.conn.pumpEndOfInput(this);
      else this.conn.pump();
    });
  }

  abort(): void { this.conn.abort(this); }
}

