/**
 * tcp_proxy's `tunneling_config`: the downstream's bytes travel inside one HTTP request to the upstream (Envoy's
 * TcpProxy tunnelling; Istio's HBONE originates mTLS HTTP/2 CONNECT this way).
 *
 *  - HTTP/2 (the cluster's protocol options say http2): a CONNECT stream
 *    (`:method CONNECT`, `:authority` = hostname, no :scheme/:path, RFC 9113 §8.5), or with `use_post` a POST
 *    to `post_path`. The stream is the tunnel: DATA both ways, END_STREAM <-> FIN, RST_STREAM <-> reset, and
 *    HTTP/2 flow control is the backpressure (a full window makes `write()` return false).
 *  - HTTP/1.1: `CONNECT hostname HTTP/1.1`; after a 2xx the connection itself is the tunnel. (`use_post` over
 *    HTTP/1.1 would need chunked framing both ways: refused.)
 * A response other than 2xx (or none before the connection ends) fails the tunnel: the session closes the
 * downstream and counts a connect failure.
 *
 * The HTTP/2 tunnel is a stream of the cluster's HTTP/2 pool (src/upstream/http2_pool.ts, Skiff's own codec:
 * src/stream/http2/client.ts requestConnect), so tunnels to one host share connections, TLS and the circuit
 * breakers as requests do. The HTTP/1.1 tunnel takes a raw connection of its own (src/upstream/raw_connect.ts).
 */
import { Duplex } from 'node:stream';
import type * as net from 'node:net';
import { ConfigError, type SkiffError } from '../common/errors.js';
import type { ClientConnection, ResponseHandler, ResponseHead, UpstreamRequest } from '../types/http.js';
import type { HttpConnectionPool } from '../types/upstream.js';
import { checkFields } from '../config/values.js';
import { compileFormat, type AccessLogEntry, type AccessLogFormatter } from '../access_log/format.js';

/** The decoded TcpProxy.TunnelingConfig. */
export interface TunnelingConfigMessage {
  hostname?: string;
  use_post?: boolean;
  post_path?: string;
  headers_to_add?: { header?: { key?: string; value?: string }; append?: { value?: boolean } | boolean; append_action?: string }[];
  propagate_response_headers?: boolean;
  propagate_response_trailers?: boolean;
}

export interface TunnelHeader { readonly name: string; readonly value: AccessLogFormatter }

export interface TunnelingConfig {
  /** The CONNECT authority (or POST :authority / Host), a format string over the connection's fields. */
  readonly hostname: AccessLogFormatter;
  readonly usePost: boolean;
  readonly postPath: string;
  readonly headersToAdd: readonly TunnelHeader[];
  /** Accepted and kept: Skiff has no filter state to put the upstream's response headers/trailers in yet. */
  readonly propagateResponseHeaders: boolean;
  readonly propagateResponseTrailers: boolean;
}

const FIELDS = ['hostname', 'use_post', 'post_path', 'headers_to_add', 'propagate_response_headers', 'propagate_response_trailers'];
/** Headers a tunnel request sets itself (or HTTP/2 forbids). */
const RESERVED = new Set(['host', 'connection', 'upgrade', 'transfer-encoding', 'content-length', 'keep-alive', 'proxy-connection', 'te']);
/** Bound on an HTTP/1.1 CONNECT response head. */
const MAX_RESPONSE_HEAD = 16 * 1024;

export function tunnelingConfig(m: TunnelingConfigMessage, path: string): TunnelingConfig {
  checkFields(m as Record<string, unknown>, FIELDS, path);
  if (typeof m.hostname !== 'string' || m.hostname === '') throw new ConfigError(`${path}.hostname`, 'required');
  const usePost = m.use_post === true;
  if (m.post_path !== undefined && m.post_path !== '' && !usePost) throw new ConfigError(`${path}.post_path`, 'only with use_post');
  const postPath = m.post_path || '/';
  if (!postPath.startsWith('/')) throw new ConfigError(`${path}.post_path`, 'must start with /');
  const headersToAdd = (m.headers_to_add ?? []).map((h, i): TunnelHeader => {
    const at = `${path}.headers_to_add[${i}]`;
    const key = h.header?.key;
    if (typeof key !== 'string' || !/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(key)) throw new ConfigError(`${at}.header.key`, 'a header name is required');
    const name = key.toLowerCase();
    if (RESERVED.has(name)) throw new ConfigError(`${at}.header.key`, `${name} is set by the tunnel itself`);
    const value = h.header?.value ?? '';
    if (/[\r\n\0]/.test(value)) throw new ConfigError(`${at}.header.value`, 'no CR, LF or NUL');
    return { name, value: compileFormat(value, `${at}.header.value`) };
  });
  return {
    hostname: compileFormat(m.hostname, `${path}.hostname`), usePost, postPath, headersToAdd,
    propagateResponseHeaders: m.propagate_response_headers === true,
    propagateResponseTrailers: m.propagate_response_trailers === true,
  };
}

/** Why a tunnel did not open: the status of a refusing response (0 when there was none) and a description. */
export interface TunnelFailure {
  readonly status: number;
  readonly reason: string;
  /** The pool's error when no connection could be had (overflow, connect failure: retryable or not). */
  readonly error?: SkiffError;
}

export type TunnelCallback = (failure: TunnelFailure | null, stream?: Duplex) => void;

/**
 * HTTP/1.1: sends `CONNECT` over `socket` (connected, TLS done) and calls `cb` once: with the socket itself as
 * the tunnel on a 2xx, or with why not. `entry` fills hostname and header formats. Returns a cancel function.
 */
export function openHttp1Tunnel(socket: net.Socket, config: TunnelingConfig, entry: AccessLogEntry, cb: TunnelCallback): () => void {
  const authority = config.hostname(entry);
  const headers = config.headersToAdd.map((h) => [h.name, h.value(entry)] as const);
  return openHttp1(socket, config, authority, headers, cb);
}

function openHttp1(socket: net.Socket, config: TunnelingConfig, authority: string, headers: readonly (readonly [string, string])[], cb: TunnelCallback): () => void {
  let done = false;
  const finish = (f: TunnelFailure | null): void => {
    if (done) return;
    done = true;
    socket.off('data', onData);
    socket.off('close', onClose);
    if (f !== null) { socket.destroy(); cb(f); return; }
    socket.pause();
    cb(null, socket);
  };
  if (config.usePost) {
    process.nextTick(() => finish({ status: 0, reason: 'use_post over HTTP/1.1 is not implemented (chunked framing): use an HTTP/2 cluster' }));
    return () => { done = true; socket.destroy(); };
  }
  if (/[\s\0]/.test(authority) || authority === '') {
    process.nextTick(() => finish({ status: 0, reason: `tunnel hostname ${JSON.stringify(authority)} is not a valid authority` }));
    return () => { done = true; socket.destroy(); };
  }
  let head: Buffer = Buffer.alloc(0);
  const onData = (chunk: Buffer): void => {
    head = head.length === 0 ? chunk : Buffer.concat([head, chunk]);
    const end = head.indexOf('\r\n\r\n');
    if (end < 0) {
      if (head.length > MAX_RESPONSE_HEAD) finish({ status: 0, reason: 'CONNECT response head too large' });
      return;
    }
    const statusLine = head.subarray(0, head.indexOf('\r\n')).toString('latin1');
    const m = /^HTTP\/1\.[01] (\d{3})(?: |$)/.exec(statusLine);
    if (m === null) { finish({ status: 0, reason: `malformed CONNECT response: ${JSON.stringify(statusLine.slice(0, 64))}` }); return; }
    const status = Number(m[1]);
    if (status < 200 || status > 299) { finish({ status, reason: `CONNECT refused with ${status}` }); return; }
    const rest = head.subarray(end + 4);
    finish(null);
    // Bytes the upstream sent right after its 2xx belong to the tunnel.
    if (rest.length > 0) socket.unshift(rest);
  };
  const onClose = (): void => finish({ status: 0, reason: 'upstream closed before answering CONNECT' });
  socket.on('data', onData);
  socket.once('close', onClose);
  let request = `CONNECT ${authority} HTTP/1.1\r\nhost: ${authority}\r\n`;
  for (const [n, v] of headers) request += `${n}: ${v}\r\n`;
  socket.write(`${request}\r\n`);
  return () => { if (!done) { done = true; socket.destroy(); } };
}

/**
 * The tunnel over the cluster's HTTP/2 pool: one CONNECT (or POST) stream of a pooled connection, so tunnels to
 * one host share connections as requests do. The Duplex is the stream: written bytes are DATA (END_STREAM on
 * end()), the response's DATA is what it reads; destroy() resets the stream (RST_STREAM CANCEL).
 */
export function openHttp2Tunnel(pool: HttpConnectionPool, config: TunnelingConfig, entry: AccessLogEntry, cb: TunnelCallback): () => void {
  const authority = config.hostname(entry);
  const headers = config.headersToAdd.map((h) => [h.name, h.value(entry)] as const);
  let tunnel: Http2Tunnel | undefined;
  let cancelled = false;
  const handle = pool.acquire((err, conn) => {
    if (cancelled) { if (conn) pool.release(conn); return; }
    if (err !== null || conn === undefined) { cb({ status: 0, reason: err?.message ?? 'no connection', error: err ?? undefined }); return; }
    if (conn.requestConnect === undefined) {
      pool.release(conn);
      cb({ status: 0, reason: 'the cluster\'s connection cannot carry CONNECT (HTTP/2 required)' });
      return;
    }
    tunnel = new Http2Tunnel(pool, conn, cb);
    try {
      tunnel.start(config.usePost
        ? conn.requestLocal('POST', config.postPath, [['host', authority], ...headers], { bodyKind: 'chunked' }, tunnel)
        : conn.requestConnect(authority, headers, tunnel));
    } catch (e) {
      tunnel.refuse({ status: 0, reason: `tunnel request: ${e instanceof Error ? e.message : String(e)}` });
    }
  });
  return () => {
    cancelled = true;
    handle.cancel();
    tunnel?.cancel();
  };
}

/** One tunnel stream as a Duplex (and the ResponseHandler of its request). */
class Http2Tunnel extends Duplex implements ResponseHandler {
  private req: UpstreamRequest | undefined;
  private state: 'waiting' | 'open' | 'failed' = 'waiting';
  private responseEnded = false;
  private released = false;

  constructor(private readonly pool: HttpConnectionPool, private readonly conn: ClientConnection, private readonly cb: TunnelCallback | undefined) {
    super({ allowHalfOpen: true });
  }

  start(req: UpstreamRequest): void {
    this.req = req;
    // A POST tunnel's response may end first (the peer's half-close): the request keeps flowing (HTTP/2 streams).
    if ('tunnel' in req) (req as { tunnel: boolean }).tunnel = true;
    req.onDrain(() => this.emit('upstreamDrain'));
  }

  /** The tunnel did not open: the request is abandoned, the lease goes back, the caller hears why. */
  refuse(f: TunnelFailure): void {
    if (this.state !== 'waiting') return;
    this.state = 'failed';
    this.req?.abort();
    this.release();
    this.cb?.(f);
  }

  /** Abandoned before it opened (the downstream left). */
  cancel(): void {
    if (this.state !== 'waiting') return;
    this.state = 'failed';
    this.req?.abort();
    this.release();
  }

  // ---- ResponseHandler ----
  onHead(head: ResponseHead): void {
    if (this.state !== 'waiting') return;
    if (head.status < 200 || head.status > 299) { this.refuse({ status: head.status, reason: `CONNECT refused with ${head.status}` }); return; }
    this.state = 'open';
    this.pause();
    this.cb?.(null, this);
  }

  onData(chunk: Uint8Array): void {
    if (this.state !== 'open') return;
    const b = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length);
    if (!this.push(b)) this.req!.pauseResponse();
  }

  onEnd(): void {
    if (this.state === 'waiting') { this.refuse({ status: 0, reason: 'the stream ended before a response' }); return; }
    if (this.state !== 'open') return;
    this.responseEnded = true;
    this.push(null);
  }

  onError(err: SkiffError): void {
    if (this.state === 'waiting') { this.refuse({ status: 0, reason: err.message, error: err }); return; }
    if (this.state === 'open' && !this.destroyed) this.destroy(err);
  }

  // ---- Duplex ----
  override _read(): void { this.req?.resumeResponse(); }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    if (this.req!.writeBody(chunk)) { cb(); return; }
    this.once('upstreamDrain', () => cb());
  }

  override _final(cb: (err?: Error | null) => void): void {
    this.req!.end();
    cb();
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    // A stream still open either way is reset; one finished both ways just goes back to the pool.
    if (!this.responseEnded || !this.writableFinished) this.req?.abort();
    this.release();
    cb(err);
  }

  private release(): void {
    if (this.released) return;
    this.released = true;
    this.pool.release(this.conn);
  }
}
