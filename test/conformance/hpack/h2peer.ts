/**
 * Puts Skiff-encoded header blocks in front of Node's HTTP/2 (nghttp2), over real sockets on 127.0.0.1:
 * requests go from a raw-socket client to a node:http2 server that records the raw header list of each
 * stream; responses go from a raw-socket server to a node:http2 client that records each response's raw
 * header list. The raw side speaks just enough HTTP/2 (preface, SETTINGS and its ACK, PING ACK, HEADERS +
 * CONTINUATION) to carry the blocks.
 */
import http2 from 'node:http2';
import net from 'node:net';
import type { AddressInfo } from 'node:net';

const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');
const T_HEADERS = 0x1, T_RST_STREAM = 0x3, T_SETTINGS = 0x4, T_PING = 0x6, T_GOAWAY = 0x7, T_CONTINUATION = 0x9;
const F_END_STREAM = 0x1, F_ACK = 0x1, F_END_HEADERS = 0x4;
const MAX_FRAME = 16384;
const TIMEOUT_MS = 15_000;

export function frame(type: number, flags: number, stream: number, payload: Buffer = Buffer.alloc(0)): Buffer {
  const h = Buffer.alloc(9);
  h.writeUIntBE(payload.length, 0, 3);
  h[3] = type;
  h[4] = flags;
  h.writeUInt32BE(stream & 0x7fffffff, 5);
  return Buffer.concat([h, payload]);
}

/** HEADERS (END_STREAM) with the block split into CONTINUATION frames at the default frame size. */
export function headersFrames(stream: number, block: Buffer): Buffer {
  const parts: Buffer[] = [];
  for (let at = 0; at === 0 || at < block.length; at += MAX_FRAME) {
    const chunk = block.subarray(at, at + MAX_FRAME);
    const last = at + MAX_FRAME >= block.length;
    parts.push(frame(at === 0 ? T_HEADERS : T_CONTINUATION, (last ? F_END_HEADERS : 0) | (at === 0 ? F_END_STREAM : 0), stream, chunk));
  }
  return Buffer.concat(parts);
}

/** Reads frames off a socket; answers SETTINGS and PING; reports HEADERS, RST_STREAM and GOAWAY. */
class FrameReader {
  private buf = Buffer.alloc(0);
  constructor(private readonly socket: net.Socket, private readonly on: {
    headers?(stream: number): void; reset?(stream: number, code: number): void; goaway?(code: number): void;
  }, private skip = 0) {
    socket.on('data', (d: Buffer) => this.push(d));
  }

  private push(d: Buffer): void {
    this.buf = Buffer.concat([this.buf, d]);
    if (this.skip > 0) {
      const n = Math.min(this.skip, this.buf.length);
      this.buf = this.buf.subarray(n);
      this.skip -= n;
    }
    while (this.buf.length >= 9) {
      const len = this.buf.readUIntBE(0, 3);
      if (this.buf.length < 9 + len) return;
      const type = this.buf[3], flags = this.buf[4], stream = this.buf.readUInt32BE(5) & 0x7fffffff;
      const payload = this.buf.subarray(9, 9 + len);
      this.buf = this.buf.subarray(9 + len);
      if (type === T_SETTINGS && (flags & F_ACK) === 0) this.socket.write(frame(T_SETTINGS, F_ACK, 0));
      else if (type === T_PING && (flags & F_ACK) === 0) this.socket.write(frame(T_PING, F_ACK, 0, payload));
      else if (type === T_HEADERS) this.on.headers?.(stream);
      else if (type === T_RST_STREAM) this.on.reset?.(stream, payload.readUInt32BE(0));
      else if (type === T_GOAWAY) this.on.goaway?.(payload.readUInt32BE(4));
    }
  }
}

export interface PeerResult {
  /** Raw header list (name, value, name, value, ...) nghttp2 handed to Node, per block index. */
  readonly received: Map<number, string[]>;
  /** Blocks whose stream nghttp2 refused (RST_STREAM or a stream error), with the code. */
  readonly refused: Map<number, number>;
  /** GOAWAY code, when nghttp2 ended the connection (a compression error would show here). */
  goaway?: number;
}

/** Sends request blocks (in order, streams 1, 3, 5...) to a node:http2 server. */
export async function requestsThroughNghttp2(blocks: Buffer[]): Promise<PeerResult> {
  const result: PeerResult = { received: new Map(), refused: new Map() };
  const server = http2.createServer({ maxHeaderListPairs: 2000 });
  server.on('stream', (stream: http2.ServerHttp2Stream, _headers: http2.IncomingHttpHeaders, _flags: number, raw: string[]) => {
    result.received.set((stream.id! - 1) / 2, raw);
    stream.respond({ ':status': 200 }, { endStream: true });
  });
  server.on('sessionError', () => {});
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const socket = net.connect((server.address() as AddressInfo).port, '127.0.0.1');
  try {
    await new Promise<void>((resolve, reject) => { socket.once('connect', resolve); socket.once('error', reject); });
    const done = new Promise<void>((resolve) => {
      const check = (): void => { if (result.goaway !== undefined || result.received.size + result.refused.size >= blocks.length) resolve(); };
      new FrameReader(socket, {
        reset: (s, code) => { result.refused.set((s - 1) / 2, code); check(); },
        goaway: (code) => { result.goaway = code; check(); },
      });
      server.on('stream', () => setImmediate(check));
      socket.on('close', () => resolve());
    });
    socket.write(Buffer.concat([PREFACE, frame(T_SETTINGS, 0, 0)]));
    socket.write(Buffer.concat(blocks.map((b, i) => headersFrames(2 * i + 1, b))));
    await withTimeout(done, 'nghttp2 server');
  } finally {
    socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
  return result;
}

/**
 * A raw server that answers each request with the next response block, encoded when it is sent (so the
 * encoder's table follows the order the client decodes), and a node:http2 client issuing the requests one
 * after the other.
 */
export async function responsesThroughNghttp2(count: number, nextBlock: (i: number) => Buffer): Promise<PeerResult> {
  const result: PeerResult = { received: new Map(), refused: new Map() };
  const sockets = new Set<net.Socket>();
  let sent = 0;
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.write(frame(T_SETTINGS, 0, 0));
    new FrameReader(socket, {
      headers: (stream) => { if (sent < count) socket.write(headersFrames(stream, nextBlock(sent++))); },
    }, PREFACE.length);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const client = http2.connect(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, { maxHeaderListPairs: 2000 });
  client.on('error', () => {});
  client.on('goaway', (code: number) => { result.goaway = code; });
  try {
    for (let i = 0; i < count && result.goaway === undefined; i++) {
      // HEAD: a response may then carry content-length without a body
      const req = client.request({ ':method': 'HEAD', ':path': `/${i}` }, { endStream: true });
      await withTimeout(new Promise<void>((resolve) => {
        req.on('response', (_headers: http2.IncomingHttpHeaders, _flags: number, raw: string[]) => { result.received.set(i, raw); });
        req.on('error', () => {});
        req.on('close', () => { if (!result.received.has(i)) result.refused.set(i, req.rstCode ?? -1); resolve(); });
        req.resume();
      }), `response ${i}`);
    }
  } finally {
    client.destroy();
    for (const s of sockets) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
  return result;
}

async function withTimeout<T>(p: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`${what}: timed out`)), TIMEOUT_MS); })]);
  } finally {
    clearTimeout(timer);
  }
}
