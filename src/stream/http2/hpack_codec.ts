/**
 * The HTTP/2 connections' header codec over Skiff's wasm HPACK (src/codec/hpack): one decoder and one
 * encoder per connection.
 *
 * Decoding: a block decodes into a scratch slab large enough for the whole header-list bound (so a list
 * is never refused for want of room, which would leave the dynamic table out of step), then the record and
 * the decoded bytes move into a slab of their own size that lives as long as the stream (typically 1 KiB),
 * the record's pointers shifted by the move. The scratch slab is leased and returned around each decode.
 * Encoding: into a slab each codec keeps; the block is a view of it that the connection's frame output
 * copies at once (no Buffer per block; blocks are a few hundred bytes).
 */
import type { HeaderList, HeadRewrite, RequestHead, ResponseHead } from '../../types/http.js';
import type { WasmInstance } from '../../wasm/module.js';
import { slabPool, type SlabPool } from '../../wasm/slab.js';
import * as L from '../../wasm/layout.js';
import {
  HpackDecoder, HpackEncoder, hpackErrorInfo, hpackRecordBytes, http2RequestHeadView, http2ResponseHeadView,
  headerListView, HPACK_MODE_REQUEST, HPACK_MODE_RESPONSE, HPACK_MODE_TRAILERS, HPACK_OK,
} from '../../codec/hpack/index.js';
import { SkiffError } from '../../common/errors.js';
import type { ClientHeaderCodec, Decoded, HeaderFailure, ServerHeaderCodec } from './header_codec.js';

export interface HeaderCodecLimits {
  /** Bound on the decoded header list (names + values), bytes. */
  readonly maxHeaderBytes: number;
  readonly maxHeadersCount: number;
}

/** Pointer fields of the head record and the length field beside each. */
const RECORD_STRINGS: readonly [number, number][] = [
  [L.HEAD_METHOD_PTR, L.HEAD_METHOD_LEN], [L.HEAD_TARGET_PTR, L.HEAD_TARGET_LEN], [L.HEAD_PATH_PTR, L.HEAD_PATH_LEN],
  [L.HEAD_QUERY_PTR, L.HEAD_QUERY_LEN], [L.HEAD_HOST_PTR, L.HEAD_HOST_LEN], [L.HEAD_SCHEME_PTR, L.HEAD_SCHEME_LEN],
];

/** Encoded blocks are built here first; a larger slab is tried when one does not fit. */
const ENCODE_FIRST_TRY = 4096;

class WasmHeaderCodec {
  protected readonly pool: SlabPool;
  protected readonly decoder: HpackDecoder;
  protected readonly encoder: HpackEncoder;
  private readonly recordBytes: number;
  private readonly scratchBytes: number;
  private released = false;
  /** Where header blocks are encoded (0 until the first encode). */
  private encodeSlab = 0;

  constructor(protected readonly wasm: WasmInstance, private readonly limits: HeaderCodecLimits) {
    this.pool = slabPool(wasm);
    this.decoder = new HpackDecoder(wasm, 4096, this.pool);
    this.encoder = new HpackEncoder(wasm, 4096, this.pool);
    this.recordBytes = hpackRecordBytes(limits.maxHeadersCount);
    // Room for the list bound twice over: cookie crumbs are joined into a copy.
    this.scratchBytes = Math.min(this.pool.maxLease, this.recordBytes + 2 * limits.maxHeaderBytes + 1024);
  }

  /** Decodes a block and moves the result into its own slab; `view` reads the moved record. */
  protected decode<T>(mode: number, ptr: number, len: number, view: (rec: number) => T): Decoded<T> | HeaderFailure {
    const scratch = this.pool.lease(this.scratchBytes);
    if (scratch === 0) return { failure: 'overflow', detail: 'no memory for the header list' };
    try {
      const cap = this.pool.sizeOf(scratch);
      const out = scratch + this.recordBytes;
      const st = this.decoder.decode(mode as never, ptr, len, scratch, this.limits.maxHeadersCount, out, cap - this.recordBytes,
        this.limits.maxHeaderBytes);
      if (st !== HPACK_OK) return failureOf(st);
      const rec = this.moveOut(scratch, out);
      if (rec === 0) return { failure: 'overflow', detail: 'no memory for the header list' };
      let released = false;
      return {
        value: view(rec),
        release: () => { if (!released) { released = true; this.pool.release(rec); } },
      };
    } finally {
      this.pool.release(scratch);
    }
  }

  /** Copies the record (its used entries) and the decoded bytes to a right-sized slab; returns its address. */
  private moveOut(rec: number, out: number): number {
    const v = this.wasm.view;
    const count = v.getInt32(rec + L.HEAD_HEADER_COUNT, true);
    const fixed = L.HEAD_RECORD_FIXED + count * L.HEADER_ENTRY_SIZE;
    const used = v.getInt32(rec + L.HEAD_LENGTH, true);
    const dst = this.pool.lease(fixed + used);
    if (dst === 0) return 0;
    const u8 = this.wasm.u8;
    u8.copyWithin(dst, rec, rec + fixed);
    u8.copyWithin(dst + fixed, out, out + used);
    const delta = dst + fixed - out;
    const end = out + used;
    const shift = (at: number): void => {
      const p = v.getUint32(at, true);
      if (p >= out && p <= end) v.setUint32(at, p + delta, true);
    };
    for (const [ptr] of RECORD_STRINGS) shift(dst + ptr);
    for (let i = 0; i < count; i++) {
      const e = dst + L.HEAD_HEADERS + i * L.HEADER_ENTRY_SIZE;
      shift(e + L.HDR_NAME_PTR);
      shift(e + L.HDR_VALUE_PTR);
    }
    return dst;
  }

  /**
   * Runs an encoder call into this codec's encode slab (leased once, kept until release()) and returns a
   * view of the block over wasm memory, valid until the next encode on this codec: the frame output copies
   * it at once. A block too large for that slab is built in the largest slab and copied out.
   */
  protected encode(fn: (out: number, cap: number) => number): Uint8Array {
    if (this.encodeSlab === 0 && !this.released) this.encodeSlab = this.pool.lease(ENCODE_FIRST_TRY);
    const slab = this.encodeSlab;
    if (slab !== 0) {
      const n = fn(slab, this.pool.sizeOf(slab));
      if (n >= 0) return this.wasm.u8.subarray(slab, slab + n);
    }
    const out = this.pool.lease(this.pool.maxLease);
    if (out !== 0) {
      try {
        const n = fn(out, this.pool.sizeOf(out));
        if (n >= 0) return Buffer.from(this.wasm.u8.subarray(out, out + n));
      } finally {
        this.pool.release(out);
      }
    }
    throw new SkiffError('SKIFF_H2_HEADERS_TOO_LARGE', 'encoded header block larger than the largest slab', 'internal');
  }

  decodeTrailers(ptr: number, len: number): Decoded<HeaderList> | HeaderFailure {
    return this.decode(HPACK_MODE_TRAILERS, ptr, len, (rec) => headerListView(this.wasm, rec));
  }

  encodeTrailers(trailers: HeaderList): Uint8Array {
    const list: [string, string][] = [];
    for (let i = 0; i < trailers.size; i++) list.push([trailers.name(i), trailers.value(i)]);
    return this.encode((out, cap) => this.encoder.encodeLocal(list, out, cap));
  }

  setEncoderTableSize(size: number): void { this.encoder.setPeerMaxTableSize(size); }

  release(): void {
    if (this.released) return;
    this.released = true;
    if (this.encodeSlab !== 0) { this.pool.release(this.encodeSlab); this.encodeSlab = 0; }
    this.decoder.dispose();
    this.encoder.dispose();
  }
}

function failureOf(st: number): HeaderFailure {
  const info = hpackErrorInfo(st);
  if (info.scope === 'connection') return { failure: 'compression', detail: `${info.code}: ${info.detail}` };
  if (st === L.HPACK_E_HEADER_LIST_TOO_LARGE) return { failure: 'overflow', detail: info.detail };
  if (st === L.HPACK_E_TOO_MANY_HEADERS) return { failure: 'too_many', detail: info.detail };
  return { failure: 'malformed', detail: `${info.code}: ${info.detail}` };
}

class WasmServerHeaderCodec extends WasmHeaderCodec implements ServerHeaderCodec {
  decodeRequest(ptr: number, len: number): Decoded<RequestHead> | HeaderFailure {
    // END_STREAM is applied by the stream (src/stream/http2/server.ts); the view's framing is not used.
    return this.decode(HPACK_MODE_REQUEST, ptr, len, (rec) => http2RequestHeadView(this.wasm, rec, false));
  }

  encodeResponse(head: ResponseHead, rewrite: HeadRewrite): Uint8Array {
    return this.encode((out, cap) => this.encoder.encodeResponse(head, rewrite, out, cap));
  }

  encodeLocalResponse(status: number, headers: readonly (readonly [string, string])[], rewrite: HeadRewrite): Uint8Array {
    const list: [string, string][] = [];
    const remove = rewrite.remove;
    for (const [n, v] of headers) if (!remove?.includes(n)) list.push([n, v]);
    for (const [n, v] of rewrite.add ?? []) list.push([n, v]);
    if (rewrite.bodyKind === 'length') list.push(['content-length', String(rewrite.contentLength ?? 0)]);
    return this.encode((out, cap) => this.encoder.encodeLocalResponse(status, list, out, cap));
  }
}

class WasmClientHeaderCodec extends WasmHeaderCodec implements ClientHeaderCodec {
  decodeResponse(ptr: number, len: number, requestMethod: string, endStream: boolean): Decoded<ResponseHead> | HeaderFailure {
    return this.decode(HPACK_MODE_RESPONSE, ptr, len, (rec) => http2ResponseHeadView(this.wasm, rec, endStream, requestMethod));
  }

  encodeRequest(head: RequestHead, rewrite: HeadRewrite): Uint8Array {
    return this.encode((out, cap) => this.encoder.encodeRequest(head, rewrite, out, cap));
  }

  encodeLocalRequest(method: string, path: string, authority: string, headers: readonly (readonly [string, string])[], rewrite: HeadRewrite): Uint8Array {
    const list: [string, string][] = headers.map(([n, v]) => [n, v]);
    for (const [n, v] of rewrite.add ?? []) list.push([n, v]);
    if (rewrite.bodyKind === 'length') list.push(['content-length', String(rewrite.contentLength ?? 0)]);
    const scheme = (rewrite as { scheme?: string }).scheme ?? 'http';
    return this.encode((out, cap) => this.encoder.encodeLocalRequest(method, scheme, authority, path, list, out, cap));
  }

  encodeConnectRequest(authority: string, headers: readonly (readonly [string, string])[]): Uint8Array {
    const list: [string, string][] = [[':method', 'CONNECT'], [':authority', authority]];
    for (const [n, v] of headers) list.push([n, v]);
    return this.encode((out, cap) => this.encoder.encodeLocal(list, out, cap));
  }
}

export function wasmServerHeaderCodec(wasm: WasmInstance, limits: HeaderCodecLimits): ServerHeaderCodec {
  return new WasmServerHeaderCodec(wasm, limits);
}

export function wasmClientHeaderCodec(wasm: WasmInstance, limits: HeaderCodecLimits): ClientHeaderCodec {
  return new WasmClientHeaderCodec(wasm, limits);
}
