import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { Deadline, Deadlines } from '../../../src/stream/deadlines.js';
import { eventually } from '../../helpers/wait.js';

test('deadlines expire in due order, each once, not before their duration', async () => {
  const d = new Deadlines();
  const fired: Array<[string, number]> = [];
  const t0 = Date.now();
  const a = new Deadline(() => fired.push(['a', Date.now() - t0]));
  const b = new Deadline(() => fired.push(['b', Date.now() - t0]));
  const c = new Deadline(() => fired.push(['c', Date.now() - t0]));
  d.arm(a, 40);
  d.arm(b, 20);
  d.arm(c, 40);
  await eventually(() => fired.length === 3, 'all three deadlines');
  assert.deepEqual(fired.map(([n]) => n), ['b', 'a', 'c']);
  assert.ok(fired[0]![1] >= 19, `b fired at ${fired[0]![1]} ms`);
  assert.ok(fired[1]![1] >= 39, `a fired at ${fired[1]![1]} ms`);
  assert.equal(a.armed || b.armed || c.armed, false);
});

test('a cancelled deadline never fires; its list is dropped once empty', async () => {
  const d = new Deadlines();
  let fired = 0;
  const a = new Deadline(() => { fired++; });
  d.arm(a, 15);
  assert.equal(a.armed, true);
  a.cancel();
  a.cancel(); // idempotent
  assert.equal(a.armed, false);
  // The list leaves the map only from its timer's callback, so once it is gone the 15 ms have passed.
  await eventually(() => d.durations === 0, 'the empty list to leave the map after its timer ran');
  assert.equal(fired, 0);
});

test('re-arming moves the deadline later (activity postpones an idle deadline)', async () => {
  // The idle period is long against the 40 ms between touches, so a slow event loop cannot make a touch late.
  const IDLE_MS = 2000;
  const d = new Deadlines();
  let firedAt = -1;
  const idle = new Deadline(() => { firedAt = Date.now(); });
  const firstArm = Date.now();
  d.arm(idle, IDLE_MS);
  let lastTouch = Date.now();
  for (let i = 0; i < 3; i++) { await sleep(40); d.arm(idle, IDLE_MS); lastTouch = Date.now(); }
  assert.equal(firedAt, -1, 'each touch came before the idle period ran out');
  await eventually(() => firedAt !== -1, 'the idle deadline', IDLE_MS + 10_000);
  assert.ok(firedAt - lastTouch >= IDLE_MS - 1, `fired ${firedAt - lastTouch} ms after the last touch`);
  assert.ok(firedAt - firstArm >= IDLE_MS + 100, 'later than the first arming alone would have fired');
  assert.equal(d.durations, 0);
});

test('many durations from requests do not accumulate lists', async () => {
  const d = new Deadlines();
  const all: Deadline[] = [];
  for (let ms = 1; ms <= 200; ms++) { const x = new Deadline(() => {}); d.arm(x, ms); all.push(x); }
  assert.equal(d.durations, 200);
  for (const x of all) x.cancel();
  await eventually(() => d.durations === 0, 'every list to leave the map');
});
