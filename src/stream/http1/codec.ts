/**
 * The stream layer's one seam to the HTTP/1 head codec (src/codec/http1): everything it needs from the
 * codec, imported here only, so a change in the codec's surface is absorbed in this file.
 */
import * as codec from '../../codec/http1/index.js';
import type { HeaderList } from '../../types/http.js';

export {
  recordBytes, parseRequestHead, parseResponseHead, requestHeadView, responseHeadView, codecError,
  encodeRequestHead, encodeResponseHead, encodeLocalResponseHead, encodeLocalRequestHead, headLength,
  chunkHeader, CHUNK_END, CHUNKED_BODY_END,
} from '../../codec/http1/index.js';
export type { HeadLimits } from '../../codec/http1/index.js';

/** Parse result codes of parseRequestHead / parseResponseHead (src/wasm/layout.ts). */
export { HEAD_NEED_MORE, HEAD_OK } from '../../wasm/layout.js';

/**
 * Incremental chunked-body decoding over the codec's strict ChunkedDecoder: `feed` consumes input up to
 * the end of the body, hands out data pieces (subarrays of the input), and records the first framing error
 * (the decoder's stable SKIFF_HTTP1_CHUNK_* / INVALID_* code).
 */
export class ChunkedBodyDecoder {
  private readonly decoder = new codec.ChunkedDecoder();
  private trailerList: HeaderList | undefined;

  get done(): boolean { return this.decoder.done; }
  get error(): string | undefined { return this.decoder.error; }
  get trailers(): HeaderList | undefined {
    if (!this.decoder.done || this.decoder.trailers.length === 0) return undefined;
    this.trailerList ??= this.decoder.trailerList();
    return this.trailerList;
  }

  /** Returns the number of input bytes that belong to the body (all of them unless the body ended inside). */
  feed(input: Uint8Array, onData: (piece: Uint8Array) => void): number {
    const r = this.decoder.push(input);
    for (const piece of r.data) if (piece.length > 0) onData(piece);
    return r.consumed;
  }
}
