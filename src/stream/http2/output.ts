/**
 * The frames one HTTP/2 connection writes during an event-loop turn, gathered into few buffers and written
 * to the socket once at the end of the turn. Frame headers are written straight into the current chunk
 * (no Buffer per frame), small pieces (control frames, header blocks, small DATA) are copied in, and large
 * DATA payloads are written as they are, after what precedes them. This replaced a socket.write per frame
 * piece, which cost a Buffer, a write request and GC per 9-byte frame header.
 */
import type { Socket } from 'node:net';

/** Pieces up to this size are copied into the chunk; larger ones are written as they are. */
const COPY_LIMIT = 2048;
/**
 * Chunk size: below half of Buffer.poolSize, so a chunk is a slice of Node's shared 8 KiB pool rather than an
 * ArrayBuffer of its own (most turns write a few hundred bytes per connection).
 */
const CHUNK_BYTES = (Buffer.poolSize >>> 1) - 64;

/** Outputs with bytes waiting, flushed together at the end of the turn. */
const pending: FrameOutput[] = [];
let scheduled = false;

function flushAll(): void {
  scheduled = false;
  // Bounded: an output queued during this flush waits for the next turn (the length is read once).
  const n = pending.length;
  for (let i = 0; i < n; i++) pending[i].flush();
  pending.splice(0, n);
}

export class FrameOutput {
  private chunk: Buffer | undefined;
  private len = 0;
  /** Full chunks and large pieces, in order, before the current chunk. */
  private readonly parts: Uint8Array[] = [];
  private queued = false;
  /** Where the last frame header sits in the current chunk (-1: none, or it was sealed), and its frame. */
  private lastHeaderAt = -1;
  private lastHeaderType = -1;
  private lastHeaderStream = 0;

  constructor(private readonly socket: Socket) {}

  /** Writes the 9-byte frame header (RFC 9113 §4.1). */
  frameHeader(length: number, type: number, flags: number, streamId: number): void {
    const b = this.room(9);
    let o = this.len;
    this.lastHeaderAt = o;
    this.lastHeaderType = type;
    this.lastHeaderStream = streamId;
    b[o++] = (length >>> 16) & 0xff;
    b[o++] = (length >>> 8) & 0xff;
    b[o++] = length & 0xff;
    b[o++] = type;
    b[o++] = flags;
    b[o++] = (streamId >>> 24) & 0x7f;
    b[o++] = (streamId >>> 16) & 0xff;
    b[o++] = (streamId >>> 8) & 0xff;
    b[o++] = streamId & 0xff;
    this.len = o;
    this.queue();
  }

  /**
   * Appends bytes. `transient`: the bytes may change after the call (a view over wasm memory), so they are
   * always copied; otherwise a large piece is kept by reference until it is written.
   */
  bytes(src: Uint8Array, transient = false): void {
    const n = src.length;
    if (n === 0) return;
    if (n > COPY_LIMIT && !transient) {
      this.sealChunk();
      this.parts.push(src);
      this.queue();
      return;
    }
    let off = 0;
    // Bounded by the piece: each pass copies what fits in the current chunk.
    while (off < n) {
      const b = this.room(1);
      const k = Math.min(n - off, b.length - this.len);
      b.set(off === 0 && k === n ? src : src.subarray(off, off + k), this.len);
      this.len += k;
      off += k;
    }
    this.queue();
  }

  /**
   * Sets END_STREAM on the last frame gathered when it is a DATA frame of `streamId` still in the current
   * chunk (nothing written after it but its payload): the stream then ends without an empty DATA frame of its
   * own. False when that frame is not there (the caller sends the empty frame).
   */
  endStreamOnLastData(streamId: number, dataType: number, endStreamFlag: number): boolean {
    if (this.lastHeaderAt < 0 || this.lastHeaderType !== dataType || this.lastHeaderStream !== streamId || this.chunk === undefined) return false;
    this.chunk[this.lastHeaderAt + 4] |= endStreamFlag;
    this.lastHeaderAt = -1;
    return true;
  }

  /** Writes everything gathered (one writev when there are several pieces). */
  flush(): void {
    this.queued = false;
    this.sealChunk();
    const parts = this.parts;
    if (parts.length === 0) return;
    const s = this.socket;
    if (s.destroyed || s.writableEnded) { parts.length = 0; return; }
    if (parts.length === 1) {
      s.write(parts[0]);
    } else {
      s.cork();
      for (const p of parts) s.write(p);
      s.uncork();
    }
    parts.length = 0;
  }

  /** Drops what was not written (the socket is gone). */
  discard(): void {
    this.lastHeaderAt = -1;
    this.parts.length = 0;
    this.chunk = undefined;
    this.len = 0;
  }

  /** The current chunk with at least `n` free bytes. */
  private room(n: number): Buffer {
    if (this.chunk !== undefined && this.chunk.length - this.len >= n) return this.chunk;
    this.sealChunk();
    this.chunk = Buffer.allocUnsafe(Math.max(CHUNK_BYTES, n));
    this.len = 0;
    return this.chunk;
  }

  /** Moves the filled part of the chunk into `parts`; the rest of the chunk is not reused (it is being written). */
  private sealChunk(): void {
    this.lastHeaderAt = -1;
    if (this.chunk === undefined || this.len === 0) return;
    this.parts.push(this.chunk.subarray(0, this.len));
    const rest = this.chunk.length - this.len;
    // The unused tail stays usable for the next turn's bytes when it is large enough.
    this.chunk = rest >= 256 ? this.chunk.subarray(this.len) : undefined;
    this.len = 0;
  }

  private queue(): void {
    if (this.queued) return;
    this.queued = true;
    pending.push(this);
    if (!scheduled) { scheduled = true; setImmediate(flushAll); }
  }
}
