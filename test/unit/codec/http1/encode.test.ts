// The head serializer: what survives, what is dropped, what is derived; its output re-parses as expected.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as L from '../../../../src/wasm/layout.js';
import {
  requestHeadView, responseHeadView, encodeRequestHead, encodeResponseHead, encodeLocalRequestHead,
  encodeLocalResponseHead, RewriteError, type HeadLimits,
} from '../../../../src/codec/http1/index.js';
import { parseReq, parseRes, wasm, rec, out, output, snapshot } from './harness.js';

const head = (...lines: string[]): string => lines.join('\r\n') + '\r\n\r\n';
const limits: HeadLimits = { maxHeaders: 64, maxHeadBytes: 16384 };

function forwardRequest(text: string, rewrite: Parameters<typeof encodeRequestHead>[2]): string {
  assert.equal(parseReq(text), L.HEAD_OK);
  const n = encodeRequestHead(wasm, requestHeadView(wasm, rec), rewrite, out, 8192);
  assert.ok(n > 0);
  return output(n);
}

function headersOf(text: string, parse: (t: string, l: HeadLimits) => number): [string, string][] {
  assert.equal(parse(text, limits), L.HEAD_OK, text);
  return (snapshot().headers as [string, string, number][]).map(([n, v]) => [n, v]);
}

test('hop-by-hop headers, Connection-listed names and content-length are dropped; framing is derived', () => {
  const text = head(
    'POST /old?q=1 HTTP/1.1', 'Host: svc', 'Connection: keep-alive, X-Secret', 'Keep-Alive: timeout=5',
    'Proxy-Connection: keep-alive', 'TE: trailers', 'Trailer: X-T', 'Upgrade: h2c', 'X-Secret: 1',
    'Content-Length: 11', 'Accept: text/html', 'X-Drop: me', 'X-Keep:  spaced value  ',
  );
  const got = forwardRequest(text, { path: '/new', remove: ['X-Drop'], add: [['x-request-id', 'abc']], bodyKind: 'chunked', close: true });
  assert.equal(got.split('\r\n')[0], 'POST /new HTTP/1.1');
  assert.deepEqual(headersOf(got, parseReq), [
    ['host', 'svc'], ['accept', 'text/html'], ['x-keep', 'spaced value'], ['x-request-id', 'abc'],
    ['transfer-encoding', 'chunked'], ['connection', 'close'],
  ]);
  assert.ok(got.endsWith('\r\n\r\n'));
});

test('the received target is kept when the rewrite has no path, and the version is always HTTP/1.1', () => {
  const got = forwardRequest(head('GET /a%20b?x=1 HTTP/1.0', 'Host: svc', 'Content-Length: 4'), { bodyKind: 'length', contentLength: 4 });
  assert.equal(got, 'GET /a%20b?x=1 HTTP/1.1\r\nhost: svc\r\ncontent-length: 4\r\n\r\n');
});

test('content-length falls back to the received length', () => {
  const got = forwardRequest(head('PUT /x HTTP/1.1', 'Host: svc', 'Content-Length: 1234567'), { bodyKind: 'length' });
  assert.match(got, /\r\ncontent-length: 1234567\r\n/);
});

test('absolute-form is forwarded in origin-form with host set to the authority', () => {
  const got = forwardRequest(head('GET http://origin:8080?x=1 HTTP/1.1', 'Host: ignored', 'Accept: */*'), { bodyKind: 'none' });
  assert.equal(got, 'GET /?x=1 HTTP/1.1\r\nhost: origin:8080\r\naccept: */*\r\n\r\n');
});

test('an output buffer too small gives -1, one large enough the whole head', () => {
  assert.equal(parseReq(head('GET / HTTP/1.1', 'Host: svc', `X: ${'y'.repeat(100)}`)), L.HEAD_OK);
  const h = requestHeadView(wasm, rec);
  const full = encodeRequestHead(wasm, h, { bodyKind: 'none' }, out, 8192);
  assert.equal(encodeRequestHead(wasm, h, { bodyKind: 'none' }, out, full - 1), -1);
  assert.equal(encodeRequestHead(wasm, h, { bodyKind: 'none' }, out, full), full);
});

test('response heads keep status and reason, drop hop-by-hop headers', () => {
  assert.equal(parseRes(head('HTTP/1.0 404 Not Found', 'Connection: close', 'Content-Length: 9', 'Server: up')), L.HEAD_OK);
  const r = responseHeadView(wasm, rec, 'GET');
  const n = encodeResponseHead(wasm, r, { bodyKind: 'length', contentLength: 9, add: [['via', '1.1 skiff']] }, out, 8192);
  assert.equal(output(n), 'HTTP/1.1 404 Not Found\r\nserver: up\r\nvia: 1.1 skiff\r\ncontent-length: 9\r\n\r\n');
});

test('rewrites that would inject lines are refused', () => {
  assert.equal(parseReq(head('GET / HTTP/1.1', 'Host: svc')), L.HEAD_OK);
  const h = requestHeadView(wasm, rec);
  assert.throws(() => encodeRequestHead(wasm, h, { bodyKind: 'none', add: [['x', 'a\r\nevil: 1']] }, out, 8192), RewriteError);
  assert.throws(() => encodeRequestHead(wasm, h, { bodyKind: 'none', add: [['x y', '1']] }, out, 8192), RewriteError);
  assert.throws(() => encodeRequestHead(wasm, h, { bodyKind: 'none', path: '/a b' }, out, 8192), RewriteError);
  assert.throws(() => encodeRequestHead(wasm, h, { bodyKind: 'length', contentLength: -1 }, out, 8192), RewriteError);
});

test('local response heads re-parse with derived framing', () => {
  const b = encodeLocalResponseHead(503, [['content-type', 'text/plain'], ['Content-Length', '99'], ['connection', 'keep-alive']], {
    bodyKind: 'length', contentLength: 19, close: true, add: [['x-envoy-overloaded', 'true']],
  });
  const text = b.toString('latin1');
  assert.equal(text.split('\r\n')[0], 'HTTP/1.1 503 Service Unavailable');
  assert.deepEqual(headersOf(text, parseRes), [
    ['content-type', 'text/plain'], ['x-envoy-overloaded', 'true'], ['content-length', '19'], ['connection', 'close'],
  ]);
});

test('local request heads re-parse', () => {
  const b = encodeLocalRequestHead('GET', '/healthz', [['host', 'svc'], ['user-agent', 'skiff']], { bodyKind: 'none', remove: ['user-agent'] });
  assert.equal(b.toString('latin1'), 'GET /healthz HTTP/1.1\r\nhost: svc\r\n\r\n');
  assert.throws(() => encodeLocalRequestHead('G T', '/', [], { bodyKind: 'none' }), RewriteError);
});

test('round trip: parse, serialize unchanged, parse again gives the same headers', () => {
  const text = head('GET /p HTTP/1.1', 'Host: h', 'A: 1', 'B: two words', 'A: 3', 'Cookie: x=y; z=w');
  const once = forwardRequest(text, { bodyKind: 'none' });
  const first = headersOf(text, parseReq);
  const second = headersOf(once, parseReq);
  assert.deepEqual(second, first);
});

test('a header that only looks like a Connection-listed one (same length and first byte) survives', () => {
  const got = forwardRequest(head('GET / HTTP/1.1', 'Host: svc', 'Connection: X-Secret', 'X-Secret: 1', 'x-sec-ok: 2', 'x-secreT: 3'), { bodyKind: 'none' });
  assert.equal(got, 'GET / HTTP/1.1\r\nhost: svc\r\nx-sec-ok: 2\r\n\r\n');
});
