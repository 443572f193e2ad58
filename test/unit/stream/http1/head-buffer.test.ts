import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HeadBuffer } from '../../../../src/stream/http1/head-buffer.js';
import { slabPool } from '../../../../src/wasm/slab.js';
import { wasm, countSlabs } from './slab-count.js';

test('bytes are copied into the slab once and handed out as slices of the socket chunk', () => {
  const slabs = countSlabs();
  try {
    const buf = new HeadBuffer(wasm, slabPool(wasm), 60 * 1024);
    assert.ok(buf.ensure());
    const chunk = Buffer.from('GET / HTTP/1.1\r\n\r\nBODY');
    assert.equal(buf.append(chunk, 0), chunk.length);
    assert.equal(Buffer.from(wasm.u8.subarray(buf.ptr, buf.ptr + buf.length)).toString(), chunk.toString());
    buf.skip(18);
    const rest = buf.readable();
    assert.equal(Buffer.from(rest).toString(), 'BODY');
    assert.equal(rest.buffer, chunk.buffer, 'unread bytes of the last chunk are a slice of it, not a copy');
    buf.release();
    assert.equal(slabs.outstanding(), 0);
  } finally { slabs.restore(); }
});

test('bytes from an older chunk are copied out, and compaction keeps the unread bytes in order', () => {
  const buf = new HeadBuffer(wasm, slabPool(wasm), 60 * 1024);
  assert.ok(buf.ensure());
  buf.append(Buffer.from('AAAA'), 0);
  buf.append(Buffer.from('BBBB'), 0);
  buf.skip(2);
  const out = buf.readable();
  assert.equal(Buffer.from(out).toString(), 'AABBBB');
  assert.notEqual(out.buffer, wasm.memory.buffer, 'copied out of shared memory');
  buf.skip(3);
  buf.compact();
  assert.equal(buf.length, 3);
  assert.equal(buf.consumed, 0);
  const after = buf.readable();
  assert.equal(Buffer.from(after).toString(), 'BBB');
  buf.release();
});

test('the buffer grows up to the class holding its limit, keeping its bytes, and no further', () => {
  const slabs = countSlabs();
  try {
    const pool = slabPool(wasm);
    const buf = new HeadBuffer(wasm, pool, 60 * 1024);
    assert.ok(buf.ensure());
    const first = buf.capacity;
    const fill = Buffer.alloc(first, 0x41);
    fill[0] = 0x5a;
    assert.equal(buf.append(fill, 0), first);
    assert.ok(buf.full);
    assert.equal(buf.append(Buffer.from('x'), 0), 0);
    let grown = 0;
    for (let i = 0; i < 8 && buf.grow(); i++) {
      grown++;
      assert.equal(wasm.u8[buf.ptr], 0x5a, 'bytes survive growth');
      buf.append(Buffer.alloc(buf.capacity - buf.length, 0x42), 0);
      assert.ok(buf.full);
    }
    assert.ok(grown >= 1);
    assert.ok(buf.capacity >= 60 * 1024 && buf.capacity <= 64 * 1024, `capacity ${buf.capacity}`);
    assert.equal(buf.grow(), false, 'no growth beyond the limit');
    buf.release();
    assert.equal(slabs.outstanding(), 0);
  } finally { slabs.restore(); }
});
