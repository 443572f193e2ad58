import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseRetryPolicy, pickWeighted, RetryState, RETRY_BASE_INTERVAL_MS, RETRY_MAX_INTERVAL_MS } from '../../../src/proxy/retry_state.js';
import { RetryBodyBuffer } from '../../../src/proxy/request_body.js';

test('no retry_on means no retries', () => {
  assert.equal(parseRetryPolicy(undefined), undefined);
  assert.equal(parseRetryPolicy({ num_retries: { value: 3 } }), undefined);
  const s = new RetryState(undefined);
  assert.equal(s.shouldRetry({ kind: 'response', status: 503 }), false);
});

test('num_retries defaults to 1 and bounds the retries', () => {
  const one = new RetryState(parseRetryPolicy({ retry_on: '5xx' }));
  assert.equal(one.shouldRetry({ kind: 'response', status: 500 }), true);
  assert.equal(one.shouldRetry({ kind: 'response', status: 500 }), false);
  const three = new RetryState(parseRetryPolicy({ retry_on: '5xx', num_retries: { value: 3 } }));
  let n = 0;
  for (let i = 0; i < 10; i++) if (three.shouldRetry({ kind: 'reset' })) n++;
  assert.equal(n, 3);
});

test('retry_on conditions', () => {
  const r = (on: string, codes?: number[]) => new RetryState(parseRetryPolicy({ retry_on: on, retriable_status_codes: codes }));
  assert.equal(r('5xx').retriable({ kind: 'response', status: 503 }), true);
  assert.equal(r('5xx').retriable({ kind: 'response', status: 404 }), false);
  assert.equal(r('5xx').retriable({ kind: 'connect-failure' }), true);
  assert.equal(r('gateway-error').retriable({ kind: 'response', status: 500 }), false);
  assert.equal(r('gateway-error').retriable({ kind: 'response', status: 502 }), true);
  assert.equal(r('connect-failure').retriable({ kind: 'connect-failure' }), true);
  assert.equal(r('connect-failure').retriable({ kind: 'reset' }), false);
  assert.equal(r('connect-failure').retriable({ kind: 'response', status: 503 }), false);
  assert.equal(r('reset').retriable({ kind: 'reset' }), true);
  assert.equal(r('reset').retriable({ kind: 'response', status: 503 }), false);
  assert.equal(r('retriable-status-codes', [409]).retriable({ kind: 'response', status: 409 }), true);
  assert.equal(r('retriable-status-codes', [409]).retriable({ kind: 'response', status: 503 }), false);
  assert.equal(r('reset,retriable-status-codes', [418]).retriable({ kind: 'response', status: 418 }), true);
});

test('back-off is jittered exponential from 25 ms, capped', () => {
  const policy = parseRetryPolicy({ retry_on: '5xx', num_retries: { value: 10 } });
  const max = new RetryState(policy, () => 0.999999);
  const ceilings: number[] = [];
  for (let i = 0; i < 6; i++) { max.shouldRetry({ kind: 'reset' }); ceilings.push(max.backoffMs()); }
  assert.deepEqual(ceilings, [24, 49, 99, 199, 249, 249]);
  assert.equal(RETRY_BASE_INTERVAL_MS, 25);
  assert.equal(RETRY_MAX_INTERVAL_MS, 250);
  const min = new RetryState(policy, () => 0);
  min.shouldRetry({ kind: 'reset' });
  assert.equal(min.backoffMs(), 0);
});

test('weighted pick follows the weights', () => {
  const cs = [{ name: 'a', weight: 1 }, { name: 'b', weight: 3 }];
  assert.equal(pickWeighted(cs, 4, 0), 'a');
  assert.equal(pickWeighted(cs, 4, 0.24), 'a');
  assert.equal(pickWeighted(cs, 4, 0.25), 'b');
  assert.equal(pickWeighted(cs, 4, 0.99), 'b');
  const counts = { a: 0, b: 0 } as Record<string, number>;
  for (let i = 0; i < 4000; i++) counts[pickWeighted(cs, 4, Math.random())!]!++;
  assert.ok(counts.a! > 800 && counts.a! < 1200, JSON.stringify(counts));
});

test('retry body copy stops at the limit', () => {
  const b = new RetryBodyBuffer(10);
  const chunk = new Uint8Array([1, 2, 3, 4]);
  b.append(chunk);
  chunk[0] = 9; // the codec reuses its memory: the copy must not change
  b.append(chunk);
  assert.equal(b.complete, true);
  assert.equal(b.held()[0]![0], 1);
  b.append(chunk);
  assert.equal(b.complete, false);
  assert.equal(b.held().length, 0);
  const forced = new RetryBodyBuffer(2);
  forced.append(chunk, true);
  assert.equal(forced.complete, true);
  assert.equal(forced.size, 4);
});
