/**
 * The stream layer's one seam to the HTTP/1 head codec (src/codec/http1): everything it needs from the
 * codec, imported here only, so a change in the codec's surface is absorbed in this file.
 */
import * as codec from '../../codec/http1/index.js';
import type { HeaderList } from '../../types/http.js';

export {
  recordBytes, parseRequestHead, parseResponseHead, requestHeadView, responseHeadView, codecError,
  encodeRequestHead, encodeResponseHead, encodeLocalResponseHead, encodeLocalRequestHead,
} from '../../codec/http1/index.js';
export type { HeadLimits } from '../../codec/http1/index.js';

/** Parse result codes of parseRequestHead / parseResponseHead (src/wasm/layout.ts). */
export { HEAD_NEED_MORE, HEAD_OK } from '../../wasm/layout.js';

export class ChunkedBodyError extends Error {}

/**
 * Incremental chunked-body decoding over the codec's strict ChunkedDecoder: `feed` consumes input up to
 * the end of the body, hands out data pieces (subarrays of the input), and records the first framing error.
 */
export class ChunkedBodyDecoder {
  private readonly decoder = new codec.ChunkedDecoder();
  done = false;
  error: string | undefined;
  trailers: HeaderList | undefined;

  /** Returns the number of input bytes that belong to the body (all of them unless the body ended inside). */
  feed(input: Uint8Array, onData: (piece: Uint8Array) => void): number {
    if (this.done || this.error !== undefined) return 0;
    // ADAPT: to the codec's ChunkedDecoder API once it lands.
    const d = this.decoder as any;
    const r = d.decode(input, onData);
    return r;
  }
}
