// Seeded mutation fuzzing of the downstream connection: untrusted bytes must never crash the process, leak a
// slab or wedge a connection. Each case is a valid exchange mutated (byte flips, insertions, deletions,
// truncation, duplication), sent in random splits, then half-closed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RawClient, countSlabs, echoHandler, parseResponses, startServer, waitFor, type ReceivedRequest } from './helpers.js';

/** mulberry32: a small seeded PRNG, so a failing case can be replayed from its seed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SEEDS = [
  'GET /a?b=c HTTP/1.1\r\nHost: example\r\nAccept: */*\r\n\r\n',
  'POST /p HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhelloGET /n HTTP/1.1\r\nHost: x\r\n\r\n',
  'PUT /c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n4;e=1\r\nWiki\r\n0\r\nx-t: 1\r\n\r\n',
  'GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n',
  'OPTIONS * HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\nok',
];

const INTERESTING = [0x00, 0x0a, 0x0d, 0x20, 0x3a, 0x7f, 0x80, 0xff, 0x09, 0x3b, 0x30, 0x66];

function mutate(input: Buffer, rnd: () => number): Buffer {
  let b = Buffer.from(input);
  const ops = 1 + Math.floor(rnd() * 3);
  for (let k = 0; k < ops; k++) {
    const at = Math.floor(rnd() * Math.max(1, b.length));
    switch (Math.floor(rnd() * 5)) {
      case 0: if (b.length) b[at] = INTERESTING[Math.floor(rnd() * INTERESTING.length)]; break;
      case 1: b = Buffer.concat([b.subarray(0, at), Buffer.from([Math.floor(rnd() * 256)]), b.subarray(at)]); break;
      case 2: b = Buffer.concat([b.subarray(0, at), b.subarray(at + 1 + Math.floor(rnd() * 4))]); break;
      case 3: b = b.subarray(0, at); break;
      default: b = Buffer.concat([b.subarray(0, at), b.subarray(at, at + 8), b.subarray(at)]); break;
    }
  }
  return b;
}

test('mutated requests never crash the process, leak a slab, or leave a connection open', async () => {
  const slabs = countSlabs();
  const received: ReceivedRequest[] = [];
  const server = await startServer(echoHandler(received, 'chunked'), { requestHeadersTimeoutMs: 1000, maxRequestHeadersKb: 4 });
  const rnd = prng(0x5eed);
  const CASES = 240;
  const PARALLEL = 12;
  try {
    for (let base = 0; base < CASES; base += PARALLEL) {
      await Promise.all(Array.from({ length: PARALLEL }, async (_, j) => {
        const seed = SEEDS[(base + j) % SEEDS.length];
        const bytes = mutate(Buffer.from(seed, 'latin1'), rnd);
        const cut = Math.floor(rnd() * (bytes.length + 1));
        const c = await RawClient.connect(server.port);
        c.write(bytes.subarray(0, cut));
        await new Promise((r) => setTimeout(r, 1));
        c.write(bytes.subarray(cut));
        c.socket.end();
        try {
          await c.untilClosed(4000);
        } catch (err) {
          throw new Error(`case ${base + j} (${JSON.stringify(bytes.toString('latin1'))}) left the connection open: ${String(err)}`);
        }
      }));
    }
    await waitFor(() => server.connections.every((s) => s.closed), 4000, 'all server connections closed');
    assert.equal(server.connections.length, CASES);
    await waitFor(() => slabs.outstanding() === 0, 2000, 'every slab returned');
    // And the server still serves.
    const c = await RawClient.connect(server.port);
    c.write('GET /alive HTTP/1.1\r\nhost: x\r\n\r\n');
    await c.until((t) => parseResponses(t).length === 1);
    assert.equal(parseResponses(c.text)[0].body, 'GET /alive 0');
    c.destroy();
  } finally { slabs.restore(); await server.close(); }
});
