// Dynamic table (RFC 7541 §4): size accounting, eviction, the ring's wrap, size update rules, and the
// encoder's size updates after SETTINGS changes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as L from '../../../../src/wasm/layout.js';
import { HpackDecoder, HpackEncoder } from '../../../../src/codec/hpack/index.js';
import { seededRandom } from '../../../helpers/random.js';
import { buffers, decodeBytes, entries, int, idx, litIdx, lit } from './harness.js';

const b = buffers();
const block = (...parts: number[][]): Uint8Array => Uint8Array.from(parts.flat());

test('size is name + value + 32 per entry; the oldest entries are evicted first', () => {
  const dec = new HpackDecoder(b.wasm, 4096);
  try {
    dec.setMaxTableSize(100);
    // limit lowered below the current 4096: the next block must start with an update
    assert.equal(decodeBytes(b, dec, L.HPACK_MODE_RAW, block(int(100, 5, 0x20), litIdx('aa', 'bbbb'))), L.HPACK_OK);
    assert.equal(dec.tableSize, 38);
    assert.equal(decodeBytes(b, dec, L.HPACK_MODE_RAW, block(litIdx('cc', 'dddd'))), L.HPACK_OK);
    assert.equal(dec.tableSize, 76);
    assert.equal(dec.tableCount, 2);
    // third entry: 76 + 38 > 100, so "aa" goes
    assert.equal(decodeBytes(b, dec, L.HPACK_MODE_RAW, block(litIdx('ee', 'ffff'), idx(62), idx(63))), L.HPACK_OK);
    assert.deepEqual(entries(b.wasm, b.rec), [['ee', 'ffff'], ['ee', 'ffff'], ['cc', 'dddd']]);
    assert.equal(dec.tableCount, 2);
    assert.equal(decodeBytes(b, dec, L.HPACK_MODE_RAW, block(idx(64))), L.HPACK_E_INDEX, 'the evicted entry is gone');
  } finally {
    dec.dispose();
  }
});

test('an entry larger than the table empties it and is not added', () => {
  const dec = new HpackDecoder(b.wasm, 4096);
  try {
    dec.setMaxTableSize(64);
    assert.equal(decodeBytes(b, dec, L.HPACK_MODE_RAW, block(int(64, 5, 0x20), litIdx('a', 'b'))), L.HPACK_OK);
    assert.equal(dec.tableCount, 1);
    assert.equal(decodeBytes(b, dec, L.HPACK_MODE_RAW, block(litIdx('x', 'y'.repeat(40)))), L.HPACK_OK);
    assert.equal(dec.tableCount, 0);
    assert.equal(dec.tableSize, 0);
    assert.deepEqual(entries(b.wasm, b.rec), [['x', 'y'.repeat(40)]]);
  } finally {
    dec.dispose();
  }
});

test('a literal may name an entry that its own insertion evicts', () => {
  const dec = new HpackDecoder(b.wasm, 4096);
  try {
    dec.setMaxTableSize(60);
    assert.equal(decodeBytes(b, dec, L.HPACK_MODE_RAW, block(int(60, 5, 0x20), litIdx('name', 'v1'))), L.HPACK_OK);
    // literal with incremental indexing, name = dynamic index 62 ("name"), which must be evicted to fit
    assert.equal(decodeBytes(b, dec, L.HPACK_MODE_RAW, block([0x40 | 62], [3, 0x76, 0x32, 0x32], idx(62))), L.HPACK_OK);
    assert.deepEqual(entries(b.wasm, b.rec), [['name', 'v22'], ['name', 'v22']]);
    assert.equal(dec.tableCount, 1);
  } finally {
    dec.dispose();
  }
});

test('size updates: at the start of a block only, within the SETTINGS limit, required after the limit drops', () => {
  const dec = new HpackDecoder(b.wasm, 8192);
  try {
    assert.equal(decodeBytes(b, dec, L.HPACK_MODE_RAW, block(int(4097, 5, 0x20))), L.HPACK_E_SIZE_UPDATE, 'above the default limit');
    assert.equal(decodeBytes(b, dec, L.HPACK_MODE_RAW, block(idx(2), int(0, 5, 0x20))), L.HPACK_E_SIZE_UPDATE_POSITION);
    // two updates in a row at the start are fine: the last one counts
    assert.equal(decodeBytes(b, dec, L.HPACK_MODE_RAW, block(int(0, 5, 0x20), int(2048, 5, 0x20), idx(2))), L.HPACK_OK);
    assert.equal(dec.tableMaxSize, 2048);
    dec.setMaxTableSize(8192);
    assert.equal(decodeBytes(b, dec, L.HPACK_MODE_RAW, block(int(8192, 5, 0x20), litIdx('k', 'v'))), L.HPACK_OK, 'a raised limit allows more');
    assert.equal(dec.tableCount, 1);
    dec.setMaxTableSize(1024);
    assert.equal(decodeBytes(b, dec, L.HPACK_MODE_RAW, block(idx(2))), L.HPACK_E_SIZE_UPDATE_MISSING);
    assert.equal(decodeBytes(b, dec, L.HPACK_MODE_RAW, block(int(0, 5, 0x20), idx(2))), L.HPACK_OK, 'update to 0 empties the table');
    assert.equal(dec.tableCount, 0);
    assert.equal(dec.tableMaxSize, 0);
    assert.throws(() => dec.setMaxTableSize(8193), { code: 'SKIFF_HPACK_BAD_ARGUMENT' });
  } finally {
    dec.dispose();
  }
});

test('random insertions match a model of the table (ring wrap included)', () => {
  const rnd = seededRandom(7541);
  const dec = new HpackDecoder(b.wasm, 512);
  const model: [string, string][] = [];
  let max = 512;
  const size = (): number => model.reduce((s, [n, v]) => s + n.length + v.length + 32, 0);
  const evict = (): void => { while (model.length > 0 && size() > max) model.pop(); };
  try {
    dec.setMaxTableSize(512);
    assert.equal(decodeBytes(b, dec, L.HPACK_MODE_RAW, block(int(512, 5, 0x20))), L.HPACK_OK);
    for (let i = 0; i < 3000; i++) {
      const parts: number[][] = [];
      if (rnd() < 0.02) {
        max = Math.floor(rnd() * 513);
        parts.push(int(max, 5, 0x20));
        evict();
      }
      const name = 'n' + Math.floor(rnd() * 50);
      const value = 'v'.repeat(Math.floor(rnd() * (rnd() < 0.1 ? 500 : 80)));
      parts.push(litIdx(name, value));
      const entry: [string, string] = [name, value];
      if (name.length + value.length + 32 > max) model.length = 0;
      else { model.unshift(entry); evict(); }
      // read back every entry by index
      for (let k = 0; k < model.length; k++) parts.push(idx(62 + k));
      assert.equal(decodeBytes(b, dec, L.HPACK_MODE_RAW, block(...parts)), L.HPACK_OK, `step ${i}`);
      assert.deepEqual(entries(b.wasm, b.rec), [entry, ...model], `step ${i}`);
      assert.equal(dec.tableSize, size(), `step ${i}`);
    }
  } finally {
    dec.dispose();
  }
});

test('the encoder announces SETTINGS changes with size updates at the start of the next block', () => {
  const enc = new HpackEncoder(b.wasm, 4096);
  const dec = new HpackDecoder(b.wasm, 4096);
  const send = (): Buffer => {
    const n = enc.encodeLocal([['x-a', '1']], b.block, b.blockCap);
    const bytes = Buffer.from(b.wasm.u8.slice(b.block, b.block + n));
    assert.equal(decodeBytes(b, dec, L.HPACK_MODE_RAW, bytes), L.HPACK_OK);
    assert.equal(dec.tableSize, enc.tableSize);
    return bytes;
  };
  try {
    assert.equal(send()[0] & 0xe0, 0x40, 'no update at first: 4096 is the initial size');
    enc.setPeerMaxTableSize(0);
    dec.setMaxTableSize(0);
    let bytes = send();
    assert.equal(bytes[0], 0x20, 'size update to 0');
    assert.equal(enc.tableCount, 0);
    // raised from 0 (the table is smaller than any value in between): one update to the final size
    enc.setPeerMaxTableSize(100);
    dec.setMaxTableSize(100);
    enc.setPeerMaxTableSize(2000);
    dec.setMaxTableSize(2000);
    bytes = send();
    assert.deepEqual([...bytes.subarray(0, 3)], int(2000, 5, 0x20));
    assert.equal(enc.tableMaxSize, 2000);
    assert.equal(bytes[3] & 0xc0, 0x40, 'then the field, indexed');
    // lowered below the table size and raised again before a block: the smallest first, then the final size
    enc.setPeerMaxTableSize(10);
    dec.setMaxTableSize(10);
    enc.setPeerMaxTableSize(3000);
    dec.setMaxTableSize(3000);
    bytes = send();
    assert.deepEqual([...bytes.subarray(0, 4)], [...int(10, 5, 0x20), ...int(3000, 5, 0x20)]);
    assert.equal(enc.tableMaxSize, 3000);
    assert.equal(enc.tableCount, 1, 'the 10-byte size evicted the old entry; only the new one is left');
    // a peer allowing more than the encoder's capacity gets the capacity
    enc.setPeerMaxTableSize(1 << 20);
    dec.setMaxTableSize(4096);
    bytes = send();
    assert.deepEqual([...bytes.subarray(0, 3)], int(4096, 5, 0x20));
    assert.equal(enc.tableMaxSize, 4096);
    bytes = send();
    assert.equal(bytes.length, 1, 'x-a: 1 is now indexed');
  } finally {
    enc.dispose();
    dec.dispose();
  }
});

test('dispose releases the slab; a disposed context refuses work', () => {
  const dec = new HpackDecoder(b.wasm);
  dec.dispose();
  assert.throws(() => dec.decode(L.HPACK_MODE_RAW, b.block, 0, b.rec, 1, b.out, 1, 1), { code: 'SKIFF_HPACK_DISPOSED' });
  dec.dispose();
  assert.deepEqual(lit('a', ''), [0, 1, 0x61, 0]);
});

test.after(() => b.release());
