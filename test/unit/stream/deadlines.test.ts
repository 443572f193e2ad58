import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { Deadline, Deadlines } from '../../../src/stream/deadlines.js';

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
  await sleep(120);
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
  await sleep(60);
  assert.equal(fired, 0);
  assert.equal(d.durations, 0, 'the empty list leaves the map after its timer ran');
});

test('re-arming moves the deadline later (activity postpones an idle deadline)', async () => {
  const d = new Deadlines();
  let firedAt = -1;
  const idle = new Deadline(() => { firedAt = Date.now(); });
  d.arm(idle, 100);
  let lastTouch = Date.now();
  for (let i = 0; i < 3; i++) { await sleep(40); d.arm(idle, 100); lastTouch = Date.now(); }
  assert.equal(firedAt, -1, 'each touch came before 100 ms of idleness');
  await sleep(250);
  assert.ok(firedAt - lastTouch >= 99, `fired ${firedAt - lastTouch} ms after the last touch`);
  assert.equal(d.durations, 0);
});

test('many durations from requests do not accumulate lists', async () => {
  const d = new Deadlines();
  const all: Deadline[] = [];
  for (let ms = 1; ms <= 200; ms++) { const x = new Deadline(() => {}); d.arm(x, ms); all.push(x); }
  assert.equal(d.durations, 200);
  for (const x of all) x.cancel();
  await sleep(260);
  assert.equal(d.durations, 0);
});
