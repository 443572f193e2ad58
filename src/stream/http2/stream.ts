/**
 * The per-stream state an Http2Connection keeps (RFC 9113 §5.1): which halves are closed, both flow-control
 * windows, and the DATA waiting for window. idle -> open -> half-closed (local or remote) -> closed; a stream
 * is in the connection's map from open until closed.
 */
import type { SkiffError } from '../../common/errors.js';
import type { HeaderList } from '../../types/http.js';
import type { Decoded } from './header_codec.js';

/** The connection side a stream reports its received END_STREAM to. */
export interface StreamOwner {
  streamRemoteEnded(stream: H2Stream): void;
}

export abstract class H2Stream {
  /** Bytes this side may still send (the peer's window for this stream; may go negative after SETTINGS). */
  sendWindow = 0;
  /** Bytes the peer may still send before this side replenishes the window. */
  recvWindow = 0;
  /** Body bytes handed on since the last WINDOW_UPDATE. */
  recvConsumed = 0;
  /** END_STREAM sent (or the stream was reset). */
  localEnded = false;
  /** END_STREAM received (or the stream was reset). */
  remoteEnded = false;
  closed = false;
  readonly sendQueue: Uint8Array[] = [];
  queuedBytes = 0;
  /** writeBody returned false: `drained()` is owed once the queue is empty and the socket can take more. */
  wantsDrain = false;
  /** end() was called: END_STREAM goes out after the queued DATA. */
  endQueued = false;
  /**
   * Encodes the trailers to send after the queued DATA. Encoded only when they go out: HPACK blocks must be
   * encoded in the order they are sent, and other streams send theirs meanwhile.
   */
  trailerBlock: (() => Uint8Array) | undefined;
  readonly openedAt = performance.now();

  /** Received DATA not handed on yet (no body handler, or it paused). */
  protected readonly recvQueue: Buffer[] = [];
  /** END_STREAM received: the end goes on once recvQueue is empty. */
  protected endReceived = false;
  /** The trailers that ended the received half, if any. */
  trailers: Decoded<HeaderList> | undefined;

  constructor(readonly id: number, private readonly owner: StreamOwner) {}

  /** Received body bytes: queued, then handed on as far as the handler takes them. */
  receiveData(data: Buffer, endStream: boolean): void {
    if (data.length > 0) this.recvQueue.push(data);
    if (endStream) this.receiveEnd(undefined);
    else this.deliver();
  }

  /** The received half ended (END_STREAM, with or without trailers). */
  receiveEnd(trailers: Decoded<HeaderList> | undefined): void {
    this.trailers = trailers;
    this.endReceived = true;
    this.owner.streamRemoteEnded(this);
    this.deliver();
  }

  /** Hands queued body chunks, then the end, to the handler as far as it takes them. */
  protected abstract deliver(): void;
  /** Everything queued went out and the socket can take more. */
  abstract drained(): void;
  /** The stream was reset (by either side) or the connection failed. */
  abstract failed(err: SkiffError): void;
}
