/**
 * Child processes of a benchmark run: every process started through here is remembered, and stopped
 * on the way out whatever happens (normal end, exception, SIGINT/SIGTERM), along with any extra
 * clean-up registered (the peer proxies).
 */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';

const live = new Set<ChildProcess>();
const cleanups: (() => void)[] = [];
let installed = false;

export function spawnTracked(cmd: string, args: readonly string[], opts: SpawnOptions = {}): ChildProcess {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], ...opts });
  live.add(child);
  child.once('exit', () => live.delete(child));
  child.once('error', () => live.delete(child));
  return child;
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves once the process has exited. */
export function stopChild(child: ChildProcess, graceMs = 5000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => { clearTimeout(timer); resolve(); });
    child.kill('SIGTERM');
  });
}

/** Registers clean-up that must run even on a signal (synchronous: it may run inside 'exit'). */
export function onCleanup(fn: () => void): void {
  cleanups.push(fn);
}

/** Kills every child still running and runs the clean-ups, once. */
export function cleanupNow(): void {
  for (const c of live) { try { c.kill('SIGKILL'); } catch { /* already gone */ } }
  live.clear();
  while (cleanups.length > 0) {
    const fn = cleanups.pop()!;
    try { fn(); } catch (e) { process.stderr.write(`bench cleanup: ${(e as Error).message}\n`); }
  }
}

export function installSignalCleanup(): void {
  if (installed) return;
  installed = true;
  process.once('exit', cleanupNow);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(sig, () => { process.stderr.write(`\nbench: ${sig}, stopping everything\n`); cleanupNow(); process.exit(130); });
  }
}

/** Runs a command to completion, collecting stdout and stderr, killed after `timeoutMs`. */
export function runToEnd(cmd: string, args: readonly string[], timeoutMs: number, opts: SpawnOptions = {}):
  Promise<{ code: number | null; stdout: string; stderr: string; timedOut: boolean }> {
  return new Promise((resolve) => {
    const child = spawnTracked(cmd, args, opts);
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout?.on('data', (c: Buffer) => { stdout += c.toString(); });
    child.stderr?.on('data', (c: Buffer) => { stderr += c.toString(); });
    const timer = setTimeout(() => { timedOut = true; child.kill('SIGKILL'); }, timeoutMs);
    child.once('error', (e) => { clearTimeout(timer); resolve({ code: null, stdout, stderr: stderr + e.message, timedOut }); });
    child.once('close', (code) => { clearTimeout(timer); resolve({ code, stdout, stderr, timedOut }); });
  });
}
