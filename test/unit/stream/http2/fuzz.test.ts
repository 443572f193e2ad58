// Untrusted bytes never crash the process: seeded random frame sequences (random types, flags, stream ids and
// payloads, plus mutated valid requests) are fed to Http2ServerConnection with the wasm HPACK; every connection
// ends in a response, a RST_STREAM, a GOAWAY or a close, and a well-formed request is still served afterwards.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import http2 from 'node:http2';
import { mainInstance } from '../../../../src/wasm/runtime.js';
import { slabStats } from '../../../../src/wasm/slab.js';
import type { ServerConnectionHandler } from '../../../../src/types/http.js';
import { Http2ServerConnection } from '../../../../src/stream/http2/server.js';
import { wasmServerHeaderCodec } from '../../../../src/stream/http2/hpack_codec.js';
import { seededRandom } from '../../../helpers/random.js';
import { F, RawH2, T, frame, requestBlock } from '../../../helpers/h2raw.js';
import { waitFor } from '../../../helpers/wait.js';

const wasm = mainInstance();
const handler: ServerConnectionHandler = {
  onRequest: (s) => {
    s.setBodyHandler({ onData: () => undefined, onEnd: () => undefined, onError: () => undefined });
    s.writeLocalHead(200, [], { bodyKind: 'length', contentLength: 2 });
    s.writeBody(Buffer.from('ok'));
    s.end();
  },
  onCodecError: (_i, reply) => reply(400, 'bad'),
};
const server = net.createServer((socket) => { new Http2ServerConnection(wasm, socket, handler, wasmServerHeaderCodec, {}); });
await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
const port = (server.address() as net.AddressInfo).port;
after(() => server.close());

function randomFrames(rnd: () => number): Buffer[] {
  const out: Buffer[] = [];
  const n = 1 + Math.floor(rnd() * 12);
  for (let i = 0; i < n; i++) {
    const pick = rnd();
    const sid = Math.floor(rnd() * 8);
    if (pick < 0.3) {
      const block = requestBlock('GET', '/x', [['x-r', String(Math.floor(rnd() * 1e6))]]);
      // Flip a few bytes of a valid block: HPACK errors of every kind.
      for (let k = 0; k < 3; k++) if (rnd() < 0.5) block[Math.floor(rnd() * block.length)] = Math.floor(rnd() * 256);
      out.push(frame(T.HEADERS, Math.floor(rnd() * 64), sid, block));
    } else {
      const len = Math.floor(rnd() * 40);
      const payload = Buffer.alloc(len);
      for (let k = 0; k < len; k++) payload[k] = Math.floor(rnd() * 256);
      out.push(frame(Math.floor(rnd() * 12), Math.floor(rnd() * 256), sid, payload));
    }
  }
  return out;
}

test('200 random frame sequences: no crash, each connection settles, the server still serves', async () => {
  const before = slabStats(wasm).map((c) => c.leased);
  const rnd = seededRandom(0x5eed);
  for (let round = 0; round < Number(process.env.H2_FUZZ_ROUNDS ?? 200); round++) {
    const c = await RawH2.connect(port);
    try {
      c.send(...randomFrames(rnd));
      await c.until((f) => f.some((x) => x.type === T.GOAWAY || x.type === T.RST_STREAM || x.type === T.DATA), 200);
    } finally { c.close(); }
  }
  const session = http2.connect(`http://127.0.0.1:${port}`);
  try {
    const status = await new Promise<number>((resolve, reject) => {
      const req = session.request({ ':path': '/after' });
      req.on('response', (h) => resolve(Number(h[':status'])));
      req.on('error', reject);
      req.resume();
    });
    assert.equal(status, 200);
  } finally { session.close(); }
  // The server side of each closed connection gives its slabs back as its close event runs: poll for it.
  await waitFor(() => slabStats(wasm).every((c, i) => c.leased <= before[i]!), undefined, 'slabs back').catch(() => undefined);
  slabStats(wasm).map((c) => c.leased).forEach((n, i) => assert.ok(n <= before[i], `class ${i}: ${n} slabs leased after, ${before[i]} before`));
});

test('a valid request split at every byte boundary is served', async () => {
  const bytes = Buffer.concat([frame(T.HEADERS, F.END_HEADERS | F.END_STREAM, 1, requestBlock('GET', '/split'))]);
  const c = await RawH2.connect(port);
  try {
    for (let i = 0; i < bytes.length; i++) { c.send(bytes.subarray(i, i + 1)); await new Promise((r) => setImmediate(r)); }
    assert.ok(await c.until((f) => f.some((x) => x.type === T.DATA && x.sid === 1)));
  } finally { c.close(); }
});
