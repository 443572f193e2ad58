// Request, response and trailer blocks onto the head record, and RFC 9113 §8.2/§8.3 checks with their codes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as L from '../../../../src/wasm/layout.js';
import {
  HpackDecoder, HpackEncoder, http2RequestHeadView, http2ResponseHeadView, headerListView, hpackErrorInfo, isCompressionError,
} from '../../../../src/codec/hpack/index.js';
import { buffers, decodeBytes, entries, idx, lit, litIdx, request, type DecodeOptions } from './harness.js';

const b = buffers(16);

function decode(mode: number, bytes: Uint8Array | number[], opts?: DecodeOptions): number {
  const dec = new HpackDecoder(b.wasm);
  try {
    return decodeBytes(b, dec, mode as 0, bytes instanceof Uint8Array ? bytes : Uint8Array.from(bytes), opts);
  } finally {
    dec.dispose();
  }
}

const i32 = (off: number): number => b.wasm.view.getInt32(b.rec + off, true);

test('a request maps its pseudo-headers onto the record; :authority becomes a host field', () => {
  const bytes = request([...lit('content-length', '12'), ...lit('expect', '100-continue'), ...lit('x-a', 'b')], '/p/q?x=1&y=2', 'api.example.com:8443');
  assert.equal(decode(L.HPACK_MODE_REQUEST, bytes), L.HPACK_OK);
  assert.equal(i32(L.HEAD_STATUS), L.HPACK_OK);
  assert.equal(i32(L.HEAD_METHOD_ID), L.METHOD_GET);
  assert.equal(i32(L.HEAD_VERSION_MINOR), 1);
  const flags = i32(L.HEAD_FLAGS);
  assert.equal(flags & L.FLAG_KEEP_ALIVE, L.FLAG_KEEP_ALIVE);
  assert.equal(flags & L.FLAG_CONTENT_LENGTH, L.FLAG_CONTENT_LENGTH);
  assert.equal(flags & L.FLAG_EXPECT_CONTINUE, L.FLAG_EXPECT_CONTINUE);
  assert.equal(b.wasm.view.getFloat64(b.rec + L.HEAD_CONTENT_LENGTH, true), 12);
  assert.deepEqual(entries(b.wasm, b.rec), [
    ['content-length', '12'], ['expect', '100-continue'], ['x-a', 'b'], ['host', 'api.example.com:8443'],
  ]);
  const ids = [0, 1, 2, 3].map((i) => b.wasm.view.getUint16(b.rec + L.HEAD_HEADERS + i * L.HEADER_ENTRY_SIZE + L.HDR_ID, true));
  assert.deepEqual(ids, [L.H_CONTENT_LENGTH, L.H_EXPECT, 0, L.H_HOST]);
  const head = http2RequestHeadView(b.wasm, b.rec, false);
  assert.equal(head.method, 'GET');
  assert.equal(head.scheme, 'http');
  assert.equal(head.target, '/p/q?x=1&y=2');
  assert.equal(head.path, '/p/q?x=1&y=2');
  assert.equal(head.host, 'api.example.com:8443');
  assert.equal(head.headers.get('host'), 'api.example.com:8443');
  assert.equal(head.bodyKind, 'length');
  assert.equal(head.contentLength, 12);
  assert.equal(head.expectContinue, true);
  const q = b.wasm.view.getUint32(b.rec + L.HEAD_QUERY_PTR, true);
  assert.equal(Buffer.from(b.wasm.u8.slice(q, q + i32(L.HEAD_QUERY_LEN))).toString(), 'x=1&y=2');
  assert.equal(http2RequestHeadView(b.wasm, b.rec, true).bodyKind, 'none');
});

test('without content-length an open request body is chunked for HTTP/1 peers; a host header stands in for :authority', () => {
  const bytes = [...idx(3), ...idx(7), ...idx(4), ...lit('host', 'h.example')];
  assert.equal(decode(L.HPACK_MODE_REQUEST, bytes), L.HPACK_OK);
  const head = http2RequestHeadView(b.wasm, b.rec, false);
  assert.equal(head.method, 'POST');
  assert.equal(head.scheme, 'https');
  assert.equal(head.host, 'h.example');
  assert.equal(head.bodyKind, 'chunked');
  assert.equal(head.contentLength, -1);
  assert.deepEqual(entries(b.wasm, b.rec), [['host', 'h.example']]);
});

test('cookie crumbs are joined with "; " into one field', () => {
  const bytes = request([...lit('cookie', 'a=1'), ...lit('x-b', '2'), ...lit('cookie', 'b=2'), ...lit('cookie', 'c=3')]);
  assert.equal(decode(L.HPACK_MODE_REQUEST, bytes), L.HPACK_OK);
  assert.deepEqual(entries(b.wasm, b.rec), [['cookie', 'a=1; b=2; c=3'], ['x-b', '2'], ['host', 'example.com']]);
});

test('CONNECT carries :method and :authority only', () => {
  const ok = [...lit(':method', 'CONNECT'), ...lit(':authority', 'proxy.example:443')];
  assert.equal(decode(L.HPACK_MODE_REQUEST, ok), L.HPACK_OK);
  assert.equal(i32(L.HEAD_METHOD_ID), L.METHOD_CONNECT);
  assert.equal(http2RequestHeadView(b.wasm, b.rec, false).host, 'proxy.example:443');
  assert.equal(http2RequestHeadView(b.wasm, b.rec, false).bodyKind, 'none');
  assert.equal(decode(L.HPACK_MODE_REQUEST, [...ok, ...idx(4)]), L.HPACK_E_MISSING_PSEUDO, ':path with CONNECT');
  assert.equal(decode(L.HPACK_MODE_REQUEST, [...lit(':method', 'CONNECT')]), L.HPACK_E_MISSING_PSEUDO, 'no :authority');
});

test('a response maps :status; trailers carry fields only', () => {
  assert.equal(decode(L.HPACK_MODE_RESPONSE, [...lit(':status', '302'), ...lit('location', '/x'), ...lit('content-length', '0')]), L.HPACK_OK);
  assert.equal(i32(L.HEAD_STATUS_CODE), 302);
  const res = http2ResponseHeadView(b.wasm, b.rec, false, 'GET');
  assert.equal(res.status, 302);
  assert.equal(res.reason, 'Found');
  assert.equal(res.bodyKind, 'length');
  assert.equal(res.headers.get('location'), '/x');
  assert.equal(decode(L.HPACK_MODE_RESPONSE, [...idx(8)]), L.HPACK_OK);
  assert.equal(http2ResponseHeadView(b.wasm, b.rec, false, 'GET').bodyKind, 'chunked');
  assert.equal(http2ResponseHeadView(b.wasm, b.rec, false, 'HEAD').bodyKind, 'none');
  assert.equal(http2ResponseHeadView(b.wasm, b.rec, true, 'GET').bodyKind, 'none');
  assert.equal(decode(L.HPACK_MODE_TRAILERS, [...lit('grpc-status', '0'), ...lit('grpc-message', 'ok')]), L.HPACK_OK);
  assert.deepEqual(entries(b.wasm, b.rec), [['grpc-status', '0'], ['grpc-message', 'ok']]);
  assert.equal(headerListView(b.wasm, b.rec).get('grpc-status'), '0');
});

const MALFORMED: [string, number, number[] | Uint8Array][] = [
  ['uppercase name', L.HPACK_E_UPPERCASE_NAME, request(lit('X-Upper', '1'))],
  ['name with a space', L.HPACK_E_INVALID_NAME, request(lit('x y', '1'))],
  ['empty name', L.HPACK_E_INVALID_NAME, request(lit('', '1'))],
  ['value with NUL', L.HPACK_E_INVALID_VALUE, request(lit('x-a', 'a\0b'))],
  ['value with CR', L.HPACK_E_INVALID_VALUE, request(lit('x-a', 'a\rb'))],
  ['value with LF', L.HPACK_E_INVALID_VALUE, request(lit('x-a', 'a\nb'))],
  ['value with DEL', L.HPACK_E_INVALID_VALUE, request(lit('x-a', 'a\x7fb'))],
  ['value with leading space', L.HPACK_E_INVALID_VALUE, request(lit('x-a', ' a'))],
  ['value with trailing tab', L.HPACK_E_INVALID_VALUE, request(lit('x-a', 'a\t'))],
  ['connection', L.HPACK_E_CONNECTION_HEADER, request(lit('connection', 'close'))],
  ['keep-alive', L.HPACK_E_CONNECTION_HEADER, request(lit('keep-alive', 'timeout=5'))],
  ['proxy-connection', L.HPACK_E_CONNECTION_HEADER, request(lit('proxy-connection', 'keep-alive'))],
  ['transfer-encoding', L.HPACK_E_CONNECTION_HEADER, request(lit('transfer-encoding', 'chunked'))],
  ['upgrade', L.HPACK_E_CONNECTION_HEADER, request(lit('upgrade', 'websocket'))],
  ['te: gzip', L.HPACK_E_TE, request(lit('te', 'gzip'))],
  ['te: trailers, gzip', L.HPACK_E_TE, request(lit('te', 'trailers, gzip'))],
  ['pseudo after regular', L.HPACK_E_PSEUDO_AFTER_REGULAR, [...idx(2), ...idx(6), ...lit('x-a', '1'), ...idx(4), ...lit(':authority', 'a')]],
  ['unknown pseudo', L.HPACK_E_UNKNOWN_PSEUDO, [...lit(':foo', 'x'), ...idx(2), ...idx(6), ...idx(4)]],
  [':status in a request', L.HPACK_E_UNKNOWN_PSEUDO, [...idx(8), ...idx(2), ...idx(6), ...idx(4)]],
  ['duplicate :path', L.HPACK_E_DUPLICATE_PSEUDO, [...idx(2), ...idx(6), ...idx(4), ...idx(5)]],
  ['duplicate :method', L.HPACK_E_DUPLICATE_PSEUDO, [...idx(2), ...idx(3), ...idx(6), ...idx(4)]],
  ['missing :scheme', L.HPACK_E_MISSING_PSEUDO, [...idx(2), ...idx(4)]],
  ['missing :path', L.HPACK_E_MISSING_PSEUDO, [...idx(2), ...idx(6)]],
  ['missing :method', L.HPACK_E_MISSING_PSEUDO, [...idx(6), ...idx(4)]],
  [':path without a slash', L.HPACK_E_INVALID_PSEUDO_VALUE, [...idx(2), ...idx(6), ...lit(':path', 'p')]],
  ['empty :path', L.HPACK_E_INVALID_PSEUDO_VALUE, [...idx(2), ...idx(6), ...lit(':path', '')]],
  [':path with a space', L.HPACK_E_INVALID_PSEUDO_VALUE, [...idx(2), ...idx(6), ...lit(':path', '/a b')]],
  [':method not a token', L.HPACK_E_INVALID_PSEUDO_VALUE, [...lit(':method', 'G(T'), ...idx(6), ...idx(4)]],
  [':authority with a slash', L.HPACK_E_INVALID_PSEUDO_VALUE, request([], '/', 'a/b')],
  ['content-length not a number', L.HPACK_E_INVALID_CONTENT_LENGTH, request(lit('content-length', '1x'))],
  ['content-length values that differ', L.HPACK_E_INVALID_CONTENT_LENGTH, request([...lit('content-length', '1'), ...lit('content-length', '2')])],
  ['host differing from :authority', L.HPACK_E_INVALID_HOST, request(lit('host', 'other.example'))],
  ['two host fields', L.HPACK_E_INVALID_HOST, [...idx(2), ...idx(6), ...idx(4), ...lit('host', 'a'), ...lit('host', 'a')]],
];

for (const [what, code, bytes] of MALFORMED) {
  test(`request: ${what} -> ${hpackErrorInfo(code).code}`, () => {
    assert.equal(decode(L.HPACK_MODE_REQUEST, bytes), code);
    assert.equal(i32(L.HEAD_STATUS), code);
    const info = hpackErrorInfo(code);
    assert.equal(info.scope, 'stream');
    assert.equal(info.h2Code, 0x1);
    assert.equal(info.httpStatus, 400);
  });
}

test('te: trailers and a matching host are accepted', () => {
  assert.equal(decode(L.HPACK_MODE_REQUEST, request([...lit('te', 'trailers'), ...lit('host', 'example.com')])), L.HPACK_OK);
  assert.deepEqual(entries(b.wasm, b.rec), [['te', 'trailers'], ['host', 'example.com']]);
});

test('response and trailer rules', () => {
  assert.equal(decode(L.HPACK_MODE_RESPONSE, [...lit('x-a', '1')]), L.HPACK_E_MISSING_PSEUDO);
  assert.equal(decode(L.HPACK_MODE_RESPONSE, [...lit(':status', '1000')]), L.HPACK_E_INVALID_PSEUDO_VALUE);
  assert.equal(decode(L.HPACK_MODE_RESPONSE, [...lit(':status', '20x')]), L.HPACK_E_INVALID_PSEUDO_VALUE);
  assert.equal(decode(L.HPACK_MODE_RESPONSE, [...lit(':status', '101')]), L.HPACK_E_INVALID_PSEUDO_VALUE);
  assert.equal(decode(L.HPACK_MODE_RESPONSE, [...idx(8), ...idx(9)]), L.HPACK_E_DUPLICATE_PSEUDO);
  assert.equal(decode(L.HPACK_MODE_RESPONSE, [...idx(8), ...idx(2)]), L.HPACK_E_UNKNOWN_PSEUDO, ':method in a response');
  assert.equal(decode(L.HPACK_MODE_TRAILERS, [...lit('x-a', '1'), ...idx(8)]), L.HPACK_E_PSEUDO_IN_TRAILERS);
  assert.equal(decode(L.HPACK_MODE_TRAILERS, [...lit('connection', 'close')]), L.HPACK_E_CONNECTION_HEADER);
});

test('limits: decoded list size and field count give distinct codes (431)', () => {
  const big = request(lit('x-big', 'v'.repeat(200)));
  assert.equal(decode(L.HPACK_MODE_REQUEST, big, { maxListBytes: 200 }), L.HPACK_E_HEADER_LIST_TOO_LARGE);
  assert.equal(decode(L.HPACK_MODE_REQUEST, big, { maxListBytes: 300 }), L.HPACK_OK);
  assert.equal(decode(L.HPACK_MODE_REQUEST, big, { outCap: 100 }), L.HPACK_E_HEADER_LIST_TOO_LARGE, 'output buffer full');
  const many = request([...lit('a', '1'), ...lit('b', '2'), ...lit('c', '3')]);
  assert.equal(decode(L.HPACK_MODE_REQUEST, many, { maxHeaders: 2 }), L.HPACK_E_TOO_MANY_HEADERS);
  assert.equal(decode(L.HPACK_MODE_REQUEST, many, { maxHeaders: 3 }), L.HPACK_OK, 'the synthetic host has its reserved slot');
  for (const code of [L.HPACK_E_HEADER_LIST_TOO_LARGE, L.HPACK_E_TOO_MANY_HEADERS]) {
    assert.equal(hpackErrorInfo(code).httpStatus, 431);
    assert.equal(hpackErrorInfo(code).scope, 'stream');
  }
  assert.equal(isCompressionError(L.HPACK_E_HUFFMAN), true);
  assert.equal(hpackErrorInfo(L.HPACK_E_INDEX).scope, 'connection');
  assert.equal(hpackErrorInfo(L.HPACK_E_INDEX).h2Code, 0x9);
});

test('after a stream error the rest of the block still updates the table', () => {
  const dec = new HpackDecoder(b.wasm);
  try {
    // malformed (uppercase) and over the output buffer, followed by fields that are indexed
    const first = request([...lit('X-Bad', '1'), ...litIdx('x-kept', 'k'.repeat(300)), ...litIdx('x-next', 'n')]);
    assert.equal(decodeBytes(b, dec, L.HPACK_MODE_REQUEST, first, { outCap: 64 }), L.HPACK_E_UPPERCASE_NAME);
    assert.equal(dec.tableCount, 2);
    const second = request([...idx(62), ...idx(63)]);
    assert.equal(decodeBytes(b, dec, L.HPACK_MODE_REQUEST, second), L.HPACK_OK);
    assert.deepEqual(entries(b.wasm, b.rec).slice(0, 2), [['x-next', 'n'], ['x-kept', 'k'.repeat(300)]]);
  } finally {
    dec.dispose();
  }
});

test('an indexed Huffman string larger than the output buffer still reaches the table', () => {
  const enc = new HpackEncoder(b.wasm);
  const dec = new HpackDecoder(b.wasm);
  try {
    const value = 'a'.repeat(300);
    const n = enc.encodeLocal([[':method', 'GET'], [':scheme', 'http'], [':path', '/'], ['x-h', value]], b.block, b.blockCap);
    const bytes = Buffer.from(b.wasm.u8.slice(b.block, b.block + n));
    assert.ok(bytes.length < 250, 'the value went Huffman-coded');
    assert.equal(decodeBytes(b, dec, L.HPACK_MODE_REQUEST, bytes, { outCap: 100 }), L.HPACK_E_HEADER_LIST_TOO_LARGE);
    assert.equal(dec.tableSize, enc.tableSize);
    assert.equal(decodeBytes(b, dec, L.HPACK_MODE_RAW, Uint8Array.from(idx(62))), L.HPACK_OK);
    assert.deepEqual(entries(b.wasm, b.rec), [['x-h', value]]);
  } finally {
    enc.dispose();
    dec.dispose();
  }
});

test.after(() => b.release());
