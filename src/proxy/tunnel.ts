/**
 * A byte tunnel between a downstream and an upstream once an upgrade or CONNECT has switched protocols:
 * each side's bytes are written to the other with backpressure (a side that cannot take more pauses the
 * other), a half-close travels across (FIN <-> FIN, HTTP/2 END_STREAM <-> FIN), a reset or error on one side
 * resets the other, and an idle timeout (the connection manager's stream_idle_timeout; 0 = none) resets both.
 * The tunnel is done when both directions have ended or either side reset.
 *
 * Sides: a TCP socket (the upstream connection; an HTTP/1.1 downstream connection handed over by its codec)
 * or an HTTP/2 stream (DATA frames through the DownstreamStream body and response calls; its flow-control
 * window is the backpressure). Main thread only.
 */
import type { Socket } from 'node:net';
import { SkiffError } from '../common/errors.js';
import type { DownstreamStream } from '../types/http.js';
import { Deadline, requestDeadlines } from '../stream/deadlines.js';

export interface TunnelSideEvents {
  onData(chunk: Uint8Array): void;
  /** The peer half-closed: no more bytes from this side. */
  onEnd(): void;
  /** The side is gone without a clean end (reset, error, closed early). */
  onReset(err: SkiffError): void;
}

/** One end of a tunnel. */
export interface TunnelSide {
  /** Starts delivering events (bytes already received first). */
  start(events: TunnelSideEvents): void;
  /** False: wait for onDrain before writing more. */
  write(chunk: Uint8Array): boolean;
  onDrain(cb: () => void): void;
  pause(): void;
  resume(): void;
  /** Half-close: this side sends nothing more. */
  end(): void;
  /** Aborts both directions of this side. */
  reset(): void;
}

function reset(code: string, message: string, source: 'downstream' | 'upstream'): SkiffError {
  return new SkiffError(code, message, source);
}

/** A socket as a tunnel side; `received`: bytes already read from it before the switch. */
export function socketSide(socket: Socket, source: 'downstream' | 'upstream', received?: Uint8Array): TunnelSide {
  let ended = false;
  let closedCleanly = false;
  let drainCb: (() => void) | undefined;
  socket.on('drain', () => drainCb?.());
  return {
    start(events) {
      // Node would answer the peer's FIN with its own: a half-close must leave the other direction open.
      socket.allowHalfOpen = true;
      socket.on('data', (chunk: Buffer) => events.onData(chunk));
      socket.on('end', () => { ended = true; events.onEnd(); });
      socket.on('error', (err) => events.onReset(reset(source === 'upstream' ? 'SKIFF_UPSTREAM_RESET' : 'SKIFF_DOWNSTREAM_RESET',
        `${source} tunnel socket error: ${err.message}`, source)));
      socket.on('close', () => {
        if (closedCleanly) return;
        // Closed before its FIN arrived (or without one): the tunnel cannot end cleanly.
        if (!ended || !socket.writableFinished) {
          events.onReset(reset(source === 'upstream' ? 'SKIFF_UPSTREAM_RESET' : 'SKIFF_DOWNSTREAM_RESET', `${source} closed the tunnel`, source));
        }
      });
      if (received !== undefined && received.length > 0) events.onData(received);
      if (socket.isPaused()) socket.resume();
    },
    write(chunk) { return socket.destroyed ? false : socket.write(chunk); },
    onDrain(cb) { drainCb = cb; },
    pause() { socket.pause(); },
    resume() { socket.resume(); },
    end() { if (!socket.destroyed && !socket.writableEnded) socket.end(); },
    // A reset is told to the peer as one (RST), not as an orderly end it could mistake for a complete stream.
    reset() { closedCleanly = true; if (!socket.destroyed) socket.resetAndDestroy(); },
  };
}

/** An HTTP/2 downstream stream (whose tunnel response head is written) as a tunnel side. */
export function streamSide(stream: DownstreamStream): TunnelSide {
  return {
    start(events) {
      stream.onAbort((err) => events.onReset(err));
      stream.setBodyHandler({
        onData: (chunk) => events.onData(chunk),
        onEnd: () => events.onEnd(),
        onError: (err) => events.onReset(err),
      });
      // A CONNECT whose HEADERS carried END_STREAM has no payload to deliver: its half-close is now.
      if (stream.head.bodyKind === 'none') events.onEnd();
    },
    write(chunk) { return stream.writeBody(chunk); },
    onDrain(cb) { stream.onDrain(cb); },
    pause() { stream.pauseBody(); },
    resume() { stream.resumeBody(); },
    end() { stream.end(); },
    reset() { stream.reset(); },
  };
}

export interface TunnelCounters {
  /** Bytes from downstream to upstream. */
  onUpstreamBytes(n: number): void;
  /** Bytes from upstream to downstream. */
  onDownstreamBytes(n: number): void;
}

export class Tunnel {
  bytesToUpstream = 0;
  bytesToDownstream = 0;
  private downEnded = false;
  private upEnded = false;
  private done = false;
  private idle: Deadline | undefined;

  /** `onDone(clean)`: both directions ended (true) or a side reset / the idle timeout fired (false). Runs once. */
  constructor(private readonly down: TunnelSide, private readonly up: TunnelSide, private readonly idleTimeoutMs: number,
    private readonly counters: TunnelCounters, private readonly onDone: (clean: boolean, err?: SkiffError) => void) {}

  start(): void {
    if (this.idleTimeoutMs > 0) {
      this.idle = new Deadline(() => this.fail(new SkiffError('SKIFF_TUNNEL_IDLE_TIMEOUT', 'tunnel idle timeout', 'downstream')));
      requestDeadlines.arm(this.idle, this.idleTimeoutMs);
    }
    this.up.start({
      onData: (chunk) => this.relay(chunk, this.up, this.down, false),
      onEnd: () => { if (this.upEnded) return; this.upEnded = true; this.down.end(); this.checkDone(); },
      onReset: (err) => this.fail(err),
    });
    this.down.start({
      onData: (chunk) => this.relay(chunk, this.down, this.up, true),
      onEnd: () => { if (this.downEnded) return; this.downEnded = true; this.up.end(); this.checkDone(); },
      onReset: (err) => this.fail(err),
    });
  }

  /** Ends the tunnel now (drain, shutdown): both sides reset. */
  abort(): void {
    this.fail(new SkiffError('SKIFF_TUNNEL_ABORTED', 'tunnel closed by the proxy', 'internal'));
  }

  private relay(chunk: Uint8Array, from: TunnelSide, to: TunnelSide, toUpstream: boolean): void {
    if (this.done) return;
    if (this.idle !== undefined) requestDeadlines.arm(this.idle, this.idleTimeoutMs);
    if (toUpstream) { this.bytesToUpstream += chunk.length; this.counters.onUpstreamBytes(chunk.length); }
    else { this.bytesToDownstream += chunk.length; this.counters.onDownstreamBytes(chunk.length); }
    if (!to.write(chunk)) {
      from.pause();
      to.onDrain(() => { if (!this.done) from.resume(); });
    }
  }

  private checkDone(): void {
    if (this.done || !this.downEnded || !this.upEnded) return;
    this.finish(true);
  }

  private fail(err: SkiffError): void {
    if (this.done) return;
    this.down.reset();
    this.up.reset();
    this.finish(false, err);
  }

  private finish(clean: boolean, err?: SkiffError): void {
    this.done = true;
    this.idle?.cancel();
    this.onDone(clean, err);
  }
}
