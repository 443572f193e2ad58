// The lazy HeaderList view: lookups by bytes, case handling, order, bounds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as L from '../../../../src/wasm/layout.js';
import { requestHeadView } from '../../../../src/codec/http1/index.js';
import { parseReq, wasm, rec } from './harness.js';

test('get, getAll, has and indexed access over the record', () => {
  assert.equal(parseReq('GET / HTTP/1.1\r\nHost: h\r\nSet-Thing: 1\r\nOther: x\r\nset-thing: 2\r\n\r\n'), L.HEAD_OK);
  const h = requestHeadView(wasm, rec).headers;
  assert.equal(h.size, 4);
  assert.equal(h.get('set-thing'), '1');
  assert.equal(h.get('Set-Thing'), '1', 'names given in any case are found');
  assert.deepEqual(h.getAll('set-thing'), ['1', '2']);
  assert.equal(h.has('other'), true);
  assert.equal(h.has('othe'), false);
  assert.equal(h.get('missing'), undefined);
  assert.deepEqual(h.getAll('missing'), []);
  assert.equal(h.name(3), 'set-thing');
  assert.equal(h.value(1), '1');
  assert.throws(() => h.name(4), RangeError);
  assert.throws(() => h.value(-1), RangeError);
});

test('the view reads the record lazily: a field changed before first access is what it reports', () => {
  assert.equal(parseReq('GET /abc HTTP/1.1\r\nHost: h\r\n\r\n'), L.HEAD_OK);
  const view = requestHeadView(wasm, rec);
  // Shorten the recorded path by one byte before the first access: a view that decoded eagerly would not see it.
  wasm.view.setInt32(rec + L.HEAD_PATH_LEN, 3, true);
  assert.equal(view.path, '/ab');
  wasm.view.setInt32(rec + L.HEAD_PATH_LEN, 2, true);
  assert.equal(view.path, '/ab', 'then cached');
});
