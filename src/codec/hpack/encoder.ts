/**
 * One HPACK encoding context (one per HTTP/2 connection and direction). The dynamic table is a slab leased
 * here; the block is built in wasm in one call. Output: [out, out+outCap) in wasm memory; every method
 * returns the bytes written, or -1 (HPACK_ENC_E_OUTPUT) when outCap is too small, in which case nothing was
 * written and the table is unchanged, so the caller can retry with a larger buffer.
 */
import type { HeadRewrite, RequestHead, ResponseHead } from '../../types/http.js';
import type { WasmInstance } from '../../wasm/module.js';
import type { SlabPool } from '../../wasm/slab.js';
import * as L from '../../wasm/layout.js';
import { bodyKindCode } from '../common/body_kind.js';
import { TableRegion, DEFAULT_TABLE_SIZE } from './decoder.js';
import { HpackError } from './errors.js';
import { ScratchWriter, FieldInputError } from './fields.js';

export type LocalFields = readonly (readonly [string, string])[];

export interface LocalEncodeOptions {
  readonly sensitive?: ReadonlySet<string>;
  readonly raw?: boolean;
}

/** A rewrite for HTTP/2: the HTTP/1 HeadRewrite plus the :scheme to send (default: the record's, else http). */
export interface Http2Rewrite extends HeadRewrite {
  scheme?: string;
}

const PATH_CHAR = (c: number): boolean => c > 0x20 && c < 0x7f;
const SCHEME_CHAR = (c: number): boolean => (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || (c >= 0x30 && c <= 0x39) || c === 0x2b || c === 0x2d || c === 0x2e;
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

export class HpackEncoder {
  private readonly region: TableRegion;
  private readonly scratch: ScratchWriter;

  /**
   * `capacity`: the largest table this encoder will use, whatever the peer allows (4096 as nghttp2's
   * default deflate size). The table starts at min(4096, capacity), the protocol's initial size.
   */
  constructor(readonly wasm: WasmInstance, capacity = DEFAULT_TABLE_SIZE, pool?: SlabPool) {
    this.region = new TableRegion(wasm, capacity, DEFAULT_TABLE_SIZE, pool);
    this.scratch = ScratchWriter.forThread(wasm);
    // An encoder smaller than the protocol's initial 4096 announces its size in its first block.
    if (capacity < DEFAULT_TABLE_SIZE) wasm.exports.hpack_encoder_set_peer_limit(this.region.ptr, capacity);
  }

  /** The peer's SETTINGS_HEADER_TABLE_SIZE (from its SETTINGS frame). */
  setPeerMaxTableSize(n: number): void {
    this.region.check();
    if (!(Number.isInteger(n) && n >= 0 && n <= 0xffffffff)) throw new HpackError('SKIFF_HPACK_BAD_ARGUMENT', `table size ${n} is not a u32`);
    this.wasm.exports.hpack_encoder_set_peer_limit(this.region.ptr, n >>> 0);
  }

  private writeRewrite(rewrite: HeadRewrite): { removePtr: number; removeLen: number; addPtr: number; addLen: number } {
    const s = this.scratch;
    const removePtr = s.at;
    for (const name of rewrite.remove ?? []) s.removeName(name);
    const removeLen = s.at - removePtr;
    const addPtr = s.at;
    for (const [name, value] of rewrite.add ?? []) s.field(name, value);
    return { removePtr, removeLen, addPtr, addLen: s.at - addPtr };
  }

  private contentLength(rewrite: HeadRewrite, fallback: number): number {
    const n = rewrite.contentLength ?? fallback;
    if (rewrite.bodyKind === 'length' && !(Number.isSafeInteger(n) && n >= 0)) {
      throw new FieldInputError(`content length ${n} is not a non-negative integer`);
    }
    return n;
  }

  private encodeRecord(kind: number, rec: number, rewrite: Http2Rewrite, fallbackLength: number, out: number, outCap: number): number {
    this.region.check();
    const s = this.scratch;
    s.reset();
    let schemePtr = 0, schemeLen = 0, pathPtr = 0, pathLen = -1;
    if (kind === L.HPACK_ENC_REQUEST) {
      if (rewrite.scheme !== undefined) [schemePtr, schemeLen] = s.bytes(rewrite.scheme, SCHEME_CHAR, 'scheme');
      if (rewrite.path !== undefined) {
        [pathPtr, pathLen] = s.bytes(rewrite.path, PATH_CHAR, 'path');
        if (pathLen === 0) throw new FieldInputError('empty path');
      }
    }
    const r = this.writeRewrite(rewrite);
    return this.wasm.exports.hpack_encode_record(
      this.region.ptr, kind, rec, schemePtr, schemeLen, pathPtr, pathLen, r.removePtr, r.removeLen, r.addPtr, r.addLen,
      kind === L.HPACK_ENC_TRAILERS ? L.BODY_KIND_NONE : bodyKindCode(rewrite.bodyKind), this.contentLength(rewrite, fallbackLength),
      out, outCap,
    );
  }

  /** A request head (HTTP/1 or HTTP/2 record) as HTTP/2 HEADERS: pseudo-headers, surviving fields, additions. */
  encodeRequest(head: RequestHead, rewrite: Http2Rewrite, out: number, outCap: number): number {
    return this.encodeRecord(L.HPACK_ENC_REQUEST, head.recordPtr, rewrite, head.contentLength, out, outCap);
  }

  /** A response head as HTTP/2 HEADERS (:status, surviving fields, additions, content-length per bodyKind). */
  encodeResponse(head: ResponseHead, rewrite: HeadRewrite, out: number, outCap: number): number {
    return this.encodeRecord(L.HPACK_ENC_RESPONSE, head.recordPtr, rewrite, head.contentLength, out, outCap);
  }

  /**
   * Encodes the record at `rec` (kind HPACK_ENC_*) with a rewrite: the general form of encodeRequest /
   * encodeResponse, and trailers (HPACK_ENC_TRAILERS: the record's fields and the additions only).
   */
  encodeFromRecord(kind: number, rec: number, rewrite: Http2Rewrite, out: number, outCap: number): number {
    return this.encodeRecord(kind, rec, rewrite, -1, out, outCap);
  }

  /**
   * A block from a local list, in the given order (pseudo-headers first; names lowercased, values checked per
   * RFC 9113 §8.2.1). Options: `sensitive`, names whose values are never indexed (on top of authorization,
   * proxy-authorization and short cookies); `raw`, fields as given without HTTP checks (HPACK-level tests
   * and conformance only).
   */
  encodeLocal(fields: LocalFields, out: number, outCap: number, opts: LocalEncodeOptions = {}): number {
    this.region.check();
    const s = this.scratch;
    s.reset();
    const list = s.at;
    const raw = opts.raw === true;
    let regular = false;
    for (const [name, value] of fields) {
      const pseudo = name.charCodeAt(0) === 0x3a;
      if (pseudo && regular && !raw) throw new FieldInputError(`pseudo-header ${name} after a regular header`);
      if (!pseudo) regular = true;
      s.field(name, value, opts.sensitive?.has(name) ? L.HPACK_FIELD_NEVER_INDEX : 0, pseudo, raw);
    }
    return this.wasm.exports.hpack_encode_list(this.region.ptr, list, s.at - list, out, outCap);
  }

  /** A response from scratch (local replies): :status then the fields. */
  encodeLocalResponse(status: number, headers: LocalFields, out: number, outCap: number): number {
    if (!(Number.isInteger(status) && status >= 100 && status <= 999)) throw new FieldInputError(`status ${status} is not 3 digits`);
    return this.encodeLocal([[':status', String(status)], ...headers], out, outCap);
  }

  /** A request from scratch (health checks, mirrors): the four pseudo-headers then the fields. */
  encodeLocalRequest(method: string, scheme: string, authority: string, path: string, headers: LocalFields, out: number, outCap: number): number {
    if (!TOKEN.test(method)) throw new FieldInputError(`method ${JSON.stringify(method)} is not a token`);
    if (path.length === 0 || [...path].some((c) => !PATH_CHAR(c.charCodeAt(0)))) throw new FieldInputError(`path ${JSON.stringify(path)} is not valid`);
    return this.encodeLocal([[':method', method], [':scheme', scheme], [':authority', authority], [':path', path], ...headers], out, outCap);
  }

  get tableSize(): number { return this.region.size; }
  get tableCount(): number { return this.region.count; }
  get tableMaxSize(): number { return this.region.maxSize; }

  dispose(): void { this.region.release(); }
}
