// The in-process young-generation cap: the new space stays within the target under an allocation burst with
// survivors (which, uncapped, grows it to V8's 32 MiB), a user's --max-semi-space-size is left alone, and stop()
// gives growth back. node --test runs each file in its own process, so the V8 flag it sets touches no other suite.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setImmediate as turn } from 'node:timers/promises';
import { capYoungGeneration, newSpaceBytes } from '../../../src/cli/young_generation.js';

const MiB = 1024 * 1024;

/**
 * Allocates `rounds` slices with event-loop turns between them (so the cap's timer runs), keeping some
 * survivors; stops early once `enough(peak)` holds. Counted in rounds, not milliseconds, so a slow machine does
 * the same work; the time bound (30 s) only keeps a broken run from hanging.
 */
async function churn(rounds: number, enough: (peak: number) => boolean = () => false): Promise<number> {
  const survivors: object[] = [];
  let peak = newSpaceBytes();
  const until = Date.now() + 30_000;
  for (let round = 0; round < rounds && !enough(peak) && Date.now() < until; round++) {
    for (let i = 0; i < 20_000; i++) {
      const o = { i, s: `x${i}`, a: [i, round] };
      if (i % 50 === 0) survivors.push(o);
    }
    if (survivors.length > 200_000) survivors.length = 0;
    peak = Math.max(peak, newSpaceBytes());
    await turn();
  }
  return peak;
}

test('a user --max-semi-space-size wins: the cap stays inactive', () => {
  const cap = capYoungGeneration({ nodeFlags: ['--max-semi-space-size=4'] });
  assert.equal(cap.active, false);
  const cap2 = capYoungGeneration({ nodeFlags: ['--max_semi_space_size', '4'] });
  assert.equal(cap2.active, false);
});

test('the new space stays within the target under load, and grows past it once the cap is stopped', async () => {
  const target = 4;
  const cap = capYoungGeneration({ targetMb: target, checkEveryMs: 5, nodeFlags: [] });
  assert.equal(cap.active, true);
  const cappedPeak = await churn(250);
  assert.ok(cappedPeak <= target * MiB, `capped new space peaked at ${cappedPeak / MiB} MiB`);
  assert.ok(cappedPeak >= 2 * MiB, `the cap let the new space grow toward the target (${cappedPeak / MiB} MiB)`);
  cap.stop();
  const freePeak = await churn(2000, (peak) => peak > target * MiB);
  assert.ok(freePeak > target * MiB, `uncapped new space peaked at only ${freePeak / MiB} MiB`);
});
