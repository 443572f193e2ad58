// Seeded mutation fuzzing of the downstream connection: untrusted bytes must never crash the process, leak a
// slab or wedge a connection. Each case is a valid exchange mutated (byte flips, insertions, deletions,
// truncation, duplication), sent in random splits, then half-closed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RawClient, countSlabs, echoHandler, parseResponses, startServer, waitFor, type ReceivedRequest } from './helpers.js';
import { mutateBytes, seededRandom, type ByteMutatorOptions } from '../../../helpers/random.js';
import { PATIENCE_MS } from '../../../helpers/wait.js';

const SEEDS = [
  'GET /a?b=c HTTP/1.1\r\nHost: example\r\nAccept: */*\r\n\r\n',
  'POST /p HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhelloGET /n HTTP/1.1\r\nHost: x\r\n\r\n',
  'PUT /c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n4;e=1\r\nWiki\r\n0\r\nx-t: 1\r\n\r\n',
  'GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n',
  'OPTIONS * HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\nok',
];

/** The downstream mutator: all five edits; 'set' writes one of these bytes. */
const MUTATOR: ByteMutatorOptions = {
  mutations: ['set', 'insert', 'delete', 'truncate', 'duplicate'],
  interesting: [0x00, 0x0a, 0x0d, 0x20, 0x3a, 0x7f, 0x80, 0xff, 0x09, 0x3b, 0x30, 0x66],
};

test('mutated requests never crash the process, leak a slab, or leave a connection open', async () => {
  const slabs = countSlabs();
  const received: ReceivedRequest[] = [];
  const server = await startServer(echoHandler(received, 'chunked'), { requestHeadersTimeoutMs: 1000, maxRequestHeadersKb: 4 });
  const rnd = seededRandom(0x5eed);
  const CASES = 240;
  const PARALLEL = 12;
  try {
    for (let base = 0; base < CASES; base += PARALLEL) {
      await Promise.all(Array.from({ length: PARALLEL }, async (_, j) => {
        const seed = SEEDS[(base + j) % SEEDS.length];
        const bytes = mutateBytes(Buffer.from(seed, 'latin1'), rnd, MUTATOR);
        const cut = Math.floor(rnd() * (bytes.length + 1));
        const c = await RawClient.connect(server.port);
        c.write(bytes.subarray(0, cut));
        await new Promise((r) => setTimeout(r, 1));
        c.write(bytes.subarray(cut));
        c.socket.end();
        try {
          await c.untilClosed(PATIENCE_MS);
        } catch (err) {
          throw new Error(`case ${base + j} (${JSON.stringify(bytes.toString('latin1'))}) left the connection open: ${String(err)}`);
        }
      }));
    }
    await waitFor(() => server.connections.every((s) => s.closed), PATIENCE_MS, 'all server connections closed');
    assert.equal(server.connections.length, CASES);
    await waitFor(() => slabs.outstanding() === 0, PATIENCE_MS, 'every slab returned');
    // And the server still serves.
    const c = await RawClient.connect(server.port);
    c.write('GET /alive HTTP/1.1\r\nhost: x\r\n\r\n');
    await c.until((t) => parseResponses(t).length === 1);
    assert.equal(parseResponses(c.text)[0].body, 'GET /alive 0');
    c.destroy();
  } finally { slabs.restore(); await server.close(); }
});
