import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hash64, xxh64 } from '../../../src/upstream/hash.js';

// Published XXH64 vectors (seed 0); lengths cover the short path, the 4- and 8-byte tails and 32-byte stripes.
const VECTORS: [string, string][] = [
  ['', 'ef46db3751d8e999'],
  ['a', 'd24ec4f1a98c6e5b'],
  ['abc', '44bc2cf5ad770999'],
  ['hello', '26c7827d889f6da3'],
  ['message digest', '066ed728fceeb3be'],
  ['abcdefghijklmnopqrstuvwxyz', 'cfe1f278fa89835c'],
  ['ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789', 'aaa46907d3047814'],
  ['1234567890'.repeat(8), 'e04a477f19ee145d'],
];

test('hash64 matches the published XXH64 vectors', () => {
  for (const [input, hex] of VECTORS) assert.equal(hash64(input).toString(16).padStart(16, '0'), hex, JSON.stringify(input));
});

test('hash64 hashes UTF-8 bytes and xxh64 honours the seed', () => {
  assert.equal(hash64('é'), xxh64(new Uint8Array([0xc3, 0xa9])));
  assert.notEqual(xxh64(new TextEncoder().encode('abc'), 1n), hash64('abc'));
  // Long inputs (past the reused buffer's first size) hash the same as their bytes.
  const long = 'x'.repeat(1000) + '→';
  assert.equal(hash64(long), xxh64(new TextEncoder().encode(long)));
});

test('hash64 results are 64-bit and spread', () => {
  const seen = new Set<bigint>();
  for (let i = 0; i < 1000; i++) {
    const h = hash64(`key-${i}`);
    assert.ok(h >= 0n && h < 1n << 64n);
    seen.add(h);
  }
  assert.equal(seen.size, 1000);
});
