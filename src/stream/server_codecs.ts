/**
 * Server (downstream) HTTP codecs by name, and how the HTTP connection manager picks one for a connection:
 * `codec_type` HTTP1 -> http1, HTTP2 -> http2, AUTO -> http2 when TLS ALPN negotiated `h2` or the first bytes
 * are the HTTP/2 connection preface, else http1. The bytes read to decide are handed to the codec as
 * initialData, so nothing the client sent is lost. Main thread only.
 *
 * http1 is registered here (it is the core codec); the HTTP/2 codec registers itself from
 * src/server/extensions.ts with `registerServerCodec('http2', factory)`.
 */
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { ServerConnectionHandler } from '../types/http.js';
import type { WasmInstance } from '../wasm/module.js';
import type { StatsStore } from '../common/stats.js';
import type { Http2Options } from './http2/options.js';
import { ServerConnection, type ServerConnectionOptions } from './http1/server.js';

export type ServerCodecName = 'http1' | 'http2';

/** What a codec needs to serve one downstream connection. */
export interface ServerCodecContext {
  readonly wasm: WasmInstance;
  /** A net.Socket, or a tls.TLSSocket (a net.Socket subclass) for TLS chains. Not paused. */
  readonly socket: Duplex;
  /** Bytes already read from `socket` (protocol detection, listener filters): the codec parses them first. */
  readonly initialData: Uint8Array;
  readonly handler: ServerConnectionHandler;
  readonly options: ServerConnectionOptions;
  /** Where codec stats go (HTTP/2: `http2.*`). */
  readonly stats?: StatsStore;
  /** HCM http2_protocol_options, read by src/stream/http2/config.ts. */
  readonly http2?: Http2Options;
}

/** A connection a codec serves. */
export interface ServerCodecConnection {
  /** Closes now. */
  destroy(): void;
  /** Graceful: tells the peer to go away (HTTP/2 GOAWAY) and closes once in-flight requests finish. */
  drain?(): void;
}

export type ServerCodecFactory = (ctx: ServerCodecContext) => ServerCodecConnection;

/** The HTTP/2 client connection preface (RFC 9113 §3.4). */
export const HTTP2_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

const codecs = new Map<ServerCodecName, ServerCodecFactory>();

/** Registers a codec; a second, different factory for the same name is a programming error. */
export function registerServerCodec(name: ServerCodecName, factory: ServerCodecFactory): void {
  const had = codecs.get(name);
  if (had !== undefined && had !== factory) throw new Error(`server codec ${name} is already registered`);
  codecs.set(name, factory);
}

/** Removes a codec (tests that register a stand-in). */
export function unregisterServerCodec(name: ServerCodecName): void {
  if (name !== 'http1') codecs.delete(name);
}

export function serverCodec(name: ServerCodecName): ServerCodecFactory | undefined {
  return codecs.get(name);
}

const http1Codec: ServerCodecFactory = (ctx) => {
  // Detection paused the socket; the 'data' listener the connection adds next (same tick) takes the flow.
  if (ctx.socket.readableFlowing === false) ctx.socket.resume();
  return new ServerConnection(ctx.wasm, ctx.socket as Socket, ctx.handler, { ...ctx.options, initialData: ctx.initialData });
};
registerServerCodec('http1', http1Codec);

/** How a preface check on the first bytes came out. */
export type PrefaceResult = 'h2' | 'other' | 'need-more';

/** Compares the bytes read so far with the HTTP/2 preface. */
export function checkPreface(bytes: Uint8Array): PrefaceResult {
  const n = Math.min(bytes.length, HTTP2_PREFACE.length);
  for (let i = 0; i < n; i++) if (bytes[i] !== HTTP2_PREFACE[i]) return 'other';
  return n === HTTP2_PREFACE.length ? 'h2' : 'need-more';
}

export type CodecType = 'AUTO' | 'HTTP1' | 'HTTP2';

/**
 * Picks the codec for one connection and calls `done` with it and the bytes read so far (`already`, the
 * listener filters' bytes, plus whatever was read to decide). AUTO reads until the preface's 24 bytes are
 * in, for at most `timeoutMs`; a peer that closes or stays silent meanwhile gets http1 with what it sent
 * (that codec reports the close or times out the head). Only AUTO with an http2 codec registered and no
 * ALPN answer reads anything.
 */
export function selectServerCodec(codecType: CodecType, socket: Duplex, alpn: string, already: Uint8Array, timeoutMs: number,
  done: (name: ServerCodecName, initialData: Uint8Array) => void): void {
  if (codecType === 'HTTP1') { done('http1', already); return; }
  if (codecType === 'HTTP2') { done('http2', already); return; }
  if (!codecs.has('http2')) { done('http1', already); return; }
  if (alpn === 'h2' || alpn === 'h2c') { done('http2', already); return; }
  if (alpn === 'http/1.1' || alpn === 'http/1.0') { done('http1', already); return; }
  const first = checkPreface(already);
  if (first !== 'need-more' || (already.length > 0 && already.length >= HTTP2_PREFACE.length)) {
    done(first === 'h2' ? 'http2' : 'http1', already);
    return;
  }
  const chunks: Buffer[] = already.length > 0 ? [Buffer.from(already.buffer, already.byteOffset, already.length)] : [];
  let length = already.length;
  let finished = false;
  const finish = (name: ServerCodecName): void => {
    if (finished) return;
    finished = true;
    clearTimeout(timer);
    socket.off('data', onData);
    socket.off('end', onEnd);
    socket.off('close', onEnd);
    socket.pause();
    done(name, chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, length));
  };
  const onData = (chunk: Buffer): void => {
    chunks.push(chunk);
    length += chunk.length;
    const r = checkPreface(chunks.length === 1 ? chunk : Buffer.concat(chunks, length));
    if (r !== 'need-more') finish(r === 'h2' ? 'http2' : 'http1');
  };
  const onEnd = (): void => finish('http1');
  const timer = setTimeout(() => finish('http1'), timeoutMs);
  socket.on('data', onData);
  socket.once('end', onEnd);
  socket.once('close', onEnd);
}
