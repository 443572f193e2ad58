/**
 * A hand-driven HTTP/2 client for bad-input tests: writes frames built byte by byte (HPACK literals without
 * indexing or Huffman, so no compression state is involved) and reads the frames the server sends back.
 */
import net from 'node:net';
import { PATIENCE_MS } from './wait.js';

export const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

export function frame(type: number, flags: number, sid: number, payload: Uint8Array | number[] = []): Buffer {
  const p = Buffer.from(payload as Uint8Array);
  const h = Buffer.alloc(9);
  h.writeUIntBE(p.length, 0, 3);
  h[3] = type;
  h[4] = flags;
  h.writeUInt32BE(sid >>> 0, 5);
  return Buffer.concat([h, p]);
}

/** One header field as an HPACK literal without indexing, new name (RFC 7541 §6.2.2); lengths below 127. */
export function literal(name: string, value: string): Buffer {
  const n = Buffer.from(name, 'latin1');
  const v = Buffer.from(value, 'latin1');
  if (n.length > 126 || v.length > 126) return longLiteral(n, v);
  return Buffer.concat([Buffer.from([0x00, n.length]), n, Buffer.from([v.length]), v]);
}

function hpackInt(v: number, prefixBits: number, first: number): number[] {
  const max = (1 << prefixBits) - 1;
  if (v < max) return [first | v];
  const out = [first | max];
  v -= max;
  while (v >= 128) { out.push((v & 127) | 128); v >>>= 7; }
  out.push(v);
  return out;
}

function longLiteral(n: Buffer, v: Buffer): Buffer {
  return Buffer.concat([Buffer.from([0x00, ...hpackInt(n.length, 7, 0)]), n, Buffer.from(hpackInt(v.length, 7, 0)), v]);
}

export function requestBlock(method: string, path: string, extra: [string, string][] = [], authority = 'example.com'): Buffer {
  return Buffer.concat([
    literal(':method', method), literal(':scheme', 'http'), literal(':path', path), literal(':authority', authority),
    ...extra.map(([n, v]) => literal(n, v)),
  ]);
}

export const T = { DATA: 0, HEADERS: 1, PRIORITY: 2, RST_STREAM: 3, SETTINGS: 4, PUSH_PROMISE: 5, PING: 6, GOAWAY: 7, WINDOW_UPDATE: 8, CONTINUATION: 9 };
export const F = { END_STREAM: 1, ACK: 1, END_HEADERS: 4, PADDED: 8, PRIORITY: 32 };

export interface RxFrame { type: number; flags: number; sid: number; payload: Buffer }

export class RawH2 {
  readonly frames: RxFrame[] = [];
  private buf = Buffer.alloc(0);
  closed = false;
  private waiters: (() => void)[] = [];

  private constructor(readonly socket: net.Socket) {
    socket.on('data', (c: Buffer) => {
      this.buf = Buffer.concat([this.buf, c]);
      // Bounded by the buffer: each pass removes one whole frame.
      while (this.buf.length >= 9) {
        const len = this.buf.readUIntBE(0, 3);
        if (this.buf.length < 9 + len) break;
        this.frames.push({ type: this.buf[3], flags: this.buf[4], sid: this.buf.readUInt32BE(5) & 0x7fffffff, payload: this.buf.subarray(9, 9 + len) });
        this.buf = this.buf.subarray(9 + len);
      }
      this.wake();
    });
    socket.on('close', () => { this.closed = true; this.wake(); });
    socket.on('error', () => { /* resets are expected in these tests */ });
  }

  static async connect(port: number, sendPreface = true): Promise<RawH2> {
    const socket = net.connect(port, '127.0.0.1');
    await new Promise<void>((resolve, reject) => { socket.once('connect', resolve); socket.once('error', reject); });
    const c = new RawH2(socket);
    if (sendPreface) c.send(Buffer.concat([PREFACE, frame(T.SETTINGS, 0, 0)]));
    return c;
  }

  send(...bufs: Buffer[]): void {
    if (!this.socket.destroyed) this.socket.write(Buffer.concat(bufs));
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  /** Waits until `pred` holds over the frames received (or the socket closed), at most `ms`. */
  async until(pred: (frames: RxFrame[]) => boolean, ms = PATIENCE_MS): Promise<boolean> {
    const deadline = Date.now() + ms;
    // Bounded by the deadline: each wait ends on new data, close, or a 50 ms tick.
    while (!pred(this.frames)) {
      if (this.closed || Date.now() > deadline) return pred(this.frames);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 50);
        this.waiters.push(() => { clearTimeout(t); resolve(); });
      });
    }
    return true;
  }

  /** The first GOAWAY's error code, waiting for it; undefined when none came. */
  async goawayCode(ms = PATIENCE_MS): Promise<number | undefined> {
    await this.until((f) => f.some((x) => x.type === T.GOAWAY), ms);
    const g = this.frames.find((x) => x.type === T.GOAWAY);
    return g ? g.payload.readUInt32BE(4) : undefined;
  }

  async rstCode(sid: number, ms = PATIENCE_MS): Promise<number | undefined> {
    await this.until((f) => f.some((x) => x.type === T.RST_STREAM && x.sid === sid), ms);
    const r = this.frames.find((x) => x.type === T.RST_STREAM && x.sid === sid);
    return r ? r.payload.readUInt32BE(0) : undefined;
  }

  close(): void { this.socket.destroy(); }
}
