/**
 * Small readers for decoded Envoy values (src/types/envoy.ts conventions) and a strict field check: a
 * field Skiff does not implement is rejected by name rather than ignored.
 */
import { ConfigError, UnsupportedConfigError } from '../common/errors.js';
import type { Duration } from '../types/envoy.js';

/** BoolValue ({ value }) or a plain boolean; `fallback` when absent. */
export function boolValue(v: unknown, fallback: boolean): boolean {
  if (v === undefined || v === null) return fallback;
  if (typeof v === 'boolean') return v;
  const inner = (v as { value?: unknown }).value;
  return typeof inner === 'boolean' ? inner : fallback;
}

/** UInt32Value ({ value }) or a plain number; `fallback` when absent. */
export function u32Value(v: unknown, fallback: number): number {
  if (v === undefined || v === null) return fallback;
  if (typeof v === 'number') return v;
  const inner = (v as { value?: unknown }).value;
  return typeof inner === 'number' ? inner : fallback;
}

/** Duration in milliseconds. */
export function durationMs(d: Duration | undefined, path: string): number | undefined {
  if (d === undefined) return undefined;
  const s = d.seconds ?? 0;
  const n = d.nanos ?? 0;
  if (!Number.isFinite(s) || !Number.isFinite(n) || s < 0 || n < 0) throw new ConfigError(path, 'duration must be a non-negative { seconds, nanos }');
  return s * 1000 + Math.floor(n / 1e6);
}

/** Throws UnsupportedConfigError for the first set field of `obj` not in `allowed`. */
export function checkFields(obj: object, allowed: readonly string[], path: string): void {
  for (const [key, value] of Object.entries(obj)) {
    if (value === undefined || allowed.includes(key)) continue;
    throw new UnsupportedConfigError(`${path}.${key}`, 'field');
  }
}

export function requireString(v: unknown, path: string, what = 'a non-empty string'): string {
  if (typeof v !== 'string' || v.length === 0) throw new ConfigError(path, `must be ${what}`);
  return v;
}
