/**
 * Added latency, measured two ways against the same target:
 *  - closed loop: ../shared/bench/latency-probe.mjs, one connection, one request in flight;
 *  - open loop at a fixed rate: h2load --rps (requests released on a timer whatever the answers do), timing
 *    every response in µs through its per-request log.
 *
 * Why not autocannon's overallRate: autocannon resets each connection's quota once a second and then sends
 * that quota back to back, so "2000/s over 8 connections" is a closed loop of 8 in flight for part of every
 * second, and its p50 measures queueing behind 7 other requests rather than the latency a request adds.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { runToEnd } from './procs.js';

export interface Percentiles { p50Us: number; p90Us: number; p99Us: number }

export function parseProbe(out: string): Percentiles {
  const m = /^(\d+) (\d+) (\d+)\s*$/m.exec(out);
  if (!m) throw new Error(`latency probe printed ${JSON.stringify(out.trim())}`);
  return { p50Us: Number(m[1]), p90Us: Number(m[2]), p99Us: Number(m[3]) };
}

export async function runProbe(probeScript: string, port: number, requests: number): Promise<Percentiles> {
  // The probe waits forever on a peer that closes quietly, so it gets a budget of 5 ms a request.
  const r = await runToEnd(process.execPath, [probeScript, String(port), String(requests)], 30_000 + requests * 5);
  if (r.timedOut) throw new Error('latency probe did not finish');
  if (r.code !== 0) throw new Error(`latency probe failed: ${r.stdout.trim()} ${r.stderr.trim()}`);
  return parseProbe(r.stdout);
}

export interface FixedRateResult extends Percentiles { requests: number; achievedRps: number; non2xx: number; errors: number }

export interface FixedRateOptions { rate: number; durationS: number; connections: number }

/** Percentiles and counts from h2load's per-request log (start µs, status, duration µs; tab separated). */
export function parseRequestLog(text: string, durationS: number): FixedRateResult {
  const times: number[] = [];
  let non2xx = 0;
  let errors = 0;
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const [, status, duration] = line.split('\t').map(Number);
    if (!Number.isFinite(status) || !(duration >= 0)) continue;
    // h2load logs a request that got no answer with status -1 (or 0).
    if (status <= 0) errors++;
    else if (status < 200 || status >= 300) non2xx++;
    else times.push(duration);
  }
  times.sort((a, b) => a - b);
  const n = times.length;
  const q = (p: number): number => (n === 0 ? NaN : times[Math.min(n - 1, Math.floor(p * n))]);
  return { p50Us: q(0.5), p90Us: q(0.9), p99Us: q(0.99), requests: n, achievedRps: Math.round(n / durationS), non2xx, errors };
}

/**
 * Open loop at `rate` requests a second for `durationS` over `connections` keep-alive connections (h2load
 * --h1 --rps per connection). One connection is the default: h2load releases the requests due on each timer
 * tick, and on one connection they go one after another, so each one's time is the latency the target adds
 * rather than queueing behind requests released with it.
 */
export async function runFixedRate(port: number, o: FixedRateOptions): Promise<FixedRateResult> {
  const dir = mkdtempSync(join(os.tmpdir(), 'skiff-open-loop-'));
  try {
    const log = join(dir, 'requests.tsv');
    const perConnection = Math.max(1, Math.round(o.rate / o.connections));
    const args = ['--h1', '-c', String(o.connections), '--rps', String(perConnection), '-D', String(o.durationS),
      '--log-file', log, `http://127.0.0.1:${port}/`];
    const r = await runToEnd('h2load', args, (o.durationS + 30) * 1000);
    if (r.timedOut) throw new Error('fixed-rate run did not finish');
    if (r.code !== 0) throw new Error(`h2load failed (${r.code}): ${r.stderr.trim() || r.stdout.trim().split('\n').pop()}`);
    const result = parseRequestLog(readFileSync(log, 'latin1'), o.durationS);
    if (result.requests === 0) throw new Error(`no 2xx answers (${result.non2xx} non-2xx, ${result.errors} errors)`);
    return result;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
