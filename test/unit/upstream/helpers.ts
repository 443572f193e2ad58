/**
 * Test doubles for src/upstream: a minimal HTTP/1.1 ClientConnection over a socket (the real codec is
 * src/stream's), an HTTP upstream that counts its connections, and a listener whose backlog is full (for
 * connect timeouts). Not a test file itself.
 */
import * as http from 'node:http';
import * as net from 'node:net';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import type { ClientConnection, HeaderList, HeadRewrite, ResponseHandler, ResponseHead, UpstreamRequest, RequestHead } from '../../../src/types/http.js';
import type { Host, HttpConnectionPool } from '../../../src/types/upstream.js';
import { SkiffError } from '../../../src/common/errors.js';
import { PairHeaderList } from '../../../src/codec/http1/index.js';
import { PATIENCE_MS, waitFor as waitUntil } from '../../helpers/wait.js';

let nextId = 1;

/**
 * One request at a time; responses framed by content-length only (what the test upstream sends).
 * Good enough to drive the pool; nothing more.
 */
export class TestClientConnection implements ClientConnection {
  readonly id = nextId++;
  private closed = false;
  private keepAlive = true;
  private inFlight: ResponseHandler | null = null;
  private buf = Buffer.alloc(0);
  private readonly closeCbs: (() => void)[] = [];

  constructor(readonly socket: net.Socket) {
    socket.on('data', (d: Buffer) => { this.buf = Buffer.concat([this.buf, d]); this.parse(); });
    socket.on('close', () => {
      this.closed = true;
      if (this.inFlight) { const h = this.inFlight; this.inFlight = null; h.onError(new SkiffError('TEST_RESET', 'connection closed', 'upstream', true)); }
      for (const cb of this.closeCbs.splice(0)) cb();
    });
    socket.on('error', () => { /* 'close' follows */ });
  }

  get reusable(): boolean { return !this.closed && this.keepAlive && this.inFlight === null && !this.socket.destroyed; }

  request(head: RequestHead, rewrite: HeadRewrite, handler: ResponseHandler): UpstreamRequest {
    return this.requestLocal(head.method, rewrite.path ?? head.path, [], rewrite, handler);
  }

  requestLocal(method: string, path: string, headers: readonly (readonly [string, string])[], _rewrite: HeadRewrite, handler: ResponseHandler): UpstreamRequest {
    if (this.inFlight !== null) throw new Error('one request at a time');
    this.inFlight = handler;
    const lines = [`${method} ${path} HTTP/1.1`, 'host: upstream', ...headers.map(([n, v]) => `${n}: ${v}`), '', ''];
    this.socket.write(lines.join('\r\n'));
    return {
      writeBody: (c) => this.socket.write(c), onDrain: (cb) => { this.socket.once('drain', cb); }, end: () => {},
      pauseResponse: () => this.socket.pause(), resumeResponse: () => this.socket.resume(), abort: () => this.close(),
    };
  }

  close(): void { this.closed = true; this.socket.destroy(); }
  onClose(cb: () => void): void { this.closeCbs.push(cb); }

  private parse(): void {
    const end = this.buf.indexOf('\r\n\r\n');
    if (end < 0 || this.inFlight === null) return;
    const lines = this.buf.subarray(0, end).toString('latin1').split('\r\n');
    const status = Number(lines[0].split(' ')[1]);
    const headers = lines.slice(1).map((l) => { const i = l.indexOf(':'); return [l.slice(0, i).trim().toLowerCase(), l.slice(i + 1).trim()] as [string, string]; });
    const list = new PairHeaderList(headers);
    const length = Number(list.get('content-length') ?? '0');
    if (this.buf.length < end + 4 + length) return;
    const body = this.buf.subarray(end + 4, end + 4 + length);
    this.buf = this.buf.subarray(end + 4 + length);
    this.keepAlive = (list.get('connection') ?? '').toLowerCase() !== 'close';
    const handler = this.inFlight;
    this.inFlight = null;
    const head: ResponseHead = { status, reason: '', versionMinor: 1, headers: list, keepAlive: this.keepAlive, bodyKind: 'length', contentLength: length, recordPtr: 0 };
    handler.onHead(head);
    if (body.length > 0) handler.onData(body);
    handler.onEnd();
  }
}

export const testConnectionFactory = (socket: net.Socket): ClientConnection => new TestClientConnection(socket);

export interface TestResponse { status: number; body: string; headers: HeaderList }

/** A connection from the pool, or the pool's error as a rejection. */
export function acquireConnection(pool: Pick<HttpConnectionPool, 'acquire'>): Promise<ClientConnection> {
  return new Promise((resolve, reject) => { pool.acquire((err, conn) => (err ? reject(err) : resolve(conn!))); });
}

/** Sends one GET over `conn` and resolves with the response (rejects on error or after 5 s). */
export function get(conn: ClientConnection, path = '/', headers: readonly (readonly [string, string])[] = []): Promise<TestResponse> {
  return new Promise((resolve, reject) => {
    let status = 0; let head: HeaderList | undefined; const chunks: Buffer[] = [];
    const timer = setTimeout(() => reject(new Error('response timed out')), 5000);
    const req = conn.requestLocal('GET', path, headers, { bodyKind: 'none' }, {
      onHead: (h) => { status = h.status; head = h.headers; },
      onData: (c) => { chunks.push(Buffer.from(c)); },
      onEnd: () => { clearTimeout(timer); resolve({ status, body: Buffer.concat(chunks).toString(), headers: head! }); },
      onError: (e) => { clearTimeout(timer); reject(e); },
    });
    req.end(); // the request (no body) is complete: the codec reuses a connection only after this
  });
}

/** An HTTP upstream on 127.0.0.1 port 0 that answers `<name> <connection number>` and counts connections. */
export class TestUpstream {
  readonly server: http.Server;
  readonly sockets = new Set<net.Socket>();
  connections = 0;
  requests = 0;
  /** Set to make the next responses carry `connection: close`. */
  closeAfterResponse = false;
  port = 0;

  constructor(readonly name = 'up') {
    this.server = http.createServer({ keepAliveTimeout: 60_000 }, (req, res) => {
      this.requests++;
      const n = (req.socket as net.Socket & { testId?: number }).testId ?? 0;
      const body = `${this.name} ${n}`;
      const h: Record<string, string | number> = { 'content-length': Buffer.byteLength(body) };
      if (this.closeAfterResponse) h.connection = 'close';
      res.writeHead(200, h);
      res.end(body);
    });
    this.server.on('connection', (s: net.Socket & { testId?: number }) => {
      s.testId = ++this.connections;
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
  }

  /** Listens on `host` (another loopback address such as 127.0.0.2 works too) and `port` (0: any). */
  async start(host = '127.0.0.1', port = 0): Promise<this> {
    this.server.listen(port, host);
    await once(this.server, 'listening');
    this.port = (this.server.address() as net.AddressInfo).port;
    return this;
  }

  /** Closes every server-side socket (the pool sees peer closes). */
  dropConnections(): void { for (const s of this.sockets) s.destroy(); }

  async stop(): Promise<void> {
    this.dropConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}

/**
 * A listening socket that never accepts, its backlog filled, so that a further connect neither succeeds nor
 * fails: the way to provoke a connect timeout without depending on how the network treats an unroutable
 * address. Node's own servers always accept, so this is a tiny Python process (python3 is in the image);
 * it exits on its own after 60 s in case a test dies before stopping it.
 */
export class BlackHoleListener {
  private child: ChildProcess | null = null;
  private fillers: net.Socket[] = [];
  port = 0;

  async start(): Promise<this> {
    const script = [
      'import socket, sys, time',
      's = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(0)',
      'print(s.getsockname()[1], flush=True)',
      'time.sleep(60)',
    ].join('\n');
    const child = spawn('python3', ['-c', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    this.child = child;
    const [line] = await Promise.race([
      once(child.stdout!, 'data') as Promise<[Buffer]>,
      new Promise<never>((_, rej) => setTimeout(() => rej(new Error('black hole listener did not start')), PATIENCE_MS)),
    ]);
    this.port = Number(String(line).trim());
    // Fill the backlog: connect until one connect stays pending (bounded: the backlog is tiny). A connect the
    // kernel completes is reported well within a second even on a busy machine; a pending one never is.
    for (let i = 0; i < 16; i++) {
      const s = net.connect({ host: '127.0.0.1', port: this.port });
      s.on('error', () => {});
      this.fillers.push(s);
      const connected = await Promise.race([
        once(s, 'connect').then(() => true),
        new Promise<boolean>((r) => setTimeout(() => r(false), 1000)),
      ]);
      if (!connected) return this;
    }
    throw new Error('could not fill the listen backlog');
  }

  stop(): void {
    for (const s of this.fillers) s.destroy();
    this.fillers = [];
    this.child?.kill();
    this.child = null;
  }
}

export { closedPort } from '../../helpers/ports.js';

/** A host double for load-balancer tests. */
export function fakeHost(address: string, weight = 1, port = 80): Host & { key: string } {
  return { address, port, weight, activeRequests: 0, healthy: true, key: `${address}:${port}` };
}

/** Waits until `cond()` holds, polling every 10 ms, failing after `ms` (PATIENCE_MS unless told). */
export function waitFor(cond: () => boolean, ms = PATIENCE_MS, what = 'condition'): Promise<void> {
  return waitUntil(cond, ms, what, 10);
}
