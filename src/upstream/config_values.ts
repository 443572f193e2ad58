/**
 * Reading the Envoy config values this area needs, with Envoy's defaults. (src/config/values.ts is the
 * project-wide home for these; until it lands these few stay local to src/upstream.)
 */
import type { Duration, UInt32Value } from '../types/envoy.js';
import { ConfigError } from '../common/errors.js';

/** A Duration in milliseconds, or `fallbackMs` when absent. Rejects negative and non-finite values. */
export function durationMs(d: Duration | undefined, fallbackMs: number, path: string): number {
  if (d === undefined) return fallbackMs;
  const seconds = d.seconds ?? 0;
  const nanos = d.nanos ?? 0;
  const ms = seconds * 1000 + nanos / 1e6;
  if (!Number.isFinite(ms) || ms < 0) throw new ConfigError(path, `invalid duration ${JSON.stringify(d)}`);
  return ms;
}

/** A UInt32Value's value, or `fallback` when absent. */
export function u32(v: UInt32Value | undefined, fallback: number, path: string): number {
  if (v === undefined || v.value === undefined) return fallback;
  const n = v.value;
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new ConfigError(path, `not a uint32: ${String(n)}`);
  return n;
}
