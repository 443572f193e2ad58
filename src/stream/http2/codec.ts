/**
 * The `http2` server codec for the HTTP connection manager (src/stream/server_codecs.ts): h2c with prior
 * knowledge, AUTO by preface and h2 by ALPN all arrive here with the bytes read so far.
 */
import type { Socket } from 'node:net';
import type { ServerCodecFactory } from '../server_codecs.js';
import { Http2ServerConnection } from './server.js';
import { wasmServerHeaderCodec } from './hpack_codec.js';

export const http2ServerCodec: ServerCodecFactory = (ctx) => {
  // Detection may have paused the socket; the connection's 'data' listener takes the flow from here.
  if (ctx.socket.readableFlowing === false) ctx.socket.resume();
  const conn = new Http2ServerConnection(ctx.wasm, ctx.socket as Socket, ctx.handler, wasmServerHeaderCodec, {
    ...ctx.http2,
    maxRequestHeadersKb: ctx.options.maxRequestHeadersKb,
    maxHeadersCount: ctx.options.maxHeadersCount,
    idleTimeoutMs: ctx.options.idleTimeoutMs,
    stats: ctx.stats,
    initialData: ctx.initialData,
  });
  return { destroy: () => conn.destroy(), drain: () => conn.drain() };
};
