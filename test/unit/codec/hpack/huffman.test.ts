// RFC 7541 §5.2 / Appendix B Huffman code: every symbol, padding rules, EOS; checked against hpack.js's
// independent implementation of the same table.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import * as L from '../../../../src/wasm/layout.js';
import { HpackDecoder } from '../../../../src/codec/hpack/index.js';
import { buffers, decodeBytes, entries } from './harness.js';

const require = createRequire(import.meta.url);
const hpackjs = require('hpack.js') as { huffman: { encode: [number, number][] } };

const b = buffers();
const e = b.wasm.exports;

function encode(bytes: Uint8Array): Buffer {
  b.wasm.u8.set(bytes, b.block);
  const n = e.hpack_huffman_length(b.block, bytes.length);
  const w = e.hpack_huffman_encode(b.block, bytes.length, b.out);
  assert.equal(w, n, 'hpack_huffman_length agrees with the bytes written');
  return Buffer.from(b.wasm.u8.slice(b.out, b.out + w));
}

function decode(bytes: Uint8Array, cap = 65536): number | Buffer {
  b.wasm.u8.set(bytes, b.block);
  const n = e.hpack_huffman_decode(b.block, bytes.length, b.out, cap);
  return n < 0 ? n : Buffer.from(b.wasm.u8.slice(b.out, b.out + n));
}

/** Reference: hpack.js's (code, length) table, packed MSB first and padded with ones. */
function reference(bytes: Uint8Array): Buffer {
  let bits = 0n, n = 0n;
  for (const c of bytes) {
    const [len, code] = hpackjs.huffman.encode[c];
    bits = (bits << BigInt(len)) | BigInt(code);
    n += BigInt(len);
  }
  const pad = (8n - (n % 8n)) % 8n;
  bits = (bits << pad) | ((1n << pad) - 1n);
  const out = Buffer.alloc(Number((n + pad) / 8n));
  for (let i = out.length - 1; i >= 0; i--) { out[i] = Number(bits & 0xffn); bits >>= 8n; }
  return out;
}

test('every symbol encodes as the reference and decodes back, alone and in one string', () => {
  const all = new Uint8Array(256);
  for (let c = 0; c < 256; c++) {
    all[c] = c;
    const one = Uint8Array.of(c);
    const enc = encode(one);
    assert.deepEqual(enc, reference(one), `symbol ${c}`);
    assert.deepEqual(decode(enc), Buffer.from(one), `symbol ${c}`);
  }
  const enc = encode(all);
  assert.deepEqual(enc, reference(all));
  assert.deepEqual(decode(enc), Buffer.from(all));
  const reversed = Uint8Array.from(all).reverse();
  assert.deepEqual(decode(encode(reversed)), Buffer.from(reversed));
});

test('RFC 7541 examples: www.example.com and no-cache', () => {
  assert.equal(encode(Buffer.from('www.example.com')).toString('hex'), 'f1e3c2e5f23a6ba0ab90f4ff');
  assert.equal(encode(Buffer.from('no-cache')).toString('hex'), 'a8eb10649cbf');
  assert.equal(encode(new Uint8Array(0)).length, 0);
  assert.deepEqual(decode(new Uint8Array(0)), Buffer.alloc(0));
});

test('padding must be at most 7 bits and all ones', () => {
  // 'a' = 00011 (5 bits): padded with 111 -> 0x1f
  assert.deepEqual(decode(Uint8Array.of(0x1f)), Buffer.from('a'));
  assert.equal(decode(Uint8Array.of(0x18)), -1, 'zero padding');
  assert.equal(decode(Uint8Array.of(0x1e)), -1, 'padding with a zero bit');
  assert.equal(decode(Uint8Array.of(0x1f, 0xff)), -1, 'padding of 11 bits');
  assert.equal(decode(Uint8Array.of(0xff)), -1, '8 bits of padding alone');
  // '0' = 00000 (5 bits) then 0x7 = 111 pad: ok; a full padding byte after a complete symbol is not
  assert.deepEqual(decode(Uint8Array.of(0x07)), Buffer.from('0'));
});

test('EOS inside a string is an error', () => {
  // EOS = 30 ones; 32 ones hold EOS followed by 2 padding bits
  assert.equal(decode(Uint8Array.of(0xff, 0xff, 0xff, 0xff)), -1);
  // 'a' then EOS
  assert.equal(decode(Uint8Array.of(0x1f, 0xff, 0xff, 0xff, 0xff)), -1);
});

test('decoding stops at the end of the destination', () => {
  const enc = encode(Buffer.from('hello world'));
  assert.equal(decode(enc, 5), -2);
  assert.deepEqual(decode(enc, 11), Buffer.from('hello world'));
});

test('a Huffman string with bad padding in a block is a compression error', () => {
  const dec = new HpackDecoder(b.wasm);
  try {
    // literal without indexing, name "a" raw, value Huffman 0x18 (zero padding)
    assert.equal(decodeBytes(b, dec, L.HPACK_MODE_RAW, Uint8Array.of(0x00, 0x01, 0x61, 0x81, 0x18)), L.HPACK_E_HUFFMAN);
    assert.equal(decodeBytes(b, dec, L.HPACK_MODE_RAW, Uint8Array.of(0x00, 0x01, 0x61, 0x81, 0x1f)), L.HPACK_OK);
    assert.deepEqual(entries(b.wasm, b.rec), [['a', 'a']]);
  } finally {
    dec.dispose();
  }
});

test.after(() => b.release());
