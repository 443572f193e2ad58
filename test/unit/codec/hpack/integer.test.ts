// RFC 7541 §5.1 integers: prefix boundaries, the 2^31-1 ceiling, continuation runs, truncation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as L from '../../../../src/wasm/layout.js';
import { HpackDecoder, HpackEncoder } from '../../../../src/codec/hpack/index.js';
import { buffers, decodeBytes, entries, int, idx, lit } from './harness.js';

const b = buffers();

function decodeRaw(bytes: number[], tableSize = 4096): { status: number; dec: HpackDecoder } {
  const dec = new HpackDecoder(b.wasm, tableSize);
  const status = decodeBytes(b, dec, L.HPACK_MODE_RAW, Uint8Array.from(bytes));
  return { status, dec };
}

test('RFC 7541 C.1 encodings of 10 and 1337 with a 5-bit prefix', () => {
  assert.deepEqual(int(10, 5), [10]);
  assert.deepEqual(int(1337, 5), [0x1f, 0x9a, 0x0a]);
  // As size updates: 10 fits the limit, 1337 too.
  for (const v of [10, 1337]) {
    const { status, dec } = decodeRaw(int(v, 5, 0x20));
    assert.equal(status, L.HPACK_OK);
    assert.equal(dec.tableMaxSize, v);
    dec.dispose();
  }
});

test('values at and around each prefix boundary decode exactly (size updates, 5-bit prefix)', () => {
  for (const v of [0, 30, 31, 32, 127, 128, 158, 159, 160, 4095, 4096]) {
    const { status, dec } = decodeRaw(int(v, 5, 0x20));
    assert.equal(status, L.HPACK_OK, `value ${v}`);
    assert.equal(dec.tableMaxSize, v, `value ${v}`);
    dec.dispose();
  }
});

test('indexes at the 7-bit boundary: 127 needs a continuation byte, 61 is the last static entry', () => {
  let r = decodeRaw(idx(61));
  assert.equal(r.status, L.HPACK_OK);
  assert.deepEqual(entries(b.wasm, b.rec), [['www-authenticate', '']]);
  r.dec.dispose();
  r = decodeRaw(idx(62));
  assert.equal(r.status, L.HPACK_E_INDEX, 'empty dynamic table');
  r.dec.dispose();
  assert.deepEqual(idx(127), [0xff, 0x00]);
  r = decodeRaw(idx(127));
  assert.equal(r.status, L.HPACK_E_INDEX);
  r.dec.dispose();
  r = decodeRaw([0x80]);
  assert.equal(r.status, L.HPACK_E_INDEX, 'index 0');
  r.dec.dispose();
});

test('2^31-1 is a valid integer; 2^31 and above overflow', () => {
  // 2^31-1 as a size update: a valid integer, refused only because it is above the SETTINGS limit.
  let r = decodeRaw(int(0x7fffffff, 5, 0x20));
  assert.equal(r.status, L.HPACK_E_SIZE_UPDATE);
  r.dec.dispose();
  for (const v of [0x80000000, 0xffffffff, 2 ** 40]) {
    r = decodeRaw(int(v, 5, 0x20));
    assert.equal(r.status, L.HPACK_E_INTEGER_OVERFLOW, `value ${v}`);
    r.dec.dispose();
  }
  // as a string length
  r = decodeRaw([0x00, ...int(0x80000000, 7)]);
  assert.equal(r.status, L.HPACK_E_INTEGER_OVERFLOW);
  r.dec.dispose();
});

test('long runs of zero continuation bytes are refused rather than read without end', () => {
  const r = decodeRaw([0x3f, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00]);
  assert.equal(r.status, L.HPACK_E_INTEGER_OVERFLOW);
  r.dec.dispose();
  const ok = decodeRaw([0x3f, 0x80, 0x80, 0x00]);
  assert.equal(ok.status, L.HPACK_OK, 'redundant zero continuations within five bytes are still an integer');
  assert.equal(ok.dec.tableMaxSize, 31);
  ok.dec.dispose();
});

test('a block ending inside an integer or a string is truncated', () => {
  for (const bytes of [[0x3f], [0x3f, 0x80], [0xff], [0x00], [0x00, 0x03, 0x61], [0x00, 0x01, 0x61, 0x05, 0x61], [0x40]]) {
    const r = decodeRaw(bytes);
    assert.equal(r.status, L.HPACK_E_TRUNCATED, Buffer.from(bytes).toString('hex'));
    r.dec.dispose();
  }
});

test('string lengths across the 7-bit boundary round-trip through the encoder', () => {
  const enc = new HpackEncoder(b.wasm);
  const dec = new HpackDecoder(b.wasm);
  try {
    for (const n of [0, 1, 126, 127, 128, 255, 16383, 16384, 40000]) {
      // '~' has a 13-bit Huffman code: the raw form is shorter, so the length prefix is the raw one
      const value = '~'.repeat(n);
      const len = enc.encodeLocal([['x-long', value]], b.block, b.blockCap);
      assert.ok(len > n, `length ${n}`);
      assert.equal(decodeBytes(b, dec, L.HPACK_MODE_RAW, b.wasm.u8.slice(b.block, b.block + len)), L.HPACK_OK);
      assert.deepEqual(entries(b.wasm, b.rec), [['x-long', value]]);
    }
    assert.deepEqual(lit('a', 'b'), [0, 1, 0x61, 1, 0x62]);
  } finally {
    enc.dispose();
    dec.dispose();
  }
});

test.after(() => b.release());
