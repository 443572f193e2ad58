import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { once } from 'node:events';
import { SlabWrites, writeEncodedHead } from '../../../../src/stream/http1/head-writer.js';
import { TickCork } from '../../../../src/stream/http1/socket-io.js';
import { slabPool } from '../../../../src/wasm/slab.js';
import type { WasmInstance } from '../../../../src/wasm/module.js';
import { wasm, countSlabs } from './slab-count.js';

/** A connected pair on 127.0.0.1: `client` writes, `peer` is the server side (paused until told to read). */
async function pair(): Promise<{ client: net.Socket; peer: net.Socket; close(): void }> {
  const server = net.createServer({ pauseOnConnect: true });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as net.AddressInfo).port;
  const accepted = once(server, 'connection');
  const client = net.connect(port, '127.0.0.1');
  await once(client, 'connect');
  const [peer] = (await accepted) as [net.Socket];
  return { client, peer, close: () => { client.destroy(); peer.destroy(); server.close(); } };
}

/** Polls `cond` every 5 ms for up to 10 s (generous: the machine may be busy). */
async function until(cond: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Writes `text` as a slab-encoded "head" (the encoder copies it into the slab). */
function writeText(w: WasmInstance, socket: net.Socket, writes: SlabWrites, text: string): void {
  const bytes = Buffer.from(text, 'latin1');
  writeEncodedHead(w, slabPool(w), socket, writes, (wi, head: Buffer, _r: undefined, out, cap) => {
    if (head.length > cap) return -1;
    wi.u8.set(head, out);
    return head.length;
  }, bytes, undefined);
}

test('a head written at once goes back to the pool inside the write call, with no write callback', async () => {
  const t = await pair();
  const slabs = countSlabs();
  try {
    const writes = new SlabWrites(slabPool(wasm), t.client);
    writeText(wasm, t.client, writes, 'HTTP/1.1 200 OK\r\n\r\n');
    assert.equal(t.client.writableLength, 0);
    assert.equal(slabs.outstanding(), 0, 'released synchronously');
    t.peer.resume();
    const [got] = await once(t.peer, 'data');
    assert.equal((got as Buffer).toString('latin1'), 'HTTP/1.1 200 OK\r\n\r\n');
  } finally { slabs.restore(); t.close(); }
});

test('a corked head is kept until the uncork has written it, and the bytes arrive intact', async () => {
  const t = await pair();
  const slabs = countSlabs();
  try {
    const writes = new SlabWrites(slabPool(wasm), t.client);
    const cork = new TickCork(t.client, () => writes.settle());
    cork.hold();
    writeText(wasm, t.client, writes, 'head;');
    t.client.write('body');
    assert.equal(slabs.outstanding(), 1, 'held while corked');
    cork.flush();
    assert.equal(slabs.outstanding(), 0, 'released after the uncork wrote it');
    t.peer.resume();
    let text = '';
    t.peer.on('data', (c: Buffer) => { text += c.toString('latin1'); });
    await until(() => text.length >= 9, 'the bytes');
    assert.equal(text, 'head;body');
  } finally { slabs.restore(); t.close(); }
});

test('a head stuck behind a full socket buffer stays leased until the peer reads it, then goes back', async () => {
  const t = await pair();
  const slabs = countSlabs();
  try {
    const writes = new SlabWrites(slabPool(wasm), t.client);
    // Fill the kernel buffers (the peer does not read) so the next writes stay queued in the socket.
    const filler = Buffer.alloc(1 << 20, 0x61);
    for (let i = 0; i < 64 && t.client.writableLength === 0; i++) t.client.write(filler);
    assert.ok(t.client.writableLength > 0, 'the socket buffers bytes');
    writeText(wasm, t.client, writes, 'TAIL');
    assert.equal(slabs.outstanding(), 1, 'not yet written');
    let received = 0;
    let tail = '';
    t.peer.on('data', (c: Buffer) => { received += c.length; tail = (tail + c.toString('latin1')).slice(-4); });
    t.peer.resume();
    await until(() => slabs.outstanding() === 0, 'the slab to return');
    await until(() => tail === 'TAIL', 'the tail bytes');
    assert.ok(received > filler.length);
  } finally { slabs.restore(); t.close(); }
});

test('a head still queued when the socket is destroyed goes back on close (releaseAll), not before', async () => {
  const t = await pair();
  const slabs = countSlabs();
  try {
    const writes = new SlabWrites(slabPool(wasm), t.client);
    const filler = Buffer.alloc(1 << 20, 0x62);
    for (let i = 0; i < 64 && t.client.writableLength === 0; i++) t.client.write(filler);
    writeText(wasm, t.client, writes, 'LOST');
    t.client.on('error', () => {});
    t.client.destroy();
    writes.settle();
    assert.equal(slabs.outstanding(), 1, 'a destroyed socket keeps its slabs until close');
    await once(t.client, 'close');
    writes.releaseAll();
    assert.equal(slabs.outstanding(), 0);
  } finally { slabs.restore(); t.close(); }
});

test('a head still queued when the socket is ended goes back on close, with no write after end', async () => {
  const t = await pair();
  const slabs = countSlabs();
  try {
    const writes = new SlabWrites(slabPool(wasm), t.client);
    const errors: Error[] = [];
    t.client.on('error', (e) => errors.push(e));
    const filler = Buffer.alloc(1 << 20, 0x63);
    for (let i = 0; i < 64 && t.client.writableLength === 0; i++) t.client.write(filler);
    t.client.end(); // ended before the head's bytes have left: a later settle must not write its mark
    writeTextAfterEnd();
    t.client.on('drain', () => writes.settle());
    t.peer.on('data', () => {});
    t.peer.on('end', () => t.peer.end());
    t.peer.resume();
    await once(t.client, 'close');
    writes.settle();
    writes.releaseAll();
    assert.deepEqual(errors.map((e) => e.message), []);
    assert.equal(slabs.outstanding(), 0);

    function writeTextAfterEnd(): void {
      // The head was handed over before end() in real use; here it is added to the pending list directly.
      const ptr = slabPool(wasm).lease(1024);
      writes.add(ptr);
    }
  } finally { slabs.restore(); t.close(); }
});
