/**
 * The seam between the HTTP/2 connections and HPACK (src/codec/hpack): what a connection needs to turn a
 * header block into a head and a head into a header block. One instance per connection: HPACK tables are
 * connection state, so blocks must be decoded in the order they arrive and encoded in the order they are
 * sent, every block, including those of streams that are refused or reset.
 */
import type { HeaderList, HeadRewrite, RequestHead, ResponseHead } from '../../types/http.js';

/** Why a header block could not become a head. */
export type HeaderFailureKind =
  /** HPACK itself failed: the connection's tables are out of step, GOAWAY COMPRESSION_ERROR. */
  | 'compression'
  /** The decoded list is larger than the limit (431 / RST). */
  | 'overflow'
  /** More fields than the limit (431 / RST). */
  | 'too_many'
  /** A well-formed block that is not a valid HTTP/2 message (RFC 9113 §8.2, §8.3): RST PROTOCOL_ERROR. */
  | 'malformed';

export interface HeaderFailure {
  readonly failure: HeaderFailureKind;
  readonly detail: string;
}

/** A decoded head and the memory holding it (its record and bytes), freed with `release`. */
export interface Decoded<T> {
  readonly value: T;
  release(): void;
}

export function isFailure<T>(r: Decoded<T> | HeaderFailure): r is HeaderFailure {
  return (r as HeaderFailure).failure !== undefined;
}

export interface ServerHeaderCodec {
  /**
   * Decodes a request header block at [ptr, ptr+len) of wasm memory. The head is in the HTTP/1 record layout
   * (pseudo-headers mapped to method, target, path, host; cookies joined with "; ").
   */
  decodeRequest(ptr: number, len: number): Decoded<RequestHead> | HeaderFailure;
  /** Decodes a trailer block (no pseudo-headers allowed). */
  decodeTrailers(ptr: number, len: number): Decoded<HeaderList> | HeaderFailure;
  /**
   * Encodes a forwarded response head with the proxy's rewrite. Like every encode call here, the bytes may be
   * a view that stays valid only until the next encode on this codec: the caller copies them before that.
   */
  encodeResponse(head: ResponseHead, rewrite: HeadRewrite): Uint8Array;
  /** Encodes a response head built from scratch (local replies). */
  encodeLocalResponse(status: number, headers: readonly (readonly [string, string])[], rewrite: HeadRewrite): Uint8Array;
  encodeTrailers(trailers: HeaderList): Uint8Array;
  /** The peer's SETTINGS_HEADER_TABLE_SIZE: the encoder's table may use up to this. */
  setEncoderTableSize(size: number): void;
  /** Frees the tables (idempotent). */
  release(): void;
}

export interface ClientHeaderCodec {
  /** `endStream`: the HEADERS frame ended the stream (no body). */
  decodeResponse(ptr: number, len: number, requestMethod: string, endStream: boolean): Decoded<ResponseHead> | HeaderFailure;
  decodeTrailers(ptr: number, len: number): Decoded<HeaderList> | HeaderFailure;
  encodeRequest(head: RequestHead, rewrite: HeadRewrite): Uint8Array;
  encodeLocalRequest(method: string, path: string, authority: string, headers: readonly (readonly [string, string])[], rewrite: HeadRewrite): Uint8Array;
  /** A CONNECT request head (`:method CONNECT`, `:authority`, then `headers`; no :scheme, no :path). */
  encodeConnectRequest?(authority: string, headers: readonly (readonly [string, string])[]): Uint8Array;
  encodeTrailers(trailers: HeaderList): Uint8Array;
  setEncoderTableSize(size: number): void;
  release(): void;
}
