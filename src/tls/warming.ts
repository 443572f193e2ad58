/**
 * SDS warming (Envoy's): a listener or cluster whose TLS contexts name SDS secrets that have not arrived is not
 * put to use until each of them has arrived, or stopped being waited for (its initial_fetch_timeout ran out,
 * or a response carrying it was rejected). Warm is for good: a secret withdrawn later un-warms nothing.
 *
 * TLS contexts are built deep inside listener and cluster config readers that know nothing of warming, so the
 * owner collects them instead: collectSecretWarming(build) runs `build` and gathers every context built during
 * it that is still waiting (contexts register themselves, see registerWarmingTarget). Main thread only; builds
 * are synchronous, so the collection in progress is simply the innermost one.
 */

/** Something that waits for SDS secrets (a TLS context). */
export interface WarmingTarget {
  /** True once nothing is waited for any more (latched). */
  readonly warm: boolean;
  /** `onWarm` is called once, when the target turns warm; returns the unsubscribe. Not called if it never does. */
  whenWarm(onWarm: () => void): () => void;
  /** The secret names still waited for (for logs and tests). */
  readonly awaitedSecrets: readonly string[];
}

/** The waiting TLS contexts of one listener or cluster. */
export class SecretWarming {
  static readonly NONE = new SecretWarming([]);

  constructor(private readonly targets: readonly WarmingTarget[]) {}

  get warm(): boolean {
    for (const t of this.targets) if (!t.warm) return false;
    return true;
  }

  /** Secret names still waited for, sorted, without repeats. */
  get awaitedSecrets(): string[] {
    return [...new Set(this.targets.flatMap((t) => t.awaitedSecrets))].sort();
  }

  /**
   * `onWarm` once every target is warm (never if one never is; at once, on the next microtask, if all are
   * already). Returns the unsubscribe.
   */
  whenWarm(onWarm: () => void): () => void {
    let done = false;
    const unsubscribe: (() => void)[] = [];
    const check = (): void => {
      if (done || !this.warm) return;
      done = true;
      for (const u of unsubscribe) u();
      onWarm();
    };
    for (const t of this.targets) if (!t.warm) unsubscribe.push(t.whenWarm(check));
    if (this.warm) queueMicrotask(check);
    return () => { done = true; for (const u of unsubscribe) u(); };
  }
}

const collections: WarmingTarget[][] = [];

/** Called by a TLS context that is built while waiting for secrets: it joins the collection in progress, if any. */
export function registerWarmingTarget(target: WarmingTarget): void {
  collections.at(-1)?.push(target);
}

/** Runs `build` and returns what it built with the warming of the TLS contexts built meanwhile. */
export function collectSecretWarming<T>(build: () => T): { value: T; warming: SecretWarming } {
  const targets: WarmingTarget[] = [];
  collections.push(targets);
  try {
    const value = build();
    return { value, warming: targets.length === 0 ? SecretWarming.NONE : new SecretWarming(targets) };
  } finally {
    collections.pop();
  }
}
