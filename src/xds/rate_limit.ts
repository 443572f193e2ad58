/**
 * A token bucket for requests to the control plane (ApiConfigSource.rate_limit_settings: max_tokens, fill_rate
 * per second), so a flapping client cannot flood the server. Time comes from a clock the caller passes.
 */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(readonly maxTokens: number, readonly fillRatePerSecond: number, private readonly now: () => number) {
    if (!(maxTokens >= 1) || !(fillRatePerSecond > 0)) throw new RangeError(`invalid rate limit ${maxTokens} tokens, ${fillRatePerSecond}/s`);
    this.tokens = maxTokens;
    this.last = now();
  }

  private refill(): void {
    const t = this.now();
    this.tokens = Math.min(this.maxTokens, this.tokens + ((t - this.last) / 1000) * this.fillRatePerSecond);
    this.last = t;
  }

  /** Takes one token if there is one. */
  take(): boolean {
    this.refill();
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  /** ms until one whole token is available (at least 1). */
  msUntilToken(): number {
    this.refill();
    return Math.max(1, Math.ceil(((1 - this.tokens) / this.fillRatePerSecond) * 1000));
  }
}
