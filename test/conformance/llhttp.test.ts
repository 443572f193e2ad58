// llhttp's own fixtures (../shared/conformance/llhttp) through Skiff's HTTP/1 codec: every fixture is a case.
// A fixture passes when Skiff parses it to the same messages or rejects it where llhttp (strict) rejects it.
// Two kinds of differences are deliberate and asserted as such (see DELIBERATE below and the lenient rule);
// any other difference fails.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readAllFixtures } from './llhttp/fixtures.js';
import { runFixture } from './llhttp/run.js';
import { compare } from './llhttp/compare.js';
import { DELIBERATE } from './llhttp/deliberate.js';

const ROOT = new URL('../../../../shared/conformance/llhttp/test/', import.meta.url);
const fixtures = existsSync(ROOT) ? readAllFixtures(ROOT) : [];

const tally = { pass: 0, onCompletion: 0, lenientOnly: 0, deliberate: 0, missingHostStrict: 0 };

test('the llhttp fixtures are present', () => {
  assert.ok(fixtures.length > 200, `found ${fixtures.length} fixtures under ${ROOT.pathname}`);
});

const seen = new Map<string, number>();
for (const fx of fixtures) {
  const base = `${fx.file} > ${fx.name}`;
  const n = (seen.get(base) ?? 0) + 1;
  seen.set(base, n);
  const id = n > 1 ? `${base} #${n}` : base;
  test(id, () => {
    const out = runFixture(fx);
    if (out.missingHostRejected) tally.missingHostStrict++;
    const v = compare(fx, out);
    if (v.ok) { tally.pass++; if (v.onCompletion) tally.onCompletion++; return; }
    const known = DELIBERATE[id];
    if (known) {
      assert.equal(v.kind, known.kind, `${id}: documented as ${known.kind} (${known.why}), but: ${v.detail}`);
      tally.deliberate++;
      return;
    }
    // Skiff has no lenient modes: input that needs one is rejected, as strict llhttp would.
    if (fx.lenient && v.kind === 'skiff-rejects') { tally.lenientOnly++; return; }
    assert.fail(`${v.kind}: ${v.detail}`);
  });
}

// Every fixture again, its first head delivered in two reads split at every byte: the verdict must not change
// (a head accepted whole is accepted split with the same messages; a head rejected whole is rejected split,
// possibly earlier and for an earlier fault).
test('every fixture split in two at every byte gives the same verdict', () => {
  let runs = 0;
  for (const fx of fixtures) {
    const whole = runFixture(fx);
    const rejected = (o: typeof whole): boolean => o.stop.kind === 'head-error' || o.stop.kind === 'body-error' || o.stop.kind === 'closed';
    for (let split = 1; split < fx.input.length; split++) {
      const parts = runFixture(fx, split);
      runs++;
      const where = `${fx.file} > ${fx.name} split at ${split}`;
      if (rejected(whole)) {
        // A split can only end the run sooner: rejected too, or still waiting for a head that never completes.
        assert.ok(rejected(parts) || parts.stop.kind === 'incomplete', `${where}: ${JSON.stringify(parts.stop)}`);
      } else {
        assert.deepEqual(parts.stop.kind, whole.stop.kind, where);
        assert.deepEqual(parts.messages, whole.messages, where);
      }
    }
  }
  assert.ok(runs > 10_000, `${runs} split runs`);
});

test('summary', () => {
  console.log(`llhttp fixtures: ${fixtures.length}; same result: ${tally.pass} (of which rejected once the unfinished head is ended: ${tally.onCompletion}); lenient-only, rejected by strict Skiff: ` +
    `${tally.lenientOnly}; deliberate differences: ${tally.deliberate}; accepted only because missing Host is allowed in this run: ${tally.missingHostStrict}`);
});
