// nghttp2's encoder (a node:http2 client) against Skiff's decoder in request mode, live over a socket: a raw
// HTTP/2 server decodes every request with HpackDecoder and answers with Skiff-encoded responses that the
// client reads. The server advertises SETTINGS_HEADER_TABLE_SIZE 256, so nghttp2 must shrink its table with
// a size update, which Skiff's decoder requires once the client acknowledged the setting.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import * as L from '../../src/wasm/layout.js';
import { HpackDecoder, HpackEncoder, http2RequestHeadView, hpackErrorInfo } from '../../src/codec/hpack/index.js';
import { seededRandom } from '../helpers/random.js';
import { buffers, entries } from '../unit/codec/hpack/harness.js';
import { frame, headersFrames } from './hpack/h2peer.js';

const REQUESTS = 300;
const TABLE_SIZE = 256;
const b = buffers(64);

interface Seen { method: string; scheme: string; path: string; host: string; fields: [string, string][] }

/** The raw server: frames in, HPACK through Skiff, one response per request. */
function startServer(onRequest: (seen: Seen | string) => void): Promise<{ port: number; tableMaxSize(): number; close(): Promise<void> }> {
  const dec = new HpackDecoder(b.wasm);
  const enc = new HpackEncoder(b.wasm);
  const sockets = new Set<net.Socket>();
  let responses = 0;
  const server = net.createServer((socket) => {
    sockets.add(socket);
    let buf = Buffer.alloc(0);
    let prefaceLeft = 24;
    let block: Buffer[] = [];
    let blockStream = 0;
    // SETTINGS_HEADER_TABLE_SIZE (0x1) = 256
    const settings = Buffer.alloc(6);
    settings.writeUInt16BE(0x1, 0);
    settings.writeUInt32BE(TABLE_SIZE, 2);
    socket.write(frame(0x4, 0, 0, settings));
    const complete = (stream: number, bytes: Buffer): void => {
      b.wasm.u8.set(bytes, b.block);
      const st = dec.decode(L.HPACK_MODE_REQUEST, b.block, bytes.length, b.rec, 64, b.out, b.outCap, 65536);
      if (st !== L.HPACK_OK) { onRequest(hpackErrorInfo(st).code); socket.destroy(); return; }
      const head = http2RequestHeadView(b.wasm, b.rec, true);
      onRequest({ method: head.method, scheme: head.scheme, path: head.path, host: head.host, fields: entries(b.wasm, b.rec) });
      const n = enc.encodeLocalResponse(200, [['x-seen', String(++responses)], ['x-path', head.path]], b.block, b.blockCap);
      socket.write(headersFrames(stream, Buffer.from(b.wasm.u8.slice(b.block, b.block + n))));
    };
    socket.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      if (prefaceLeft > 0) {
        const n = Math.min(prefaceLeft, buf.length);
        buf = buf.subarray(n);
        prefaceLeft -= n;
      }
      while (buf.length >= 9) {
        const len = buf.readUIntBE(0, 3);
        if (buf.length < 9 + len) return;
        const type = buf[3], flags = buf[4], stream = buf.readUInt32BE(5) & 0x7fffffff;
        let payload = buf.subarray(9, 9 + len);
        buf = buf.subarray(9 + len);
        if (type === 0x4) {
          if (flags & 0x1) dec.setMaxTableSize(TABLE_SIZE); // our setting is in force from the ACK on
          else socket.write(frame(0x4, 0x1, 0));
        } else if (type === 0x6 && !(flags & 0x1)) {
          socket.write(frame(0x6, 0x1, 0, payload));
        } else if (type === 0x1 || type === 0x9) {
          if (type === 0x1) {
            // PADDED (0x8): pad length byte and padding; PRIORITY (0x20): 5 bytes
            let pad = 0;
            if (flags & 0x8) { pad = payload[0]; payload = payload.subarray(1); }
            if (flags & 0x20) payload = payload.subarray(5);
            payload = payload.subarray(0, payload.length - pad);
            block = [];
            blockStream = stream;
          }
          block.push(Buffer.from(payload));
          if (flags & 0x4) complete(blockStream, Buffer.concat(block));
        }
      }
    });
    socket.on('error', () => {});
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({
    port: (server.address() as AddressInfo).port,
    tableMaxSize: () => dec.tableMaxSize,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
      dec.dispose();
      enc.dispose();
    },
  })));
}

test(`${REQUESTS} requests from nghttp2's encoder decode exactly, with a 256-byte table`, async () => {
  const seen: (Seen | string)[] = [];
  const server = await startServer((s) => seen.push(s));
  const client = http2.connect(`http://127.0.0.1:${server.port}`);
  client.on('error', () => {});
  const r = seededRandom(0x9113);
  const sent: { path: string; fields: [string, string][] }[] = [];
  try {
    for (let i = 0; i < REQUESTS; i++) {
      const path = `/api/${Math.floor(r() * 5)}/items?page=${i}`;
      const fields: [string, string][] = [['user-agent', 'skiff-test/1.0'], ['accept', 'application/json']];
      if (r() < 0.5) fields.push(['x-trace-id', Math.floor(r() * 1e12).toString(16)]);
      if (r() < 0.3) fields.push(['authorization', `Bearer token-${Math.floor(r() * 3)}`]);
      if (r() < 0.2) fields.push(['x-large', 'v'.repeat(100 + Math.floor(r() * 300))]);
      if (r() < 0.3) fields.push(['cookie', `session=${i % 7}`]);
      const headers: http2.OutgoingHttpHeaders = { ':method': i % 5 === 0 ? 'POST' : 'GET', ':path': path };
      for (const [n, v] of fields) headers[n] = v;
      sent.push({ path, fields });
      const req = client.request(headers, { endStream: true });
      const response = await new Promise<http2.IncomingHttpHeaders>((resolve, reject) => {
        req.on('response', resolve);
        req.on('error', reject);
      });
      req.resume();
      assert.equal(response[':status'], 200);
      assert.equal(response['x-seen'], String(i + 1));
      assert.equal(response['x-path'], path);
      await new Promise<void>((resolve) => req.on('close', resolve));
    }
    assert.equal(server.tableMaxSize(), TABLE_SIZE, 'nghttp2 sent the size update Skiff required');
  } finally {
    client.destroy();
    await server.close();
  }
  assert.equal(seen.length, REQUESTS);
  seen.forEach((s, i) => {
    assert.notEqual(typeof s, 'string', `request ${i}: ${String(s)}`);
    const got = s as Seen;
    assert.equal(got.method, i % 5 === 0 ? 'POST' : 'GET');
    assert.equal(got.scheme, 'http');
    assert.equal(got.path, sent[i].path);
    assert.equal(got.host, `127.0.0.1:${server.port}`);
    // the client's fields in order, then the host entry the decoder adds for :authority
    assert.deepEqual(got.fields, [...sent[i].fields, ['host', `127.0.0.1:${server.port}`]], `request ${i}`);
  });
});

test.after(() => b.release());
