// Property test: random field lists (any latin1 bytes, repeated fields, sensitive ones) with random table
// size changes between blocks go through Skiff's encoder and decoder unchanged, the two tables in step.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as L from '../../../../src/wasm/layout.js';
import { slabStats } from '../../../../src/wasm/slab.js';
import { HpackDecoder, HpackEncoder } from '../../../../src/codec/hpack/index.js';
import { seededRandom } from '../../../helpers/random.js';
import { buffers, entries } from './harness.js';

const BLOCKS = 3000;
const b = buffers(64);

test(`${BLOCKS} random blocks round-trip with table size changes`, () => {
  const r = seededRandom(0x7541);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)];
  const names = [':method', ':path', ':status', 'accept', 'cookie', 'authorization', 'set-cookie', 'x-id', 'x-trace', 'content-type', 'user-agent'];
  const str = (max: number): string => {
    let s = '';
    const n = Math.floor(r() * max);
    for (let i = 0; i < n; i++) s += String.fromCharCode(r() < 0.9 ? 0x20 + Math.floor(r() * 95) : Math.floor(r() * 256));
    return s;
  };
  const enc = new HpackEncoder(b.wasm, 4096);
  const dec = new HpackDecoder(b.wasm, 4096);
  const recent: [string, string][] = [];
  let bytes = 0;
  try {
    for (let i = 0; i < BLOCKS; i++) {
      if (r() < 0.03) {
        const size = pick([0, 64, 256, 1000, 4096, 65536]);
        enc.setPeerMaxTableSize(size);
        dec.setMaxTableSize(Math.min(size, 4096));
      }
      const fields: [string, string][] = [];
      const count = 1 + Math.floor(r() * 12);
      for (let k = 0; k < count; k++) {
        if (recent.length > 0 && r() < 0.4) fields.push(pick(recent));
        else {
          const f: [string, string] = [r() < 0.7 ? pick(names) : 'x-' + str(10).replace(/[^a-z]/g, 'q'), str(r() < 0.05 ? 3000 : 40)];
          fields.push(f);
          recent.push(f);
          if (recent.length > 40) recent.shift();
        }
      }
      const n = enc.encodeLocal(fields, b.block, b.blockCap, { raw: true, sensitive: new Set(['x-id']) });
      assert.ok(n > 0, `block ${i}`);
      bytes += n;
      assert.equal(dec.decode(L.HPACK_MODE_RAW, b.block, n, b.rec, 64, b.out, b.outCap, 1 << 20), L.HPACK_OK, `block ${i}`);
      assert.deepEqual(entries(b.wasm, b.rec), fields, `block ${i}`);
      assert.equal(dec.tableSize, enc.tableSize, `block ${i}`);
      assert.equal(dec.tableMaxSize, enc.tableMaxSize, `block ${i}`);
    }
  } finally {
    enc.dispose();
    dec.dispose();
  }
  assert.ok(bytes > 0);
});

test('contexts lease one slab each and return it on dispose', () => {
  const leased = (): number => slabStats(b.wasm).reduce((s, c) => s + c.leased, 0);
  const before = leased();
  const contexts = [new HpackDecoder(b.wasm), new HpackEncoder(b.wasm), new HpackDecoder(b.wasm, 65536)];
  assert.equal(leased(), before + 3);
  for (const c of contexts) c.dispose();
  assert.equal(leased(), before);
});

test.after(() => b.release());
