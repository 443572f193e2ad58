import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { once } from 'node:events';
import { COALESCE_MAX_BYTES, TickCork } from '../../../../src/stream/http1/socket-io.js';

/** Two connected client sockets on 127.0.0.1 and the bytes their server-side peers read. */
async function twoConnections(): Promise<{
  clients: net.Socket[]; received: () => Promise<string[]>; close: () => void;
}> {
  const server = net.createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as net.AddressInfo).port;
  const clients: net.Socket[] = [];
  const peers: net.Socket[] = [];
  for (let i = 0; i < 2; i++) {
    const c = net.connect(port, '127.0.0.1');
    const [peer] = (await once(server, 'connection')) as [net.Socket];
    clients.push(c);
    peers.push(peer);
  }
  const chunks = peers.map(() => [] as Buffer[]);
  peers.forEach((p, i) => p.on('data', (c: Buffer) => chunks[i].push(c)).on('error', () => { /* a reset is part of the test */ }));
  const ended = peers.map((p) => once(p, 'end'));
  return {
    clients,
    received: async () => {
      for (const c of clients) if (!c.destroyed) c.end();
      await Promise.all(ended.filter((_, i) => !clients[i].destroyed));
      return chunks.map((cs) => Buffer.concat(cs).toString('latin1'));
    },
    close: () => { for (const s of [...clients, ...peers]) s.destroy(); server.close(); },
  };
}

test('writes held by TickCork stay queued past the microtasks and next ticks, and leave at the end of the turn', async () => {
  const t = await twoConnections();
  try {
    const corks = t.clients.map((c) => new TickCork(c));
    t.clients.forEach((c, i) => {
      corks[i].hold();
      corks[i].hold(); // a second hold in the same turn adds nothing
      c.write(`head${i};`);
      c.write(`body${i}`);
    });
    await new Promise<void>((resolve) => process.nextTick(resolve));
    await Promise.resolve();
    for (const c of t.clients) assert.ok(c.writableLength > 0, 'still corked after the next tick');
    await new Promise<void>((resolve) => setImmediate(resolve));
    for (const c of t.clients) assert.equal(c.writableLength, 0, 'flushed at the end of the turn');
    assert.deepEqual(await t.received(), ['head0;body0', 'head1;body1']);
  } finally { t.close(); }
});

test('a socket destroyed while corked does not keep the other sockets of the turn from flushing', async () => {
  const t = await twoConnections();
  try {
    const [dead, alive] = t.clients;
    new TickCork(dead).hold();
    dead.write('lost');
    new TickCork(alive).hold();
    alive.write('kept');
    dead.destroy();
    await new Promise<void>((resolve) => setImmediate(resolve));
    assert.equal(alive.writableLength, 0);
    alive.end();
    const [, got] = await t.received();
    assert.equal(got, 'kept');
  } finally { t.close(); }
});

test('a socket corked again after its flush is held until the next turn', async () => {
  const t = await twoConnections();
  try {
    const [c] = t.clients;
    const cork = new TickCork(c);
    cork.hold();
    c.write('one;');
    await new Promise<void>((resolve) => setImmediate(resolve));
    assert.equal(c.writableLength, 0);
    cork.hold();
    c.write('two');
    assert.ok(c.writableLength > 0);
    await new Promise<void>((resolve) => setImmediate(resolve));
    assert.equal(c.writableLength, 0);
    const [got] = await t.received();
    assert.equal(got, 'one;two');
  } finally { t.close(); }
});

/** Records each batch the socket hands its handle: 'write' bytes for one buffer, 'writev' chunk counts otherwise. */
function spyWrites(socket: net.Socket): string[] {
  const calls: string[] = [];
  const write = socket._write.bind(socket);
  socket._write = (chunk: Buffer, enc: BufferEncoding, cb: (e?: Error | null) => void) => {
    calls.push(`write ${chunk.length}`);
    write(chunk, enc, cb);
  };
  type WriteGeneric = (writev: boolean, data: unknown, ...rest: unknown[]) => void;
  const target = socket as unknown as { _writeGeneric: WriteGeneric };
  const generic = target._writeGeneric;
  target._writeGeneric = function (this: unknown, writev: boolean, data: unknown, ...rest: unknown[]) {
    if (writev) calls.push(`writev ${(data as unknown[]).length}`);
    generic.call(this, writev, data, ...rest);
  };
  return calls;
}

test('a small corked batch leaves as one write of the concatenated bytes, every callback called after it', async () => {
  const t = await twoConnections();
  try {
    const [a] = t.clients;
    const cork = new TickCork(a);
    const calls = spyWrites(a);
    const done: number[] = [];
    cork.hold();
    a.write(Buffer.from('HTTP/1.1 200 OK\r\ncontent-length: 6\r\n\r\n'), () => done.push(1));
    a.write(Buffer.from('hello\n'), () => done.push(2));
    a.write(new Uint8Array([0x21]), () => done.push(3));
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(calls, ['write 45']);
    assert.deepEqual(done, [1, 2, 3]);
    const [got] = await t.received();
    assert.equal(got, 'HTTP/1.1 200 OK\r\ncontent-length: 6\r\n\r\nhello\n!');
  } finally {
    t.close();
  }
});

test('a corked batch over the coalescing limit, or holding a string, is written as a writev unchanged', async () => {
  const t = await twoConnections();
  try {
    const [a, b] = t.clients;
    const corks = [new TickCork(a), new TickCork(b)];
    const callsA = spyWrites(a);
    const callsB = spyWrites(b);
    const big = Buffer.alloc(COALESCE_MAX_BYTES, 0x62);
    corks.forEach((c) => c.hold());
    a.write(Buffer.from('head\r\n'));
    a.write(big);
    b.write(Buffer.from('head\r\n'));
    b.write('text body', 'latin1');
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(callsA, ['writev 2']);
    assert.deepEqual(callsB, ['writev 2']);
    const [gotA, gotB] = await t.received();
    assert.equal(gotA, 'head\r\n' + big.toString('latin1'));
    assert.equal(gotB, 'head\r\ntext body');
  } finally {
    t.close();
  }
});
