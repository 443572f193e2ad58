// The environment knobs every macro benchmark reads (bench/README.md lists them per benchmark).

/** A non-negative number from the environment, or `fallback` when unset or empty. */
export function envNumber(name: string, fallback: number): number {
  const v = process.env[name];
  if (v === undefined || v === '') return fallback;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new Error(`${name} must be a non-negative number, got ${JSON.stringify(v)}`);
  return n;
}

/** BENCH_SKIFF_CONCURRENCY: the --concurrency values to run Skiff with, comma-separated. */
export function skiffConcurrencies(fallback: string): number[] {
  return (process.env.BENCH_SKIFF_CONCURRENCY ?? fallback).split(',').filter((s) => s !== '').map(Number);
}

/** BENCH_TARGETS: which targets to run, comma-separated. */
export function benchTargets(fallback: string): Set<string> {
  return new Set((process.env.BENCH_TARGETS ?? fallback).split(',').map((s) => s.trim()));
}
