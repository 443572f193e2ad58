/**
 * The HTTP/1.1 stream layer as the proxy sees it (implemented in src/stream/http1 over the wasm codec).
 *
 * Layers, MOSN's four: PROXY (src/proxy: routing, retries, local replies) -> STREAM (this contract:
 * requests and responses with bodies) -> PROTOCOL (assembly/codec/http1: head parse/serialize in wasm)
 * -> NET-IO (node:net sockets on the main thread).
 *
 * Threads: everything here runs on the main thread. Ownership: head views over shared memory are valid
 * until the stream completes (the downstream connection parses the next pipelined request only after the
 * previous response has been written in full, as Envoy does).
 */
import type { Socket } from 'node:net';
import type { SkiffError } from '../common/errors.js';

/** Headers in received order; names lowercase; values latin1 with surrounding whitespace trimmed. */
export interface HeaderList {
  readonly size: number;
  name(i: number): string;
  value(i: number): string;
  /** First value of `name` (lowercase), or undefined. */
  get(name: string): string | undefined;
  getAll(name: string): string[];
  has(name: string): boolean;
}

export type BodyKind = 'none' | 'length' | 'chunked' | 'close';

export interface RequestHead {
  readonly method: string;
  /** request-target as received. */
  readonly target: string;
  /** path and query (origin-form), also for absolute-form targets. */
  readonly path: string;
  /** Host header or the absolute-form authority. */
  readonly host: string;
  readonly versionMinor: number;
  readonly headers: HeaderList;
  readonly keepAlive: boolean;
  readonly expectContinue: boolean;
  readonly upgrade: boolean;
  readonly bodyKind: Exclude<BodyKind, 'close'>;
  /** Content-Length when bodyKind is 'length', else -1. */
  readonly contentLength: number;
  /** Address of the wasm head record (assembly/abi/layout.ts HEAD_*), for the router. */
  readonly recordPtr: number;
  /** The protocol the request arrived in; absent means HTTP/1.x (use_downstream_protocol_config follows it). */
  readonly protocol?: 'http1' | 'http2';
}

export interface ResponseHead {
  readonly status: number;
  readonly reason: string;
  readonly versionMinor: number;
  readonly headers: HeaderList;
  readonly keepAlive: boolean;
  readonly bodyKind: BodyKind;
  readonly contentLength: number;
  readonly recordPtr: number;
}

/**
 * How the proxy changes a received head before forwarding it. The codec writes the original header lines
 * that survive verbatim (names lowercased) and appends the added ones; hop-by-hop headers
 * (connection, keep-alive, proxy-connection, te, trailer, transfer-encoding, upgrade, and names listed in
 * Connection) and content-length are always dropped and re-derived from `bodyKind`.
 */
export interface HeadRewrite {
  /** Replaces the request-target (requests only). */
  path?: string;
  /** Lowercase names to drop. */
  remove?: readonly string[];
  /** Headers to append after the surviving original ones. */
  add?: readonly (readonly [string, string])[];
  /** Framing of the forwarded message. */
  bodyKind: BodyKind;
  contentLength?: number;
  /** Adds `connection: close` (downstream responses when the connection will close). */
  close?: boolean;
  /**
   * HTTP/2 downstream responses: the response opens a tunnel (a terminated CONNECT). Its body is the tunnel's
   * bytes, its end a half-close: the request's DATA keeps flowing until the client ends it too.
   */
  tunnel?: boolean;
}

export interface BodyHandler {
  onData(chunk: Uint8Array): void;
  /** Body complete; trailers of a chunked body, if any. */
  onEnd(trailers?: HeaderList): void;
  /** The body stopped early: the peer reset, sent a malformed chunk, or timed out. */
  onError(err: SkiffError): void;
}

/** One request on a downstream connection. */
export interface DownstreamStream {
  readonly head: RequestHead;
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly localPort: number;
  /** Starts delivering the request body (chunks are held until a handler is set). */
  setBodyHandler(h: BodyHandler): void;
  /** Backpressure on the request body: stop/start reading the socket. */
  pauseBody(): void;
  resumeBody(): void;
  /** Sends `HTTP/1.1 100 Continue` (once; only when the head asked for it). */
  sendContinue(): void;
  /** Writes the response head built from an upstream response. */
  writeHead(head: ResponseHead, rewrite: HeadRewrite): void;
  /** Writes a response head from scratch (local replies). `headers` names lowercase. */
  writeLocalHead(status: number, headers: readonly (readonly [string, string])[], rewrite: HeadRewrite): void;
  /** Writes body bytes, framed per the head's bodyKind; false = wait for onDrain. */
  writeBody(chunk: Uint8Array): boolean;
  onDrain(cb: () => void): void;
  /**
   * Completes the response; the connection then reads the next request or closes. `trailers`: sent after the
   * body where the protocol carries them (HTTP/2 HEADERS with END_STREAM); HTTP/1.1 drops them.
   */
  end(trailers?: HeaderList): void;
  /** Aborts: closes the connection without completing the response. */
  reset(): void;
  /** Called when the downstream connection closes before the response completed. */
  onAbort(cb: (err: SkiffError) => void): void;
  /**
   * HTTP/1.1 only (absent where tunnels stay inside the stream, as HTTP/2 DATA frames): once the head of a
   * `101` (upgrade) or `2xx` (CONNECT) has been written, the connection leaves HTTP. Returns its socket and the
   * bytes already received after the request head; the caller then owns the socket. Undefined when the
   * connection cannot be handed over (closed, or the request still had a body).
   */
  detachSocket?(): { socket: Socket; received: Buffer } | undefined;
}

/** Malformed downstream input: the proxy sends the local reply and the connection closes. */
export interface CodecErrorInfo {
  /** 400, 408, 413, 431, 501 */
  readonly status: number;
  /** Stable code, e.g. SKIFF_HTTP1_INVALID_HEADER_TOKEN. */
  readonly code: string;
  readonly detail: string;
}

export interface ServerConnectionHandler {
  /** A new request. The next one is read only after this one's response ended. */
  onRequest(stream: DownstreamStream): void;
  /** The request head could not be parsed: reply with `info.status` via `reply`, which closes the connection. */
  onCodecError(info: CodecErrorInfo, reply: (status: number, body: string) => void): void;
}

/** The client side of one upstream HTTP/1.1 connection: one request at a time. */
export interface ClientConnection {
  readonly id: number;
  /** Still usable for another request (keep-alive, no error). */
  readonly reusable: boolean;
  /** Starts a request: `head` is the downstream head rewritten by `rewrite`. */
  request(head: RequestHead, rewrite: HeadRewrite, handler: ResponseHandler): UpstreamRequest;
  /** Starts a request whose head is built from scratch (health checks, mirrors). */
  requestLocal(method: string, path: string, headers: readonly (readonly [string, string])[], rewrite: HeadRewrite, handler: ResponseHandler): UpstreamRequest;
  /**
   * HTTP/2 only: an extended-less CONNECT (RFC 9113 §8.5: `:method CONNECT`, `:authority`, no :scheme/:path)
   * whose DATA both ways is a byte tunnel (tcp_proxy tunneling_config). Absent on connections that cannot.
   */
  requestConnect?(authority: string, headers: readonly (readonly [string, string])[], handler: ResponseHandler): UpstreamRequest;
  close(): void;
  onClose(cb: () => void): void;
}

export interface ResponseHandler extends BodyHandler {
  /** 1xx other than 101 are swallowed except 100 (onContinue). */
  onHead(head: ResponseHead): void;
  onContinue?(): void;
  /**
   * HTTP/1.1: a `101 Switching Protocols` answer. When set, it replaces onHead for a 101: the connection leaves
   * HTTP and is handed over (its socket and the bytes received after the 101 head); the request is over and the
   * connection is never reused. `head` is readable during the call only.
   */
  onSwitchingProtocols?(head: ResponseHead, socket: Socket, received: Buffer): void;
}

export interface UpstreamRequest {
  writeBody(chunk: Uint8Array): boolean;
  onDrain(cb: () => void): void;
  /** Ends the request body; `trailers` go out where the protocol carries them (HTTP/2), else are dropped. */
  end(trailers?: HeaderList): void;
  /** Backpressure on the response body. */
  pauseResponse(): void;
  resumeResponse(): void;
  /** Abandons the request; the connection is closed, not reused. */
  abort(): void;
}
