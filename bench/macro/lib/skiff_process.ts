/**
 * Skiff as a benchmark target: a bootstrap written to a file, `bin/skiff.js -c FILE --concurrency N` started as a
 * tracked child (stopped on the way out whatever happens), ready once its admin answers /ready.
 */
import type { ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { httpGet } from './net.js';
import { spawnTracked, stopChild } from './procs.js';

const REPO_ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
/** How long Skiff may take to answer /ready (polled every 100 ms). */
const READY_TRIES = 100;

/**
 * Writes `bootstrap` to `file`, starts Skiff on it and waits until /ready on `adminPort` (the bootstrap's admin
 * port) answers 200; throws with Skiff's stderr when it exits or is not ready in time. Returns its stop function.
 */
export async function startSkiffProcess(bootstrap: object, file: string, adminPort: number, concurrency: number): Promise<{ child: ChildProcess; stop: () => Promise<void> }> {
  writeFileSync(file, JSON.stringify(bootstrap));
  const child = spawnTracked(process.execPath, [join(REPO_ROOT, 'bin', 'skiff.js'), '-c', file, '--concurrency', String(concurrency), '--log-level', 'warn']);
  let err = '';
  child.stderr?.on('data', (c: Buffer) => { err += c.toString(); });
  for (let i = 0; i < READY_TRIES; i++) {
    const r = await httpGet(adminPort, '/ready').catch(() => undefined);
    if (r?.status === 200) return { child, stop: () => stopChild(child) };
    if (child.exitCode !== null) throw new Error(`skiff exited at start-up: ${err}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  await stopChild(child);
  throw new Error(`skiff did not start: ${err}`);
}
