/**
 * What every HTTP/2 connection does whichever side it is (RFC 9113): reads frames off a socket through the
 * wasm frame parser, keeps the connection state (SETTINGS exchange, PING, GOAWAY, connection and stream flow
 * control, CONTINUATION assembly, flood bounds) and writes frames. The server and client subclasses own the
 * streams' meaning (requests or responses) through the abstract hooks at the bottom.
 *
 * Reading: socket chunks -> InputBuffer (one copy into a slab) -> h2_parse_frame per frame -> dispatch.
 * The socket is never paused: HTTP/2 backpressure is flow control. A stream's receive window is
 * replenished only as its body is handed on (see H2Stream.consumed), so a paused proxy stops the peer.
 * Writing: frames go straight to the socket, corked until the end of the event-loop turn.
 *
 * Threads: main thread only.
 */
import type { Socket } from 'node:net';
import { SkiffError } from '../../common/errors.js';
import { logger } from '../../common/logger.js';
import type { WasmInstance } from '../../wasm/module.js';
import { slabPool, type SlabPool } from '../../wasm/slab.js';
import * as L from '../../wasm/layout.js';
import { FrameCodec, errorName, type Settings } from '../../codec/http2/index.js';
import { attachSocket } from '../http1/socket-io.js';
import { FrameOutput } from './output.js';
import { FloodGuard, type FloodKind } from './flood.js';
import { InputBuffer } from './input.js';
import { resolveOptions, type Http2Options, type ResolvedHttp2Options } from './options.js';
import { Http2Stats } from './stats.js';
import { H2Stream } from './stream.js';

const log = logger('http2');

/** Frames handled per pump call before yielding; each consumes input or ends the pump. */
const PUMP_LIMIT = 1 << 16;
/** The default SETTINGS_INITIAL_WINDOW_SIZE and connection window (RFC 9113 §6.9.2). */
const DEFAULT_WINDOW = 65535;
/** After GOAWAY with an error, how long the peer has to read it before the socket is destroyed. */
const CLOSE_DELAY_MS = 1000;
/** Streams this side reset whose late frames are still expected and ignored (not a stream-id reuse). */
const RECENT_RESETS = 1024;
/** Above this many bytes queued in the socket, control frames are not written any more (outbound flood). */
const MAX_SOCKET_BACKLOG = 16 << 20;

export type ConnState = 'open' | 'draining' | 'closing' | 'closed';

export abstract class Http2Connection<S extends H2Stream = H2Stream> {
  readonly stats: Http2Stats;
  protected readonly o: ResolvedHttp2Options;
  protected readonly pool: SlabPool;
  protected readonly codec: FrameCodec;
  private readonly input: InputBuffer;
  private readonly flood: FloodGuard;
  private readonly out: FrameOutput;
  state: ConnState = 'open';

  readonly streams = new Map<number, S>();
  /** Highest stream id the peer opened (server) or this side opened (client). */
  protected lastPeerStreamId = 0;
  private readonly recentResets = new Set<number>();

  // Peer SETTINGS.
  protected peerMaxFrameSize = L.H2_DEFAULT_MAX_FRAME_SIZE;
  protected peerInitialWindow = DEFAULT_WINDOW;
  protected peerMaxConcurrent = Number.POSITIVE_INFINITY;
  private peerSettingsSeen = false;

  // Connection flow control.
  private connSendWindow = DEFAULT_WINDOW;
  private connRecvConsumed = 0;
  /** Streams with DATA waiting for connection window, in the order they blocked. */
  private readonly blocked = new Set<S>();
  /** Streams waiting for the socket to drain. */
  private readonly drainWaiters = new Set<S>();

  // Header block under assembly (HEADERS without END_HEADERS, then CONTINUATION).
  private openBlock = 0;
  private blockSlab = 0;
  private blockCap = 0;
  private blockLen = 0;
  private blockEndStream = false;

  private pumping = false;
  private pumpAgain = false;
  private closeTimer: NodeJS.Timeout | undefined;
  private goawaySent = false;
  protected goawayLastId = 0x7fffffff;
  protected goawayReceived = false;

  constructor(protected readonly wasm: WasmInstance, readonly socket: Socket, options: Http2Options) {
    this.o = resolveOptions(options);
    this.stats = new Http2Stats(options.stats, options.statsPrefix ?? '');
    this.pool = slabPool(wasm);
    this.codec = new FrameCodec(wasm, this.pool, true);
    this.input = new InputBuffer(wasm, this.pool);
    this.flood = new FloodGuard(this.o);
    this.out = new FrameOutput(socket);
    attachSocket(socket, (fn) => this.guard(fn), {
      data: (chunk) => this.onData(chunk),
      end: () => this.onPeerEnd(),
      drain: () => this.onDrain(),
      error: (err) => log.debug(`socket error: ${err.message}`),
      close: () => this.onSocketClose(),
    });
  }

  /** The SETTINGS this side advertises (sent first; the client's after its preface). */
  protected localSettings(): Settings {
    return {
      headerTableSize: 4096,
      enablePush: 0,
      maxConcurrentStreams: this.o.maxConcurrentStreams,
      initialWindowSize: this.o.initialStreamWindowSize,
      maxFrameSize: L.H2_DEFAULT_MAX_FRAME_SIZE,
      maxHeaderListSize: this.o.maxHeaderBytes,
    };
  }

  /** Writes this side's SETTINGS and opens the connection receive window to its configured size. */
  protected sendPreamble(): void {
    this.write(this.codec.settingsFrame(this.localSettings()), true);
    const extra = this.o.initialConnectionWindowSize - DEFAULT_WINDOW;
    if (extra > 0) this.write(this.codec.windowUpdate(0, extra), true);
  }

  // ---- input ----

  protected onData(chunk: Buffer): void {
    if (this.state === 'closed' || this.state === 'closing') return;
    const rest = this.acceptPrefix(chunk);
    if (rest === undefined || rest.length === 0) return;
    this.input.push(rest);
    this.pump();
  }

  /** Bytes that precede the frames (the client preface on a server); undefined when nothing is left. */
  protected acceptPrefix(chunk: Buffer): Buffer | undefined { return chunk; }

  protected pump(): void {
    if (this.pumping) { this.pumpAgain = true; return; }
    this.pumping = true;
    try {
      for (let i = 0; i < PUMP_LIMIT; i++) {
        this.pumpAgain = false;
        if (!this.step() && !this.pumpAgain) break;
      }
    } finally {
      this.pumping = false;
    }
  }

  /** Handles one frame (or copies more bytes in); false when nothing could be done. */
  private step(): boolean {
    if (this.state === 'closed' || this.state === 'closing') return false;
    const input = this.input;
    const codec = this.codec;
    const rc = input.length === 0 ? L.H2_NEED_MORE
      : codec.parse(input.ptr, input.length, L.H2_DEFAULT_MAX_FRAME_SIZE, this.openBlock);
    if (rc === L.H2_NEED_MORE) return input.fill();
    if (rc === L.H2_CONN_ERR) {
      this.stats.rx_messaging_error.inc();
      this.connectionError(codec.error, `invalid ${frameName(codec.type)} frame`);
      return false;
    }
    const total = L.H2_FRAME_HEADER_SIZE + codec.length;
    if (rc === L.H2_STREAM_ERR) {
      this.stats.rx_messaging_error.inc();
      this.resetStreamId(codec.streamId, codec.error);
    } else {
      this.dispatch(input.ptr);
    }
    input.consume(total);
    return true;
  }

  private dispatch(frame: number): void {
    const c = this.codec;
    const type = c.type;
    const flags = c.flags;
    const sid = c.streamId;
    const endStream = (flags & L.H2_FLAG_END_STREAM) !== 0;
    const empty = c.dataLength === 0 && (
      (type === L.H2_DATA && !endStream) || (type === L.H2_HEADERS && !endStream)
      || (type === L.H2_CONTINUATION && (flags & L.H2_FLAG_END_HEADERS) === 0));
    const flooded = this.flood.frame(empty);
    if (flooded) { this.flooded(flooded); return; }
    switch (type) {
      case L.H2_DATA:
        this.onDataFrame(sid, frame + c.dataOffset, c.dataLength, c.length, endStream);
        return;
      case L.H2_HEADERS:
        if ((flags & L.H2_FLAG_END_HEADERS) !== 0) {
          this.onHeaderBlock(sid, frame + c.dataOffset, c.dataLength, endStream);
        } else {
          this.startBlock(sid, frame + c.dataOffset, c.dataLength, endStream);
        }
        return;
      case L.H2_CONTINUATION:
        this.continueBlock(frame + c.dataOffset, c.dataLength, (flags & L.H2_FLAG_END_HEADERS) !== 0);
        return;
      case L.H2_PRIORITY: {
        const f = this.flood.priorityFrame();
        if (f) this.flooded(f);
        return;
      }
      case L.H2_RST_STREAM:
        this.stats.rx_reset.inc();
        this.onRstStreamFrame(sid, c.error);
        return;
      case L.H2_SETTINGS:
        if ((flags & L.H2_FLAG_ACK) === 0) this.onSettings(c.settings());
        return;
      case L.H2_PING:
        if ((flags & L.H2_FLAG_ACK) === 0) this.writeControl(this.codec.pingAt(frame + L.H2_FRAME_HEADER_SIZE, true));
        return;
      case L.H2_GOAWAY:
        this.goawayReceived = true;
        this.onGoawayFrame(c.value, c.error);
        return;
      case L.H2_WINDOW_UPDATE: {
        const f = this.flood.windowUpdateFrame();
        if (f) { this.flooded(f); return; }
        this.onWindowUpdate(sid, c.value);
        return;
      }
      default:
        return; // unknown frame types are ignored (RFC 9113 §5.5)
    }
  }

  // ---- header blocks ----

  private startBlock(sid: number, ptr: number, len: number, endStream: boolean): void {
    if (this.blockSlab === 0) {
      this.blockCap = Math.min(this.pool.maxLease, Math.max(this.o.maxHeaderBytes, 16384));
      this.blockSlab = this.pool.lease(this.blockCap);
      if (this.blockSlab === 0) { this.connectionError(L.H2E_INTERNAL_ERROR, 'no slab for a header block'); return; }
      this.blockCap = this.pool.sizeOf(this.blockSlab);
    }
    this.openBlock = sid;
    this.blockLen = 0;
    this.blockEndStream = endStream;
    this.appendBlock(ptr, len);
  }

  private continueBlock(ptr: number, len: number, endHeaders: boolean): void {
    if (!this.appendBlock(ptr, len)) return;
    if (!endHeaders) return;
    const sid = this.openBlock;
    this.openBlock = 0;
    this.onHeaderBlock(sid, this.blockSlab, this.blockLen, this.blockEndStream);
    this.releaseBlock();
  }

  /** Appends a fragment; a block beyond the header bound is a CONTINUATION flood (CVE-2024-27316). */
  private appendBlock(ptr: number, len: number): boolean {
    if (this.blockLen + len > Math.min(this.blockCap, this.o.maxHeaderBytes)) {
      this.stats.header_overflow.inc();
      this.connectionError(L.H2E_ENHANCE_YOUR_CALM, 'header block larger than the header list bound');
      return false;
    }
    this.wasm.u8.copyWithin(this.blockSlab + this.blockLen, ptr, ptr + len);
    this.blockLen += len;
    return true;
  }

  private releaseBlock(): void {
    if (this.blockSlab !== 0) { this.pool.release(this.blockSlab); this.blockSlab = 0; }
    this.blockLen = 0;
  }

  // ---- DATA and flow control ----

  private onDataFrame(sid: number, ptr: number, len: number, flowLen: number, endStream: boolean): void {
    // The connection window counts every DATA frame, whatever its stream's state (§6.9).
    if (flowLen > this.o.initialConnectionWindowSize - this.recvOutstanding) {
      this.connectionError(L.H2E_FLOW_CONTROL_ERROR, 'DATA beyond the connection window');
      return;
    }
    this.recvOutstanding += flowLen;
    const stream = this.streams.get(sid);
    if (!stream) {
      this.connConsumed(flowLen);
      if (sid > this.lastPeerStreamId && this.isPeerStreamId(sid)) {
        this.connectionError(L.H2E_PROTOCOL_ERROR, `DATA on idle stream ${sid}`);
      } else if (!this.recentResets.has(sid)) {
        this.resetStreamId(sid, L.H2E_STREAM_CLOSED);
      }
      return;
    }
    if (stream.remoteEnded) {
      this.connConsumed(flowLen);
      this.resetStream(stream, L.H2E_STREAM_CLOSED, 'DATA after END_STREAM');
      return;
    }
    if (flowLen > stream.recvWindow) {
      this.connConsumed(flowLen);
      this.resetStream(stream, L.H2E_FLOW_CONTROL_ERROR, 'DATA beyond the stream window');
      return;
    }
    stream.recvWindow -= flowLen;
    if (flowLen > len) this.streamConsumed(stream, flowLen - len); // padding is consumed at once
    const data = len === 0 ? EMPTY : Buffer.from(this.wasm.u8.subarray(ptr, ptr + len));
    this.onStreamData(stream, data, endStream);
  }

  /** Connection receive window bytes the peer has used and this side has not yet given back. */
  private recvOutstanding = 0;

  /** `n` bytes of DATA were handed on or dropped: give them back to the connection window in batches. */
  private connConsumed(n: number): void {
    this.connRecvConsumed += n;
    if (this.connRecvConsumed >= this.o.initialConnectionWindowSize / 2 && this.state !== 'closed') {
      this.write(this.codec.windowUpdate(0, this.connRecvConsumed), true);
      this.recvOutstanding -= this.connRecvConsumed;
      this.connRecvConsumed = 0;
    }
  }

  /** A stream's body bytes were handed on: replenish its window (while it may still send) and the connection's. */
  streamConsumed(stream: S, n: number): void {
    if (n <= 0) return;
    this.connConsumed(n);
    if (stream.remoteEnded || stream.closed) return;
    stream.recvConsumed += n;
    if (stream.recvConsumed >= this.o.initialStreamWindowSize / 2) {
      this.write(this.codec.windowUpdate(stream.id, stream.recvConsumed), true);
      stream.recvWindow += stream.recvConsumed;
      stream.recvConsumed = 0;
    }
  }

  private onWindowUpdate(sid: number, inc: number): void {
    if (sid === 0) {
      if (this.connSendWindow + inc > L.H2_MAX_WINDOW) {
        this.connectionError(L.H2E_FLOW_CONTROL_ERROR, 'connection window above 2^31-1');
        return;
      }
      this.connSendWindow += inc;
      this.flushBlocked();
      return;
    }
    const stream = this.streams.get(sid);
    if (!stream) {
      if (sid > this.lastPeerStreamId && this.isPeerStreamId(sid)) this.connectionError(L.H2E_PROTOCOL_ERROR, `WINDOW_UPDATE on idle stream ${sid}`);
      return;
    }
    if (stream.sendWindow + inc > L.H2_MAX_WINDOW) {
      this.resetStream(stream, L.H2E_FLOW_CONTROL_ERROR, 'stream window above 2^31-1');
      return;
    }
    stream.sendWindow += inc;
    this.flushStream(stream);
  }

  private onSettings(s: Settings): void {
    if (s.initialWindowSize !== undefined) {
      const delta = s.initialWindowSize - this.peerInitialWindow;
      this.peerInitialWindow = s.initialWindowSize;
      for (const stream of this.streams.values()) {
        if (stream.sendWindow + delta > L.H2_MAX_WINDOW) {
          this.connectionError(L.H2E_FLOW_CONTROL_ERROR, 'SETTINGS_INITIAL_WINDOW_SIZE pushes a window above 2^31-1');
          return;
        }
        stream.sendWindow += delta;
      }
    }
    if (s.maxFrameSize !== undefined) this.peerMaxFrameSize = s.maxFrameSize;
    if (s.maxConcurrentStreams !== undefined) this.peerMaxConcurrent = s.maxConcurrentStreams;
    if (s.headerTableSize !== undefined) this.onPeerHeaderTableSize(s.headerTableSize);
    this.writeControl(this.codec.settingsAck());
    const first = !this.peerSettingsSeen;
    this.peerSettingsSeen = true;
    if (first) this.onFirstPeerSettings();
    if (s.initialWindowSize !== undefined) for (const stream of [...this.streams.values()]) this.flushStream(stream);
  }

  // ---- output ----

  /**
   * Writes frame bytes (gathered until the end of the turn, see output.ts). `transient`: a view that changes
   * after the call (control frames serialized in wasm memory), copied at once.
   */
  write(bytes: Uint8Array, transient = false): void {
    if (this.state === 'closed' || this.socket.destroyed || this.socket.writableEnded) return;
    this.out.bytes(bytes, transient);
  }

  private writeFrameHeader(length: number, type: number, flags: number, sid: number): void {
    if (this.state === 'closed' || this.socket.destroyed || this.socket.writableEnded) return;
    this.out.frameHeader(length, type, flags, sid);
  }

  /** A control frame written in reply to the peer: bounded per window (PING/SETTINGS/RST floods). */
  protected writeControl(bytes: Uint8Array): void {
    const f = this.flood.controlFrameSent(performance.now());
    if (f) { this.flooded(f); return; }
    if (this.socket.writableLength > MAX_SOCKET_BACKLOG) {
      this.stats.outbound_flood.inc();
      this.connectionError(L.H2E_ENHANCE_YOUR_CALM, 'peer does not read its replies', true);
      return;
    }
    this.write(bytes, true);
  }

  /** Sends a stream's header block; with `endStream` this side's half of the stream closes. */
  sendHeaders(stream: S, block: Uint8Array, endStream: boolean): void {
    if (stream.closed || stream.localEnded) return;
    this.sendHeaderBlock(stream.id, block, endStream);
    if (endStream) this.localEnded(stream);
  }

  /**
   * A header block as HEADERS plus CONTINUATION frames no larger than the peer's SETTINGS_MAX_FRAME_SIZE;
   * the block's bytes are copied before this returns.
   */
  protected sendHeaderBlock(sid: number, block: Uint8Array, endStream: boolean): void {
    const max = this.peerMaxFrameSize;
    let off = 0;
    let first = true;
    // Bounded: each pass sends at least one byte of the block (or the single empty frame).
    do {
      const n = Math.min(max, block.length - off);
      const last = off + n >= block.length;
      const type = first ? L.H2_HEADERS : L.H2_CONTINUATION;
      let flags = last ? L.H2_FLAG_END_HEADERS : 0;
      if (first && endStream) flags |= L.H2_FLAG_END_STREAM;
      this.writeFrameHeader(n, type, flags, sid);
      // Transient: a block may be a view of the encoder's slab, reused by the next encode.
      if (n > 0) this.write(n === block.length ? block : block.subarray(off, off + n), true);
      off += n;
      first = false;
    } while (off < block.length);
  }

  /** Queues body bytes on a stream and sends what the windows allow. False: wait for the stream's drain. */
  sendData(stream: S, chunk: Uint8Array): boolean {
    if (chunk.length > 0) { stream.sendQueue.push(chunk); stream.queuedBytes += chunk.length; }
    this.flushStream(stream);
    const ok = stream.queuedBytes === 0 && !this.socket.writableNeedDrain;
    if (!ok) {
      stream.wantsDrain = true;
      if (stream.queuedBytes === 0) this.drainWaiters.add(stream);
    }
    return ok;
  }

  /** Ends the stream after its queued DATA: with trailers (a HEADERS block) or an END_STREAM DATA frame. */
  endData(stream: S, trailers?: () => Uint8Array): void {
    stream.endQueued = true;
    stream.trailerBlock = trailers;
    this.flushStream(stream);
  }

  /** Sends as much of the stream's queue as its window, the connection window and the frame size allow. */
  protected flushStream(stream: S): void {
    if (stream.closed || stream.localEnded || this.state === 'closed') return;
    const q = stream.sendQueue;
    // Bounded: each pass sends a piece or stops on an exhausted window.
    while (q.length > 0) {
      const allowed = Math.min(stream.sendWindow, this.connSendWindow, this.peerMaxFrameSize);
      if (allowed <= 0) {
        if (this.connSendWindow <= 0) this.blocked.add(stream);
        return;
      }
      const head = q[0];
      const piece = head.length <= allowed ? head : head.subarray(0, allowed);
      if (piece === head) q.shift(); else q[0] = head.subarray(allowed);
      stream.queuedBytes -= piece.length;
      stream.sendWindow -= piece.length;
      this.connSendWindow -= piece.length;
      const last = q.length === 0 && stream.endQueued && stream.trailerBlock === undefined;
      this.writeFrameHeader(piece.length, L.H2_DATA, last ? L.H2_FLAG_END_STREAM : 0, stream.id);
      this.write(piece);
      this.flood.dataFrameSent();
      if (last) { this.localEnded(stream); return; }
    }
    if (stream.endQueued) {
      if (stream.trailerBlock !== undefined) this.sendHeaders(stream, stream.trailerBlock(), true);
      else {
        // A body that ends in the turn its last DATA was gathered: END_STREAM rides on that frame.
        if (!this.out.endStreamOnLastData(stream.id, L.H2_DATA, L.H2_FLAG_END_STREAM)) {
          this.writeFrameHeader(0, L.H2_DATA, L.H2_FLAG_END_STREAM, stream.id);
        }
        this.localEnded(stream);
      }
      return;
    }
    // Only a writer that was told to wait hears that it may go on.
    if (!stream.wantsDrain) return;
    if (this.socket.writableNeedDrain) { this.drainWaiters.add(stream); return; }
    stream.wantsDrain = false;
    stream.drained();
  }

  private flushBlocked(): void {
    const list = [...this.blocked];
    this.blocked.clear();
    for (const s of list) this.flushStream(s);
  }

  private onDrain(): void {
    const list = [...this.drainWaiters];
    this.drainWaiters.clear();
    for (const s of list) {
      if (s.closed || !s.wantsDrain) continue;
      if (s.queuedBytes > 0) continue; // still waiting for window: its flush reports the drain
      s.wantsDrain = false;
      s.drained();
    }
  }

  // ---- stream lifecycle ----

  /** This side sent END_STREAM on the stream. */
  private localEnded(stream: S): void {
    stream.localEnded = true;
    stream.sendQueue.length = 0;
    stream.queuedBytes = 0;
    if (stream.remoteEnded) this.closeStream(stream, false);
    else this.onLocalEndBeforeRemote(stream);
  }

  /** The peer sent END_STREAM on the stream. */
  streamRemoteEnded(stream: S): void {
    stream.remoteEnded = true;
    if (stream.localEnded) this.closeStream(stream, false);
  }

  /** Forgets a finished or reset stream; a drained connection closes after its last stream. */
  protected closeStream(stream: S, premature: boolean): void {
    if (stream.closed) return;
    stream.closed = true;
    this.streams.delete(stream.id);
    this.blocked.delete(stream);
    this.drainWaiters.delete(stream);
    this.stats.streams_active.dec();
    this.onStreamClosed(stream);
    const f = this.flood.streamClosed(premature);
    if (f) { this.flooded(f); return; }
    if ((this.state === 'draining' || this.goawayReceived) && this.streams.size === 0) this.closeNow();
  }

  protected streamOpened(stream: S): void {
    this.streams.set(stream.id, stream);
    stream.sendWindow = this.peerInitialWindow;
    stream.recvWindow = this.o.initialStreamWindowSize;
    this.stats.streams_active.inc();
    this.flood.streamOpened();
  }

  /** Resets a live stream: RST_STREAM to the peer, the stream's owner hears `why`. */
  resetStream(stream: S, code: number, why: string): void {
    if (stream.closed) return;
    this.resetStreamId(stream.id, code);
    this.closeStream(stream, false);
    stream.failed(new SkiffError('SKIFF_H2_STREAM_RESET', `stream ${stream.id} reset (${errorName(code)}): ${why}`, 'downstream'));
  }

  /** Sends RST_STREAM for a stream id and remembers it, so the peer's frames in flight are ignored. */
  protected resetStreamId(sid: number, code: number): void {
    this.stats.tx_reset.inc();
    this.rememberReset(sid);
    const s = this.streams.get(sid);
    if (s) { s.localEnded = true; s.remoteEnded = true; }
    this.writeControl(this.codec.rstStream(sid, code));
  }

  protected rememberReset(sid: number): void {
    if (this.recentResets.size >= RECENT_RESETS) {
      const oldest = this.recentResets.values().next().value;
      if (oldest !== undefined) this.recentResets.delete(oldest);
    }
    this.recentResets.add(sid);
  }

  protected wasReset(sid: number): boolean { return this.recentResets.has(sid); }

  // ---- GOAWAY and closing ----

  /** Graceful: GOAWAY NO_ERROR naming the last stream served, then close once the open streams finish. */
  drain(): void {
    if (this.state !== 'open') return;
    this.state = 'draining';
    this.sendGoaway(L.H2E_NO_ERROR);
    if (this.streams.size === 0) this.closeNow();
  }

  private sendGoaway(code: number): void {
    if (this.goawaySent) return;
    this.goawaySent = true;
    this.goawayLastId = this.lastPeerStreamId;
    this.stats.goaway_sent.inc();
    this.write(this.codec.goaway(this.lastPeerStreamId, code), true);
  }

  /** A connection error: GOAWAY with `code`, every stream fails, the socket closes after a short grace. */
  connectionError(code: number, why: string, destroy = false): void {
    if (this.state === 'closing' || this.state === 'closed') return;
    log.debug(`connection error ${errorName(code)}: ${why}`);
    this.sendGoaway(code);
    this.state = 'closing';
    this.failAll(new SkiffError('SKIFF_H2_CONNECTION_ERROR', `HTTP/2 connection error ${errorName(code)}: ${why}`, 'downstream'));
    this.input.release();
    this.releaseBlock();
    if (destroy) { this.out.discard(); this.socket.destroy(); return; }
    this.endSocket();
  }

  private flooded(kind: FloodKind): void {
    this.stats[kind].inc();
    this.connectionError(L.H2E_ENHANCE_YOUR_CALM, kind.replace(/_/g, ' '));
  }

  /** Closes with no stream left (graceful end). */
  protected closeNow(): void {
    if (this.state === 'closing' || this.state === 'closed') return;
    this.state = 'closing';
    this.endSocket();
  }

  private endSocket(): void {
    this.out.flush();
    if (!this.socket.writableEnded) this.socket.end();
    if (!this.closeTimer) {
      this.closeTimer = setTimeout(() => this.socket.destroy(), CLOSE_DELAY_MS);
      this.closeTimer.unref();
    }
  }

  destroy(): void { this.socket.destroy(); }

  private failAll(err: SkiffError): void {
    for (const s of [...this.streams.values()]) {
      this.closeStream(s, false);
      s.failed(err);
    }
  }

  private onPeerEnd(): void {
    if (this.state === 'closed') return;
    if (this.streams.size === 0) { this.closeNow(); return; }
    // Half-closed by the peer: nothing more can arrive, so the streams waiting for input cannot finish.
    this.failAll(new SkiffError('SKIFF_DOWNSTREAM_RESET', 'peer closed the connection', 'downstream'));
    this.closeNow();
  }

  private onSocketClose(): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.out.discard();
    if (this.closeTimer) { clearTimeout(this.closeTimer); this.closeTimer = undefined; }
    this.failAll(new SkiffError('SKIFF_DOWNSTREAM_RESET', 'connection closed', 'downstream'));
    this.input.release();
    this.releaseBlock();
    this.codec.release();
    this.onConnectionClosed();
  }

  /** Runs a socket callback; a failure is contained to this connection, which is then destroyed. */
  guard(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      log.error(`http2 connection failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}`);
      try { this.connectionError(L.H2E_INTERNAL_ERROR, String(err), true); } catch { /* destroyed below */ }
      this.socket.destroy();
    }
  }

  // ---- what a side decides ----

  /** Whether `sid` is a stream id the peer may open (odd for a client's, even for a server's). */
  protected abstract isPeerStreamId(sid: number): boolean;
  /** A complete header block for stream `sid` ([ptr, ptr+len) valid during the call). */
  protected abstract onHeaderBlock(sid: number, ptr: number, len: number, endStream: boolean): void;
  protected abstract onStreamData(stream: S, data: Buffer, endStream: boolean): void;
  protected abstract onRstStreamFrame(sid: number, code: number): void;
  protected abstract onGoawayFrame(lastStreamId: number, code: number): void;
  protected abstract onPeerHeaderTableSize(size: number): void;
  /** This side ended its half of the stream while the peer's is still open. */
  protected abstract onLocalEndBeforeRemote(stream: S): void;
  protected onFirstPeerSettings(): void { /* clients start requests here */ }
  protected abstract onStreamClosed(stream: S): void;
  protected abstract onConnectionClosed(): void;
}

const EMPTY = Buffer.alloc(0);

const FRAME_NAMES = ['DATA', 'HEADERS', 'PRIORITY', 'RST_STREAM', 'SETTINGS', 'PUSH_PROMISE', 'PING', 'GOAWAY', 'WINDOW_UPDATE', 'CONTINUATION'];
function frameName(type: number): string { return FRAME_NAMES[type] ?? `type ${type}`; }
