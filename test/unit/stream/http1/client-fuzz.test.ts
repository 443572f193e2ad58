// Seeded mutation fuzzing of the upstream connection: whatever the upstream sends, the handler hears exactly
// one of onEnd / onError, no slab leaks and the process does not crash.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { once } from 'node:events';
import { createClientConnection } from '../../../../src/stream/http1/client.js';
import { countSlabs, waitFor, wasm } from './helpers.js';
import { mutateBytes, seededRandom, type ByteMutatorOptions } from '../../../helpers/random.js';
import { PATIENCE_MS } from '../../../helpers/wait.js';

const SEEDS = [
  'HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello',
  'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;a=b\r\nhello\r\n0\r\nx-t: 1\r\n\r\n',
  'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n',
  'HTTP/1.0 200 OK\r\n\r\nclose-delimited',
  'HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n',
];

/** The upstream mutator: four edits, no duplication; 'set' writes one of these bytes. */
const MUTATOR: ByteMutatorOptions = {
  mutations: ['set', 'insert', 'delete', 'truncate'],
  interesting: [0, 10, 13, 32, 58, 127, 255, 48, 59],
};

test('mutated responses: exactly one of onEnd/onError, no leaked slab, no crash', async () => {
  const slabs = countSlabs();
  const rnd = seededRandom(0xc0ffee);
  const responses = new Map<number, Buffer>();
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    sockets.add(s);
    s.on('error', () => {});
    s.on('close', () => sockets.delete(s));
    s.once('data', (d: Buffer) => {
      const id = Number(/x-case: (\d+)/.exec(d.toString('latin1'))?.[1]);
      const bytes = responses.get(id)!;
      const cut = Math.floor(rnd() * (bytes.length + 1));
      s.write(bytes.subarray(0, cut));
      setTimeout(() => { if (!s.destroyed) s.end(bytes.subarray(cut)); }, 1);
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as net.AddressInfo).port;
  const CASES = 200;
  const PARALLEL = 10;
  const clients: net.Socket[] = [];
  try {
    for (let base = 0; base < CASES; base += PARALLEL) {
      await Promise.all(Array.from({ length: PARALLEL }, async (_, j) => {
        const id = base + j;
        responses.set(id, mutateBytes(Buffer.from(SEEDS[id % SEEDS.length], 'latin1'), rnd, MUTATOR));
        const s = net.connect(port, '127.0.0.1');
        clients.push(s);
        await once(s, 'connect');
        const cc = createClientConnection(wasm, s);
        const outcomes: string[] = [];
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, PATIENCE_MS); // bounded: no outcome by then fails the case below
          cc.requestLocal('GET', '/', [['host', 'up'], ['x-case', String(id)]], { bodyKind: 'none' }, {
            onHead() {},
            onData() {},
            onEnd() { outcomes.push('end'); clearTimeout(timer); setTimeout(resolve, 5); },
            onError(e) { outcomes.push(e.code); clearTimeout(timer); setTimeout(resolve, 5); },
          }).end();
        });
        assert.equal(outcomes.length, 1, `case ${id} ${JSON.stringify(responses.get(id)!.toString('latin1'))}: ${outcomes.join(',') || 'no outcome'}`);
        assert.ok(['end', 'SKIFF_UPSTREAM_PROTOCOL_ERROR', 'SKIFF_UPSTREAM_RESET'].includes(outcomes[0]), outcomes[0]);
        cc.close();
      }));
    }
    await waitFor(() => slabs.outstanding() === 0, PATIENCE_MS, 'every slab returned');
  } finally {
    slabs.restore();
    for (const s of [...clients, ...sockets]) s.destroy();
    server.close();
    await once(server, 'close');
  }
});
