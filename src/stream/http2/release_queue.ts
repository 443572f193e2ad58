/**
 * Frees decoded heads at the end of the event-loop turn instead of when their stream closes: the proxy
 * still reads a request head right after it ends the response (stats, access log) in the same turn, and
 * the head's views read wasm memory lazily.
 */
interface Releasable { release(): void }

const pending: Releasable[] = [];
let scheduled = false;

function flush(): void {
  scheduled = false;
  // Bounded: what is queued during this flush waits for the next turn (the length is read once).
  const n = pending.length;
  for (let i = 0; i < n; i++) {
    try { pending[i].release(); } catch { /* a failed release must not keep the others */ }
  }
  pending.splice(0, n);
}

export function releaseLater(r: Releasable): void {
  pending.push(r);
  if (!scheduled) { scheduled = true; setImmediate(flush); }
}
