// Shared fixtures for the HTTP/1.1 stream tests: a server of ServerConnections on 127.0.0.1, a raw client
// socket that collects what it reads, and a counter of slab leases/releases.
import net from 'node:net';
import { once } from 'node:events';
import { PATIENCE_MS } from '../../../helpers/wait.js';
import { wasm } from './slab-count.js';
import { ServerConnection, type ServerConnectionOptions } from '../../../../src/stream/http1/server.js';
import type { BodyHandler, DownstreamStream, HeaderList, ServerConnectionHandler } from '../../../../src/types/http.js';
import type { SkiffError } from '../../../../src/common/errors.js';

export { wasm, countSlabs } from './slab-count.js';

export interface TestServer {
  port: number;
  connections: ServerConnection[];
  close(): Promise<void>;
}

export async function startServer(handler: ServerConnectionHandler, options: ServerConnectionOptions = {},
  serverOptions: net.ServerOpts = {}): Promise<TestServer> {
  const connections: ServerConnection[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer(serverOptions, (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    connections.push(new ServerConnection(wasm, socket, handler, options));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as net.AddressInfo).port,
    connections,
    async close() {
      for (const s of sockets) s.destroy();
      server.close();
      await once(server, 'close');
    },
  };
}

/** A raw client socket that accumulates every byte it reads. */
export class RawClient {
  readonly socket: net.Socket;
  private chunks: Buffer[] = [];
  ended = false;
  closed = false;

  private constructor(socket: net.Socket) {
    this.socket = socket;
    socket.on('data', (c: Buffer) => this.chunks.push(c));
    socket.on('end', () => { this.ended = true; });
    socket.on('close', () => { this.closed = true; });
    socket.on('error', () => { /* resets are part of some tests; `closed` tells */ });
  }

  static async connect(port: number): Promise<RawClient> {
    const socket = net.connect(port, '127.0.0.1');
    await once(socket, 'connect');
    return new RawClient(socket);
  }

  get text(): string { return Buffer.concat(this.chunks).toString('latin1'); }

  write(s: string | Uint8Array): void { this.socket.write(s); }

  /** Waits until `pred(text)` holds (polling, bounded by `timeoutMs`). */
  async until(pred: (text: string) => boolean, timeoutMs = PATIENCE_MS): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const t = this.text;
      if (pred(t)) return t;
      await new Promise((r) => setTimeout(r, 5));
    }
    throw new Error(`timed out waiting; received so far:\n${this.text.slice(0, 2000)}`);
  }

  async untilClosed(timeoutMs = PATIENCE_MS): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closed && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    if (!this.closed) throw new Error(`connection still open; received:\n${this.text.slice(0, 2000)}`);
    return this.text;
  }

  destroy(): void { this.socket.destroy(); }
}

export { waitFor } from '../../../helpers/wait.js';

export interface ReceivedRequest {
  method: string;
  path: string;
  body: Buffer;
  trailers?: HeaderList;
  error?: SkiffError;
}

/**
 * A handler that collects each request body and answers `200` with a body describing the request
 * (`METHOD PATH LEN`), framed per `framing`.
 */
export function echoHandler(received: ReceivedRequest[], framing: 'length' | 'chunked' = 'length',
  onStream?: (s: DownstreamStream) => void): ServerConnectionHandler {
  return {
    onRequest(stream) {
      onStream?.(stream);
      const parts: Buffer[] = [];
      const rec: ReceivedRequest = { method: stream.head.method, path: stream.head.path, body: Buffer.alloc(0) };
      received.push(rec);
      const body: BodyHandler = {
        onData: (c) => parts.push(Buffer.from(c)),
        onEnd: (trailers) => {
          rec.body = Buffer.concat(parts);
          rec.trailers = trailers;
          const out = Buffer.from(`${rec.method} ${rec.path} ${rec.body.length}`);
          stream.writeLocalHead(200, [['content-type', 'text/plain']],
            framing === 'length' ? { bodyKind: 'length', contentLength: out.length } : { bodyKind: 'chunked' });
          stream.writeBody(out);
          stream.end();
        },
        onError: (err) => { rec.error = err; },
      };
      stream.setBodyHandler(body);
    },
    onCodecError(info, reply) { reply(info.status, `${info.code}\n`); },
  };
}

/** Splits a raw HTTP/1.1 response stream into responses (head text + body), for content-length and chunked bodies. */
export function parseResponses(text: string): { status: number; headers: Record<string, string>; body: string }[] {
  const out: { status: number; headers: Record<string, string>; body: string }[] = [];
  let at = 0;
  for (let guard = 0; guard < 1000 && at < text.length; guard++) {
    const end = text.indexOf('\r\n\r\n', at);
    if (end < 0) break;
    const lines = text.slice(at, end).split('\r\n');
    const status = Number(lines[0].split(' ')[1]);
    const headers: Record<string, string> = {};
    for (const l of lines.slice(1)) { const i = l.indexOf(':'); headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim(); }
    at = end + 4;
    let body = '';
    if (headers['content-length'] !== undefined) {
      const n = Number(headers['content-length']);
      if (text.length < at + n) break; // not all here yet
      body = text.slice(at, at + n);
      at += n;
    } else if (headers['transfer-encoding'] === 'chunked') {
      let complete = false;
      for (let g = 0; g < 100000; g++) {
        const le = text.indexOf('\r\n', at);
        if (le < 0) break;
        const size = parseInt(text.slice(at, le), 16);
        at = le + 2;
        if (size === 0) {
          const te = text.indexOf('\r\n', at);
          if (te >= 0) { at = te + 2; complete = true; }
          break;
        }
        if (text.length < at + size + 2) break;
        body += text.slice(at, at + size);
        at += size + 2;
      }
      if (!complete) break;
    } else if (status >= 200 && status !== 204 && status !== 304) {
      body = text.slice(at);
      at = text.length;
    }
    out.push({ status, headers, body });
  }
  return out;
}
