// hpack-test-case (../shared/conformance/hpack-test-case): every story of every implementation directory
// decodes, header by header, to its headers, with the dynamic table carried across the cases of a story.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as L from '../../src/wasm/layout.js';
import { HpackDecoder } from '../../src/codec/hpack/index.js';
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
