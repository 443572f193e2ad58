// An HTTP/2 request decoded by HPACK goes through the HTTP/1 serializer unchanged (h2 downstream -> h1
// upstream), and an HTTP/1 response parsed by the HTTP/1 parser goes out through the HPACK encoder.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as L from '../../../../src/wasm/layout.js';
import { encodeRequestHead, encodeResponseHead, parseRequestHead, requestHeadView } from '../../../../src/codec/http1/index.js';
import { HpackDecoder, http2RequestHeadView, http2ResponseHeadView } from '../../../../src/codec/hpack/index.js';
import { buffers, decodeBytes, idx, lit, request } from './harness.js';

const b = buffers(32);

test('h2 request -> HTTP/1.1 head: request line from :method/:path, host from :authority, cookies joined', () => {
  const dec = new HpackDecoder(b.wasm);
  try {
    const block = request([...lit('accept', '*/*'), ...lit('cookie', 'a=1'), ...lit('cookie', 'b=2'), ...lit('te', 'trailers'),
      ...lit('content-length', '4')], '/items?id=7', 'shop.example:8080');
    assert.equal(decodeBytes(b, dec, L.HPACK_MODE_REQUEST, block), L.HPACK_OK);
    const head = http2RequestHeadView(b.wasm, b.rec, false);
    const h1out = b.block + 30000;
    const n = encodeRequestHead(b.wasm, head, { bodyKind: head.bodyKind, add: [['x-forwarded-proto', head.scheme]] }, h1out, 4096);
    assert.ok(n > 0);
    const text = Buffer.from(b.wasm.u8.slice(h1out, h1out + n)).toString('latin1');
    assert.equal(text, 'GET /items?id=7 HTTP/1.1\r\naccept: */*\r\ncookie: a=1; b=2\r\nhost: shop.example:8080\r\n' +
      'x-forwarded-proto: http\r\ncontent-length: 4\r\n\r\n');
    // and the HTTP/1 parser reads it back to the same request
    const rec = b.out + 100000;
    assert.equal(parseRequestHead(b.wasm, h1out, n, 0, rec, { maxHeaders: 32, maxHeadBytes: 8192 }), L.HEAD_OK);
    const back = requestHeadView(b.wasm, rec);
    assert.equal(back.host, 'shop.example:8080');
    assert.equal(back.path, '/items?id=7');
    assert.equal(back.headers.get('cookie'), 'a=1; b=2');
    assert.equal(back.contentLength, 4);
  } finally {
    dec.dispose();
  }
});

test('an h2 request with an open body and no content-length is sent chunked to HTTP/1', () => {
  const dec = new HpackDecoder(b.wasm);
  try {
    const post = Uint8Array.from([...idx(3), ...idx(6), ...lit(':authority', 'up.example'), ...lit(':path', '/up')]);
    assert.equal(decodeBytes(b, dec, L.HPACK_MODE_REQUEST, post), L.HPACK_OK);
    const head = http2RequestHeadView(b.wasm, b.rec, false);
    const h1out = b.block + 30000;
    const n = encodeRequestHead(b.wasm, head, { bodyKind: head.bodyKind }, h1out, 4096);
    assert.equal(Buffer.from(b.wasm.u8.slice(h1out, h1out + n)).toString('latin1'),
      'POST /up HTTP/1.1\r\nhost: up.example\r\ntransfer-encoding: chunked\r\n\r\n');
  } finally {
    dec.dispose();
  }
});

test('h2 response -> HTTP/1.1 head with the standard reason phrase', () => {
  const dec = new HpackDecoder(b.wasm);
  try {
    const h1out = b.block + 30000;
    assert.equal(decodeBytes(b, dec, L.HPACK_MODE_RESPONSE, Uint8Array.from([...idx(13), ...lit('server', 'up')])), L.HPACK_OK);
    let head = http2ResponseHeadView(b.wasm, b.rec, false, 'GET');
    let n = encodeResponseHead(b.wasm, head, { bodyKind: head.bodyKind }, h1out, 4096);
    assert.equal(Buffer.from(b.wasm.u8.slice(h1out, h1out + n)).toString('latin1'),
      'HTTP/1.1 404 Not Found\r\nserver: up\r\ntransfer-encoding: chunked\r\n\r\n');
    assert.equal(decodeBytes(b, dec, L.HPACK_MODE_RESPONSE, Uint8Array.from(lit(':status', '299'))), L.HPACK_OK);
    head = http2ResponseHeadView(b.wasm, b.rec, true, 'GET');
    n = encodeResponseHead(b.wasm, head, { bodyKind: head.bodyKind }, h1out, 4096);
    assert.equal(Buffer.from(b.wasm.u8.slice(h1out, h1out + n)).toString('latin1'), 'HTTP/1.1 299 \r\n\r\n');
  } finally {
    dec.dispose();
  }
});

test.after(() => b.release());
