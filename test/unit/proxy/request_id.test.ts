import { test } from 'node:test';
import assert from 'node:assert/strict';
import { newRequestId } from '../../../src/proxy/request_id.js';

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

test('request ids are canonical UUID v4 strings, distinct across pool refills', () => {
  const seen = new Set<string>();
  for (let i = 0; i < 2000; i++) { // several refills of the 256-id pool
    const id = newRequestId();
    assert.match(id, UUID_V4);
    seen.add(id);
  }
  assert.equal(seen.size, 2000);
});

test('request id hex digits are spread (the random bytes reach the string)', () => {
  const counts = new Map<string, number>();
  for (let i = 0; i < 1000; i++) for (const ch of newRequestId().slice(0, 8)) counts.set(ch, (counts.get(ch) ?? 0) + 1);
  assert.equal(counts.size, 16);
  for (const [ch, n] of counts) assert.ok(n > 300 && n < 700, `digit ${ch} seen ${n} times of 8000`);
});
