import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseArgs, CliError } from '../../../src/cli/options.js';

test('--new-space-mb defaults to 2, takes 0..256, rejects anything else', () => {
  assert.equal(parseArgs(['-c', 'x.yaml']).newSpaceMb, 2);
  assert.equal(parseArgs(['-c', 'x.yaml', '--new-space-mb', '0']).newSpaceMb, 0);
  assert.equal(parseArgs(['-c', 'x.yaml', '--new-space-mb=16']).newSpaceMb, 16);
  for (const bad of ['257', '-1', 'lots', '']) {
    assert.throws(() => parseArgs(['-c', 'x.yaml', '--new-space-mb', bad]), CliError, bad);
  }
});

test('--worker-idle-timeout-ms and --worker-min-threads: defaults 30000 and 0, bad values rejected', () => {
  const d = parseArgs(['-c', 'x.yaml']);
  assert.equal(d.workerIdleTimeoutMs, 30_000);
  assert.equal(d.workerMinThreads, 0);
  const o = parseArgs(['-c', 'x.yaml', '--worker-idle-timeout-ms', '500', '--worker-min-threads=2']);
  assert.equal(o.workerIdleTimeoutMs, 500);
  assert.equal(o.workerMinThreads, 2);
  for (const bad of ['0', '-5', 'soon']) {
    assert.throws(() => parseArgs(['-c', 'x.yaml', '--worker-idle-timeout-ms', bad]), CliError, bad);
  }
  assert.throws(() => parseArgs(['-c', 'x.yaml', '--worker-min-threads', '17']), CliError);
});
