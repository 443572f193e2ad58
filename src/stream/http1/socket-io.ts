/**
 * The socket-facing machinery both ends of an HTTP/1.1 connection share (server.ts reads requests, client.ts
 * reads responses): wiring the socket's events, the inbox of socket chunks not yet taken in, the re-entrant
 * read pump, read backpressure (pause/resume) and per-tick corking of writes.
 */
import type { Socket } from 'node:net';
import type { BodyFeed, BodyReader } from './body-reader.js';
import type { HeadBuffer } from './head-buffer.js';

/** Upper bound on pump iterations per call: each iteration consumes input or changes state. */
const PUMP_LIMIT = 1 << 16;

/** Socket chunks not yet taken in, read front to back (few: the socket is paused while any wait). */
export class Inbox {
  private readonly chunks: Buffer[] = [];
  private offset = 0;

  get empty(): boolean { return this.chunks.length === 0; }

  push(chunk: Buffer): void { this.chunks.push(chunk); }

  /** Marks `n` bytes of the first chunk as read; the chunk is dropped once all of it is. */
  consume(n: number): void {
    const first = this.chunks[0];
    if (first === undefined) return; // cleared meanwhile (a handler reset the connection)
    this.offset += n;
    if (this.offset >= first.length) { this.chunks.shift(); this.offset = 0; }
  }

  /** Copies as much of the first chunk as fits into `buffer` (which remembers the chunk, see HeadBuffer). */
  copyInto(buffer: HeadBuffer): void {
    const first = this.chunks[0];
    if (first !== undefined) this.consume(buffer.append(first, this.offset));
  }

  /**
   * Feeds the next body bytes to `reader`: those left in the head buffer first, then the first inbox chunk.
   * Undefined when there are none.
   */
  feedBody(buffer: HeadBuffer, reader: BodyReader, onData: (piece: Uint8Array) => void): BodyFeed | undefined {
    if (buffer.unread > 0) {
      const r = reader.feed(buffer.readable(), onData);
      buffer.skip(r.consumed);
      return r;
    }
    const first = this.chunks[0];
    if (first === undefined) return undefined;
    const r = reader.feed(first.subarray(this.offset), onData);
    this.consume(r.consumed);
    return r;
  }

  /** Takes every unread byte out (the connection leaves HTTP for a tunnel). */
  takeAll(): Buffer[] {
    const out = this.chunks.map((c, i) => (i === 0 ? c.subarray(this.offset) : c));
    this.clear();
    return out;
  }

  /** Drops every chunk (input is being discarded). */
  clear(): void {
    this.chunks.length = 0;
    this.offset = 0;
  }
}

/**
 * Runs a read state machine step by step until it makes no more progress, then `settle()` (the flow update).
 * A run requested from inside a step (a handler resuming the stream) folds into the running one.
 */
export class ReadPump {
  private running = false;
  private again = false;

  /** @param step one step; false when nothing could be done */
  constructor(private readonly step: () => boolean, private readonly settle: () => void) {}

  run(): void {
    if (this.running) { this.again = true; return; }
    this.running = true;
    try {
      for (let i = 0; i < PUMP_LIMIT; i++) {
        this.again = false;
        if (!this.step() && !this.again) break;
      }
    } finally {
      this.running = false;
    }
    this.settle();
  }
}

/** Pauses and resumes reading a socket, remembering which it did: the backpressure towards the peer. */
export class ReadFlow {
  private paused = false;

  constructor(private readonly socket: Socket) {}

  /** Reads while `pause` is false, stops reading while it is true. */
  set(pause: boolean): void {
    if (pause && !this.paused) { this.paused = true; this.socket.pause(); }
    else if (!pause && this.paused) { this.paused = false; this.socket.resume(); }
  }
}

/** Corked sockets to uncork, in the order they were corked. */
const pendingUncork: TickCork[] = [];
let flushScheduled = false;
/** How many socket event handlers (attachSocket) are running. */
let eventDepth = 0;
/** Socket events handled in this event-loop turn so far. */
let eventsThisTurn = 0;
/** The previous turn handled at least BUSY_EVENTS socket events: this turn's writes leave together at its end. */
let busy = false;
/**
 * Measured (wrk -c64, 2 vCPUs): writing each event's output as the event ends cost ~4 us more CPU per request
 * than writing a busy turn's output together (the peers are woken once per batch instead of once per write);
 * at a low rate, holding writes to the end of the turn only adds latency. A turn with this many events or
 * more is busy.
 */
const BUSY_EVENTS = 4;

/**
 * Uncorks every socket corked so far: when the outermost socket event handler returns (turns that are not
 * busy: the peer starts on the writes while this thread does its bookkeeping), and at the end of every turn
 * (busy turns, and writes held outside any socket event: timers, connects).
 */
function flushCorked(): void {
  // Bounded: a socket corked again from inside this flush is left for the next flush (the length is read once).
  const n = pendingUncork.length;
  for (let i = 0; i < n; i++) pendingUncork[i].flush();
  pendingUncork.splice(0, n);
  if (pendingUncork.length > 0) scheduleFlush();
}

function endOfTurn(): void {
  flushScheduled = false;
  busy = eventsThisTurn >= BUSY_EVENTS;
  eventsThisTurn = 0;
  flushCorked();
}

function scheduleFlush(): void {
  if (!flushScheduled) { flushScheduled = true; setImmediate(endOfTurn); }
}

/** Whether writes made now are held to the end of the turn (a busy turn, inside a socket event). */
export function writesBatched(): boolean {
  return busy && eventDepth > 0;
}

/**
 * Runs a socket event handler; writes held during it are flushed when the outermost handler returns, or at
 * the end of the turn when the turn is busy. Exported for tests; attachSocket wraps every event with it.
 */
export function inSocketEvent<A>(fn: (arg: A) => void, arg: A): void {
  if (eventDepth === 0) {
    eventsThisTurn++;
    scheduleFlush(); // the end of the turn: counts the turn's events, flushes what a busy turn held
  }
  eventDepth++;
  try {
    fn(arg);
  } finally {
    if (--eventDepth === 0 && !busy && pendingUncork.length > 0) flushCorked();
  }
}

/** For tests: forgets the load seen so far (the next turn starts as not busy). */
export function resetTurnLoad(): void {
  busy = false;
  eventsThisTurn = 0;
}

/**
 * Holds a socket's writes until the socket event being handled returns (or, in a busy turn or outside any
 * event, until the end of this event-loop turn), so a head and the body written right after it leave in one
 * writev.
 */
export class TickCork {
  private corked = false;

  constructor(private readonly socket: Socket) {}

  hold(): void {
    if (this.corked || this.socket.destroyed) return;
    this.corked = true;
    this.socket.cork();
    pendingUncork.push(this);
    if (eventDepth === 0) scheduleFlush();
  }

  /**
   * A message is complete: its held writes leave now, before the bookkeeping that follows (pool release,
   * stats, the next pipelined request), which then overlaps with the peer's work. In a busy turn they stay
   * held and leave with the turn's other writes.
   */
  release(): void {
    if (!writesBatched()) this.flush();
  }

  /** Releases the held writes now. */
  flush(): void {
    if (!this.corked) return;
    this.corked = false;
    try {
      this.socket.uncork();
    } catch {
      // A socket that fails while writing reports it through its own 'error' event; other sockets still flush.
    }
  }
}

/** What a connection does on each of its socket's events. */
export interface SocketEvents {
  data(chunk: Buffer): void;
  end(): void;
  drain(): void;
  error(err: Error): void;
  close(): void;
}

/**
 * Wires a connection to its socket, each event run under `guard` (which contains a failure to the connection).
 * Turns Nagle off: heads and bodies are written separately, and Nagle would hold the second write for an ACK.
 * Returns false when the socket was destroyed already; `close` then runs on the next microtask.
 */
export function attachSocket(socket: Socket, guard: (fn: () => void) => void, on: SocketEvents): boolean {
  socket.setNoDelay(true);
  const data = (chunk: Buffer): void => guard(() => on.data(chunk));
  const end = (): void => guard(() => on.end());
  const drain = (): void => guard(() => on.drain());
  const error = (err: Error): void => guard(() => on.error(err));
  const close = (): void => guard(() => on.close());
  socket.on('data', (chunk: Buffer) => inSocketEvent(data, chunk));
  socket.on('end', () => inSocketEvent(end, undefined));
  socket.on('drain', () => inSocketEvent(drain, undefined));
  socket.on('error', (err) => inSocketEvent(error, err));
  socket.on('close', () => inSocketEvent(close, undefined));
  if (!socket.destroyed) return true;
  queueMicrotask(() => guard(() => on.close()));
  return false;
}
