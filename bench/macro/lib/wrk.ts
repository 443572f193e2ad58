/** Runs `wrk --latency` against a target and reads its summary. */
import { runToEnd } from './procs.js';

export interface WrkResult {
  requestsPerSec: number;
  requests: number;
  /** Latency percentiles in microseconds, from `--latency`. */
  p50Us: number;
  p75Us: number;
  p90Us: number;
  p99Us: number;
  /** Responses that were not 2xx or 3xx. */
  non2xx: number;
  /** Socket errors: connect + read + write + timeout. */
  socketErrors: number;
}

const UNIT_US: Record<string, number> = { us: 1, ms: 1000, s: 1_000_000, m: 60_000_000 };

/** `726.00us`, `0.94ms`, `1.02s` -> microseconds. */
export function durationToUs(text: string): number {
  const m = /^([\d.]+)(us|ms|s|m)$/.exec(text.trim());
  if (!m) throw new Error(`not a wrk duration: ${JSON.stringify(text)}`);
  return Number(m[1]) * UNIT_US[m[2]];
}

export function parseWrk(out: string): WrkResult {
  const rps = /^Requests\/sec:\s+([\d.]+)/m.exec(out);
  if (!rps) throw new Error(`wrk printed no Requests/sec:\n${out}`);
  const pct = (p: string): number => {
    const m = new RegExp(`^\\s+${p}%\\s+(\\S+)`, 'm').exec(out);
    if (!m) throw new Error(`wrk printed no ${p}% latency (was --latency passed?)`);
    return durationToUs(m[1]);
  };
  const total = /^\s*(\d+) requests in /m.exec(out);
  const non2xx = /^\s*Non-2xx or 3xx responses:\s+(\d+)/m.exec(out);
  const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  return {
    requestsPerSec: Number(rps[1]),
    requests: total ? Number(total[1]) : 0,
    p50Us: pct('50'), p75Us: pct('75'), p90Us: pct('90'), p99Us: pct('99'),
    non2xx: non2xx ? Number(non2xx[1]) : 0,
    socketErrors: sock ? sock.slice(1, 5).reduce((a, b) => a + Number(b), 0) : 0,
  };
}

export interface WrkOptions { threads: number; connections: number; durationS: number }

export async function runWrk(port: number, o: WrkOptions): Promise<WrkResult> {
  const args = [`-t${o.threads}`, `-c${o.connections}`, `-d${o.durationS}s`, '--latency', `http://127.0.0.1:${port}/`];
  const r = await runToEnd('wrk', args, (o.durationS + 30) * 1000);
  if (r.timedOut) throw new Error(`wrk ${args.join(' ')} did not finish`);
  if (r.code !== 0) throw new Error(`wrk exited ${r.code}: ${r.stderr.trim() || r.stdout.trim()}`);
  return parseWrk(r.stdout);
}
