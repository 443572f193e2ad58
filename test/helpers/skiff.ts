/**
 * Starts the real `skiff` command as a child process for integration tests: writes the bootstrap to a
 * temporary file, waits for the admin address (--admin-address-path) and /ready, and reads the bound
 * listener ports from /listeners?format=json. `stop()` sends SIGTERM and waits for the exit code.
 * SKIFF_TEST_CONCURRENCY (set by scripts/run-tests.mjs) picks --concurrency unless a test sets it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync, readFileSync, existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { START_PATIENCE_MS } from './wait.js';

export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const SKIFF_BIN = join(REPO_ROOT, 'bin', 'skiff.js');

export function testConcurrency(): number {
  return Number(process.env.SKIFF_TEST_CONCURRENCY ?? '0');
}

export interface RunningSkiff {
  readonly proc: ChildProcess;
  readonly adminUrl: string;
  /** Port a named listener is bound to. */
  port(listenerName: string): number;
  /** Everything the process wrote to stderr so far. */
  stderr(): string;
  /** SIGTERM, then the exit code (SIGKILL after `timeoutMs`). */
  stop(timeoutMs?: number): Promise<number | null>;
}

export interface StartOptions {
  concurrency?: number;
  args?: string[];
  /** Bootstrap as an object (written as JSON) or YAML text. */
  config: object | string;
  timeoutMs?: number;
  /** false: return once the admin answers, without waiting for /ready (a server still warming); ports are then those bound so far. */
  waitReady?: boolean;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function startSkiff(opts: StartOptions): Promise<RunningSkiff> {
  const dir = mkdtempSync(join(tmpdir(), 'skiff-test-'));
  const isYaml = typeof opts.config === 'string';
  const configPath = join(dir, isYaml ? 'bootstrap.yaml' : 'bootstrap.json');
  writeFileSync(configPath, isYaml ? (opts.config as string) : JSON.stringify(opts.config));
  const addrPath = join(dir, 'admin-address');
  const concurrency = opts.concurrency ?? testConcurrency();
  // With workers, every route match goes through them (batch of 1 and up) so the suite exercises that path.
  const offload = concurrency > 0 ? ['--offload-min-batch', '1'] : [];
  const args = [SKIFF_BIN, '-c', configPath, '--admin-address-path', addrPath, '--drain-time-s', '2',
    '--concurrency', String(concurrency), ...offload, ...(opts.args ?? [])];
  const proc = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  proc.stderr!.on('data', (c: Buffer) => { err += c.toString(); });
  proc.stdout!.resume();
  const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
  let dead = false;
  void exited.then(() => { dead = true; });
  const stop = async (timeoutMs = 10_000): Promise<number | null> => {
    if (!dead) proc.kill('SIGTERM');
    const t = setTimeout(() => proc.kill('SIGKILL'), timeoutMs);
    const code = await exited;
    clearTimeout(t);
    rmSync(dir, { recursive: true, force: true });
    return code;
  };
  const deadline = Date.now() + (opts.timeoutMs ?? START_PATIENCE_MS);
  try {
    while (!existsSync(addrPath) || readFileSync(addrPath, 'utf8') === '') {
      if (dead) throw new Error(`skiff exited before start-up:\n${err}`);
      if (Date.now() > deadline) throw new Error(`skiff did not write its admin address in time:\n${err}`);
      await sleep(25);
    }
    const adminUrl = `http://${readFileSync(addrPath, 'utf8').trim()}`;
    for (;;) {
      const r = await fetch(`${adminUrl}/ready`).catch(() => undefined);
      if (r?.status === 200 || (opts.waitReady === false && r !== undefined)) break;
      if (Date.now() > deadline) throw new Error(`skiff not ready in time:\n${err}`);
      await sleep(25);
    }
    const info = (await (await fetch(`${adminUrl}/listeners?format=json`)).json()) as {
      listener_statuses: { name: string; local_address: { socket_address: { port_value: number } } }[];
    };
    const ports = new Map(info.listener_statuses.map((l) => [l.name, l.local_address.socket_address.port_value]));
    return {
      proc, adminUrl, stderr: () => err, stop,
      port(name: string): number {
        const p = ports.get(name);
        if (p === undefined) throw new Error(`no listener named ${name}`);
        return p;
      },
    };
  } catch (e) {
    await stop();
    throw e;
  }
}

/** Runs `skiff ARGS` to completion; for --mode validate and usage errors. */
export function runSkiff(args: string[], timeoutMs = START_PATIENCE_MS): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [SKIFF_BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    proc.stdout!.on('data', (c: Buffer) => { stdout += c.toString(); });
    proc.stderr!.on('data', (c: Buffer) => { stderr += c.toString(); });
    const t = setTimeout(() => { proc.kill('SIGKILL'); reject(new Error(`skiff ${args.join(' ')} timed out`)); }, timeoutMs);
    proc.once('exit', (code) => { clearTimeout(t); resolve({ code, stdout, stderr }); });
  });
}
