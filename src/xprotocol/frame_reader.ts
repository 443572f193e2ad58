/**
 * Socket bytes -> decoded x-protocol frames, copied into wasm memory once.
 *
 * Received bytes wait in JS (a reference to the socket's Buffer, concatenated only when a frame spans chunks)
 * until a whole frame may be there; then as many bytes as fit are copied into one slab (a *chunk*) and frames
 * are decoded in place, one after another. Each frame gets its own record lease (XF_RECORD_SIZE bytes plus
 * room for the routing head record) and holds a reference on its chunk: the bytes stay where they are until
 * the frame was written on (re-sent unchanged, id patched in place) and released. When the fixed header says
 * how long a frame is, nothing is decoded again until that many bytes arrived.
 *
 * Frames larger than the largest slab class (256 KiB) cannot be held in one slab and are refused with
 * SKIFF_XPROTO_FRAME_TOO_LARGE (as are frames above max_frame_bytes).
 */
import { SkiffError } from '../common/errors.js';
import type { WasmInstance } from '../wasm/module.js';
import type { SlabPool } from '../wasm/slab.js';
import * as L from '../wasm/layout.js';
import { XFrameView } from '../codec/xprotocol/frame.js';
import { decodeFrame, detectProtocol, neededBytes } from '../codec/xprotocol/codec.js';
import { XProtocolError } from '../codec/xprotocol/errors.js';

/** Bytes of one record lease: the frame record, then room for the routing head record (route_head.ts). */
export const RECORD_LEASE_BYTES = 4096;

/** A slab of received bytes shared by the frames decoded from it. */
class Chunk {
  refs = 1;
  constructor(readonly slabs: SlabPool, readonly ptr: number) {}
  unref(): void { if (--this.refs === 0) this.slabs.release(this.ptr); }
}

/** One decoded frame: its bytes and record in wasm memory until released. */
export class Frame {
  readonly view: XFrameView;
  private bytesHeld = true;
  private recordHeld = true;

  constructor(private readonly wasm: WasmInstance, private readonly chunk: Chunk, readonly ptr: number, readonly len: number, readonly rec: number) {
    this.view = new XFrameView(wasm, rec);
  }

  /** The frame's bytes (a view over the shared memory; valid until releaseBytes). */
  bytes(): Buffer {
    return Buffer.from(this.wasm.memory.buffer as ArrayBuffer, this.ptr, this.len);
  }

  /** The bytes are written on (or dropped); the record stays (error replies read ids from it). */
  releaseBytes(): void {
    if (!this.bytesHeld) return;
    this.bytesHeld = false;
    this.chunk.unref();
  }

  releaseRecord(): void {
    if (!this.recordHeld) return;
    this.recordHeld = false;
    this.chunk.slabs.release(this.rec);
  }

  release(): void {
    this.releaseBytes();
    this.releaseRecord();
  }
}

export interface FrameReaderOptions {
  readonly wasm: WasmInstance;
  readonly slabs: SlabPool;
  /** The XP_* id to decode with, or 0 to detect it from the first bytes (auto). */
  readonly proto: number;
  readonly maxFrameBytes: number;
  /** Called for every frame; the callee owns it (must release it). */
  readonly onFrame: (frame: Frame) => void;
  /** Undecodable input or no memory: the reader stops; the connection should reply or close. */
  readonly onError: (err: SkiffError) => void;
  /** Auto-detection settled on a protocol id. */
  readonly onDetect?: (proto: number) => void;
}

export class FrameReader {
  private pending: Buffer = Buffer.alloc(0);
  /** Bytes the next frame needs in all (0 = unknown). */
  private need = 0;
  private stopped = false;
  proto: number;

  constructor(private readonly o: FrameReaderOptions) {
    this.proto = o.proto;
  }

  /** Bytes received but not yet decoded (held in JS). */
  get buffered(): number { return this.pending.length; }

  feed(chunk: Uint8Array): void {
    if (this.stopped) return;
    const c = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    this.pending = this.pending.length === 0 ? c : Buffer.concat([this.pending, c]);
    if (this.need > 0 && this.pending.length < this.need) return;
    this.decodeAvailable();
  }

  stop(): void {
    this.stopped = true;
    this.pending = Buffer.alloc(0);
  }

  private fail(err: SkiffError): void {
    this.stop();
    this.o.onError(err);
  }

  private decodeAvailable(): void {
    const { wasm, slabs } = this.o;
    // Bounded: every pass consumes at least one frame or returns.
    while (!this.stopped && this.pending.length > 0) {
      if (this.proto === 0 && !this.detect()) return;
      const size = Math.min(this.pending.length, slabs.maxLease);
      const ptr = slabs.lease(size);
      if (ptr === 0) return this.fail(new SkiffError('SKIFF_XPROTO_NO_BUFFER', 'no slab for received frames', 'internal'));
      wasm.u8.set(size === this.pending.length ? this.pending : this.pending.subarray(0, size), ptr);
      const chunk = new Chunk(slabs, ptr);
      let off = 0;
      this.need = 0;
      while (!this.stopped && off < size) {
        const rec = slabs.lease(RECORD_LEASE_BYTES);
        if (rec === 0) { chunk.unref(); return this.fail(new SkiffError('SKIFF_XPROTO_NO_BUFFER', 'no slab for a frame record', 'internal')); }
        const n = decodeFrame(wasm, this.proto, ptr + off, size - off, rec, this.o.maxFrameBytes);
        if (n > 0) {
          chunk.refs++;
          const frame = new Frame(wasm, chunk, ptr + off, n, rec);
          off += n;
          this.o.onFrame(frame);
          continue;
        }
        if (n === L.XP_NEED_MORE) {
          this.need = neededBytes(wasm, rec);
          slabs.release(rec);
          if (this.need > slabs.maxLease) {
            chunk.unref();
            return this.fail(new SkiffError('SKIFF_XPROTO_FRAME_TOO_LARGE', `a ${this.need}-byte frame is larger than the largest buffer (${slabs.maxLease})`, 'downstream'));
          }
          break;
        }
        const err = new XProtocolError(n, wasm.view.getInt32(rec + L.XF_ERROR_AT, true));
        slabs.release(rec);
        chunk.unref();
        return this.fail(err);
      }
      chunk.unref();
      this.pending = off === this.pending.length ? Buffer.alloc(0) : this.pending.subarray(off);
      if (off === 0 || (this.need > 0 && this.pending.length < this.need)) return;
    }
  }

  /** Auto: the protocol from the first bytes; false while undecided (or after failing). */
  private detect(): boolean {
    const { wasm, slabs } = this.o;
    const size = Math.min(this.pending.length, 64);
    const ptr = slabs.lease(size);
    if (ptr === 0) { this.fail(new SkiffError('SKIFF_XPROTO_NO_BUFFER', 'no slab for protocol detection', 'internal')); return false; }
    wasm.u8.set(this.pending.subarray(0, size), ptr);
    const id = detectProtocol(wasm, ptr, size);
    slabs.release(ptr);
    if (id === L.XP_NEED_MORE) return false;
    if (id <= 0) { this.fail(new SkiffError('SKIFF_XPROTO_UNKNOWN_PROTOCOL', 'the first bytes match no registered x-protocol', 'downstream')); return false; }
    this.proto = id;
    this.o.onDetect?.(id);
    return true;
  }
}
