import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { ServerConnectionHandler } from '../../../../src/types/http.js';
import { RawClient, parseResponses, startServer, waitFor } from './helpers.js';

const MiB = 1024 * 1024;
const BODY_BYTES = 64 * MiB;
const CHUNK = 64 * 1024;

/** Sum of all bytes, mod 2^32: cheap enough for 64 MiB, sensitive to lost, duplicated or reordered chunks (patterned per chunk). */
function addSum(sum: number, bytes: Uint8Array): number {
  for (let i = 0; i < bytes.length; i++) sum = (sum + bytes[i] * ((i & 7) + 1)) >>> 0;
  return sum;
}

test('a 64 MiB upload streams through with backpressure and flat memory', async () => {
  let received = 0;
  let sum = 0;
  let pausedAt = -1;
  let pauseHeld: boolean | undefined;
  const handler: ServerConnectionHandler = {
    onRequest(stream) {
      stream.setBodyHandler({
        onData(chunk) {
          received += chunk.length;
          sum = addSum(sum, chunk);
          if (pausedAt < 0 && received >= 16 * MiB) {
            // Hold the body for a while: the socket must stop being read, the client must see write() == false.
            pausedAt = received;
            stream.pauseBody();
            setTimeout(() => { pauseHeld = received === pausedAt; stream.resumeBody(); }, 300).unref();
          }
        },
        onEnd() {
          const body = Buffer.from(`${received} ${sum}`);
          stream.writeLocalHead(200, [], { bodyKind: 'length', contentLength: body.length });
          stream.writeBody(body);
          stream.end();
        },
        onError() {},
      });
    },
    onCodecError: (info, reply) => reply(info.status, info.code),
  };
  const server = await startServer(handler);
  let sampler: NodeJS.Timeout | undefined;
  try {
    (globalThis as { gc?: () => void }).gc?.();
    const rssBefore = process.memoryUsage.rss();
    let rssMax = rssBefore;
    sampler = setInterval(() => { rssMax = Math.max(rssMax, process.memoryUsage.rss()); }, 20);

    const c = await RawClient.connect(server.port);
    c.write(`POST /upload HTTP/1.1\r\nhost: x\r\ncontent-length: ${BODY_BYTES}\r\n\r\n`);
    let clientSum = 0;
    let blocked = 0;
    const chunk = Buffer.alloc(CHUNK);
    for (let i = 0; i < BODY_BYTES / CHUNK; i++) {
      chunk.fill(i & 0xff);
      clientSum = addSum(clientSum, chunk);
      // A fresh copy per write: the socket may still hold the previous one.
      if (!c.socket.write(Buffer.from(chunk))) {
        blocked++;
        await once(c.socket, 'drain');
      }
    }
    await c.until((t) => parseResponses(t).length === 1, 60000);
    clearInterval(sampler);
    rssMax = Math.max(rssMax, process.memoryUsage.rss());
    const res = parseResponses(c.text)[0];
    assert.equal(res.status, 200);
    assert.equal(res.body, `${BODY_BYTES} ${clientSum}`);
    assert.ok(blocked > 0, 'the client saw backpressure');
    assert.equal(pauseHeld, true, 'no body bytes were delivered while paused');
    const growth = rssMax - rssBefore;
    assert.ok(growth < BODY_BYTES / 2, `RSS grew ${Math.round(growth / MiB)} MiB for a ${BODY_BYTES / MiB} MiB body`);
    c.destroy();
  } finally {
    if (sampler) clearInterval(sampler);
    await server.close();
  }
});

test('while the body is paused the socket is not read: nothing more reaches the handler', async () => {
  let received = 0;
  let stream: Parameters<ServerConnectionHandler['onRequest']>[0] | undefined;
  const handler: ServerConnectionHandler = {
    onRequest(s) {
      stream = s;
      s.setBodyHandler({ onData(c) { received += c.length; s.pauseBody(); }, onEnd() {}, onError() {} });
    },
    onCodecError: (info, reply) => reply(info.status, info.code),
  };
  const server = await startServer(handler);
  try {
    const c = await RawClient.connect(server.port);
    c.write(`POST /p HTTP/1.1\r\nhost: x\r\ncontent-length: ${8 * MiB}\r\n\r\n`);
    const chunk = Buffer.alloc(CHUNK, 1);
    let writes = 0;
    for (let i = 0; i < (8 * MiB) / CHUNK && c.socket.write(chunk); i++) writes++;
    await waitFor(() => received > 0, 3000, 'first body bytes');
    await new Promise((r) => setTimeout(r, 100));
    const held = received;
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(received, held, 'no body bytes while paused');
    assert.ok(held <= 2 * CHUNK, `at most a chunk or two delivered before the pause took effect (got ${held})`);
    assert.ok(writes < (8 * MiB) / CHUNK, 'the client was blocked');
    stream!.resumeBody();
    await waitFor(() => received > held, 3000, 'bytes after resume');
    c.destroy();
  } finally { await server.close(); }
});
