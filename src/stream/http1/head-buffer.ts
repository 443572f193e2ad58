/**
 * The bytes of one connection's message heads, in a slab of the shared wasm memory where the head parser
 * reads them. Socket chunks are copied in once; the parser reports offsets into this buffer; head views
 * read from it until their stream completes.
 *
 * Layout: [0, consumed) belongs to the current message (its head, and body bytes already handed out),
 * [consumed, length) is unread input (body bytes of the current message or later pipelined messages).
 * `compact()` drops the consumed prefix once the current message is done.
 *
 * Bytes handed out of the buffer (`take`) must outlive it, so they are sliced from the socket chunk they
 * were copied from when that is still known (no copy), and copied out otherwise (only bytes that arrived
 * together with a previous message's head, at most one buffer's worth).
 */
import type { WasmInstance } from '../../wasm/module.js';
import type { SlabPool } from '../../wasm/slab.js';
import { SLAB_CLASSES } from '../../wasm/slab.js';

/** First slab leased for a connection's heads: most heads fit; larger ones grow the buffer. */
const INITIAL_BYTES = SLAB_CLASSES[1];

export class HeadBuffer {
  ptr = 0;
  capacity = 0;
  length = 0;
  consumed = 0;
  /** The chunk most recently copied in, and where its first copied byte sits in the buffer. */
  private source: Uint8Array | undefined;
  private sourceAt = 0;
  private sourceOffset = 0;

  /**
   * @param limit the buffer never grows beyond the slab class holding `limit` bytes
   */
  constructor(private readonly wasm: WasmInstance, private readonly pool: SlabPool, private readonly limit: number) {}

  get unread(): number { return this.length - this.consumed; }
  get full(): boolean { return this.ptr !== 0 && this.length === this.capacity; }
  /** True when the buffer may still grow to take more bytes. */
  get canGrow(): boolean { return this.capacity < Math.min(this.limit, this.pool.maxLease); }

  /** Leases the first slab; false when the pool is exhausted. */
  ensure(): boolean {
    if (this.ptr !== 0) return true;
    const want = Math.min(INITIAL_BYTES, Math.max(this.limit, SLAB_CLASSES[0]));
    this.ptr = this.pool.lease(want);
    if (this.ptr === 0) return false;
    this.capacity = this.pool.sizeOf(this.ptr);
    return true;
  }

  /** Moves to a larger slab (copying the buffered bytes, the one exception to copy-once). False when at the limit or out of slabs. */
  grow(): boolean {
    if (!this.canGrow) return false;
    const target = Math.min(Math.max(this.capacity * 4, SLAB_CLASSES[0]), this.pool.maxLease, Math.max(this.limit, this.capacity + 1));
    const next = this.pool.lease(target);
    if (next === 0) return false;
    const u8 = this.wasm.u8;
    u8.copyWithin(next, this.ptr, this.ptr + this.length);
    this.pool.release(this.ptr);
    this.ptr = next;
    this.capacity = this.pool.sizeOf(next);
    return true;
  }

  /** Copies as much of `chunk[offset..]` as fits; returns the number of bytes copied. */
  append(chunk: Uint8Array, offset: number): number {
    const n = Math.min(chunk.length - offset, this.capacity - this.length);
    if (n <= 0) return 0;
    this.wasm.u8.set(n === chunk.length ? chunk : chunk.subarray(offset, offset + n), this.ptr + this.length);
    this.source = chunk;
    this.sourceAt = this.length;
    this.sourceOffset = offset;
    this.length += n;
    return n;
  }

  /** The unread bytes as memory that stays valid after the buffer is reused (see the header comment). */
  readable(): Uint8Array {
    const from = this.consumed;
    const n = this.unread;
    if (this.source && from >= this.sourceAt) {
      const at = this.sourceOffset + (from - this.sourceAt);
      return this.source.subarray(at, at + n);
    }
    return Buffer.from(this.wasm.u8.subarray(this.ptr + from, this.ptr + from + n));
  }

  /** `chunk` is about to become invalid (a reused read buffer): unread bytes are copied out of the slab from now on. */
  forgetSource(chunk: Uint8Array): void {
    if (this.source === chunk) this.source = undefined;
  }

  /** Marks `n` unread bytes as consumed. */
  skip(n: number): void {
    this.consumed = Math.min(this.length, this.consumed + n);
  }

  /** A view of the unread bytes for parsing only (never handed out). */
  unreadView(): Uint8Array {
    return this.wasm.u8.subarray(this.ptr + this.consumed, this.ptr + this.length);
  }

  /** Drops the consumed prefix: unread bytes move to the front. */
  compact(): void {
    if (this.consumed === 0) return;
    const unread = this.unread;
    if (unread > 0) this.wasm.u8.copyWithin(this.ptr, this.ptr + this.consumed, this.ptr + this.length);
    if (this.source) {
      this.sourceAt -= this.consumed;
      if (this.sourceAt < 0) { this.sourceOffset -= this.sourceAt; this.sourceAt = 0; }
      if (unread === 0) this.source = undefined;
    }
    this.length = unread;
    this.consumed = 0;
  }

  /** Returns the slab to the pool (idempotent). */
  release(): void {
    if (this.ptr !== 0) this.pool.release(this.ptr);
    this.ptr = 0;
    this.capacity = 0;
    this.length = 0;
    this.consumed = 0;
    this.source = undefined;
  }
}
