/**
 * Child process (fork, IPC) for benchmarks that need traffic flowing while something else happens: it runs a
 * small HTTP upstream (node:http, answers `ok`) and an open-loop HTTP/1.1 client that sends GET / to a target
 * port at a fixed rate over keep-alive connections, whatever the answers' pace (a request due while every
 * connection is busy waits in a queue, and its latency counts from when it was due: no coordinated omission).
 *
 * Messages in:  {cmd:'start', port, rate, connections, maxSeconds}  {cmd:'stop'}
 * Messages out: {event:'upstream', port}  {event:'started'}  {event:'samples', due: number[], latencyUs: number[], errors}
 * `due` is each request's due time in ms since the epoch (performance.timeOrigin based, as the parent's clock),
 * so the parent can cut the samples into windows (idle, during a push).
 */
import http from 'node:http';
import net from 'node:net';

interface StartCmd { cmd: 'start'; port: number; rate: number; connections: number; maxSeconds: number }
type Cmd = StartCmd | { cmd: 'stop' };

const nowMs = (): number => performance.timeOrigin + performance.now();

const upstream = http.createServer((_req, res) => { res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '2' }); res.end('ok'); });
upstream.keepAliveTimeout = 60_000;

const REQUEST = Buffer.from('GET / HTTP/1.1\r\nhost: bench\r\n\r\n');
const MAX_SAMPLES = 2_000_000;

class Conn {
  private buf = '';
  busy = false;
  private dueAt = 0;
  dead = false;
  constructor(private readonly socket: net.Socket, private readonly done: (c: Conn, dueAt: number, ok: boolean) => void) {
    socket.setNoDelay(true);
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => this.onData(chunk));
    socket.on('error', () => this.fail());
    socket.on('close', () => this.fail());
  }

  send(dueAt: number): void {
    this.busy = true;
    this.dueAt = dueAt;
    this.socket.write(REQUEST);
  }

  private onData(chunk: string): void {
    this.buf += chunk;
    // Bounded: one response at a time; a head larger than 64 KiB is a broken peer.
    if (this.buf.length > 65536) { this.socket.destroy(); return; }
    const end = this.buf.indexOf('\r\n\r\n');
    if (end < 0) return;
    const m = /content-length:\s*(\d+)/i.exec(this.buf.slice(0, end));
    const bodyLen = m ? Number(m[1]) : 0;
    if (this.buf.length < end + 4 + bodyLen) return;
    const ok = this.buf.startsWith('HTTP/1.1 2');
    this.buf = this.buf.slice(end + 4 + bodyLen);
    this.busy = false;
    this.done(this, this.dueAt, ok);
  }

  private fail(): void {
    if (this.dead) return;
    this.dead = true;
    if (this.busy) { this.busy = false; this.done(this, this.dueAt, false); }
  }

  close(): void { this.socket.destroy(); }
}

let timer: NodeJS.Timeout | undefined;
let conns: Conn[] = [];
const due: number[] = [];
const latencyUs: number[] = [];
let errors = 0;

async function start(c: StartCmd): Promise<void> {
  const queue: number[] = [];
  const finished = (conn: Conn, dueAt: number, ok: boolean): void => {
    if (ok && due.length < MAX_SAMPLES) { due.push(dueAt); latencyUs.push((nowMs() - dueAt) * 1000); } else if (!ok) errors++;
    if (!conn.dead && queue.length > 0) conn.send(queue.shift()!);
  };
  conns = await Promise.all(Array.from({ length: c.connections }, () => new Promise<Conn>((resolve, reject) => {
    const s = net.connect(c.port, '127.0.0.1', () => resolve(new Conn(s, finished)));
    s.once('error', reject);
  })));
  const interval = 1000 / c.rate;
  const t0 = nowMs();
  const stopAt = t0 + c.maxSeconds * 1000;
  let next = t0;
  const tick = (): void => {
    const now = nowMs();
    if (now > stopAt) return;
    // Everything due by now goes out (or into the queue); bounded by what one tick can owe.
    for (let i = 0; i < 10_000 && next <= now; i++, next += interval) {
      const free = conns.find((k) => !k.busy && !k.dead);
      if (free) free.send(next); else queue.push(next);
    }
    timer = setTimeout(tick, 1);
  };
  tick();
  process.send!({ event: 'started' });
}

process.on('message', (m: Cmd) => {
  if (m.cmd === 'start') {
    start(m).catch((e: Error) => { process.stderr.write(`open_loop: ${e.message}\n`); process.exit(1); });
  } else if (m.cmd === 'stop') {
    clearTimeout(timer);
    for (const k of conns) k.close();
    process.send!({ event: 'samples', due, latencyUs, errors }, () => {
      upstream.closeAllConnections();
      upstream.close(() => process.exit(0));
    });
  }
});
process.on('disconnect', () => process.exit(0));

upstream.listen(0, '127.0.0.1', () => {
  process.send!({ event: 'upstream', port: (upstream.address() as net.AddressInfo).port });
});
