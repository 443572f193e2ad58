import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseArgs, CliError } from '../../../src/cli/options.js';

test('--new-space-mb defaults to 8, takes 0..256, rejects anything else', () => {
  assert.equal(parseArgs(['-c', 'x.yaml']).newSpaceMb, 8);
  assert.equal(parseArgs(['-c', 'x.yaml', '--new-space-mb', '0']).newSpaceMb, 0);
  assert.equal(parseArgs(['-c', 'x.yaml', '--new-space-mb=16']).newSpaceMb, 16);
  for (const bad of ['257', '-1', 'lots', '']) {
    assert.throws(() => parseArgs(['-c', 'x.yaml', '--new-space-mb', bad]), CliError, bad);
  }
});
