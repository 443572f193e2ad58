/**
 * The copy of a request body kept so a retry can re-send it. Bodies are streamed, never buffered whole:
 * this copy is kept only up to `limit` bytes; past it the copy is dropped and the request is no longer
 * retried (Envoy's per_request_buffer_limit_bytes behaviour).
 */
export const DEFAULT_RETRY_BUFFER_LIMIT = 1024 * 1024;

export class RetryBodyBuffer {
  private chunks: Buffer[] | null = [];
  private bytes = 0;

  constructor(private readonly limit = DEFAULT_RETRY_BUFFER_LIMIT) {}

  /** Still holding every byte so far (a retry can re-send the body). */
  get complete(): boolean { return this.chunks !== null; }
  get size(): number { return this.bytes; }

  /**
   * Keeps a copy of `chunk` (the codec reuses the memory behind it). `force` keeps it past the limit:
   * used while no try is running, when the downstream is paused and the bytes must wait for the retry.
   */
  append(chunk: Uint8Array, force = false): void {
    if (this.chunks === null) return;
    if (!force && this.bytes + chunk.length > this.limit) { this.drop(); return; }
    this.chunks.push(Buffer.from(chunk));
    this.bytes += chunk.length;
  }

  /** Gives up on retries: frees the copy. */
  drop(): void { this.chunks = null; this.bytes = 0; }

  /** The chunks held, in order (empty when dropped). */
  held(): readonly Buffer[] { return this.chunks ?? []; }
}
