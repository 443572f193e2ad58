/**
 * Stable error codes raised by the HTTP/1.1 stream layer (codes never change once published).
 * Head parse errors carry the codec's own codes (src/codec/http1); these cover what happens around a head:
 * timeouts, resets, framing of bodies and responses the codec cannot vouch for.
 */
import { SkiffError } from '../../common/errors.js';
import type { CodecErrorInfo } from '../../types/http.js';

export const DOWNSTREAM_RESET = 'SKIFF_DOWNSTREAM_RESET';
export const REQUEST_HEADERS_TIMEOUT = 'SKIFF_HTTP1_REQUEST_HEADERS_TIMEOUT';
export const HEAD_TOO_LARGE = 'SKIFF_HTTP1_HEAD_TOO_LARGE';
export const OUT_OF_SLABS = 'SKIFF_HTTP1_OUT_OF_BUFFERS';
export const UPSTREAM_PROTOCOL_ERROR = 'SKIFF_UPSTREAM_PROTOCOL_ERROR';
export const UPSTREAM_RESET = 'SKIFF_UPSTREAM_RESET';
export const UPSTREAM_CONNECTION_BUSY = 'SKIFF_UPSTREAM_CONNECTION_BUSY';
export const INTERNAL = 'SKIFF_HTTP1_INTERNAL';

/** The upstream closed or reset before its response completed. Retryable; `responseBytes` tells the proxy
 *  whether anything of the response had arrived (a retry is only safe for the client when nothing was sent on). */
export class UpstreamResetError extends SkiffError {
  constructor(readonly responseBytes: number, why: string, options?: { cause?: unknown }) {
    super(UPSTREAM_RESET,
      `upstream ${why} ${responseBytes === 0 ? 'before any response bytes' : `after ${responseBytes} response bytes`}`,
      'upstream', true, options);
    this.name = 'UpstreamResetError';
  }
}

export function downstreamReset(why: string, cause?: unknown): SkiffError {
  return new SkiffError(DOWNSTREAM_RESET, `downstream ${why}`, 'downstream', false, { cause });
}

export const headersTimeoutInfo: CodecErrorInfo = {
  status: 408, code: REQUEST_HEADERS_TIMEOUT, detail: 'request headers not received in time',
};

export const headTooLargeInfo: CodecErrorInfo = {
  status: 431, code: HEAD_TOO_LARGE, detail: 'request head exceeds the configured limit',
};

export const outOfSlabsInfo: CodecErrorInfo = {
  status: 503, code: OUT_OF_SLABS, detail: 'no buffer available for the request head',
};
