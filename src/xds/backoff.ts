/**
 * Jittered exponential backoff for reconnecting to a control plane (Envoy's JitteredExponentialBackOffStrategy:
 * the n-th delay is drawn uniformly from [0, min(base * 2^n, max)) ), reset once the stream gets a response.
 */
export interface BackoffOptions {
  baseMs?: number;
  maxMs?: number;
  /** Uniform [0, 1); injectable so tests can pin the jitter. */
  random?: () => number;
}

export class JitteredBackoff {
  private attempt = 0;
  readonly baseMs: number;
  readonly maxMs: number;
  private readonly random: () => number;

  constructor(options: BackoffOptions = {}) {
    this.baseMs = options.baseMs ?? 500;
    this.maxMs = options.maxMs ?? 30_000;
    this.random = options.random ?? Math.random;
    if (!(this.baseMs > 0) || !(this.maxMs >= this.baseMs)) throw new RangeError(`invalid backoff ${this.baseMs}..${this.maxMs} ms`);
  }

  /** The next delay in ms; at least 1 ms so a reconnect never spins. */
  next(): number {
    const ceiling = Math.min(this.baseMs * 2 ** Math.min(this.attempt, 30), this.maxMs);
    this.attempt++;
    return Math.max(1, Math.floor(this.random() * ceiling));
  }

  /** The ceiling the next delay is drawn under (for logs and tests). */
  ceiling(): number {
    return Math.min(this.baseMs * 2 ** Math.min(this.attempt, 30), this.maxMs);
  }

  reset(): void {
    this.attempt = 0;
  }
}
