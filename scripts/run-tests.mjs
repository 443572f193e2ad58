#!/usr/bin/env node
// Runs the compiled test suites with node:test. Usage: run-tests.mjs SUITE... (unit, integration, conformance).
// Integration suites run twice: with everything inline (--concurrency 0) and with a worker pool
// (--concurrency 2), as SKIFF_TEST_CONCURRENCY tells test/helpers/skiff.ts.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const suites = process.argv.slice(2);
const runs = [];
let failedSetup = false;
for (const suite of suites) {
  const dir = `dist/test/${suite}`;
  if (!existsSync(`${root}/${dir}`)) { console.error(`run-tests: no compiled suite at ${dir} (run npm run build)`); failedSetup = true; continue; }
  const modes = suite === 'integration' ? ['0', '2'] : ['0'];
  for (const c of modes) runs.push({ dir, c });
}
let failed = failedSetup;
for (const { dir, c } of runs) {
  console.log(`\n# ${dir} (SKIFF_TEST_CONCURRENCY=${c})`);
  const r = spawnSync(process.execPath, ['--test', '--test-reporter=spec', '--test-timeout=120000', dir], {
    cwd: root, stdio: 'inherit', env: { ...process.env, SKIFF_TEST_CONCURRENCY: c },
  });
  if (r.status !== 0) failed = true;
}
process.exit(failed ? 1 : 0);
