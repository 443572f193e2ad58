/**
 * What each HTTP/1 parse error code (assembly/abi/layout.ts H1E_*) means to the proxy: the status of the local
 * reply and a stable code for logs and tests. Codes never change once published.
 */
import type { CodecErrorInfo } from '../../types/http.js';
import * as L from '../../wasm/layout.js';

const INFO: Record<number, CodecErrorInfo> = {
  [L.H1E_INVALID_METHOD]: info(400, 'INVALID_METHOD', 'method is not a token'),
  [L.H1E_INVALID_TARGET]: info(400, 'INVALID_TARGET', 'request-target is malformed or holds a forbidden byte'),
  [L.H1E_INVALID_VERSION]: info(505, 'INVALID_VERSION', 'HTTP version other than 1.0 or 1.1'),
  [L.H1E_INVALID_REQUEST_LINE]: info(400, 'INVALID_REQUEST_LINE', 'request line is not "method SP target SP HTTP/1.x"'),
  [L.H1E_INVALID_TOKEN]: info(400, 'INVALID_HEADER_TOKEN', 'header name is empty or holds a non-token byte'),
  [L.H1E_WS_BEFORE_COLON]: info(400, 'WS_BEFORE_COLON', 'whitespace between header name and colon'),
  [L.H1E_INVALID_HEADER_VALUE]: info(400, 'INVALID_HEADER_VALUE', 'control character in a header value'),
  [L.H1E_BARE_CR]: info(400, 'BARE_CR', 'CR not followed by LF'),
  [L.H1E_BARE_LF]: info(400, 'BARE_LF', 'LF not preceded by CR'),
  [L.H1E_OBS_FOLD]: info(400, 'OBS_FOLD', 'obsolete line folding'),
  [L.H1E_CL_AND_TE]: info(400, 'CL_AND_TE', 'both Content-Length and Transfer-Encoding'),
  [L.H1E_DUPLICATE_CL]: info(400, 'DUPLICATE_CONTENT_LENGTH', 'Content-Length values differ'),
  [L.H1E_INVALID_CL]: info(400, 'INVALID_CONTENT_LENGTH', 'Content-Length is not a decimal number'),
  [L.H1E_BAD_TE]: info(400, 'INVALID_TRANSFER_ENCODING', 'Transfer-Encoding is malformed or its final coding is not chunked'),
  [L.H1E_UNSUPPORTED_TE]: info(501, 'UNSUPPORTED_TRANSFER_ENCODING', 'transfer coding other than chunked'),
  [L.H1E_HEADERS_TOO_LARGE]: info(431, 'HEADERS_TOO_LARGE', 'head larger than the limit'),
  [L.H1E_TOO_MANY_HEADERS]: info(431, 'TOO_MANY_HEADERS', 'more header lines than the limit'),
  [L.H1E_MISSING_HOST]: info(400, 'MISSING_HOST', 'HTTP/1.1 request without Host'),
  [L.H1E_DUPLICATE_HOST]: info(400, 'DUPLICATE_HOST', 'more than one Host header'),
  [L.H1E_INVALID_STATUS_LINE]: info(400, 'INVALID_STATUS_LINE', 'status line is malformed'),
  [L.H1E_INVALID_CONNECT]: info(400, 'INVALID_CONNECT_TARGET', 'CONNECT target is not host:port'),
  [L.H1E_INVALID_HOST]: info(400, 'INVALID_HOST', 'Host or authority holds a byte an authority cannot'),
};

function info(status: number, code: string, detail: string): CodecErrorInfo {
  return Object.freeze({ status, code: `SKIFF_HTTP1_${code}`, detail });
}

const UNKNOWN: CodecErrorInfo = info(400, 'UNKNOWN', 'unknown HTTP/1 parse error');

/** Local-reply status, stable code and detail of an H1E_* code (400 for a code this build does not know). */
export function codecError(code: number): CodecErrorInfo {
  return INFO[code] ?? UNKNOWN;
}
