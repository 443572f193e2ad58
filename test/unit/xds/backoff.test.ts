import assert from 'node:assert/strict';
import { test } from 'node:test';
import { JitteredBackoff } from '../../../src/xds/backoff.js';
import { TokenBucket } from '../../../src/xds/rate_limit.js';

test('backoff ceilings double from the base up to the max; delays are drawn under them; reset starts over', () => {
  const top = new JitteredBackoff({ baseMs: 500, maxMs: 30_000, random: () => 0.999999 });
  const delays = Array.from({ length: 10 }, () => top.next());
  assert.deepEqual(delays, [499, 999, 1999, 3999, 7999, 15999, 29999, 29999, 29999, 29999]);
  top.reset();
  assert.equal(top.next(), 499);
  const low = new JitteredBackoff({ random: () => 0 });
  assert.equal(low.next(), 1, 'never zero: a reconnect loop cannot spin');
  const real = new JitteredBackoff({ baseMs: 100, maxMs: 1000 });
  for (let i = 0; i < 50; i++) {
    const ceiling = real.ceiling();
    const d = real.next();
    assert.ok(d >= 1 && d < ceiling, `${d} under ${ceiling}`);
  }
  assert.throws(() => new JitteredBackoff({ baseMs: 0 }), RangeError);
});

test('token bucket: a burst of max_tokens, then fill_rate per second', () => {
  let now = 0;
  const bucket = new TokenBucket(3, 10, () => now);
  assert.deepEqual([bucket.take(), bucket.take(), bucket.take(), bucket.take()], [true, true, true, false]);
  assert.equal(bucket.msUntilToken(), 100);
  now += 100;
  assert.equal(bucket.take(), true);
  assert.equal(bucket.take(), false);
  now += 10_000;
  assert.deepEqual([bucket.take(), bucket.take(), bucket.take(), bucket.take()], [true, true, true, false], 'never more than max_tokens');
});
