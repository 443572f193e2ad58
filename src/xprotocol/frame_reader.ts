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
 * Frames larger than the largest slab class (256 KiB) but within max_frame_bytes are *big frames*
 * (big_frame.ts): their chunks are collected as they arrive (no concatenation per chunk), joined once, only
 * the head is copied into wasm and decoded, and the bytes written on are the joined Buffer with the id
 * patched (Bolt, and Dubbo routed without its attachments). Other protocols refuse them with
 * SKIFF_XPROTO_FRAME_TOO_LARGE, as every codec refuses a length field above max_frame_bytes before any body
 * is buffered.
 */
import { SkiffError } from '../common/errors.js';
import type { WasmInstance } from '../wasm/module.js';
import type { SlabPool } from '../wasm/slab.js';
import * as L from '../wasm/layout.js';
import { XFrameView } from '../codec/xprotocol/frame.js';
import { decodeFrame, detectProtocol, neededBytes, setRequestId } from '../codec/xprotocol/codec.js';
import { XProtocolError } from '../codec/xprotocol/errors.js';
import { bigFrameHead, bigHeadUsable, crcMatches, patchBigFrameId } from './big_frame.js';

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

  /**
   * `big`: a frame held outside wasm (big_frame.ts); then [ptr, ptr+len) is its decoded head only and
   * `bigCrc` says whether its CRC32 trailer must follow an id patch.
   */
  constructor(private readonly wasm: WasmInstance, private readonly chunk: Chunk, readonly ptr: number, readonly len: number, readonly rec: number,
    private big: Buffer | null = null, private bigCrc = false) {
    this.view = new XFrameView(wasm, rec);
  }

  /** Bytes of the whole frame on the wire. */
  get frameLength(): number { return this.big?.length ?? this.len; }

  get isBig(): boolean { return this.big !== null; }

  /** The bytes on the wire end with a CRC32 over the rest (Bolt v2); a big frame's head copy has that bit cleared. */
  get crcTrailer(): boolean { return this.big !== null ? this.bigCrc : (this.view.flags & L.XFF_CRC) !== 0; }

  /** The frame's bytes (a view over the shared memory, or the big frame's Buffer; valid until releaseBytes). */
  bytes(): Buffer {
    if (this.big !== null) return this.big;
    return Buffer.from(this.wasm.memory.buffer as ArrayBuffer, this.ptr, this.len);
  }

  /**
   * The frame goes on as `bytes` (rebuilt in JS, e.g. by a header mutation) instead of its received bytes; the
   * record still describes the received frame. `crc`: a CRC32 trailer follows each id patch.
   */
  replaceBytes(bytes: Buffer, crc: boolean): void {
    this.big = bytes;
    this.bigCrc = crc;
  }

  /** Patches the request id in place (and the CRC32 trailer when the frame has one). */
  setRequestId(id: number): void {
    if (this.big === null) { setRequestId(this.wasm, this.view.proto, this.ptr, this.rec, id); return; }
    const v = this.wasm.view;
    patchBigFrameId(this.big, v.getInt32(this.rec + L.XF_ID_OFFSET, true), v.getInt32(this.rec + L.XF_ID_WIDTH, true), id, this.bigCrc);
  }

  /** The bytes are written on (or dropped); the record stays (error replies read ids from it). */
  releaseBytes(): void {
    if (!this.bytesHeld) return;
    this.bytesHeld = false;
    this.big = null;
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
  /** While a big frame arrives: its chunks after `pending`, joined once it is complete. */
  private parts: Buffer[] = [];
  private partsBytes = 0;
  private stopped = false;
  proto: number;

  constructor(private readonly o: FrameReaderOptions) {
    this.proto = o.proto;
  }

  /** Bytes received but not yet decoded (held in JS). */
  get buffered(): number { return this.pending.length + this.partsBytes; }

  feed(chunk: Uint8Array): void {
    if (this.stopped) return;
    const c = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    if (this.need > this.o.slabs.maxLease) {
      // A big frame: collect, join once when complete (concatenating per chunk would be quadratic).
      this.parts.push(c);
      this.partsBytes += c.length;
      if (this.pending.length + this.partsBytes < this.need) return;
      this.pending = Buffer.concat([this.pending, ...this.parts]);
      this.parts = [];
      this.partsBytes = 0;
    } else {
      this.pending = this.pending.length === 0 ? c : Buffer.concat([this.pending, c]);
      if (this.need > 0 && this.pending.length < this.need) return;
    }
    this.decodeAvailable();
  }

  stop(): void {
    this.stopped = true;
    this.pending = Buffer.alloc(0);
    this.parts = [];
    this.partsBytes = 0;
  }

  private fail(err: SkiffError): void {
    this.stop();
    this.o.onError(err);
  }

  private decodeAvailable(): void {
    const { wasm, slabs } = this.o;
    // Bounded: every pass consumes at least one frame or returns.
    outer: while (!this.stopped && this.pending.length > 0) {
      if (this.proto === 0 && !this.detect()) return;
      if (this.need > slabs.maxLease) {
        if (this.pending.length < this.need) return;
        if (!this.takeBigFrame()) return;
        continue;
      }
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
          if (this.need > slabs.maxLease && off > 0) break; // the frames before it first, then the big one
          if (this.need > slabs.maxLease) {
            chunk.unref();
            if (!this.canSplit()) {
              return this.fail(new SkiffError('SKIFF_XPROTO_FRAME_TOO_LARGE', `a ${this.need}-byte frame is larger than the largest buffer (${slabs.maxLease}) and this protocol cannot be split`, 'downstream'));
            }
            if (this.pending.length < this.need) return;
            if (!this.takeBigFrame()) return;
            continue outer;
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

  private canSplit(): boolean {
    return this.proto === L.XP_BOLT_V1 || this.proto === L.XP_BOLT_V2 || this.proto === L.XP_DUBBO;
  }

  /**
   * `pending` starts with a whole big frame (`need` bytes): its head is decoded in wasm, its bytes stay in
   * `pending`'s memory. False after failing.
   */
  private takeBigFrame(): boolean {
    const { wasm, slabs } = this.o;
    const total = this.need;
    const bytes = this.pending.subarray(0, total);
    const split = bigFrameHead(this.proto, bytes);
    if (split === null || split.head.length > slabs.maxLease) {
      this.fail(new SkiffError('SKIFF_XPROTO_FRAME_TOO_LARGE', `a ${total}-byte frame whose head does not fit one buffer`, 'downstream'));
      return false;
    }
    if (split.crc && !crcMatches(bytes)) {
      this.fail(new XProtocolError(L.XPE_CRC, total - 4));
      return false;
    }
    const ptr = slabs.lease(split.head.length);
    const rec = ptr === 0 ? 0 : slabs.lease(RECORD_LEASE_BYTES);
    if (rec === 0) {
      if (ptr !== 0) slabs.release(ptr);
      this.fail(new SkiffError('SKIFF_XPROTO_NO_BUFFER', 'no slab for a frame head', 'internal'));
      return false;
    }
    wasm.u8.set(split.head, ptr);
    const n = decodeFrame(wasm, this.proto, ptr, split.head.length, rec, this.o.maxFrameBytes);
    if (!bigHeadUsable(this.proto, wasm.view, rec, n, split.head.length, split.whole === true)) {
      const err = n < L.XP_NEED_MORE ? new XProtocolError(n, wasm.view.getInt32(rec + L.XF_ERROR_AT, true))
        : new SkiffError('SKIFF_XPROTO_FRAME_TOO_LARGE', 'a big frame whose head does not decode alone', 'downstream');
      slabs.release(rec);
      slabs.release(ptr);
      this.fail(err);
      return false;
    }
    // The record describes the whole frame as it is on the wire, not the shortened head.
    const v = wasm.view;
    v.setInt32(rec + L.XF_FRAME_LEN, total, true);
    v.setInt32(rec + L.XF_SWITCH, split.switchByte, true);
    if (split.crc) v.setInt32(rec + L.XF_FLAGS, v.getInt32(rec + L.XF_FLAGS, true) | L.XFF_CRC, true);
    v.setInt32(rec + L.XF_PAYLOAD_PTR, 0, true);
    v.setInt32(rec + L.XF_PAYLOAD_LEN, 0, true);
    this.pending = this.pending.length === total ? Buffer.alloc(0) : this.pending.subarray(total);
    this.need = 0;
    this.o.onFrame(new Frame(wasm, new Chunk(slabs, ptr), ptr, split.head.length, rec, bytes, split.crc));
    return true;
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
