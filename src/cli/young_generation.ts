/**
 * Caps V8's young generation of the process from inside it.
 *
 * Why: under load V8 grows the new space to its maximum (2 x 16 MiB semi-spaces on 64-bit Node 20), and those
 * pages stay resident: about 20 MiB of Skiff's peak RSS came from it alone (bootstrap loading grows it too).
 * `node --max-semi-space-size=N` fixes that, but Skiff is started as `node bin/skiff.js`, where the command line
 * is not ours, and `v8.setFlagsFromString('--max-semi-space-size=N')` after start-up has no effect (the heap
 * copied the value when it was configured).
 *
 * What works at run time: V8 computes each new-space growth as `semi_space_growth_factor x current capacity`,
 * reading the flag at every growth, and its start-up clamp (factor >= 2) applies only to the command line. So we
 * let the new space grow (factor 2) while it is below the target and freeze it (factor 1) once it reaches it,
 * checking on an unref'd timer. Growths are rare under steady load (they need a young-generation survivor volume
 * the size of the space), so a check every few hundred milliseconds overshoots by at most one doubling.
 * If the user passed --max-semi-space-size (command line or NODE_OPTIONS), their choice stands and we do nothing.
 */
import v8 from 'node:v8';

/**
 * Target new-space size (both semi-spaces): 2 MiB, as `--max-semi-space-size=1`. Measured (perf5, c0, fresh
 * process, 2000 req/s for 12 s, 3 runs each): peak RSS 80.1-80.8 MiB at 8, 79.8-80.8 at 4, 76.0-76.4 at 2; under
 * wrk -c64, 82.5-83.6 at 8 and 78.1-79.4 at 2, CPU per request indistinguishable (4 alternating runs, median
 * ~36-37 us at both). (perf4 had measured 2 and 4 worse, 82-84 MiB, with wrk -c64 and then 2000 req/s in one process.)
 */
export const DEFAULT_NEW_SPACE_TARGET_MB = 2;
const GROW = 2;
const FREEZE = 1;

export interface YoungGenerationCap {
  /** False when the user's own --max-semi-space-size is in force. */
  readonly active: boolean;
  /** Current new-space size in bytes. */
  newSpaceBytes(): number;
  /** Stops the timer and lets V8 grow the young generation again as by default. */
  stop(): void;
}

export interface YoungGenerationOptions {
  targetMb?: number;
  checkEveryMs?: number;
  /** For tests: the process's node flags (default: process.execArgv plus NODE_OPTIONS). */
  nodeFlags?: readonly string[];
}

export function newSpaceBytes(): number {
  for (const s of v8.getHeapSpaceStatistics()) if (s.space_name === 'new_space') return s.space_size;
  return 0;
}

function userSetSemiSpace(flags: readonly string[]): boolean {
  return flags.some((f) => /^--max[-_]semi[-_]space[-_]size\b/.test(f));
}

function setGrowthFactor(factor: number): void {
  v8.setFlagsFromString(`--semi-space-growth-factor=${factor}`);
}

/**
 * Freezes the young generation now and lets it grow, by doublings, up to `targetMb` as the process runs.
 * Call it first thing in the process (before the bootstrap is loaded: loading alone grows the new space to 16 MiB).
 */
export function capYoungGeneration(options: YoungGenerationOptions = {}): YoungGenerationCap {
  const flags = options.nodeFlags ?? [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)];
  if (userSetSemiSpace(flags)) return { active: false, newSpaceBytes, stop: () => undefined };
  const target = Math.max(1, options.targetMb ?? DEFAULT_NEW_SPACE_TARGET_MB) * 1024 * 1024;
  let factor = 0;
  const apply = (): void => {
    // The next doubling must stay within the target, so grow only while at most half of it.
    const want = newSpaceBytes() * 2 <= target ? GROW : FREEZE;
    if (want !== factor) { setGrowthFactor(want); factor = want; }
  };
  setGrowthFactor(FREEZE);
  factor = FREEZE;
  const timer = setInterval(apply, options.checkEveryMs ?? 250);
  timer.unref();
  return {
    active: true,
    newSpaceBytes,
    stop: () => { clearInterval(timer); setGrowthFactor(GROW); },
  };
}
