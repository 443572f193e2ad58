/** The body framing of a rewrite as the wasm head encoders (HTTP/1.1 serializer, HPACK) take it: BODY_KIND_*. */
import type { BodyKind } from '../../types/http.js';
import * as L from '../../wasm/layout.js';

export function bodyKindCode(kind: BodyKind): number {
  switch (kind) {
    case 'length': return L.BODY_KIND_LENGTH;
    case 'chunked': return L.BODY_KIND_CHUNKED;
    case 'close': return L.BODY_KIND_CLOSE;
    default: return L.BODY_KIND_NONE;
  }
}
