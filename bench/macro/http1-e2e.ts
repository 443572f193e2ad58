/**
 * End-to-end HTTP/1 benchmark: Skiff (--concurrency 0, 1, 2) beside nginx, haproxy and
 * @fastify/http-proxy, all in front of the same nginx upstream ("hello\n"), and the upstream direct.
 * For each target: wrk throughput and latency, closed-loop added latency (latency-probe.mjs), open-loop
 * added latency at a fixed rate (autocannon), and Skiff's peak RSS under that load. A target that
 * cannot start prints n/a. Everything started here is stopped on the way out, signals included.
 * How to run and read it: bench/README.md.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { spawnSync, type ChildProcess } from 'node:child_process';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchBootstrap } from './lib/bootstrap.js';
import { freePort, httpGet, peakRssMiB, waitFor } from './lib/net.js';
import { runFixedRate, runProbe } from './lib/probe.js';
import { cleanupNow, installSignalCleanup, onCleanup, runToEnd, spawnTracked, stopChild } from './lib/procs.js';
import { latencyTable, memoryTable, ratioTable, throughputTable, type TargetResult } from './lib/report.js';
import { runWrk } from './lib/wrk.js';
import { benchTargets, envNumber, skiffConcurrencies } from './lib/env.js';

const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const SHARED_BENCH = process.env.SKIFF_SHARED_BENCH ?? fileURLToPath(new URL('../../../../shared/bench/', import.meta.url));
const FASTIFY_SCRIPT = fileURLToPath(new URL('./lib/fastify_proxy.js', import.meta.url));

const quick = process.env.BENCH_QUICK === '1';
const cfg = {
  durationS: envNumber('BENCH_DURATION_S', quick ? 2 : 10),
  warmupS: envNumber('BENCH_WARMUP_S', quick ? 1 : 3),
  threads: envNumber('BENCH_THREADS', 1),
  connections: envNumber('BENCH_CONNECTIONS', 64),
  probeRequests: envNumber('BENCH_PROBE_N', quick ? 1000 : 4000),
  rate: envNumber('BENCH_RATE', 2000),
  rateDurationS: envNumber('BENCH_RATE_DURATION_S', quick ? 3 : 10),
  rateWarmupS: envNumber('BENCH_RATE_WARMUP_S', quick ? 1 : 2),
  rateConnections: envNumber('BENCH_RATE_CONNECTIONS', 1),
  skiffConcurrency: skiffConcurrencies('0,1,2'),
  targets: benchTargets('direct,nginx,haproxy,fastify,skiff'),
  upstreamPort: envNumber('UPSTREAM_PORT', 18080),
  nginxPort: envNumber('NGINX_PORT', 18081),
  haproxyPort: envNumber('HAPROXY_PORT', 18082),
  dir: process.env.BENCH_DIR ?? join(REPO_ROOT, '.bench-tmp', 'macro'),
};

/** A running target: where to send load, which process to weigh, how to stop it. */
interface Started { port: number; pid?: number; stop(): Promise<void>; log(): string; exited(): string | undefined }

interface Target { name: string; kind: TargetResult['kind']; start(): Promise<Started> }

const HELLO = (r: { status: number; body: string }): boolean => r.status === 200 && r.body === 'hello\n';

/** Keeps the last `max` characters a child wrote to stderr, for error reports. */
function tail(child: ChildProcess, max = 4000): () => string {
  let text = '';
  child.stderr?.on('data', (c: Buffer) => { text = (text + c.toString()).slice(-max); });
  child.stdout?.on('data', () => {});
  return () => text;
}

async function ensurePeers(): Promise<void> {
  const ports = [cfg.upstreamPort, cfg.nginxPort, cfg.haproxyPort];
  const up = await Promise.all(ports.map((p) => httpGet(p, '/', 500).then(HELLO, () => false)));
  if (up.every(Boolean)) { console.log('peers: already running on', ports.join(', '), '(reused, left running)'); return; }
  const script = join(SHARED_BENCH, 'peers.sh');
  if (!existsSync(script)) throw new Error(`peers.sh not found at ${script} (set SKIFF_SHARED_BENCH)`);
  const peersDir = join(cfg.dir, 'peers');
  const env = { ...process.env, UPSTREAM_PORT: String(cfg.upstreamPort), NGINX_PORT: String(cfg.nginxPort), HAPROXY_PORT: String(cfg.haproxyPort) };
  onCleanup(() => { spawnSync('sh', [script, 'stop', peersDir], { stdio: 'ignore', env, timeout: 10_000 }); });
  const r = await runToEnd('sh', [script, 'start', peersDir], 30_000, { env });
  if (r.code !== 0) throw new Error(`peers.sh start failed (${r.code}): ${r.stderr.trim() || r.stdout.trim()}`);
  for (const p of ports) await waitFor(p, '/', HELLO, 10_000);
  console.log(`peers: started (upstream :${cfg.upstreamPort}, nginx :${cfg.nginxPort}, haproxy :${cfg.haproxyPort})`);
}

const fixedPort = (port: number): (() => Promise<Started>) => async () => ({ port, stop: async () => {}, log: () => '', exited: () => undefined });

/** The exit code or signal of a child that is gone, else undefined. */
const exitOf = (child: ChildProcess) => (): string | undefined =>
  child.exitCode !== null ? `code ${child.exitCode}` : child.signalCode !== null ? `signal ${child.signalCode}` : undefined;

async function startFastify(): Promise<Started> {
  const port = await freePort();
  const child = spawnTracked(process.execPath, [FASTIFY_SCRIPT, String(port), String(cfg.upstreamPort)]);
  const log = tail(child);
  try {
    await waitFor(port, '/', HELLO, 15_000, child);
  } catch (e) {
    await stopChild(child);
    throw new Error(`${(e as Error).message}\n${log()}`);
  }
  return { port, pid: child.pid, stop: () => stopChild(child), log, exited: exitOf(child) };
}

function startSkiff(concurrency: number): () => Promise<Started> {
  return async () => {
    const cli = join(REPO_ROOT, 'dist', 'src', 'cli', 'main.js');
    if (!existsSync(cli)) throw new Error('Skiff CLI not built (dist/src/cli/main.js missing)');
    const [listenPort, adminPort] = [await freePort(), await freePort()];
    const file = join(cfg.dir, `skiff-c${concurrency}.json`);
    writeFileSync(file, JSON.stringify(benchBootstrap({ listenPort, adminPort, upstreamPort: cfg.upstreamPort }), null, 2));
    const args = [join(REPO_ROOT, 'bin', 'skiff.js'), '-c', file, '--concurrency', String(concurrency), '--log-level', 'warn'];
    const child = spawnTracked(process.execPath, args, { cwd: REPO_ROOT });
    const log = tail(child);
    try {
      await waitFor(adminPort, '/ready', (r) => r.status === 200, 20_000, child);
      await waitFor(listenPort, '/', HELLO, 5_000, child);
    } catch (e) {
      await stopChild(child);
      throw new Error(`${(e as Error).message}\n${log()}`);
    }
    return { port: listenPort, pid: child.pid, stop: () => stopChild(child, 10_000), log, exited: exitOf(child) };
  };
}

function plan(): Target[] {
  const all: Target[] = [
    { name: 'direct (nginx upstream)', kind: 'direct', start: fixedPort(cfg.upstreamPort) },
    { name: 'nginx proxy', kind: 'nginx', start: fixedPort(cfg.nginxPort) },
    { name: 'haproxy', kind: 'haproxy', start: fixedPort(cfg.haproxyPort) },
    { name: '@fastify/http-proxy', kind: 'fastify', start: startFastify },
    ...cfg.skiffConcurrency.map((n): Target => ({ name: `skiff --concurrency ${n}`, kind: 'skiff', start: startSkiff(n) })),
  ];
  return all.filter((t) => cfg.targets.has(t.kind));
}

/** Runs `fn` on a freshly started target and stops it again; false (with the reason recorded) if it did not start. */
async function withTarget(t: Target, result: TargetResult, errors: string[], fn: (s: Started) => Promise<void>): Promise<boolean> {
  let s: Started;
  try {
    s = await t.start();
  } catch (e) {
    errors.push(`failed to start: ${(e as Error).message}`);
    return false;
  }
  try {
    await fn(s);
    const gone = s.exited();
    if (gone) errors.push(`exited during the run (${gone}); stderr tail:\n${s.log().slice(-1500)}`);
    if (!gone && s.pid !== undefined && (result.wrk?.non2xx ?? 0) > 0) errors.push(`non-2xx answers; stderr tail:\n${s.log().slice(-500)}`);
  } finally {
    await s.stop();
  }
  return true;
}

/**
 * Two sessions per target, each on a freshly started process (targets on fixed ports are the same process):
 *  1. the fixed rate: a short warm-up at that rate, then the measured run; VmHWM then is the peak of a process
 *     that has only seen that load (the RSS target);
 *  2. wrk warm-up and throughput, then the closed-loop probe; VmHWM then is the peak of the whole session.
 */
async function measure(t: Target): Promise<TargetResult> {
  const result: TargetResult = { name: t.name, kind: t.kind };
  const errors: string[] = [];
  const step = async (what: string, fn: () => Promise<void>): Promise<void> => {
    try { await fn(); } catch (e) { errors.push(`${what}: ${(e as Error).message}`); }
  };
  process.stdout.write(`- ${t.name}: `);
  const rate = { rate: cfg.rate, connections: cfg.rateConnections };
  const started = await withTarget(t, result, errors, async (s) => {
    if (cfg.rateWarmupS > 0) await step('fixed-rate warm-up', async () => { await runFixedRate(s.port, { ...rate, durationS: cfg.rateWarmupS }); });
    await step('fixed rate', async () => { result.fixedRate = await runFixedRate(s.port, { ...rate, durationS: cfg.rateDurationS }); });
    if (!s.exited()) result.rateRssMiB = await peakRssMiB(s.pid);
  });
  if (started) {
    process.stdout.write(`${result.fixedRate ? `${result.fixedRate.achievedRps}/s fixed rate` : 'fixed rate n/a'}, `);
    await withTarget(t, result, errors, async (s) => {
      const o = { threads: cfg.threads, connections: cfg.connections };
      if (cfg.warmupS > 0) await step('warm-up', async () => { await runWrk(s.port, { ...o, durationS: cfg.warmupS }); });
      await step('wrk', async () => { result.wrk = await runWrk(s.port, { ...o, durationS: cfg.durationS }); });
      process.stdout.write(`${result.wrk ? Math.round(result.wrk.requestsPerSec) : 'n/a'} req/s, `);
      await step('latency probe', async () => { result.probe = await runProbe(join(SHARED_BENCH, 'latency-probe.mjs'), s.port, cfg.probeRequests); });
      if (!s.exited()) result.peakRssMiB = await peakRssMiB(s.pid);
    });
  }
  if (errors.length) result.error = errors.join('\n');
  console.log(!started ? 'n/a' : errors.length ? `done with errors (${errors[0].split('\n')[0]})` : 'done');
  return result;
}

async function main(): Promise<void> {
  installSignalCleanup();
  mkdirSync(cfg.dir, { recursive: true });
  const load = os.loadavg().map((l) => l.toFixed(2)).join(' ');
  console.log(`\n## HTTP/1 end to end: wrk -t${cfg.threads} -c${cfg.connections} -d${cfg.durationS}s (warm-up ${cfg.warmupS}s), GET / -> nginx "hello\\n"`);
  console.log(`node ${process.version}, ${os.cpus().length} CPUs, load average ${load}${quick ? ', BENCH_QUICK' : ''}\n`);
  await ensurePeers();
  const results: TargetResult[] = [];
  for (const t of plan()) results.push(await measure(t));

  console.log('\n### Throughput (wrk)\n');
  console.log(throughputTable(results));
  console.log('\n### Skiff against the others (req/s ratios)\n');
  console.log(ratioTable(results));
  console.log(`\n### Added latency: closed loop (1 connection, ${cfg.probeRequests} requests) and open loop at ${cfg.rate}/s for ${cfg.rateDurationS}s (${cfg.rateConnections} connections)\n`);
  console.log(latencyTable(results, cfg.rate));
  console.log(`\n### Peak memory (VmHWM): a fresh process after only the ${cfg.rate}/s run, and a fresh process after wrk -c${cfg.connections} + probe\n`);
  console.log(memoryTable(results, cfg.rate));
  const failed = results.filter((r) => r.error);
  if (failed.length) {
    console.log('\n### Notes\n');
    for (const r of failed) console.log(`${r.name}:\n  ${r.error!.replace(/\n/g, '\n  ')}`);
  }
  const out = process.env.BENCH_JSON ?? join(cfg.dir, 'http1-e2e.json');
  writeFileSync(out, JSON.stringify({ when: new Date().toISOString(), config: { ...cfg, targets: [...cfg.targets] }, results }, null, 2));
  console.log(`\nraw figures: ${out}`);
}

try {
  await main();
} catch (e) {
  console.error(`\nhttp1-e2e: ${(e as Error).message}`);
  process.exitCode = 1;
} finally {
  cleanupNow();
}
