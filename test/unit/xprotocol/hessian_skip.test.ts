// The JS Hessian 2.0 walker big Dubbo frames use to step over their arguments: every value hessian.js writes is
// skipped to its exact end (objects sharing class definitions, refs, lists, maps, chunked strings, binaries,
// dates, longs, doubles); untrusted bytes end in -1 or a position inside the input, never a throw.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { descriptorArgCount, HessianSkipper } from '../../../src/xprotocol/hessian_skip.js';

const require = createRequire(import.meta.url);
const hessian = require('hessian.js') as { EncoderV2: new () => { write(v: unknown): unknown; get(): Buffer } };

const shared = { $class: 'com.skiff.Point', $: { x: 1, y: 2 } };
const VALUES: unknown[] = [
  null, true, false, 0, -16, 47, 2047, -262144, 262143, 2 ** 31 - 1, -(2 ** 31),
  { $class: 'long', $: 5 }, { $class: 'long', $: 2 ** 40 }, 0.0, 1.0, 12.5, 1e300, -0.001,
  '', 'short', 'é'.repeat(500), 'x'.repeat(70_000), '\u{1F600} outside the BMP',
  Buffer.alloc(0), Buffer.alloc(15, 1), Buffer.alloc(1000, 2), Buffer.alloc(70_000, 3),
  new Date(1_700_000_000_000),
  [1, 'two', null], { $class: '[int', $: [1, 2, 3] }, Array.from({ length: 40 }, (_, i) => i),
  { a: 1, b: [true, { c: 'd' }] }, { $class: 'java.util.HashMap', $: { k: 'v' } },
  { $class: 'com.skiff.Line', $: { from: shared, to: shared, tag: 'same point twice (a ref)' } },
  [{ $class: 'com.skiff.Point', $: { x: 3, y: 4 } }, { $class: 'com.skiff.Point', $: { x: 5, y: 6 } }],
];

test('every value hessian.js writes is skipped to its exact end, alone and in sequence', () => {
  for (const v of VALUES) {
    const e = new hessian.EncoderV2();
    e.write(v);
    const b = e.get();
    assert.equal(new HessianSkipper(b).skip(0), b.length, `skip ${JSON.stringify(v)?.slice(0, 60)} (${b.subarray(0, 8).toString('hex')})`);
  }
  // One encoder for all: later values refer to earlier class definitions and objects.
  const e = new hessian.EncoderV2();
  for (const v of VALUES) e.write(v);
  const b = e.get();
  const walk = new HessianSkipper(b);
  let p = 0;
  for (let i = 0; i < VALUES.length; i++) { p = walk.skip(p); assert.ok(p > 0, `value ${i}`); }
  assert.equal(p, b.length);
});

test('cut, corrupted and random input ends in -1 or inside the input, never a throw', () => {
  const e = new hessian.EncoderV2();
  for (const v of VALUES) e.write(v);
  const all = e.get();
  for (let cut = 0; cut < 400; cut++) {
    const r = new HessianSkipper(all.subarray(0, cut)).skip(0);
    assert.ok(r === -1 || (r > 0 && r <= cut));
  }
  let seed = 12345;
  const rnd = (): number => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed; };
  for (let i = 0; i < 5000; i++) {
    const b = Buffer.alloc(1 + (rnd() % 64));
    for (let j = 0; j < b.length; j++) b[j] = rnd() & 0xff;
    const r = new HessianSkipper(b).skip(0);
    assert.ok(r === -1 || (r > 0 && r <= b.length), `input ${b.toString('hex')} -> ${r}`);
  }
  // Deep nesting stops at the depth limit instead of the stack.
  assert.equal(new HessianSkipper(Buffer.alloc(10_000, 0x57)).skip(0), -1);
  // A fixed list announcing 2^31-1 values fails at the end of the input.
  assert.equal(new HessianSkipper(Buffer.from([0x58, 0x49, 0x7f, 0xff, 0xff, 0xff, 0x4e])).skip(0), -1);
});

test('JVM descriptors: parameters counted, malformed ones refused', () => {
  assert.equal(descriptorArgCount(''), 0);
  assert.equal(descriptorArgCount('Ljava/lang/String;'), 1);
  assert.equal(descriptorArgCount('I[JLjava/util/Map;[[Ljava/lang/String;Z'), 5);
  assert.equal(descriptorArgCount('Ljava/lang/String'), -1);
  assert.equal(descriptorArgCount('Q'), -1);
  assert.equal(descriptorArgCount('['), -1);
});
