// The byte tunnel of upgrades and terminated CONNECTs over real sockets on 127.0.0.1: both directions,
// half-close in either order, a reset on one side reaching the other, the idle timeout, and backpressure
// (a peer that stops reading stops the other side's reading).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as net from 'node:net';
import { once } from 'node:events';
import type { SkiffError } from '../../../src/common/errors.js';
import { socketSide, Tunnel } from '../../../src/proxy/tunnel.js';
import { waitFor } from '../../helpers/wait.js';

const WAIT_MS = 10_000;

/** A connected pair: `peer` (the test's end) and `proxySide` (what the tunnel relays). */
async function socketPair(): Promise<{ peer: net.Socket; proxySide: net.Socket; close(): void }> {
  const server = net.createServer({ allowHalfOpen: true, pauseOnConnect: true });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const accepted = once(server, 'connection') as Promise<[net.Socket]>;
  const peer = net.connect({ port: (server.address() as net.AddressInfo).port, host: '127.0.0.1', allowHalfOpen: true });
  const [proxySide] = await accepted;
  await once(peer, 'connect');
  server.close();
  peer.on('error', () => {});
  proxySide.on('error', () => {});
  return { peer, proxySide, close: () => { peer.destroy(); proxySide.destroy(); } };
}

interface Running {
  down: Awaited<ReturnType<typeof socketPair>>;
  up: Awaited<ReturnType<typeof socketPair>>;
  tunnel: Tunnel;
  result: Promise<{ clean: boolean; err?: SkiffError }>;
  counted: { up: number; down: number };
}

async function startTunnel(idleTimeoutMs = 0, received?: Buffer): Promise<Running> {
  const down = await socketPair();
  const up = await socketPair();
  const counted = { up: 0, down: 0 };
  let settle!: (r: { clean: boolean; err?: SkiffError }) => void;
  const result = new Promise<{ clean: boolean; err?: SkiffError }>((r) => { settle = r; });
  const tunnel = new Tunnel(socketSide(down.proxySide, 'downstream', received), socketSide(up.proxySide, 'upstream'), idleTimeoutMs,
    { onUpstreamBytes: (n) => { counted.up += n; }, onDownstreamBytes: (n) => { counted.down += n; } },
    (clean, err) => settle({ clean, err }));
  tunnel.start();
  return { down, up, tunnel, result, counted };
}

/** Resolves when `s` closes, however (events.once would reject on the RST's 'error'). */
function closedP(s: net.Socket): Promise<void> {
  return new Promise((r) => { if (s.closed) r(); else s.once('close', () => r()); });
}

function collect(s: net.Socket): { text: () => string; ended: Promise<unknown> } {
  const chunks: Buffer[] = [];
  s.on('data', (d: Buffer) => chunks.push(d));
  return { text: () => Buffer.concat(chunks).toString(), ended: once(s, 'end') };
}

function within<T>(p: Promise<T>, what: string): Promise<T> {
  let t: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => { t = setTimeout(() => reject(new Error(`timed out: ${what}`)), WAIT_MS); });
  return Promise.race([p, timeout]).finally(() => clearTimeout(t));
}

test('bytes cross both ways; a half-close crosses and the other direction keeps flowing; both ends done = clean', async () => {
  const r = await startTunnel(0, Buffer.from('early '));
  try {
    const atUpstream = collect(r.up.peer);
    const atDownstream = collect(r.down.peer);
    r.down.peer.end('hello upstream');
    await within(atUpstream.ended, 'FIN at the upstream');
    assert.equal(atUpstream.text(), 'early hello upstream');
    // The downstream half-closed; the upstream still answers, then closes its side too.
    r.up.peer.write('still ');
    r.up.peer.end('open');
    await within(atDownstream.ended, 'FIN at the downstream');
    assert.equal(atDownstream.text(), 'still open');
    assert.deepEqual(await within(r.result, 'tunnel done'), { clean: true, err: undefined });
    assert.deepEqual(r.counted, { up: 20, down: 10 });
    assert.equal(r.tunnel.bytesToUpstream, 20);
    assert.equal(r.tunnel.bytesToDownstream, 10);
  } finally {
    r.down.close();
    r.up.close();
  }
});

test('a reset upstream resets the downstream: the tunnel ends unclean', async () => {
  const r = await startTunnel();
  try {
    const closed = closedP(r.down.peer);
    r.up.peer.resetAndDestroy();
    const { clean } = await within(r.result, 'tunnel done');
    assert.equal(clean, false);
    await within(closed, 'downstream closed');
  } finally {
    r.down.close();
    r.up.close();
  }
});

test('the idle timeout resets both sides of a tunnel without traffic', async () => {
  const r = await startTunnel(100);
  try {
    const downClosed = closedP(r.down.peer);
    const upClosed = closedP(r.up.peer);
    const { clean, err } = await within(r.result, 'idle timeout');
    assert.equal(clean, false);
    assert.equal(err?.code, 'SKIFF_TUNNEL_IDLE_TIMEOUT');
    await within(Promise.all([downClosed, upClosed]), 'both sides closed');
  } finally {
    r.down.close();
    r.up.close();
  }
});

test('backpressure: an upstream that stops reading stops the tunnel reading the downstream; nothing is lost', async () => {
  const r = await startTunnel();
  try {
    r.up.peer.pause();
    const total = 32 * 1024 * 1024;
    const chunk = Buffer.alloc(64 * 1024, 0x5a);
    let written = 0;
    const writeMore = (): void => {
      while (written < total) {
        written += chunk.length;
        if (!r.down.peer.write(chunk)) { r.down.peer.once('drain', writeMore); return; }
      }
      r.down.peer.end();
    };
    writeMore();
    // The tunnel pauses its downstream socket once the upstream socket's buffer is full.
    await waitFor(() => r.down.proxySide.isPaused(), WAIT_MS, 'the downstream side paused');
    assert.ok(r.counted.up < total, 'not everything was read while the upstream stalled');
    let received = 0;
    r.up.peer.on('data', (d: Buffer) => { received += d.length; });
    const ended = once(r.up.peer, 'end');
    r.up.peer.resume();
    await within(ended, 'all bytes at the upstream');
    assert.equal(received, total);
    r.up.peer.end();
    assert.equal((await within(r.result, 'tunnel done')).clean, true);
  } finally {
    r.down.close();
    r.up.close();
  }
});
