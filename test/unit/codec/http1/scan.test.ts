// The head-end scan works 16 positions at a time with a byte-by-byte tail: every alignment of the end marker,
// of a bare CR and of a bare LF must give the same answer as a byte-by-byte reading would.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as L from '../../../../src/wasm/layout.js';
import { parseRequestHead } from '../../../../src/codec/http1/index.js';
import { wasm, buf, rec, load, headLen, LIMITS } from './harness.js';

const PREFIX = 'GET / HTTP/1.1\r\nHost: a\r\nX: ';
/** A valid head of exactly n bytes (n > 32): the X value is padded. */
function headOfLength(n: number): string {
  return PREFIX + 'v'.repeat(n - PREFIX.length - 4) + '\r\n\r\n';
}

test('the end of the head is found at every offset, with trailing bytes or without', () => {
  for (let n = PREFIX.length + 5; n < 120; n++) {
    const head = headOfLength(n);
    assert.equal(head.length, n);
    for (const tail of ['', 'BODYBODYBODYBODYBODYBODY']) {
      const len = load(head + tail);
      assert.equal(parseRequestHead(wasm, buf, len, 0, rec, LIMITS), L.HEAD_OK, `length ${n} tail ${tail.length}`);
      assert.equal(headLen(), n);
      assert.equal(parseRequestHead(wasm, buf, n - 1, 0, rec, LIMITS), L.HEAD_NEED_MORE, `length ${n} minus one`);
    }
  }
});

test('a bare LF or bare CR at any offset of a header value is rejected', () => {
  const base = headOfLength(90);
  const valueStart = base.indexOf('X: ') + 3;
  const valueEnd = base.length - 4;
  for (let at = valueStart; at < valueEnd; at++) {
    const withLf = base.slice(0, at) + '\n' + base.slice(at + 1);
    assert.equal(parseRequestHead(wasm, buf, load(withLf), 0, rec, LIMITS), L.H1E_BARE_LF, `LF at ${at}`);
    assert.equal(headLen(), at, 'the record says where');
    const withCr = base.slice(0, at) + '\r' + base.slice(at + 1);
    assert.equal(parseRequestHead(wasm, buf, load(withCr), 0, rec, LIMITS), L.H1E_BARE_CR, `CR at ${at}`);
  }
});

test('resuming from every scanFrom finds the same end', () => {
  const head = headOfLength(77);
  const len = load(head + 'tail');
  for (let from = 0; from <= head.length; from++) {
    assert.equal(parseRequestHead(wasm, buf, len, from, rec, LIMITS), L.HEAD_OK, `scanFrom ${from}`);
    assert.equal(headLen(), head.length);
  }
});
