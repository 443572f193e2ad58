/** XPE_* codes from the wasm codecs as typed errors with stable codes. */
import { SkiffError } from '../../common/errors.js';
import * as L from '../../wasm/layout.js';

const NAMES: Record<number, [code: string, message: string]> = {
  [L.XPE_UNKNOWN_PROTO]: ['SKIFF_XPROTO_UNKNOWN_PROTO', 'protocol id not known to the wasm codecs'],
  [L.XPE_BAD_MAGIC]: ['SKIFF_XPROTO_BAD_MAGIC', 'wrong magic or protocol code'],
  [L.XPE_BAD_VERSION]: ['SKIFF_XPROTO_BAD_VERSION', 'unknown protocol version'],
  [L.XPE_BAD_KIND]: ['SKIFF_XPROTO_BAD_KIND', 'unknown frame type or command code'],
  [L.XPE_TOO_LARGE]: ['SKIFF_XPROTO_TOO_LARGE', 'frame length past the maximum frame size'],
  [L.XPE_MALFORMED]: ['SKIFF_XPROTO_MALFORMED', 'frame lengths inconsistent'],
  [L.XPE_CRC]: ['SKIFF_XPROTO_CRC', 'CRC32 mismatch'],
  [L.XPE_HEADERS]: ['SKIFF_XPROTO_HEADERS', 'header map malformed'],
  [L.XPE_HESSIAN]: ['SKIFF_XPROTO_HESSIAN', 'Hessian2 body malformed'],
  [L.XPE_OUT_TOO_SMALL]: ['SKIFF_XPROTO_OUT_TOO_SMALL', 'output buffer too small'],
  [L.XPE_UNSUPPORTED]: ['SKIFF_XPROTO_UNSUPPORTED', 'the protocol has no such frame'],
};

/** A decode/encode error from an XPE_* result (< -1). Decode errors are the downstream's or upstream's fault. */
export class XProtocolError extends SkiffError {
  constructor(readonly xpe: number, readonly at: number, source: 'downstream' | 'upstream' | 'internal' = 'downstream') {
    const [code, message] = NAMES[xpe] ?? ['SKIFF_XPROTO_ERROR', `x-protocol error ${xpe}`];
    super(code, at >= 0 ? `${message} (at byte ${at})` : message, source, false);
    this.name = 'XProtocolError';
  }
}

/** The stable code of an XPE_* result. */
export function xprotoErrorCode(xpe: number): string {
  return (NAMES[xpe] ?? ['SKIFF_XPROTO_ERROR'])[0];
}
