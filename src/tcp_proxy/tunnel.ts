/**
 * tcp_proxy's `tunneling_config`: the downstream's bytes travel inside one HTTP request to the upstream (Envoy's
 * TcpProxy tunnelling; Istio's HBONE originates mTLS HTTP/2 CONNECT this way).
 *
 *  - HTTP/2 (the cluster's protocol options say http2, or `auto` and ALPN chose h2): a CONNECT stream
 *    (`:method CONNECT`, `:authority` = hostname, no :scheme/:path, RFC 9113 §8.5), or with `use_post` a POST
 *    to `post_path`. The stream is the tunnel: DATA both ways, END_STREAM <-> FIN, RST_STREAM <-> reset, and
 *    HTTP/2 flow control is the backpressure (a full window makes `write()` return false).
 *  - HTTP/1.1: `CONNECT hostname HTTP/1.1`; after a 2xx the connection itself is the tunnel. (`use_post` over
 *    HTTP/1.1 would need chunked framing both ways: refused.)
 * A response other than 2xx (or none before the connection ends) fails the tunnel: the session closes the
 * downstream and counts a connect failure.
 *
 * The HTTP/2 side runs on node:http2's client session over the cluster's connection (TLS with ALPN h2, or h2c):
 * one session per tunnel, its bytes never parsed by Skiff's router (a tunnel has no routing after its head).
 */
import http2 from 'node:http2';
import type { Duplex } from 'node:stream';
import type * as net from 'node:net';
import { ConfigError } from '../common/errors.js';
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

export type TunnelProtocol = 'http1' | 'http2';

/** Why a tunnel did not open: the status of a refusing response (0 when there was none) and a description. */
export interface TunnelFailure { readonly status: number; readonly reason: string }

export type TunnelCallback = (failure: TunnelFailure | null, stream?: Duplex) => void;

/**
 * Sends the tunnel request over `socket` (connected, TLS done) and calls `cb` once: with the tunnel's stream on a
 * 2xx, or with why not. `entry` fills hostname and header formats. Returns a cancel function (destroys all).
 */
export function openTunnel(socket: net.Socket, protocol: TunnelProtocol, config: TunnelingConfig, entry: AccessLogEntry, cb: TunnelCallback): () => void {
  const authority = config.hostname(entry);
  const headers = config.headersToAdd.map((h) => [h.name, h.value(entry)] as const);
  return protocol === 'http2' ? openHttp2(socket, config, authority, headers, cb) : openHttp1(socket, config, authority, headers, cb);
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

function openHttp2(socket: net.Socket, config: TunnelingConfig, authority: string, headers: readonly (readonly [string, string])[], cb: TunnelCallback): () => void {
  let done = false;
  const scheme = (socket as { encrypted?: boolean }).encrypted === true ? 'https' : 'http';
  let session: http2.ClientHttp2Session;
  try {
    session = http2.connect(`${scheme}://tunnel.invalid`, { createConnection: () => socket });
  } catch (e) {
    socket.destroy();
    process.nextTick(() => cb({ status: 0, reason: `HTTP/2 session: ${e instanceof Error ? e.message : String(e)}` }));
    return () => {};
  }
  const fail = (f: TunnelFailure): void => {
    if (done) return;
    done = true;
    session.destroy();
    socket.destroy();
    cb(f);
  };
  // Cancelled by the session (the downstream left): nothing is reported.
  function cancel(): void {
    if (done) return;
    done = true;
    session.destroy();
    socket.destroy();
  }
  session.on('error', (err) => fail({ status: 0, reason: `HTTP/2 session: ${err.message}` }));
  session.once('close', () => fail({ status: 0, reason: 'HTTP/2 session closed before the tunnel opened' }));
  const request: http2.OutgoingHttpHeaders = config.usePost
    ? { ':method': 'POST', ':scheme': scheme, ':path': config.postPath, ':authority': authority }
    : { ':method': 'CONNECT', ':authority': authority };
  for (const [n, v] of headers) request[n] = v;
  let stream: http2.ClientHttp2Stream;
  try {
    stream = session.request(request, { endStream: false });
  } catch (e) {
    process.nextTick(() => fail({ status: 0, reason: `CONNECT request: ${e instanceof Error ? e.message : String(e)}` }));
    return cancel;
  }
  stream.on('error', () => { /* followed by 'close'; before the response it fails the tunnel below */ });
  stream.once('close', () => {
    // The tunnel (or its refusal) is over: the session carries nothing else.
    if (!done) fail({ status: 0, reason: `stream closed before a response (code ${stream.rstCode ?? 0})` });
    else session.close();
    if (!socket.destroyed) setImmediate(() => { if (!session.destroyed) session.destroy(); });
  });
  stream.once('response', (h) => {
    if (done) return;
    const status = Number(h[':status'] ?? 0);
    if (status < 200 || status > 299) { fail({ status, reason: `CONNECT refused with ${status}` }); return; }
    done = true;
    session.removeAllListeners('close');
    session.on('close', () => { if (!stream.destroyed) stream.destroy(); });
    stream.pause();
    cb(null, stream);
  });
  return cancel;
}
