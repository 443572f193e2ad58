/**
 * Added latency, measured two ways against the same target:
 *  - closed loop: ../shared/bench/latency-probe.mjs, one connection, one request in flight;
 *  - open loop at a fixed rate: autocannon in a child (fixed_rate.ts), timing every response.
 */
import { fileURLToPath } from 'node:url';
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

const FIXED_RATE_SCRIPT = fileURLToPath(new URL('./fixed_rate.js', import.meta.url));

export async function runFixedRate(port: number, o: FixedRateOptions): Promise<FixedRateResult> {
  const args = [FIXED_RATE_SCRIPT, String(port), String(o.rate), String(o.durationS), String(o.connections)];
  const r = await runToEnd(process.execPath, args, (o.durationS + 30) * 1000);
  if (r.timedOut) throw new Error('fixed-rate run did not finish');
  const line = r.stdout.trim().split('\n').pop() ?? '';
  if (r.code !== 0 || !line.startsWith('{')) throw new Error(`fixed-rate run failed: ${r.stderr.trim() || line}`);
  const result = JSON.parse(line) as FixedRateResult;
  if (result.requests === 0) throw new Error(`no 2xx answers (${result.non2xx} non-2xx, ${result.errors} errors)`);
  return result;
}
