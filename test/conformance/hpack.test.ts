// hpack-test-case (../shared/conformance/hpack-test-case): every story of every implementation directory
// decodes, header by header, to its headers, with the dynamic table carried across the cases of a story.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as L from '../../src/wasm/layout.js';
import { HpackDecoder, HpackEncoder } from '../../src/codec/hpack/index.js';
import { buffers, entries } from '../unit/codec/hpack/harness.js';
import { readStories, encodedDirs, ROOT } from './hpack/stories.js';

const b = buffers(1024);
const dirs = encodedDirs();
const tally = { stories: 0, blocks: 0, fields: 0 };

test('the hpack-test-case stories are present', () => {
  assert.ok(dirs.length >= 3, `found ${dirs.length} encoder directories under ${ROOT.pathname}`);
});

for (const dir of dirs) {
  for (const story of readStories(dir)) {
    test(`decode ${dir}/${story.file}`, () => {
      const capacity = Math.max(4096, ...story.cases.map((c) => c.headerTableSize ?? 0));
      const dec = new HpackDecoder(b.wasm, capacity);
      try {
        for (const c of story.cases) {
          if (c.headerTableSize !== undefined) dec.setMaxTableSize(c.headerTableSize);
          const wire = c.wire!;
          b.wasm.u8.set(wire, b.block);
          const st = dec.decode(L.HPACK_MODE_RAW, b.block, wire.length, b.rec, b.maxHeaders, b.out, b.outCap, 1 << 24);
          assert.equal(st, L.HPACK_OK, `case ${c.seqno}: status ${st}`);
          assert.deepEqual(entries(b.wasm, b.rec), c.headers, `case ${c.seqno}`);
          tally.blocks++;
          tally.fields += c.headers.length;
        }
      } finally {
        dec.dispose();
      }
      tally.stories++;
    });
  }
}

test.after(() => {
  b.release();
  console.log(`hpack-test-case decode: ${tally.stories} stories, ${tally.blocks} blocks, ${tally.fields} fields`);
});

// Skiff's encoder over raw-data's header sets, read back by Skiff's decoder (one context pair per story).
const rawStories = readStories('raw-data');
const roundTrip = { stories: 0, blocks: 0, wireBytes: 0, plainBytes: 0 };

test('the raw-data stories are present', () => {
  assert.ok(rawStories.length >= 30, `found ${rawStories.length} raw-data stories`);
});

for (const story of rawStories) {
  test(`encode and decode raw-data/${story.file}`, () => {
    const enc = new HpackEncoder(b.wasm);
    const dec = new HpackDecoder(b.wasm);
    try {
      for (const c of story.cases) {
        const n = enc.encodeLocal(c.headers, b.block, b.blockCap, { raw: true });
        assert.ok(n > 0, `case ${c.seqno}: encode returned ${n}`);
        const st = dec.decode(L.HPACK_MODE_RAW, b.block, n, b.rec, b.maxHeaders, b.out, b.outCap, 1 << 24);
        assert.equal(st, L.HPACK_OK, `case ${c.seqno}: status ${st}`);
        assert.deepEqual(entries(b.wasm, b.rec), c.headers, `case ${c.seqno}`);
        assert.equal(dec.tableSize, enc.tableSize, `case ${c.seqno}: tables in step`);
        roundTrip.blocks++;
        roundTrip.wireBytes += n;
        roundTrip.plainBytes += c.headers.reduce((s, [k, v]) => s + k.length + v.length, 0);
      }
    } finally {
      enc.dispose();
      dec.dispose();
    }
    roundTrip.stories++;
  });
}

test.after(() => {
  console.log(`Skiff encoder -> Skiff decoder: ${roundTrip.stories} stories, ${roundTrip.blocks} blocks, ` +
    `${roundTrip.wireBytes} bytes for ${roundTrip.plainBytes} bytes of names and values`);
});
