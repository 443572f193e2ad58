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

test('summary', () => {
  console.log(`llhttp fixtures: ${fixtures.length}; same result: ${tally.pass} (of which rejected once the unfinished head is ended: ${tally.onCompletion}); lenient-only, rejected by strict Skiff: ` +
    `${tally.lenientOnly}; deliberate differences: ${tally.deliberate}; accepted only because missing Host is allowed in this run: ${tally.missingHostStrict}`);
});
