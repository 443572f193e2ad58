/**
 * Tables for the end-to-end benchmark: throughput, ratios against the targets in bench/README.md,
 * added latency (closed loop and fixed rate) and Skiff's peak memory. A target that failed prints n/a.
 */
import type { WrkResult } from './wrk.js';
import type { Percentiles, FixedRateResult } from './probe.js';

export interface TargetResult {
  name: string;
  kind: 'direct' | 'nginx' | 'haproxy' | 'fastify' | 'skiff';
  /** Why the target has no figures (failed to start, answered wrongly, ...). */
  error?: string;
  wrk?: WrkResult;
  probe?: Percentiles;
  fixedRate?: FixedRateResult;
  /** VmHWM of a process that has only seen the fixed-rate load (its warm-up and the measured run). */
  rateRssMiB?: number;
  /** VmHWM of a process after the wrk warm-up, the wrk run and the closed-loop probe. */
  peakRssMiB?: number;
}

/** Targets the README states; checked against every Skiff row. */
export const GOALS = { vsFastify: 3, vsNginx: 0.6, addedP50Us: 100, rssMiB: 80 } as const;

const NA = 'n/a';

export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ').trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

export function fmtUs(us: number | undefined): string {
  if (us === undefined || !Number.isFinite(us)) return NA;
  return us >= 10_000 ? `${(us / 1000).toFixed(1)}ms` : us >= 1000 ? `${(us / 1000).toFixed(2)}ms` : `${Math.round(us)}us`;
}

const fmtNum = (n: number | undefined, digits = 0): string => (n === undefined || !Number.isFinite(n) ? NA : n.toFixed(digits));

/** Requests that were not clean 2xx answers; more than 1% makes a throughput figure meaningless. */
function badCount(w: WrkResult): number { return w.non2xx + w.socketErrors; }
export function isClean(w: WrkResult | undefined): w is WrkResult {
  return !!w && w.requests > 0 && badCount(w) <= w.requests * 0.01;
}

export function throughputTable(results: readonly TargetResult[]): string {
  return table(['target', 'req/s', 'p50', 'p99', 'non-2xx+err', 'note'], results.map((r) => [
    r.name,
    fmtNum(r.wrk?.requestsPerSec),
    fmtUs(r.wrk?.p50Us),
    fmtUs(r.wrk?.p99Us),
    r.wrk ? String(badCount(r.wrk)) : NA,
    r.error ? r.error.split('\n')[0].slice(0, 70) : r.wrk && !isClean(r.wrk) ? 'too many errors: figures not comparable' : '',
  ]));
}

function ratio(a: TargetResult, b: TargetResult | undefined): number | undefined {
  if (!isClean(a.wrk) || !b || !isClean(b.wrk)) return undefined;
  return a.wrk.requestsPerSec / b.wrk.requestsPerSec;
}

const verdict = (ok: boolean | undefined): string => (ok === undefined ? NA : ok ? 'ok' : 'MISS');

export function ratioTable(results: readonly TargetResult[]): string {
  const by = (k: TargetResult['kind']) => results.find((r) => r.kind === k);
  const nginx = by('nginx');
  const haproxy = by('haproxy');
  const fastify = by('fastify');
  return table(['skiff', 'Skiff/nginx', 'Skiff/haproxy', 'Skiff/fastify', `>=${GOALS.vsNginx}x nginx`, `>=${GOALS.vsFastify}x fastify`],
    results.filter((r) => r.kind === 'skiff').map((s) => {
      const n = ratio(s, nginx);
      const f = ratio(s, fastify);
      return [s.name, fmtNum(n, 2), fmtNum(ratio(s, haproxy), 2), fmtNum(f, 2),
        verdict(n === undefined ? undefined : n >= GOALS.vsNginx), verdict(f === undefined ? undefined : f >= GOALS.vsFastify)];
    }));
}

export function latencyTable(results: readonly TargetResult[], rate: number): string {
  const direct = results.find((r) => r.kind === 'direct');
  const added = (v: number | undefined, base: number | undefined): number | undefined =>
    v === undefined || base === undefined || !Number.isFinite(v) || !Number.isFinite(base) ? undefined : v - base;
  return table(['target', 'probe p50', 'p90', 'p99', 'added p50', `@${rate}/s p50`, 'p99', 'added p50', 'achieved/s', `added<=${GOALS.addedP50Us}us`],
    results.map((r) => {
      const addedFixed = added(r.fixedRate?.p50Us, direct?.fixedRate?.p50Us);
      const isProxy = r.kind !== 'direct';
      return [
        r.name, fmtUs(r.probe?.p50Us), fmtUs(r.probe?.p90Us), fmtUs(r.probe?.p99Us),
        isProxy ? fmtUs(added(r.probe?.p50Us, direct?.probe?.p50Us)) : '-',
        fmtUs(r.fixedRate?.p50Us), fmtUs(r.fixedRate?.p99Us),
        isProxy ? fmtUs(addedFixed) : '-',
        fmtNum(r.fixedRate?.achievedRps),
        r.kind === 'skiff' ? verdict(addedFixed === undefined ? undefined : addedFixed <= GOALS.addedP50Us) : '',
      ];
    }));
}

export function memoryTable(results: readonly TargetResult[], rate = 2000): string {
  const mib = (v: number | undefined): string => (v === undefined ? NA : `${v.toFixed(1)} MiB`);
  return table(['process', `peak RSS, ${rate}/s only`, `<=${GOALS.rssMiB} MB`, 'peak RSS, wrk + probe'],
    results.filter((r) => r.kind === 'skiff' || r.kind === 'fastify').map((r) => [
      r.name,
      mib(r.rateRssMiB),
      r.kind === 'skiff' ? verdict(r.rateRssMiB === undefined ? undefined : r.rateRssMiB <= GOALS.rssMiB) : '',
      mib(r.peakRssMiB),
    ]));
}
