// Polling for a condition in tests, bounded in time so a broken expectation fails instead of hanging.

/** Waits until `pred()` holds, polling every `pollMs`; throws `timed out waiting for <what>` after `timeoutMs`. */
export async function waitFor(pred: () => boolean, timeoutMs = 5000, what = 'condition', pollMs = 5): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, pollMs));
  }
}
