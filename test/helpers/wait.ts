// Polling for a condition in tests, bounded in time so a broken expectation fails instead of hanging.
//
// A deadline here only bounds how long a broken expectation takes to fail; a passing test never waits for it.
// So it is generous: CI runs the suites on a slow, busy machine where an event-loop turn can take hundreds of
// milliseconds, and a deadline that a slow machine can miss turns a correct program into a failed run.

/** How long a test waits for something that must happen in-process (a timer, a socket close, a stat). */
export const PATIENCE_MS = 10_000;

/** How long a test waits for something that involves a child process or a control plane round trip. */
export const SLOW_PATIENCE_MS = 30_000;

/**
 * How long a test waits for a child process (skiff, its control plane) to start: node, the wasm module and the
 * worker pool coming up on a machine that two test runs and a build share took over 15 s in one run.
 */
export const START_PATIENCE_MS = 60_000;

/** Waits until `pred()` holds, polling every `pollMs`; throws `timed out waiting for <what>` after `timeoutMs`. */
export async function waitFor(pred: () => boolean, timeoutMs = PATIENCE_MS, what = 'condition', pollMs = 5): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, pollMs));
  }
}

/** Waits until `pred()` holds, with the default patience; the argument order most unit tests read best in. */
export function eventually(pred: () => boolean, what: string, timeoutMs = PATIENCE_MS): Promise<void> {
  return waitFor(pred, timeoutMs, what);
}

/** Polls `probe` until it returns a value (not undefined) and returns it; throws after `timeoutMs` (probes are often requests to a child process, hence the slow patience). */
export async function waitForValue<T>(probe: () => Promise<T | undefined> | T | undefined, what: string, timeoutMs = SLOW_PATIENCE_MS, pollMs = 10): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, pollMs));
  }
}

/** `GET http://127.0.0.1:PORT/` as `"<status> <body>"`, or undefined when the request fails (PATIENCE_MS bound per try). */
export async function getStatusAndBody(port: number): Promise<string | undefined> {
  const r = await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(PATIENCE_MS) }).catch(() => undefined);
  if (r === undefined) return undefined;
  const body = await r.text().catch(() => undefined);
  return body === undefined ? undefined : `${r.status} ${body}`;
}
