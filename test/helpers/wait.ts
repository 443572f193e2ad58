// Polling for a condition in tests, bounded in time so a broken expectation fails instead of hanging.

/** Waits until `pred()` holds, polling every `pollMs`; throws `timed out waiting for <what>` after `timeoutMs`. */
export async function waitFor(pred: () => boolean, timeoutMs = 5000, what = 'condition', pollMs = 5): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, pollMs));
  }
}

/** Polls `probe` until it returns a value (not undefined) and returns it; throws after `timeoutMs`. */
export async function waitForValue<T>(probe: () => Promise<T | undefined> | T | undefined, what: string, timeoutMs = 3000, pollMs = 10): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, pollMs));
  }
}

/** `GET http://127.0.0.1:PORT/` as `"<status> <body>"`, or undefined when the request fails (1 s bound). */
export async function getStatusAndBody(port: number): Promise<string | undefined> {
  const r = await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(1000) }).catch(() => undefined);
  return r === undefined ? undefined : `${r.status} ${await r.text()}`;
}
