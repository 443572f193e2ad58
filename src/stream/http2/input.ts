/**
 * The bytes of one HTTP/2 connection waiting to be parsed, in one slab of wasm memory: socket chunks are
 * copied in once (copy in once, parse in place), whole frames are consumed from the front, a partial frame
 * is moved to the front before more bytes are appended. The slab holds the largest frame Skiff accepts
 * (9 + SETTINGS_MAX_FRAME_SIZE) and is returned to the pool whenever no byte is waiting.
 */
import type { WasmInstance } from '../../wasm/module.js';
import type { SlabPool } from '../../wasm/slab.js';

export const INPUT_SLAB_BYTES = 65536;

export class InputBuffer {
  private slab = 0;
  /** Unparsed bytes are [start, end) within the slab. */
  private start = 0;
  private end = 0;
  /** Socket chunks not yet copied in, and how far into the first one. */
  private readonly chunks: Uint8Array[] = [];
  private chunkOffset = 0;

  constructor(private readonly wasm: WasmInstance, private readonly pool: SlabPool) {}

  /** Address of the first unparsed byte (valid until the next fill/release). */
  get ptr(): number { return this.slab + this.start; }
  get length(): number { return this.end - this.start; }
  get pending(): boolean { return this.chunks.length > 0; }

  push(chunk: Uint8Array): void {
    if (chunk.length > 0) this.chunks.push(chunk);
  }

  /**
   * Copies waiting chunk bytes after the unparsed ones, first moving those to the front. False when there
   * was nothing to copy, no room (the slab is full), or no slab to lease.
   */
  fill(): boolean {
    if (this.chunks.length === 0) return false;
    if (this.slab === 0) {
      this.slab = this.pool.lease(INPUT_SLAB_BYTES);
      if (this.slab === 0) return false;
    }
    const u8 = this.wasm.u8;
    if (this.start > 0) {
      u8.copyWithin(this.slab, this.slab + this.start, this.slab + this.end);
      this.end -= this.start;
      this.start = 0;
    }
    let copied = false;
    // Bounded by the chunk count: each pass copies a chunk to its end or fills the slab.
    while (this.chunks.length > 0 && this.end < INPUT_SLAB_BYTES) {
      const first = this.chunks[0];
      const n = Math.min(first.length - this.chunkOffset, INPUT_SLAB_BYTES - this.end);
      u8.set(first.subarray(this.chunkOffset, this.chunkOffset + n), this.slab + this.end);
      this.end += n;
      this.chunkOffset += n;
      copied = true;
      if (this.chunkOffset === first.length) { this.chunks.shift(); this.chunkOffset = 0; }
    }
    return copied;
  }

  /** Marks `n` parsed bytes consumed; the slab goes back to the pool once nothing is left. */
  consume(n: number): void {
    this.start += n;
    if (this.start >= this.end) {
      this.start = 0;
      this.end = 0;
      if (this.chunks.length === 0) this.releaseSlab();
    }
  }

  /** Drops every byte and returns the slab (idempotent). */
  release(): void {
    this.chunks.length = 0;
    this.chunkOffset = 0;
    this.start = 0;
    this.end = 0;
    this.releaseSlab();
  }

  private releaseSlab(): void {
    if (this.slab !== 0) { this.pool.release(this.slab); this.slab = 0; }
  }
}
