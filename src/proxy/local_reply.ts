/**
 * Local replies as Envoy sends them: `content-type: text/plain`, a content-length, the body text, `date`,
 * the `server` header, plus any extra headers (e.g. `x-envoy-overloaded: true`, `location`).
 *
 * A gRPC request (content-type application/grpc) gets its local reply as a gRPC status instead
 * (grpc_status.ts): HTTP 200, `content-type: application/grpc`, `grpc-status` mapped from the HTTP status,
 * the body text as `grpc-message`, and no body, so the head goes out alone and ends the stream (HTTP/2
 * HEADERS with END_STREAM: a trailers-only response).
 */
import type { DownstreamStream, RequestHead } from '../types/http.js';
import { encodeGrpcMessage, httpToGrpcStatus, isGrpcRequest, type GrpcStatusCode } from './grpc_status.js';

/** Envoy's local reply texts, kept in one place so tests and logs agree. */
export const REPLY = {
  noRoute: '',
  noHealthyUpstream: 'no healthy upstream',
  unknownCluster: '',
  timeout: 'upstream request timeout',
  streamTimeout: 'stream timeout',
  maxStreamDuration: 'upstream max stream duration reached',
  connectFailure: 'upstream connect error or disconnect/reset before headers. reset reason: connection failure',
  connectionTermination: 'upstream connect error or disconnect/reset before headers. reset reason: connection termination',
  overflow: 'upstream connect error or disconnect/reset before headers. reset reason: overflow',
  protocolError: 'upstream connect error or disconnect/reset before headers. reset reason: protocol error',
} as const;

export interface LocalReplyOptions {
  readonly serverName: string;
  /** Close the downstream connection after this reply (draining, or the request body was not read). */
  readonly close: boolean;
  readonly extraHeaders?: readonly (readonly [string, string])[];
  /** HEAD requests get the headers only. */
  readonly headOnly?: boolean;
  /** For gRPC requests: this status instead of the one mapped from the HTTP status. */
  readonly grpcStatus?: GrpcStatusCode;
}

let dateSecond = -1;
let dateText = '';

/** The IMF-fixdate of now, formatted at most once a second (Envoy's DateProvider does the same). */
export function httpDate(nowMs = Date.now()): string {
  const second = Math.floor(nowMs / 1000);
  if (second !== dateSecond) { dateSecond = second; dateText = new Date(second * 1000).toUTCString(); }
  return dateText;
}

/** The header list of a local reply (exported for tests). */
export function localReplyHeaders(body: string, opts: LocalReplyOptions): [string, string][] {
  const headers: [string, string][] = [];
  if (body.length > 0) headers.push(['content-type', 'text/plain']);
  headers.push(['date', httpDate()]);
  headers.push(['server', opts.serverName]);
  for (const [n, v] of opts.extraHeaders ?? []) headers.push([n, v]);
  return headers;
}

/** The HTTP status a local reply of `status` to `request` goes out with (gRPC replies are all 200), for stats. */
export function localReplyStatus(request: RequestHead, status: number): number {
  return isGrpcRequest(request.headers) ? 200 : status;
}

/** The header list of a gRPC local reply: the extra headers stay, the HTTP status moves into grpc-status. */
export function grpcLocalReplyHeaders(status: number, body: string, opts: LocalReplyOptions): [string, string][] {
  const headers: [string, string][] = [
    ['content-type', 'application/grpc'],
    ['grpc-status', String(opts.grpcStatus ?? httpToGrpcStatus(status))],
  ];
  if (body.length > 0) headers.push(['grpc-message', encodeGrpcMessage(body)]);
  headers.push(['date', httpDate()]);
  headers.push(['server', opts.serverName]);
  for (const [n, v] of opts.extraHeaders ?? []) headers.push([n, v]);
  return headers;
}

/** Writes a complete local reply on `stream` and ends it (a gRPC status for gRPC requests). */
export function sendLocalReply(stream: DownstreamStream, status: number, body: string, opts: LocalReplyOptions): void {
  if (isGrpcRequest(stream.head.headers)) {
    // No body: an HTTP/2 stream sends the head with END_STREAM; HTTP/1.1 frames it with content-length: 0.
    stream.writeLocalHead(200, grpcLocalReplyHeaders(status, body, opts), { bodyKind: 'length', contentLength: 0, close: opts.close });
    stream.end();
    return;
  }
  const bytes = Buffer.from(body, 'utf8');
  stream.writeLocalHead(status, localReplyHeaders(body, opts), {
    bodyKind: 'length', contentLength: bytes.length, close: opts.close,
  });
  if (bytes.length > 0 && !opts.headOnly) stream.writeBody(bytes);
  stream.end();
}
