import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { once } from 'node:events';
import { TickCork, inSocketEvent, resetTurnLoad, writesBatched } from '../../../../src/stream/http1/socket-io.js';

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
    const [[peer]] = (await Promise.all([once(server, 'connection'), once(c, 'connect')])) as [[net.Socket], unknown];
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

test('writes held inside a socket event leave when the outermost handler returns, not at the end of the turn', async () => {
  const t = await twoConnections();
  resetTurnLoad();
  try {
    const corks = t.clients.map((c) => new TickCork(c));
    inSocketEvent(() => {
      corks[0].hold();
      t.clients[0].write('head0;');
      inSocketEvent(() => {
        // A nested handler (a read on one socket causing a write on another) does not flush early.
        corks[1].hold();
        t.clients[1].write('head1;');
        t.clients[1].write('body1');
      }, undefined);
      assert.ok(t.clients[1].writableLength > 0, 'still held inside the outer handler');
      t.clients[0].write('body0');
    }, undefined);
    for (const c of t.clients) assert.equal(c.writableLength, 0, 'flushed as the outer handler returned');
    assert.deepEqual(await t.received(), ['head0;body0', 'head1;body1']);
  } finally { t.close(); }
});

test('a handler that throws still flushes what it held', async () => {
  const t = await twoConnections();
  try {
    const [c] = t.clients;
    const cork = new TickCork(c);
    assert.throws(() => inSocketEvent(() => { cork.hold(); c.write('kept'); throw new Error('handler bug'); }, undefined), /handler bug/);
    assert.equal(c.writableLength, 0);
    const [got] = await t.received();
    assert.equal(got, 'kept');
  } finally { t.close(); }
});
test('release() inside a socket event lets the held writes go at once (a complete message does not wait for the handler)', async () => {
  const t = await twoConnections();
  resetTurnLoad();
  try {
    const [c] = t.clients;
    const cork = new TickCork(c);
    inSocketEvent(() => {
      cork.hold();
      c.write('head;');
      c.write('body');
      assert.ok(c.writableLength > 0);
      cork.release();
      assert.equal(c.writableLength, 0, 'written before the handler returned');
      cork.hold(); // held again later in the same event: leaves when the handler returns
      c.write(';next');
    }, undefined);
    assert.equal(c.writableLength, 0);
    const [got] = await t.received();
    assert.equal(got, 'head;body;next');
  } finally { t.close(); }
});

test('after a busy turn, writes leave together at the end of the turn; a quiet turn goes back to writing per event', async () => {
  const t = await twoConnections();
  resetTurnLoad();
  try {
    const [c] = t.clients;
    const cork = new TickCork(c);
    const nextTurn = (): Promise<void> => new Promise<void>((resolve) => setImmediate(resolve));
    await nextTurn();
    for (let i = 0; i < 8; i++) inSocketEvent(() => {}, undefined); // a busy turn: many socket events
    await nextTurn();
    inSocketEvent(() => {
      assert.equal(writesBatched(), true);
      cork.hold();
      c.write('batched;');
      cork.release(); // a complete message in a busy turn waits for the turn's end like the rest
    }, undefined);
    assert.ok(c.writableLength > 0, 'held past the handler in a busy turn');
    await nextTurn();
    assert.equal(c.writableLength, 0, 'flushed at the end of the turn');
    // That turn had one event: quiet again, so the next turn writes as each event ends.
    inSocketEvent(() => {
      assert.equal(writesBatched(), false);
      cork.hold();
      c.write('direct');
    }, undefined);
    assert.equal(c.writableLength, 0);
    const [got] = await t.received();
    assert.equal(got, 'batched;direct');
  } finally { t.close(); }
});
