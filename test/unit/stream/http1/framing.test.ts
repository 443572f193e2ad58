import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { once } from 'node:events';
import { BodyWriter } from '../../../../src/stream/http1/framing.js';

/** A connected socket pair on 127.0.0.1: `write` side and the bytes read on the other side. */
async function socketPair(): Promise<{ a: net.Socket; received: () => Promise<string>; close: () => void }> {
  const server = net.createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const a = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
  const [b] = (await once(server, 'connection')) as [net.Socket];
  const chunks: Buffer[] = [];
  b.on('data', (c: Buffer) => chunks.push(c));
  const ended = once(b, 'end');
  return {
    a,
    received: async () => { a.end(); await ended; return Buffer.concat(chunks).toString('latin1'); },
    close: () => { a.destroy(); b.destroy(); server.close(); },
  };
}

test('chunked framing wraps each chunk, skips empty ones, and ends with the last chunk', async () => {
  const p = await socketPair();
  try {
    const w = new BodyWriter(p.a, 'chunked', -1, false);
    w.write(Buffer.from('hello'));
    w.write(new Uint8Array(0));
    w.write(Buffer.alloc(255, 0x61));
    w.end();
    assert.equal(await p.received(), `5\r\nhello\r\nff\r\n${'a'.repeat(255)}\r\n0\r\n\r\n`);
    assert.equal(w.written, 260);
  } finally { p.close(); }
});

test('content-length framing writes bytes as given and flags a body longer or shorter than declared', async () => {
  const p = await socketPair();
  try {
    const w = new BodyWriter(p.a, 'length', 4, false);
    w.write(Buffer.from('abc'));
    w.write(Buffer.from('def'));
    w.end();
    assert.equal(w.broken, true);
    assert.equal(await p.received(), 'abcd');
    const short = new BodyWriter(p.a, 'length', 10, false);
    short.end();
    assert.equal(short.broken, true);
  } finally { p.close(); }
});

test('a bodiless message writes nothing whatever its framing', async () => {
  const p = await socketPair();
  try {
    const w = new BodyWriter(p.a, 'chunked', -1, true);
    w.write(Buffer.from('dropped'));
    w.end();
    assert.equal(await p.received(), '');
  } finally { p.close(); }
});
