/**
 * Local replies as Envoy sends them: `content-type: text/plain`, a content-length, the body text, `date`,
 * the `server` header, plus any extra headers (e.g. `x-envoy-overloaded: true`, `location`).
 */
import type { DownstreamStream } from '../types/http.js';

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

/** Writes a complete local reply on `stream` and ends it. */
export function sendLocalReply(stream: DownstreamStream, status: number, body: string, opts: LocalReplyOptions): void {
  const bytes = Buffer.from(body, 'utf8');
  stream.writeLocalHead(status, localReplyHeaders(body, opts), {
    bodyKind: 'length', contentLength: bytes.length, close: opts.close,
  });
  if (bytes.length > 0 && !opts.headOnly) stream.writeBody(bytes);
  stream.end();
}
