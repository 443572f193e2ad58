// Every rejection of the strict parser, one test each: smuggling shapes first, then syntax, then limits.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as L from '../../../../src/wasm/layout.js';
import { codecError } from '../../../../src/codec/http1/index.js';
import { parseReq, parseRes, snapshot } from './harness.js';

const head = (...lines: string[]): string => lines.join('\r\n') + '\r\n\r\n';
const post = (...headerLines: string[]): string => head('POST /upload HTTP/1.1', 'Host: a.example', ...headerLines);

function rejects(text: string, code: number): void {
  const got = parseReq(text);
  assert.equal(got, code, `expected ${codecError(code).code}, got ${got > 0 ? codecError(got).code : got}`);
  assert.equal(snapshot().status, code, 'the record carries the error too');
}

// ---- request smuggling ----
test('CL.TE: Content-Length then Transfer-Encoding is rejected', () => {
  rejects(post('Content-Length: 6', 'Transfer-Encoding: chunked'), L.H1E_CL_AND_TE);
});

test('TE.CL: Transfer-Encoding then Content-Length is rejected', () => {
  rejects(post('Transfer-Encoding: chunked', 'Content-Length: 6'), L.H1E_CL_AND_TE);
});

test('TE.TE: a coding that only contains "chunked" (xchunked) is rejected', () => {
  rejects(post('Transfer-Encoding: xchunked'), L.H1E_BAD_TE);
});

test('TE.TE: chunked followed by another coding in one list is rejected', () => {
  rejects(post('Transfer-Encoding: chunked , identity'), L.H1E_BAD_TE);
});

test('TE.TE: a second Transfer-Encoding line makes the final coding not chunked', () => {
  rejects(post('Transfer-Encoding: chunked', 'Transfer-Encoding: identity'), L.H1E_BAD_TE);
});

test('TE.TE: chunked applied twice is rejected', () => {
  rejects(post('Transfer-Encoding: chunked, chunked'), L.H1E_BAD_TE);
});

test('TE.TE: a coding before chunked is not implemented (501)', () => {
  rejects(post('Transfer-Encoding: gzip, chunked'), L.H1E_UNSUPPORTED_TE);
  assert.equal(codecError(L.H1E_UNSUPPORTED_TE).status, 501);
});

test('TE.TE: whitespace before the colon is rejected', () => {
  rejects(post('Transfer-Encoding : chunked'), L.H1E_WS_BEFORE_COLON);
});

test('TE.TE: a tab before the colon is rejected', () => {
  rejects(post('Transfer-Encoding\t: chunked'), L.H1E_WS_BEFORE_COLON);
});

test('TE.TE: a vertical tab before chunked is rejected', () => {
  rejects(post('Transfer-Encoding: \x0bchunked'), L.H1E_INVALID_HEADER_VALUE);
});

test('TE.TE: a form feed after chunked is rejected', () => {
  rejects(post('Transfer-Encoding: chunked\x0c'), L.H1E_INVALID_HEADER_VALUE);
});

test('TE.TE: chunked with parameters is not chunked', () => {
  rejects(post('Transfer-Encoding: chunked;q=1'), L.H1E_BAD_TE);
});

test('TE.TE: a quoted "chunked" is not a token', () => {
  rejects(post('Transfer-Encoding: "chunked"'), L.H1E_BAD_TE);
});

test('TE.TE: Transfer-Encoding folded onto a continuation line is rejected', () => {
  rejects(post('Transfer-Encoding:', ' chunked'), L.H1E_OBS_FOLD);
});

test('TE.TE: a NUL inside the value is rejected', () => {
  rejects(post('Transfer-Encoding: chun\x00ked'), L.H1E_INVALID_HEADER_VALUE);
});

test('TE.TE: tab OWS and upper case still mean chunked (no desync with peers that accept them)', () => {
  assert.equal(parseReq(post('Transfer-Encoding:\tCHUNKED\t')), L.HEAD_OK);
  assert.equal((snapshot().flags as number) & L.FLAG_CHUNKED, L.FLAG_CHUNKED);
});

test('HTTP/1.0 request with chunked is accepted but never kept alive', () => {
  assert.equal(parseReq(head('POST / HTTP/1.0', 'Connection: keep-alive', 'Transfer-Encoding: chunked')), L.HEAD_OK);
  assert.equal((snapshot().flags as number) & L.FLAG_KEEP_ALIVE, 0);
});

// ---- line syntax ----
test('obs-fold: a header line starting with SP is rejected', () => {
  rejects(head('GET / HTTP/1.1', 'Host: a', 'X-A: 1', ' continued'), L.H1E_OBS_FOLD);
});

test('obs-fold: a header line starting with HTAB is rejected', () => {
  rejects(head('GET / HTTP/1.1', 'Host: a', 'X-A: 1', '\tcontinued'), L.H1E_OBS_FOLD);
});

test('bare CR inside a header value is rejected', () => {
  rejects(head('GET / HTTP/1.1', 'Host: a', 'X-A: 1\rX-B: 2'), L.H1E_BARE_CR);
});

test('bare CR in the request line is rejected', () => {
  rejects(head('GET /\r HTTP/1.1', 'Host: a'), L.H1E_BARE_CR);
});

test('bare CR is rejected before the head is complete', () => {
  assert.equal(parseReq('GET / HTTP/1.1\r\nHost: a\r\n\rX'), L.H1E_BARE_CR);
});

test('bare LF line endings are rejected', () => {
  rejects('GET / HTTP/1.1\nHost: a\n\n', L.H1E_BARE_LF);
});

test('bare LF between headers is rejected', () => {
  rejects('GET / HTTP/1.1\r\nHost: a\r\nX: x\nTransfer-Encoding: chunked\r\n\r\n', L.H1E_BARE_LF);
});

test('a bare LF leading the request is rejected', () => {
  rejects('\nGET / HTTP/1.1\r\nHost: a\r\n\r\n', L.H1E_BARE_LF);
});

test('invalid token character in the method is rejected', () => {
  rejects(head('G(T / HTTP/1.1', 'Host: a'), L.H1E_INVALID_METHOD);
});

test('an empty method is rejected', () => {
  rejects(head(' / HTTP/1.1', 'Host: a'), L.H1E_INVALID_METHOD);
});

test('invalid token character in a header name is rejected', () => {
  rejects(head('GET / HTTP/1.1', 'Host: a', 'X[1]: y'), L.H1E_INVALID_TOKEN);
});

test('non-ASCII byte in a header name is rejected', () => {
  rejects(head('GET / HTTP/1.1', 'Host: a', 'X-\xe9: y'), L.H1E_INVALID_TOKEN);
});

test('an empty header name is rejected', () => {
  rejects(head('GET / HTTP/1.1', 'Host: a', ': y'), L.H1E_INVALID_TOKEN);
});

test('a header line without a colon is rejected', () => {
  rejects(head('GET / HTTP/1.1', 'Host: a', 'NoColon'), L.H1E_INVALID_TOKEN);
});

test('DEL in a header value is rejected', () => {
  rejects(head('GET / HTTP/1.1', 'Host: a', 'X: a\x7fb'), L.H1E_INVALID_HEADER_VALUE);
});

test('a space inside the request-target is rejected', () => {
  rejects(head('GET /a b HTTP/1.1', 'Host: a'), L.H1E_INVALID_REQUEST_LINE);
});

test('a control byte in the request-target is rejected', () => {
  rejects(head('GET /a\x01b HTTP/1.1', 'Host: a'), L.H1E_INVALID_TARGET);
});

test('a request-target that is neither origin-, absolute- nor asterisk-form is rejected', () => {
  rejects(head('GET foo HTTP/1.1', 'Host: a'), L.H1E_INVALID_TARGET);
});

test('asterisk-form is the single byte "*"', () => {
  rejects(head('OPTIONS *x HTTP/1.1', 'Host: a'), L.H1E_INVALID_TARGET);
  assert.equal(parseReq(head('OPTIONS * HTTP/1.1', 'Host: a')), L.HEAD_OK);
  assert.equal(parseReq(head('M-SEARCH * HTTP/1.1', 'Host: a')), L.HEAD_OK);
});

test('CONNECT needs an authority-form target', () => {
  rejects(head('CONNECT /x HTTP/1.1', 'Host: a'), L.H1E_INVALID_CONNECT);
});

test('two spaces after the method are rejected', () => {
  rejects(head('GET  / HTTP/1.1', 'Host: a'), L.H1E_INVALID_TARGET);
});

test('HTTP/0.9-style request line without a version is rejected', () => {
  rejects(head('GET /', 'Host: a'), L.H1E_INVALID_REQUEST_LINE);
});

test('HTTP/2.0 in a request line is rejected with 505', () => {
  rejects(head('GET / HTTP/2.0', 'Host: a'), L.H1E_INVALID_VERSION);
  assert.equal(codecError(L.H1E_INVALID_VERSION).status, 505);
});

test('HTTP/1.2 is rejected', () => {
  rejects(head('GET / HTTP/1.2', 'Host: a'), L.H1E_INVALID_VERSION);
});

test('a lowercase protocol name is rejected', () => {
  rejects(head('GET / http/1.1', 'Host: a'), L.H1E_INVALID_REQUEST_LINE);
});

test('trailing space after the version is rejected', () => {
  rejects(head('GET / HTTP/1.1 ', 'Host: a'), L.H1E_INVALID_REQUEST_LINE);
});

// ---- Content-Length ----
test('differing duplicate Content-Length headers are rejected', () => {
  rejects(post('Content-Length: 5', 'Content-Length: 6'), L.H1E_DUPLICATE_CL);
});

test('a Content-Length list with differing values is rejected', () => {
  rejects(post('Content-Length: 5, 6'), L.H1E_DUPLICATE_CL);
});

test('identical duplicate Content-Length values are one length', () => {
  assert.equal(parseReq(post('Content-Length: 5', 'Content-Length: 5, 5')), L.HEAD_OK);
  assert.equal(snapshot().contentLength, 5);
});

for (const bad of ['+5', '-5', '5a', '0x10', '5.0', '', '5,', ',5', '1 2', '99999999999999999999']) {
  test(`Content-Length ${JSON.stringify(bad)} is rejected`, () => {
    rejects(post(`Content-Length: ${bad}`), L.H1E_INVALID_CL);
  });
}

// ---- Host ----
test('HTTP/1.1 request without Host is rejected', () => {
  rejects(head('GET / HTTP/1.1', 'Accept: */*'), L.H1E_MISSING_HOST);
});

test('HTTP/1.0 request without Host is accepted', () => {
  assert.equal(parseReq(head('GET / HTTP/1.0', 'Accept: */*')), L.HEAD_OK);
});

test('a Host value with a space is rejected', () => {
  rejects(head('GET / HTTP/1.1', 'Host: a b'), L.H1E_INVALID_HOST);
});

test('a Host value with a slash is rejected', () => {
  rejects(head('GET / HTTP/1.1', 'Host: a/b'), L.H1E_INVALID_HOST);
});

test('an absolute-form authority with a forbidden byte is rejected', () => {
  rejects(head('GET http://a"b/ HTTP/1.1', 'Host: a'), L.H1E_INVALID_HOST);
});

test('IPv6 literals, ports and userinfo-free authorities are accepted', () => {
  assert.equal(parseReq(head('GET / HTTP/1.1', 'Host: [::1]:8080')), L.HEAD_OK);
  assert.equal(parseReq(head('GET / HTTP/1.1', 'Host: xn--bcher-kva.example:443')), L.HEAD_OK);
});

test('two Host headers are rejected', () => {
  rejects(head('GET / HTTP/1.1', 'Host: a', 'Host: b'), L.H1E_DUPLICATE_HOST);
});

// ---- limits ----
test('more header lines than maxHeaders is rejected with 431', () => {
  const lines = Array.from({ length: 8 }, (_, i) => `X-${i}: ${i}`);
  assert.equal(parseReq(head('GET / HTTP/1.1', 'Host: a', ...lines), { maxHeaders: 8, maxHeadBytes: 4096 }), L.H1E_TOO_MANY_HEADERS);
  assert.equal(codecError(L.H1E_TOO_MANY_HEADERS).status, 431);
  assert.equal(parseReq(head('GET / HTTP/1.1', 'Host: a', ...lines.slice(1)), { maxHeaders: 8, maxHeadBytes: 4096 }), L.HEAD_OK);
});

test('a complete head larger than maxHeadBytes is rejected with 431', () => {
  const text = head('GET / HTTP/1.1', 'Host: a', `X: ${'v'.repeat(200)}`);
  assert.equal(parseReq(text, { maxHeaders: 8, maxHeadBytes: text.length - 1 }), L.H1E_HEADERS_TOO_LARGE);
  assert.equal(parseReq(text, { maxHeaders: 8, maxHeadBytes: text.length }), L.HEAD_OK);
  assert.equal(codecError(L.H1E_HEADERS_TOO_LARGE).status, 431);
});

test('an incomplete head already larger than maxHeadBytes is rejected', () => {
  const text = `GET / HTTP/1.1\r\nHost: a\r\nX: ${'v'.repeat(300)}`;
  assert.equal(parseReq(text, { maxHeaders: 8, maxHeadBytes: 256 }), L.H1E_HEADERS_TOO_LARGE);
  assert.equal(parseReq(text, { maxHeaders: 8, maxHeadBytes: 1024 }), L.HEAD_NEED_MORE);
});

test('a flood of empty lines counts against maxHeadBytes', () => {
  assert.equal(parseReq('\r\n'.repeat(200), { maxHeaders: 8, maxHeadBytes: 256 }), L.H1E_HEADERS_TOO_LARGE);
});

// ---- responses ----
test('a response status that is not 3 digits is rejected', () => {
  assert.equal(parseRes(head('HTTP/1.1 20 OK')), L.H1E_INVALID_STATUS_LINE);
  assert.equal(parseRes(head('HTTP/1.1 2000 OK')), L.H1E_INVALID_STATUS_LINE);
  assert.equal(parseRes(head('HTTP/1.1 abc OK')), L.H1E_INVALID_STATUS_LINE);
});

test('a response with both Content-Length and Transfer-Encoding is rejected', () => {
  assert.equal(parseRes(head('HTTP/1.1 200 OK', 'Content-Length: 3', 'Transfer-Encoding: chunked')), L.H1E_CL_AND_TE);
});

test('a response reason phrase with a control byte is rejected', () => {
  assert.equal(parseRes(head('HTTP/1.1 200 O\x01K')), L.H1E_INVALID_STATUS_LINE);
});

test('a response of another protocol is rejected', () => {
  assert.equal(parseRes(head('ICY 200 OK')), L.H1E_INVALID_STATUS_LINE);
});

test('every error code maps to a stable code and a 4xx/5xx status', () => {
  const seen = new Set<string>();
  for (let code = 1; code <= L.H1E_MAX; code++) {
    const info = codecError(code);
    assert.match(info.code, /^SKIFF_HTTP1_[A-Z_]+$/);
    assert.notEqual(info.code, 'SKIFF_HTTP1_UNKNOWN', `code ${code} has no entry`);
    assert.ok([400, 431, 501, 505].includes(info.status));
    assert.ok(!seen.has(info.code), `${info.code} used twice`);
    seen.add(info.code);
  }
});

// ---- rejected before the head is complete ----
test('a TLS ClientHello on the plaintext port is rejected at its first bytes', () => {
  const hello = Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03]);
  assert.equal(parseReq(hello), L.H1E_INVALID_METHOD);
});

test('a bad byte in an unfinished request-target is rejected at once', () => {
  assert.equal(parseReq('GET /a\x01b'), L.H1E_INVALID_TARGET);
});

test('an unfinished request line that cannot become HTTP/ is rejected at once', () => {
  assert.equal(parseReq('GET / XTTP'), L.H1E_INVALID_REQUEST_LINE);
  assert.equal(parseReq('GET / HT'), L.HEAD_NEED_MORE);
});

test('a complete request line with an unsupported version is rejected before the headers end', () => {
  assert.equal(parseReq('GET / HTTP/3.0\r\nHost: a\r\n'), L.H1E_INVALID_VERSION);
});

test('a response that does not start like HTTP/ is rejected at once', () => {
  assert.equal(parseRes('SSH-2.0-OpenSSH'), L.H1E_INVALID_STATUS_LINE);
  assert.equal(parseRes('HTTP/1.1 2'), L.HEAD_NEED_MORE);
});

test('a malformed header line is rejected as soon as it is complete, before the head ends', () => {
  assert.equal(parseReq('GET / HTTP/1.1\r\nHost: a\r\nBad Name: 1\r\n'), L.H1E_WS_BEFORE_COLON);
  assert.equal(parseReq('GET / HTTP/1.1\r\nHost: a\r\n folded\r\n'), L.H1E_OBS_FOLD);
  assert.equal(parseReq('GET / HTTP/1.1\r\nContent-Length: 12a\r\n'), L.H1E_INVALID_CL);
  assert.equal(parseReq('GET / HTTP/1.1\r\nContent-Length: 1, 2\r\n'), L.H1E_DUPLICATE_CL);
  assert.equal(parseReq('GET / HTTP/1.1\r\nX: a\x7fb\r\n'), L.H1E_INVALID_HEADER_VALUE);
  assert.equal(parseRes('HTTP/1.1 200 OK\r\nX(: 1\r\n'), L.H1E_INVALID_TOKEN);
  // rules across lines wait for the whole head
  assert.equal(parseReq('POST / HTTP/1.1\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n'), L.HEAD_NEED_MORE);
});

test('a CR that may begin an empty line before the start line is not an error yet', () => {
  assert.equal(parseRes('\r'), L.HEAD_NEED_MORE);
  assert.equal(parseRes('\r\n\r'), L.HEAD_NEED_MORE);
  assert.equal(parseReq('\r\n\r'), L.HEAD_NEED_MORE);
  assert.equal(parseRes('\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n'), L.HEAD_OK);
});

test('a response with a transfer coding Skiff would forward undeclared is refused', () => {
  assert.equal(parseRes(head('HTTP/1.1 200 OK', 'Transfer-Encoding: gzip')), L.H1E_UNSUPPORTED_TE);
  assert.equal(parseRes(head('HTTP/1.1 200 OK', 'Transfer-Encoding: chunked, gzip')), L.H1E_UNSUPPORTED_TE);
  assert.equal(parseRes(head('HTTP/1.1 200 OK', 'Transfer-Encoding: gzip, chunked')), L.H1E_UNSUPPORTED_TE);
  assert.equal(parseRes(head('HTTP/1.1 200 OK', 'Transfer-Encoding: chunked', 'Transfer-Encoding: identity')), L.H1E_UNSUPPORTED_TE);
  // identity is the no-op coding: the body runs to close, or is chunked when chunked comes last
  assert.equal(parseRes(head('HTTP/1.1 200 OK', 'Transfer-Encoding: identity')), L.HEAD_OK);
  assert.equal(parseRes(head('HTTP/1.1 200 OK', 'Transfer-Encoding: identity, chunked')), L.HEAD_OK);
  assert.equal((snapshot().flags as number) & L.FLAG_CHUNKED, L.FLAG_CHUNKED);
});
