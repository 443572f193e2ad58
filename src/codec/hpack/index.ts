/**
 * HPACK (RFC 7541) for the HTTP/2 codec: header blocks decoded in wasm straight into the head record the
 * HTTP/1 parser writes (so routing and HTTP/1 serialization work unchanged), and encoded in wasm from a
 * head record plus a rewrite or from a local list.
 *
 * Memory: each context's dynamic table is a slab leased at construction and released by dispose().
 * Block bytes, records and output buffers are addresses in the shared memory that the caller owns.
 * Threads: a context belongs to one connection; use it from one thread at a time (its WasmInstance's).
 *
 * Typical use by an HTTP/2 server connection:
 *   const dec = new HpackDecoder(wasm);            // per connection
 *   on a complete header block (HEADERS + CONTINUATION payloads at blockPtr):
 *     const st = dec.decode(HPACK_MODE_REQUEST, blockPtr, blockLen, rec, maxHeaders, out, outCap, maxListBytes);
 *     if (st === HPACK_OK) head = http2RequestHeadView(wasm, rec, endStream);
 *     else { const e = hpackErrorInfo(st); e.scope === 'connection' ? GOAWAY(e.h2Code) : reply e.httpStatus or RST_STREAM(e.h2Code); }
 *   sending: const enc = new HpackEncoder(wasm); enc.setPeerMaxTableSize(peerSettings.headerTableSize);
 *     const n = enc.encodeRequest(head, { bodyKind, remove, add }, out, outCap);   // -1: outCap too small
 *   on close: dec.dispose(); enc.dispose();
 */
export { HpackEncoder, type Http2Rewrite, type LocalFields, type LocalEncodeOptions } from './encoder.js';
export { FieldInputError } from './fields.js';
export { HpackDecoder, TableRegion, hpackRecordBytes, DEFAULT_TABLE_SIZE, type HpackDecodeMode } from './decoder.js';
export { hpackErrorInfo, isCompressionError, HpackError, H2_PROTOCOL_ERROR, H2_COMPRESSION_ERROR, type HpackErrorInfo } from './errors.js';
export { http2RequestHeadView, http2ResponseHeadView, headerListView, type Http2RequestHead } from './view.js';
export {
  HPACK_MODE_REQUEST, HPACK_MODE_RESPONSE, HPACK_MODE_TRAILERS, HPACK_MODE_RAW, HPACK_OK,
  HPACK_ENC_REQUEST, HPACK_ENC_RESPONSE, HPACK_ENC_TRAILERS, HPACK_ENC_E_OUTPUT,
} from '../../wasm/layout.js';
