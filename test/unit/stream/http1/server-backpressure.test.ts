import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { spawn, type ChildProcess } from 'node:child_process';
import type { ServerConnectionHandler } from '../../../../src/types/http.js';
import { RawClient, parseResponses, startServer, waitFor } from './helpers.js';
import { PATIENCE_MS } from '../../../helpers/wait.js';

const MiB = 1024 * 1024;
const BODY_BYTES = 256 * MiB;
const CHUNK = 64 * 1024;

/**
 * The uploading client (a child process): streams the body in a bounded loop, waiting for 'drain' whenever
 * write() says the socket is full, and prints {blocked, sum, response} as JSON.
 */
const UPLOAD_CLIENT = `
import net from 'node:net';
import { once } from 'node:events';
const [port, total, size] = process.argv.slice(1).map(Number);
const sock = net.connect(port, '127.0.0.1');
await once(sock, 'connect');
let response = '';
sock.on('data', (d) => { response += d.toString('latin1'); });
sock.write('POST /upload HTTP/1.1\\r\\nhost: x\\r\\ncontent-length: ' + total + '\\r\\n\\r\\n');
let sum = 0, blocked = 0;
for (let i = 0; i < total / size; i++) {
  const chunk = Buffer.alloc(size, i & 0xff);
  for (let k = 0; k < chunk.length; k++) sum = (sum + chunk[k] * ((k & 7) + 1)) >>> 0;
  if (!sock.write(chunk)) { blocked++; await once(sock, 'drain'); }
}
const deadline = Date.now() + 60000;
while (!/\\r\\n\\r\\n\\d+ \\d+$/.test(response) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
sock.destroy();
process.stdout.write(JSON.stringify({ blocked, sum, response }));
`;

/** Position-weighted sum of the body bytes, mod 2^32: cheap enough for 64 MiB, sensitive to lost, duplicated or reordered bytes (the client's chunks hold different byte values). */
function addSum(sum: number, bytes: Uint8Array, offset: number): number {
  for (let i = 0; i < bytes.length; i++) sum = (sum + bytes[i] * (((offset + i) & 7) + 1)) >>> 0;
  return sum;
}

test('a 256 MiB upload streams through with backpressure and flat memory', async (t) => {
  let received = 0;
  let sum = 0;
  let pausedAt = -1;
  let pauseHeld: boolean | undefined;
  let readDuringPause = -1;
  const handler: ServerConnectionHandler = {
    onRequest(stream) {
      stream.setBodyHandler({
        onData(chunk) {
          sum = addSum(sum, chunk, received);
          received += chunk.length;
          if (pausedAt < 0 && received >= 16 * MiB) {
            // Hold the body for a while: the socket must stop being read, the client must see write() == false.
            pausedAt = received;
            stream.pauseBody();
            const socket = server.connections[0].socket;
            const readAtPause = socket.bytesRead;
            setTimeout(() => {
              pauseHeld = received === pausedAt;
              readDuringPause = socket.bytesRead - readAtPause;
              stream.resumeBody();
            }, 300).unref();
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
  const children: ChildProcess[] = [];
  try {
    (globalThis as { gc?: () => void }).gc?.();
    const rssBefore = process.memoryUsage.rss();
    let rssMax = rssBefore;
    sampler = setInterval(() => { rssMax = Math.max(rssMax, process.memoryUsage.rss()); }, 20);

    // The client runs in a child process, so only the server side's memory is measured here.
    const child = spawn(process.execPath, ['--input-type=module', '-e', UPLOAD_CLIENT, String(server.port), String(BODY_BYTES), String(CHUNK)],
      { stdio: ['ignore', 'pipe', 'inherit'] });
    children.push(child);
    let out = '';
    child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    const [code] = (await once(child, 'exit')) as [number];
    clearInterval(sampler);
    rssMax = Math.max(rssMax, process.memoryUsage.rss());
    assert.equal(code, 0, `upload client failed: ${out}`);
    const report = JSON.parse(out) as { blocked: number; sum: number; response: string };
    const res = parseResponses(report.response)[0];
    assert.equal(res.status, 200);
    assert.equal(res.body, `${BODY_BYTES} ${report.sum}`);
    assert.ok(report.blocked > 0, 'the client saw backpressure');
    assert.equal(pauseHeld, true, 'no body bytes were delivered while paused');
    assert.ok(readDuringPause >= 0 && readDuringPause <= 256 * 1024, `the socket was not read while paused (read ${readDuringPause} bytes)`);
    // Flat means independent of the body size: about 35 MiB of young-generation garbage whether the body is 64 or 512 MiB.
    const growth = rssMax - rssBefore;
    t.diagnostic(`peak RSS growth ${(growth / MiB).toFixed(1)} MiB for a ${BODY_BYTES / MiB} MiB body`);
    assert.ok(growth < BODY_BYTES / 4, `RSS grew ${Math.round(growth / MiB)} MiB for a ${BODY_BYTES / MiB} MiB body`);
  } finally {
    if (sampler) clearInterval(sampler);
    for (const c of children) if (c.exitCode === null) c.kill();
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
    const total = 32 * MiB;
    c.write(`POST /p HTTP/1.1\r\nhost: x\r\ncontent-length: ${total}\r\n\r\n`);
    const chunk = Buffer.alloc(CHUNK, 1);
    let written = 0;
    let stop = false;
    const writer = (async () => {
      for (let i = 0; i < total / CHUNK && !stop; i++) {
        written += CHUNK;
        if (!c.socket.write(chunk)) await Promise.race([once(c.socket, 'drain'), once(c.socket, 'close')]);
      }
    })();
    await waitFor(() => received > 0, PATIENCE_MS, 'first body bytes');
    await new Promise((r) => setTimeout(r, 100));
    const held = received;
    const readAtHold = server.connections[0].socket.bytesRead;
    await new Promise((r) => setTimeout(r, 150));
    assert.equal(received, held, 'no body bytes while paused');
    assert.equal(server.connections[0].socket.bytesRead, readAtHold, 'the socket is not read while paused');
    assert.ok(written < total, `the client was blocked (wrote ${written} of ${total})`);
    assert.ok(held <= 2 * CHUNK, `at most a chunk or two delivered before the pause took effect (got ${held})`);
    stream!.resumeBody();
    await waitFor(() => received > held, PATIENCE_MS, 'bytes after resume');
    stop = true;
    c.destroy();
    await writer;
  } finally { await server.close(); }
});
