import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import tls from 'node:tls';
import { once } from 'node:events';
import { inspectClientHello, MAX_CLIENT_HELLO_BYTES } from '../../../src/listener/client_hello.js';
import { inspectHttp } from '../../../src/listener/listener_filters.js';
import { seededRandom } from '../../helpers/random.js';

/** The first bytes a real Node TLS client sends (its ClientHello), caught by a plain TCP server. */
async function captureClientHello(options: tls.ConnectionOptions): Promise<Buffer> {
  const server = net.createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const got = new Promise<Buffer>((resolve) => server.once('connection', (s) => s.once('data', (c: Buffer) => { resolve(c); s.destroy(); })));
  const client = tls.connect({ host: '127.0.0.1', port: (server.address() as net.AddressInfo).port, ...options });
  client.on('error', () => {});
  try {
    return await got;
  } finally {
    client.destroy();
    server.close();
  }
}

test('SNI and ALPN are read from a real ClientHello; every shorter prefix asks for more', async () => {
  const hello = await captureClientHello({ servername: 'API.Example.com', ALPNProtocols: ['h2', 'http/1.1'] });
  const r = inspectClientHello(hello);
  assert.deepEqual(r, { kind: 'hello', serverName: 'api.example.com', alpn: ['h2', 'http/1.1'] });
  for (let n = 1; n < hello.length; n += 7) assert.equal(inspectClientHello(hello.subarray(0, n)).kind, 'need-more', `prefix ${n}`);
  const none = inspectClientHello(await captureClientHello({ rejectUnauthorized: false }));
  assert.equal(none.kind, 'hello');
  assert.equal((none as { serverName: string }).serverName, '', 'an IP address host sends no SNI');
});

test('plain text is not TLS; a broken or oversized hello is TLS with nothing learned', () => {
  assert.equal(inspectClientHello(Buffer.from('GET / HTTP/1.1\r\n')).kind, 'not-tls');
  assert.equal(inspectClientHello(Buffer.from([0x16, 0x03])).kind, 'need-more');
  assert.equal(inspectClientHello(Buffer.from([0x16, 0x09, 0x01])).kind, 'not-tls');
  // A handshake record that is not a ClientHello.
  assert.equal(inspectClientHello(Buffer.from([0x16, 0x03, 0x01, 0x00, 0x04, 0x02, 0x00, 0x00, 0x00])).kind, 'invalid');
  // A ClientHello announcing more than the bound.
  assert.equal(inspectClientHello(Buffer.from([0x16, 0x03, 0x01, 0x00, 0x04, 0x01, 0xff, 0xff, 0xff])).kind, 'invalid');
  const big = Buffer.alloc(MAX_CLIENT_HELLO_BYTES + 10, 0x16);
  assert.notEqual(inspectClientHello(big).kind, 'need-more');
});

test('mutated and truncated hellos never throw (bounded fuzz)', async () => {
  const hello = await captureClientHello({ servername: 'a.example.com', ALPNProtocols: ['h2'] });
  const rnd = seededRandom(7);
  for (let i = 0; i < 3000; i++) {
    const b = Buffer.from(hello.subarray(0, 1 + Math.floor(rnd() * hello.length)));
    const flips = 1 + Math.floor(rnd() * 4);
    for (let f = 0; f < flips; f++) b[5 + Math.floor(rnd() * Math.max(1, b.length - 5))] = Math.floor(rnd() * 256);
    assert.doesNotThrow(() => inspectClientHello(b));
  }
});

test('http_inspector: prior-knowledge HTTP/2, HTTP/1.x request lines, and neither', () => {
  assert.equal(inspectHttp(Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n')), 'h2c');
  assert.equal(inspectHttp(Buffer.from('PRI * HTTP/2.0\r\n')), 'need-more');
  assert.equal(inspectHttp(Buffer.from('GET /x HTTP/1.1\r\nHost: a\r\n')), 'http/1.1');
  assert.equal(inspectHttp(Buffer.from('POST / HTTP/1.0\r\n')), 'http/1.0');
  assert.equal(inspectHttp(Buffer.from('GET / HTT')), 'need-more');
  assert.equal(inspectHttp(Buffer.from('\x01\x02 binary\r\n')), 'unknown');
});
