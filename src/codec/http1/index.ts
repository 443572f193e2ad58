/**
 * The HTTP/1.1 head codec as the stream layer (src/stream/http1) calls it: parse a head that sits in wasm
 * memory into a record, read the record through lazy views, serialize forwarded and local heads.
 *
 * Memory: `buf` and `rec` are absolute addresses in the shared memory (typically a slab holding the socket
 * bytes and a slab of recordBytes(maxHeaders) bytes). The parser lowercases header names in `buf` in place,
 * and the views read `buf` lazily, so `buf` must not move or be reused while its head is in use.
 * Threads: any thread, with its own WasmInstance.
 *
 * Typical use by a server connection (one head at a time):
 *   let scanFrom = 0;
 *   on data: copy the chunk after the bytes already in `buf`; len += chunk.length;
 *     const r = parseRequestHead(wasm, buf, len, scanFrom, rec, limits);
 *     if (r === HEAD_NEED_MORE) { scanFrom = len; wait; }
 *     else if (r > 0) { const e = codecError(r); reply e.status and close; }
 *     else { const head = requestHeadView(wasm, rec); body starts at buf + headLength(wasm, rec); }
 *   forwarding: encodeRequestHead(wasm, head, rewrite, out, outCap) writes the upstream head at `out`;
 *   chunked bodies: ChunkedDecoder on the way in, chunkHeader/CHUNK_END/CHUNKED_BODY_END on the way out.
 */
import type { WasmInstance } from '../../wasm/module.js';
import * as L from '../../wasm/layout.js';

export { codecError } from './errors.js';
export { requestHeadView, responseHeadView, responseBodyKind } from './view.js';
export {
  encodeRequestHead, encodeResponseHead, encodeLocalResponseHead, encodeLocalRequestHead, RewriteError, HOP_BY_HOP,
} from './encode.js';
export {
  ChunkedDecoder, PairHeaderList, chunkHeader, CHUNK_END, CHUNKED_BODY_END, DEFAULT_CHUNKED_LIMITS,
  type ChunkedLimits, type ChunkedResult,
} from './chunked.js';

export interface HeadLimits {
  /** Most header lines a head may have (431 above). */
  maxHeaders: number;
  /** Most bytes a head may take, start line to final CRLF CRLF included (431 above). */
  maxHeadBytes: number;
  /**
   * Accept HTTP/1.1 requests without Host (RFC 9112 §3.2 says reject). Only for conformance runs against
   * parsers that do not check it.
   */
  allowMissingHost?: boolean;
}

/** Bytes a head record needs for up to `maxHeaders` header lines. */
export function recordBytes(maxHeaders: number): number {
  return L.HEAD_RECORD_FIXED + maxHeaders * L.HEADER_ENTRY_SIZE;
}

/**
 * Parses the request head in [buf, buf+len). Returns HEAD_NEED_MORE (call again with more bytes, passing
 * this `len` as `scanFrom`), HEAD_OK (record at `rec` filled in; HEAD_LENGTH says where the body starts), or
 * an H1E_* code > 0 (see codecError).
 */
export function parseRequestHead(wasm: WasmInstance, buf: number, len: number, scanFrom: number, rec: number, limits: HeadLimits): number {
  return wasm.exports.h1_parse_request(
    buf, len, scanFrom, rec, limits.maxHeaders, limits.maxHeadBytes, limits.allowMissingHost ? L.H1_OPT_ALLOW_MISSING_HOST : 0,
  );
}

/** Parses a response head; same contract as parseRequestHead. */
export function parseResponseHead(wasm: WasmInstance, buf: number, len: number, scanFrom: number, rec: number, limits: HeadLimits): number {
  return wasm.exports.h1_parse_response(buf, len, scanFrom, rec, limits.maxHeaders, limits.maxHeadBytes);
}

/** Bytes the head took (start of the body), valid after HEAD_OK. */
export function headLength(wasm: WasmInstance, rec: number): number {
  return wasm.view.getInt32(rec + L.HEAD_LENGTH, true);
}
