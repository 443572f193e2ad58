#!/usr/bin/env node
// Runs the compiled test suites with node:test. Usage: run-tests.mjs SUITE... (unit, integration, conformance).
// Integration suites run twice: with everything inline (--concurrency 0) and with a worker pool
// (--concurrency 2), as SKIFF_TEST_CONCURRENCY tells test/helpers/skiff.ts.
//
// How many test files run at once follows the machine (os.availableParallelism()), as node:test's own default
// does, but is chosen here per suite: a unit file is one process, so one per core but one (as node's default);
// an integration or conformance file also starts skiff (with up to two worker threads) and its peers, so half
// as many, which keeps a small CI machine from being oversubscribed into timeouts. SKIFF_TEST_FILE_CONCURRENCY
// overrides both. Every test has a 120 s timeout, and each suite run a 40 min bound (a hung hook would
// otherwise hold CI until its own limit): past it the run's whole process group is killed and it fails.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';

const TEST_TIMEOUT_MS = 120_000;
const RUN_TIMEOUT_MS = 40 * 60_000;

const root = fileURLToPath(new URL('..', import.meta.url));
const suites = process.argv.slice(2);

function fileConcurrency(suite) {
  const forced = Number(process.env.SKIFF_TEST_FILE_CONCURRENCY);
  if (Number.isInteger(forced) && forced > 0) return forced;
  const cores = availableParallelism();
  return suite === 'unit' ? Math.max(1, cores - 1) : Math.max(1, Math.floor(cores / 2));
}

/** Runs one suite in its own process group; resolves its exit code (1 when it ran past RUN_TIMEOUT_MS). */
function runSuite(dir, suite, c) {
  return new Promise((resolve) => {
    const args = ['--test', '--test-reporter=spec', `--test-timeout=${TEST_TIMEOUT_MS}`, `--test-concurrency=${fileConcurrency(suite)}`, dir];
    const child = spawn(process.execPath, args, {
      cwd: root, stdio: 'inherit', detached: true, env: { ...process.env, SKIFF_TEST_CONCURRENCY: c },
    });
    const timer = setTimeout(() => {
      console.error(`run-tests: ${dir} (SKIFF_TEST_CONCURRENCY=${c}) still running after ${RUN_TIMEOUT_MS / 60_000} min: killed`);
      try { process.kill(-child.pid, 'SIGKILL'); } catch { /* already gone */ }
    }, RUN_TIMEOUT_MS);
    // Its own process group does not get the terminal's Ctrl-C: pass a stop on to the whole group.
    const stop = (sig) => { try { process.kill(-child.pid, 'SIGKILL'); } catch { /* already gone */ } process.exit(sig === 'SIGINT' ? 130 : 143); };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve(signal !== null ? 1 : code ?? 1);
    });
  });
}

const runs = [];
let failed = false;
for (const suite of suites) {
  const dir = `dist/test/${suite}`;
  if (!existsSync(`${root}/${dir}`)) { console.error(`run-tests: no compiled suite at ${dir} (run npm run build)`); failed = true; continue; }
  const modes = suite === 'integration' ? ['0', '2'] : ['0'];
  for (const c of modes) runs.push({ dir, suite, c });
}
for (const { dir, suite, c } of runs) {
  console.log(`\n# ${dir} (SKIFF_TEST_CONCURRENCY=${c}, ${fileConcurrency(suite)} file(s) at once)`);
  if ((await runSuite(dir, suite, c)) !== 0) failed = true;
}
process.exit(failed ? 1 : 0);
