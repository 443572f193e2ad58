/**
 * Body framing on the way in: turns the bytes that follow a head into body chunks, per the head's framing
 * (content-length, chunked via the codec's ChunkedDecoder, or close-delimited), and says where the body
 * ends so the bytes after it (a pipelined request) stay with the connection.
 *
 * Chunks handed to `onData` are subarrays of the input (never copied here).
 */
import type { BodyKind, HeaderList } from '../../types/http.js';
import { ChunkedBodyDecoder } from './codec.js';

export type BodyFeed =
  /** `consumed` bytes were body; `done` = the body is complete (bytes after `consumed` belong to the next message). */
  { consumed: number; done: boolean; error?: undefined }
  | { consumed: number; done: false; error: string };

export class BodyReader {
  private remaining: number;
  private chunked: ChunkedBodyDecoder | undefined;
  private finished: boolean;
  /** Body bytes delivered so far. */
  received = 0;

  constructor(readonly kind: BodyKind, contentLength: number) {
    this.remaining = kind === 'length' ? contentLength : 0;
    this.chunked = kind === 'chunked' ? new ChunkedBodyDecoder() : undefined;
    this.finished = kind === 'none' || (kind === 'length' && contentLength === 0);
  }

  get done(): boolean { return this.finished; }

  /** Trailers of a chunked body, once done. */
  get trailers(): HeaderList | undefined { return this.chunked?.trailers; }

  /** Feeds input; body pieces go to `onData` as they are found. */
  feed(input: Uint8Array, onData: (chunk: Uint8Array) => void): BodyFeed {
    if (this.finished) return { consumed: 0, done: true };
    switch (this.kind) {
      case 'length': {
        const n = Math.min(this.remaining, input.length);
        this.remaining -= n;
        this.received += n;
        if (this.remaining === 0) this.finished = true;
        if (n > 0) onData(n === input.length ? input : input.subarray(0, n));
        return { consumed: n, done: this.finished };
      }
      case 'chunked': {
        const decoder = this.chunked!;
        const consumed = decoder.feed(input, (piece) => { this.received += piece.length; onData(piece); });
        const error = decoder.error;
        if (error !== undefined) return { consumed, done: false, error };
        if (decoder.done) this.finished = true;
        return { consumed, done: this.finished };
      }
      case 'close':
        this.received += input.length;
        if (input.length > 0) onData(input);
        return { consumed: input.length, done: false };
      default:
        return { consumed: 0, done: true };
    }
  }

  /** The peer closed: a close-delimited body is then complete; any other unfinished body is truncated. */
  endOfInput(): boolean {
    if (this.kind === 'close') this.finished = true;
    return this.finished;
  }
}
