// The encoder from head records (HTTP/1-parsed and HPACK-decoded) with rewrites, and from local lists:
// what is sent, what is dropped, the indexing policy, and the all-or-nothing output rule.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as L from '../../../../src/wasm/layout.js';
import { parseRequestHead, parseResponseHead, requestHeadView, responseHeadView } from '../../../../src/codec/http1/index.js';
import { HpackDecoder, HpackEncoder, http2RequestHeadView } from '../../../../src/codec/hpack/index.js';
import { buffers, decodeBytes, entries, request, lit } from './harness.js';

const b = buffers(64);
const LIMITS = { maxHeaders: 64, maxHeadBytes: 60000 };

/** Parses an HTTP/1 head into a second record (the test's `rec` receives decoded blocks). */
function h1(text: string, response = false): number {
  const buf = b.block + 32768;
  const rec = b.out + 200000;
  const bytes = Buffer.from(text, 'latin1');
  b.wasm.u8.set(bytes, buf);
  const st = response
    ? parseResponseHead(b.wasm, buf, bytes.length, 0, rec, LIMITS)
    : parseRequestHead(b.wasm, buf, bytes.length, 0, rec, LIMITS);
  assert.equal(st, L.HEAD_OK);
  return rec;
}

/** Decodes what the encoder wrote at b.block (len bytes) as a raw field list. */
function readBack(dec: HpackDecoder, len: number): [string, string][] {
  assert.ok(len > 0, `encoder returned ${len}`);
  assert.equal(decodeBytes(b, dec, L.HPACK_MODE_RAW, b.wasm.u8.slice(b.block, b.block + len)), L.HPACK_OK);
  return entries(b.wasm, b.rec);
}

test('an HTTP/1 request becomes HTTP/2: pseudo-headers first, hop-by-hop and host dropped, te: trailers kept', () => {
  const rec = h1('POST /api/v1?q=1 HTTP/1.1\r\nHost: svc.local:8080\r\nConnection: keep-alive, x-hop\r\nKeep-Alive: timeout=5\r\n' +
    'X-Hop: 1\r\nTE: trailers\r\nTransfer-Encoding: chunked\r\nUpgrade: h2c\r\nUser-Agent: t\r\nX-Remove: r\r\nAccept: */*\r\n\r\n');
  const enc = new HpackEncoder(b.wasm);
  const dec = new HpackDecoder(b.wasm);
  try {
    const n = enc.encodeRequest(requestHeadView(b.wasm, rec), { bodyKind: 'chunked', remove: ['x-remove'], add: [['x-added', 'yes']] }, b.block, b.blockCap);
    assert.deepEqual(readBack(dec, n), [
      [':method', 'POST'], [':scheme', 'http'], [':authority', 'svc.local:8080'], [':path', '/api/v1?q=1'],
      ['te', 'trailers'], ['user-agent', 't'], ['accept', '*/*'], ['x-added', 'yes'],
    ]);
    // the same bytes pass the request checks (new context: the block only uses entries it defines itself)
    const strict = new HpackDecoder(b.wasm);
    const again = new HpackEncoder(b.wasm);
    try {
      const m = again.encodeRequest(requestHeadView(b.wasm, rec), { bodyKind: 'length', contentLength: 5, scheme: 'https', path: '/new' }, b.block, b.blockCap);
      assert.equal(decodeBytes(b, strict, L.HPACK_MODE_REQUEST, b.wasm.u8.slice(b.block, b.block + m)), L.HPACK_OK);
      const head = http2RequestHeadView(b.wasm, b.rec, false);
      assert.equal(head.scheme, 'https');
      assert.equal(head.path, '/new');
      assert.equal(head.host, 'svc.local:8080');
      assert.equal(head.contentLength, 5);
      assert.equal(head.headers.get('content-length'), '5');
    } finally {
      strict.dispose();
      again.dispose();
    }
  } finally {
    enc.dispose();
    dec.dispose();
  }
});

test('an HTTP/1 response becomes :status and its fields; content-length follows bodyKind', () => {
  const rec = h1('HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\nConnection: close\r\nServer: s\r\nVary: accept\r\n\r\n', true);
  const enc = new HpackEncoder(b.wasm);
  const dec = new HpackDecoder(b.wasm);
  try {
    const head = responseHeadView(b.wasm, rec, 'GET');
    let n = enc.encodeResponse(head, { bodyKind: 'length' }, b.block, b.blockCap);
    assert.deepEqual(readBack(dec, n), [[':status', '404'], ['server', 's'], ['vary', 'accept'], ['content-length', '9']]);
    assert.equal(b.wasm.u8[b.block], 0x8d, ':status 404 is static index 13');
    n = enc.encodeResponse(head, { bodyKind: 'chunked', remove: ['vary'] }, b.block, b.blockCap);
    assert.deepEqual(readBack(dec, n), [[':status', '404'], ['server', 's']]);
  } finally {
    enc.dispose();
    dec.dispose();
  }
});

test('an HTTP/2-decoded request re-encodes to the same fields (h2 -> h2 proxying)', () => {
  const enc = new HpackEncoder(b.wasm);
  const dec = new HpackDecoder(b.wasm);
  const up = new HpackDecoder(b.wasm);
  try {
    const block = request([...lit('accept', 'text/html'), ...lit('te', 'trailers')], '/x?y', 'h.example');
    assert.equal(decodeBytes(b, dec, L.HPACK_MODE_REQUEST, block), L.HPACK_OK);
    // move the decoded record out of the way of the next decode
    const rec2 = b.out + 150000;
    b.wasm.u8.copyWithin(rec2, b.rec, b.rec + 1024);
    const n = enc.encodeFromRecord(L.HPACK_ENC_REQUEST, rec2, { bodyKind: 'none' }, b.block, b.blockCap);
    assert.equal(decodeBytes(b, up, L.HPACK_MODE_RAW, b.wasm.u8.slice(b.block, b.block + n)), L.HPACK_OK);
    assert.deepEqual(entries(b.wasm, b.rec), [
      [':method', 'GET'], [':scheme', 'http'], [':authority', 'h.example'], [':path', '/x?y'], ['accept', 'text/html'], ['te', 'trailers'],
    ]);
  } finally {
    enc.dispose();
    dec.dispose();
    up.dispose();
  }
});

test('indexing policy: repeated fields shrink to one byte; authorization and short cookies are never indexed', () => {
  const enc = new HpackEncoder(b.wasm);
  try {
    const fields: [string, string][] = [['x-custom', 'value'], ['authorization', 'Bearer abc'], ['cookie', 'sid=1'], ['cookie', 'long-session-value=0123456789']];
    const first = enc.encodeLocal(fields, b.block, b.blockCap);
    const firstBytes = Buffer.from(b.wasm.u8.slice(b.block, b.block + first));
    assert.equal(firstBytes[0], 0x40, 'x-custom: literal with incremental indexing, new name');
    const second = enc.encodeLocal(fields, b.block, b.blockCap);
    const bytes = Buffer.from(b.wasm.u8.slice(b.block, b.block + second));
    assert.equal(bytes[0] & 0x80, 0x80, 'x-custom now indexed');
    assert.equal(bytes[1], 0x1f, 'authorization: never indexed with static name index 23 (4-bit prefix 15 + 8)');
    assert.equal(bytes[2], 0x08);
    assert.ok(second < first);
    // cookie sid=1 (short) never indexed, the long cookie indexed and now one byte
    assert.equal(enc.tableCount, 2);
    const sensitive = enc.encodeLocal([['x-secret', 's3cr3t']], b.block, b.blockCap, { sensitive: new Set(['x-secret']) });
    assert.equal(b.wasm.u8[b.block], 0x10, 'caller-marked sensitive: never indexed, new name');
    assert.ok(sensitive > 0);
    assert.equal(enc.tableCount, 2);
  } finally {
    enc.dispose();
  }
});

test('Huffman only when shorter; static exact matches are one byte', () => {
  const enc = new HpackEncoder(b.wasm);
  const dec = new HpackDecoder(b.wasm);
  try {
    let n = enc.encodeLocal([[':method', 'GET'], [':path', '/'], ['accept-encoding', 'gzip, deflate']], b.block, b.blockCap);
    assert.deepEqual([...b.wasm.u8.slice(b.block, b.block + n)], [0x82, 0x84, 0x90]);
    n = enc.encodeLocal([['x-a', 'aaaaaaaaaa']], b.block, b.blockCap);
    assert.equal(b.wasm.u8[b.block + 5] & 0x80, 0x80, 'value Huffman-coded');
    assert.deepEqual(readBack(dec, n), [['x-a', 'aaaaaaaaaa']]);
    const binary = '\xff\xfe\xfd';
    n = enc.encodeLocal([['x-b', binary]], b.block, b.blockCap, { raw: true });
    assert.equal(b.wasm.u8[b.block + 5], 3, 'raw: the Huffman form of these bytes is longer');
  } finally {
    enc.dispose();
    dec.dispose();
  }
});

test('an output buffer too small changes nothing', () => {
  const enc = new HpackEncoder(b.wasm);
  const dec = new HpackDecoder(b.wasm);
  try {
    const fields: [string, string][] = [['x-one', '1'], ['x-two', 'two'.repeat(20)]];
    assert.equal(enc.encodeLocal(fields, b.block, 20), L.HPACK_ENC_E_OUTPUT);
    assert.equal(enc.tableCount, 0);
    const n = enc.encodeLocal(fields, b.block, b.blockCap);
    assert.deepEqual(readBack(dec, n), fields);
    assert.equal(dec.tableSize, enc.tableSize);
  } finally {
    enc.dispose();
    dec.dispose();
  }
});

test('local requests and responses; bad input is refused with a stable code', () => {
  const enc = new HpackEncoder(b.wasm);
  const dec = new HpackDecoder(b.wasm);
  try {
    let n = enc.encodeLocalResponse(503, [['content-type', 'text/plain'], ['X-Envoy-Overloaded', 'true']], b.block, b.blockCap);
    assert.equal(decodeBytes(b, dec, L.HPACK_MODE_RESPONSE, b.wasm.u8.slice(b.block, b.block + n)), L.HPACK_OK);
    assert.deepEqual(entries(b.wasm, b.rec), [['content-type', 'text/plain'], ['x-envoy-overloaded', 'true']]);
    assert.equal(b.wasm.view.getInt32(b.rec + L.HEAD_STATUS_CODE, true), 503);
    n = enc.encodeLocalRequest('GET', 'http', 'hc.local', '/healthz', [['user-agent', 'skiff']], b.block, b.blockCap);
    assert.equal(decodeBytes(b, dec, L.HPACK_MODE_REQUEST, b.wasm.u8.slice(b.block, b.block + n)), L.HPACK_OK);
    assert.equal(http2RequestHeadView(b.wasm, b.rec, true).path, '/healthz');
    assert.throws(() => enc.encodeLocal([['x a', '1']], b.block, b.blockCap), { code: 'SKIFF_HPACK_INVALID_FIELD' });
    assert.throws(() => enc.encodeLocal([['x-a', 'a\r\nb']], b.block, b.blockCap), { code: 'SKIFF_HPACK_INVALID_FIELD' });
    assert.throws(() => enc.encodeLocal([['x-a', '1'], [':path', '/']], b.block, b.blockCap), { code: 'SKIFF_HPACK_INVALID_FIELD' });
    assert.throws(() => enc.encodeLocalResponse(42, [], b.block, b.blockCap), { code: 'SKIFF_HPACK_INVALID_FIELD' });
    assert.throws(() => enc.encodeLocalRequest('GET', 'http', 'a', 'no slash here', [], b.block, b.blockCap), { code: 'SKIFF_HPACK_INVALID_FIELD' });
  } finally {
    enc.dispose();
    dec.dispose();
  }
});

test.after(() => b.release());
