/**
 * Body framing on the way out: writes a message body to a socket as content-length bytes, chunked
 * transfer-coding, or close-delimited bytes. One instance per message. The body bytes themselves are
 * written as given (never copied); chunked framing adds a size line and CRLF around each chunk, corked so
 * the three pieces leave in one writev.
 */
import type { Socket } from 'node:net';
import type { BodyKind } from '../../types/http.js';
import { chunkHeader, CHUNK_END, CHUNKED_BODY_END } from './codec.js';

export class BodyWriter {
  /** Body bytes accepted so far (framing excluded). */
  written = 0;
  /** The body broke its own framing (more or fewer bytes than its content-length): the connection must close. */
  broken = false;
  private ended = false;

  /**
   * @param kind framing of the message being written
   * @param contentLength the declared length for 'length'
   * @param bodiless true when the message may carry no body whatever its framing says (HEAD responses,
   *   204, 304): writes are dropped, end() writes nothing.
   */
  constructor(private readonly socket: Socket, readonly kind: BodyKind, private readonly contentLength: number,
    private readonly bodiless: boolean) {}

  /** Writes body bytes; false when the socket buffer is over its high-water mark (wait for 'drain'). */
  write(chunk: Uint8Array): boolean {
    if (this.ended || this.socket.destroyed) return false;
    if (chunk.length === 0) return !this.socket.writableNeedDrain;
    if (this.bodiless || this.kind === 'none') { this.written += chunk.length; return !this.socket.writableNeedDrain; }
    switch (this.kind) {
      case 'length': {
        const room = this.contentLength - this.written;
        if (chunk.length > room) { this.broken = true; chunk = chunk.subarray(0, Math.max(0, room)); }
        this.written += chunk.length;
        if (chunk.length === 0) return !this.socket.writableNeedDrain;
        return this.socket.write(chunk);
      }
      case 'chunked': {
        this.written += chunk.length;
        this.socket.cork();
        this.socket.write(chunkHeader(chunk.length));
        this.socket.write(chunk);
        this.socket.write(CHUNK_END);
        this.socket.uncork();
        return !this.socket.writableNeedDrain;
      }
      default:
        this.written += chunk.length;
        return this.socket.write(chunk);
    }
  }

  /** Completes the body: the last chunk for chunked; marks a short content-length body as broken. */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    if (this.bodiless || this.kind === 'none') return;
    if (this.kind === 'chunked') { if (!this.socket.destroyed) this.socket.write(CHUNKED_BODY_END); return; }
    if (this.kind === 'length' && this.written !== this.contentLength) this.broken = true;
  }

  get isEnded(): boolean { return this.ended; }
}
