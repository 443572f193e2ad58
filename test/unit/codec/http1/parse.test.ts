// What the parsers accept and what they write into the head record and its views.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as L from '../../../../src/wasm/layout.js';
import { requestHeadView, responseHeadView, parseRequestHead, recordBytes } from '../../../../src/codec/http1/index.js';
import { parseReq, parseRes, snapshot, wasm, rec, buf, load, LIMITS } from './harness.js';

const head = (...lines: string[]): string => lines.join('\r\n') + '\r\n\r\n';

test('request line, header entries, ids and trimmed values', () => {
  const text = head('GET /a/b?x=1&y=2#frag HTTP/1.1', 'Host: Example.COM:8080', 'X-Forwarded-For:\t 10.0.0.1 \t', 'Accept: */*', 'Empty:');
  assert.equal(parseReq(text), L.HEAD_OK);
  const s = snapshot();
  assert.equal(s.length, text.length);
  assert.equal(s.methodOrStatus, L.METHOD_GET);
  assert.equal(s.method, 'GET');
  assert.equal(s.target, '/a/b?x=1&y=2#frag');
  assert.equal(s.path, '/a/b?x=1&y=2');
  assert.equal(s.query, 'x=1&y=2');
  assert.equal(s.host, 'Example.COM:8080');
  assert.equal(s.minor, 1);
  assert.deepEqual(s.headers, [
    ['host', 'Example.COM:8080', L.H_HOST],
    ['x-forwarded-for', '10.0.0.1', L.H_X_FORWARDED_FOR],
    ['accept', '*/*', 0],
    ['empty', '', 0],
  ]);
  assert.equal(s.flags, L.FLAG_KEEP_ALIVE);
  assert.equal(s.contentLength, -1);
});

test('every well-known header gets its id, whatever its case', () => {
  const names: [string, number][] = [
    ['Content-Length', L.H_CONTENT_LENGTH], ['Connection', L.H_CONNECTION], ['Keep-Alive', L.H_KEEP_ALIVE],
    ['Proxy-Connection', L.H_PROXY_CONNECTION], ['Upgrade', L.H_UPGRADE], ['TE', L.H_TE], ['Expect', L.H_EXPECT],
    ['Trailer', L.H_TRAILER], ['X-Forwarded-Proto', L.H_X_FORWARDED_PROTO], ['X-Request-ID', L.H_X_REQUEST_ID],
    ['Proxy-Authenticate', L.H_PROXY_AUTHENTICATE], ['Proxy-Authorization', L.H_PROXY_AUTHORIZATION],
    ['X-Forwarded-Fox', 0], ['Hosts', 0],
  ];
  const values: Record<string, string> = { 'Content-Length': '0', Connection: 'keep-alive', Expect: 'nothing' };
  assert.equal(parseReq(head('POST / HTTP/1.1', 'HOST: a', ...names.map(([n]) => `${n}: ${values[n] ?? 'v'}`))), L.HEAD_OK);
  const got = (snapshot().headers as [string, string, number][]).slice(1);
  assert.deepEqual(got.map(([n, , id]) => [n, id]), names.map(([n, id]) => [n.toLowerCase(), id]));
});

test('method ids and extension methods', () => {
  const methods: [string, number][] = [
    ['GET', L.METHOD_GET], ['HEAD', L.METHOD_HEAD], ['POST', L.METHOD_POST], ['PUT', L.METHOD_PUT],
    ['DELETE', L.METHOD_DELETE], ['OPTIONS', L.METHOD_OPTIONS], ['TRACE', L.METHOD_TRACE], ['PATCH', L.METHOD_PATCH],
    ['PROPFIND', L.METHOD_OTHER], ['get', L.METHOD_OTHER],
  ];
  for (const [m, id] of methods) {
    assert.equal(parseReq(head(`${m} / HTTP/1.1`, 'Host: a')), L.HEAD_OK, m);
    assert.equal(snapshot().methodOrStatus, id, m);
    assert.equal(requestHeadView(wasm, rec).method, m);
  }
});

test('absolute-form: authority wins over Host, path becomes origin-form', () => {
  assert.equal(parseReq(head('GET http://user@origin.example:81?q=1 HTTP/1.1', 'Host: other')), L.HEAD_OK);
  const s = snapshot();
  assert.equal(s.host, 'origin.example:81');
  assert.equal((s.flags as number) & L.FLAG_ABSOLUTE_FORM, L.FLAG_ABSOLUTE_FORM);
  assert.equal(s.query, 'q=1');
  const h = requestHeadView(wasm, rec);
  assert.equal(h.path, '/?q=1');
  assert.equal(h.host, 'origin.example:81');
  assert.equal(h.target, 'http://user@origin.example:81?q=1');
});

test('CONNECT authority-form sets host and an empty path', () => {
  assert.equal(parseReq(head('CONNECT db.example:5432 HTTP/1.1', 'Host: db.example:5432')), L.HEAD_OK);
  const h = requestHeadView(wasm, rec);
  assert.equal(h.method, 'CONNECT');
  assert.equal(h.host, 'db.example:5432');
  assert.equal(h.path, '');
});

test('keep-alive per version and Connection tokens', () => {
  const cases: [string, string[], boolean, number][] = [
    ['1.1', [], true, 0],
    ['1.1', ['Connection: close'], false, L.FLAG_CONNECTION_CLOSE],
    ['1.1', ['Connection: Keep-Alive, CLOSE'], false, L.FLAG_CONNECTION_CLOSE],
    ['1.0', [], false, 0],
    ['1.0', ['Connection: keep-alive'], true, 0],
    ['1.0', ['Connection: x, Keep-Alive'], true, 0],
    ['1.1', ['Connection: closed'], true, 0],
  ];
  for (const [v, lines, keepAlive, extra] of cases) {
    assert.equal(parseReq(head(`GET / HTTP/${v}`, 'Host: a', ...lines)), L.HEAD_OK);
    const h = requestHeadView(wasm, rec);
    assert.equal(h.keepAlive, keepAlive, `${v} ${lines}`);
    assert.equal((snapshot().flags as number) & L.FLAG_CONNECTION_CLOSE, extra);
  }
});

test('Expect: 100-continue and Upgrade', () => {
  assert.equal(parseReq(head('POST / HTTP/1.1', 'Host: a', 'Expect: 100-Continue', 'Content-Length: 3')), L.HEAD_OK);
  let h = requestHeadView(wasm, rec);
  assert.equal(h.expectContinue, true);
  assert.equal(h.bodyKind, 'length');
  assert.equal(h.contentLength, 3);
  assert.equal(parseReq(head('GET /ws HTTP/1.1', 'Host: a', 'Connection: Upgrade', 'Upgrade: websocket')), L.HEAD_OK);
  h = requestHeadView(wasm, rec);
  assert.equal(h.upgrade, true);
  assert.equal(h.expectContinue, false);
  assert.equal(parseReq(head('GET /ws HTTP/1.1', 'Host: a', 'Upgrade: websocket')), L.HEAD_OK);
  assert.equal(requestHeadView(wasm, rec).upgrade, false, 'Upgrade without Connection: upgrade is not an upgrade');
});

test('body kinds of requests', () => {
  assert.equal(parseReq(head('POST / HTTP/1.1', 'Host: a', 'Transfer-Encoding: chunked')), L.HEAD_OK);
  assert.equal(requestHeadView(wasm, rec).bodyKind, 'chunked');
  assert.equal(requestHeadView(wasm, rec).contentLength, -1);
  assert.equal(parseReq(head('POST / HTTP/1.1', 'Host: a', 'Content-Length: 9007199254740991')), L.HEAD_OK);
  assert.equal(requestHeadView(wasm, rec).contentLength, 9007199254740991);
  assert.equal(parseReq(head('GET / HTTP/1.1', 'Host: a')), L.HEAD_OK);
  assert.equal(requestHeadView(wasm, rec).bodyKind, 'none');
});

test('empty lines before the request line are skipped and counted in the head length', () => {
  const text = '\r\n\r\n' + head('GET / HTTP/1.1', 'Host: a');
  assert.equal(parseReq(text), L.HEAD_OK);
  assert.equal(snapshot().length, text.length);
  assert.equal(parseReq('\r\n\r\n'), L.HEAD_NEED_MORE);
});

test('bytes after the head (a body, a pipelined request) are not part of it', () => {
  const first = head('POST / HTTP/1.1', 'Host: a', 'Content-Length: 5');
  assert.equal(parseReq(first + 'hello' + head('GET /next HTTP/1.1', 'Host: a')), L.HEAD_OK);
  assert.equal(snapshot().length, first.length);
});

test('an incomplete head needs more, and resumes from scanFrom', () => {
  const text = head('GET / HTTP/1.1', 'Host: a', 'X: y');
  const len = load(text);
  for (const cut of [1, 10, text.length - 3, text.length - 1]) {
    assert.equal(parseRequestHead(wasm, buf, cut, 0, rec, LIMITS), L.HEAD_NEED_MORE, `cut ${cut}`);
  }
  assert.equal(parseRequestHead(wasm, buf, len, text.length - 1, rec, LIMITS), L.HEAD_OK);
});

test('the record size grows with maxHeaders', () => {
  assert.equal(recordBytes(0), L.HEAD_RECORD_FIXED);
  assert.equal(recordBytes(10), L.HEAD_RECORD_FIXED + 10 * L.HEADER_ENTRY_SIZE);
});

test('obs-text is allowed in header values and read back as latin1', () => {
  assert.equal(parseReq(head('GET / HTTP/1.1', 'Host: a', 'X-Name: caf\xe9')), L.HEAD_OK);
  assert.equal(requestHeadView(wasm, rec).headers.get('x-name'), 'caf\xe9');
});

test('responses: status, reason, framing per request method and status', () => {
  assert.equal(parseRes(head('HTTP/1.1 200 OK', 'Content-Length: 12', 'Server: x')), L.HEAD_OK);
  let r = responseHeadView(wasm, rec, 'GET');
  assert.equal(r.status, 200);
  assert.equal(r.reason, 'OK');
  assert.equal(r.bodyKind, 'length');
  assert.equal(r.contentLength, 12);
  assert.equal(r.keepAlive, true);
  assert.equal(responseHeadView(wasm, rec, 'HEAD').bodyKind, 'none');

  assert.equal(parseRes(head('HTTP/1.1 204 No Content')), L.HEAD_OK);
  assert.equal(responseHeadView(wasm, rec, 'GET').bodyKind, 'none');
  assert.equal(parseRes(head('HTTP/1.1 304 Not Modified', 'Content-Length: 100')), L.HEAD_OK);
  assert.equal(responseHeadView(wasm, rec, 'GET').bodyKind, 'none');
  assert.equal(parseRes(head('HTTP/1.1 100 Continue')), L.HEAD_OK);
  assert.equal(responseHeadView(wasm, rec, 'POST').bodyKind, 'none');

  assert.equal(parseRes(head('HTTP/1.1 200 OK', 'Transfer-Encoding: chunked')), L.HEAD_OK);
  assert.equal(responseHeadView(wasm, rec, 'GET').bodyKind, 'chunked');

  assert.equal(parseRes(head('HTTP/1.1 200 OK')), L.HEAD_OK);
  r = responseHeadView(wasm, rec, 'GET');
  assert.equal(r.bodyKind, 'close');
  assert.equal(r.keepAlive, false, 'a close-delimited body ends the connection');

  assert.equal(parseRes(head('HTTP/1.1 200 OK', 'Transfer-Encoding: identity')), L.HEAD_OK);
  assert.equal(responseHeadView(wasm, rec, 'GET').bodyKind, 'close');

  assert.equal(parseRes(head('HTTP/1.0 200 OK', 'Content-Length: 0')), L.HEAD_OK);
  assert.equal(responseHeadView(wasm, rec, 'GET').keepAlive, false);
});

test('responses: an empty reason and no reason are accepted', () => {
  assert.equal(parseRes(head('HTTP/1.1 200 ', 'Content-Length: 0')), L.HEAD_OK);
  assert.equal(responseHeadView(wasm, rec, 'GET').reason, '');
  assert.equal(parseRes(head('HTTP/1.1 404', 'Content-Length: 0')), L.HEAD_OK);
  assert.equal(responseHeadView(wasm, rec, 'GET').status, 404);
});

test('header names of every length are lowercased in place, values never', () => {
  for (let n = 1; n <= 20; n++) {
    const name = Array.from({ length: n }, (_, i) => 'AbCdEfGhIjKlMnOpQrStUv'[i]).join('');
    assert.equal(parseReq(head('GET / HTTP/1.1', 'Host: a', `${name}:UPPER Value`, 'X: Y')), L.HEAD_OK, name);
    const headers = snapshot().headers as [string, string, number][];
    assert.deepEqual(headers[1].slice(0, 2), [name.toLowerCase(), 'UPPER Value']);
    assert.deepEqual(headers[2].slice(0, 2), ['x', 'Y']);
  }
});

test('a non-token byte at any position of a short name is found at its offset', () => {
  for (let n = 2; n <= 15; n++) {
    for (let at = 0; at < n; at++) {
      const name = 'a'.repeat(at) + '@' + 'b'.repeat(n - at - 1);
      const text = head('GET / HTTP/1.1', 'Host: a', `${name}: v`);
      assert.equal(parseReq(text), L.H1E_INVALID_TOKEN, name);
      assert.equal(snapshot().length, text.indexOf('@'), name);
    }
  }
});
