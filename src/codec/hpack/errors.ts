/**
 * What each HPACK decode status means to the HTTP/2 layer: a stable Skiff code, the HTTP/2 error code to
 * send (RFC 9113 §7), whether it ends the connection (GOAWAY) or one stream (RST_STREAM), and the HTTP
 * status of a local reply when one can still be sent.
 */
import { SkiffError } from '../../common/errors.js';
import * as L from '../../wasm/layout.js';

/** HTTP/2 error codes (RFC 9113 §7) the HPACK layer can cause. */
export const H2_PROTOCOL_ERROR = 0x1;
export const H2_COMPRESSION_ERROR = 0x9;

export interface HpackErrorInfo {
  /** Stable code, e.g. SKIFF_HPACK_HUFFMAN. */
  readonly code: string;
  /** 'connection': GOAWAY with h2Code (the dynamic table is out of sync); 'stream': RST_STREAM or a local reply. */
  readonly scope: 'connection' | 'stream';
  /** HTTP/2 error code for GOAWAY / RST_STREAM. */
  readonly h2Code: number;
  /** Local reply status for a request (400 malformed, 431 too large); 0 for connection errors. */
  readonly httpStatus: number;
  readonly detail: string;
}

const INFO: Record<number, [code: string, detail: string]> = {
  [L.HPACK_E_TRUNCATED]: ['SKIFF_HPACK_TRUNCATED', 'header block ends inside a field representation'],
  [L.HPACK_E_INTEGER_OVERFLOW]: ['SKIFF_HPACK_INTEGER_OVERFLOW', 'integer above 2^31-1'],
  [L.HPACK_E_INDEX]: ['SKIFF_HPACK_BAD_INDEX', 'index 0 or past the end of the tables'],
  [L.HPACK_E_HUFFMAN]: ['SKIFF_HPACK_HUFFMAN', 'invalid Huffman string (EOS or bad padding)'],
  [L.HPACK_E_SIZE_UPDATE]: ['SKIFF_HPACK_SIZE_UPDATE', 'dynamic table size update above SETTINGS_HEADER_TABLE_SIZE'],
  [L.HPACK_E_SIZE_UPDATE_POSITION]: ['SKIFF_HPACK_SIZE_UPDATE_POSITION', 'dynamic table size update after a header field'],
  [L.HPACK_E_SIZE_UPDATE_MISSING]: ['SKIFF_HPACK_SIZE_UPDATE_MISSING', 'table size limit lowered but the block did not start with a size update'],
  [L.HPACK_E_UPPERCASE_NAME]: ['SKIFF_HPACK_UPPERCASE_NAME', 'header name with uppercase characters'],
  [L.HPACK_E_INVALID_NAME]: ['SKIFF_HPACK_INVALID_NAME', 'header name empty or not a token'],
  [L.HPACK_E_INVALID_VALUE]: ['SKIFF_HPACK_INVALID_VALUE', 'header value with a forbidden character or surrounding whitespace'],
  [L.HPACK_E_CONNECTION_HEADER]: ['SKIFF_HPACK_CONNECTION_HEADER', 'connection-specific header field'],
  [L.HPACK_E_TE]: ['SKIFF_HPACK_TE', 'te header other than "trailers"'],
  [L.HPACK_E_PSEUDO_AFTER_REGULAR]: ['SKIFF_HPACK_PSEUDO_AFTER_REGULAR', 'pseudo-header after a regular header'],
  [L.HPACK_E_UNKNOWN_PSEUDO]: ['SKIFF_HPACK_UNKNOWN_PSEUDO', 'unknown pseudo-header'],
  [L.HPACK_E_DUPLICATE_PSEUDO]: ['SKIFF_HPACK_DUPLICATE_PSEUDO', 'duplicate pseudo-header'],
  [L.HPACK_E_MISSING_PSEUDO]: ['SKIFF_HPACK_MISSING_PSEUDO', 'required pseudo-header missing'],
  [L.HPACK_E_PSEUDO_IN_TRAILERS]: ['SKIFF_HPACK_PSEUDO_IN_TRAILERS', 'pseudo-header in trailers'],
  [L.HPACK_E_INVALID_PSEUDO_VALUE]: ['SKIFF_HPACK_INVALID_PSEUDO_VALUE', 'invalid :method, :scheme, :path, :authority or :status'],
  [L.HPACK_E_INVALID_CONTENT_LENGTH]: ['SKIFF_HPACK_INVALID_CONTENT_LENGTH', 'content-length not a number or values that differ'],
  [L.HPACK_E_INVALID_HOST]: ['SKIFF_HPACK_INVALID_HOST', 'host duplicated, invalid, or differing from :authority'],
  [L.HPACK_E_HEADER_LIST_TOO_LARGE]: ['SKIFF_HPACK_HEADER_LIST_TOO_LARGE', 'header list larger than the limit'],
  [L.HPACK_E_TOO_MANY_HEADERS]: ['SKIFF_HPACK_TOO_MANY_HEADERS', 'more header fields than the limit'],
};

/** A decode status is a connection error: the HPACK context is lost (COMPRESSION_ERROR). */
export function isCompressionError(status: number): boolean {
  return status > 0 && status <= L.HPACK_E_COMPRESSION_MAX;
}

/** Meaning of a non-zero decode status. */
export function hpackErrorInfo(status: number): HpackErrorInfo {
  const [code, detail] = INFO[status] ?? ['SKIFF_HPACK_UNKNOWN', `unknown HPACK status ${status}`];
  if (isCompressionError(status) || INFO[status] === undefined) {
    return { code, detail, scope: 'connection', h2Code: H2_COMPRESSION_ERROR, httpStatus: 0 };
  }
  const limit = status >= L.HPACK_E_HEADER_LIST_TOO_LARGE;
  return { code, detail, scope: 'stream', h2Code: H2_PROTOCOL_ERROR, httpStatus: limit ? 431 : 400 };
}

/** Thrown by the JS wrappers (bad arguments, exhausted slabs, encoder output too small). */
export class HpackError extends SkiffError {
  constructor(code: string, message: string, readonly h2Code = H2_COMPRESSION_ERROR) {
    super(code, message, 'internal', false);
    this.name = 'HpackError';
  }
}
