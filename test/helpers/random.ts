// Seeded randomness for property and fuzz tests: a failing case can be replayed from its seed.

/** mulberry32: a small, fast, deterministic PRNG returning numbers in [0, 1). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** One edit a byte mutator may apply. */
export type ByteMutation = 'set' | 'insert' | 'delete' | 'truncate' | 'duplicate';

export interface ByteMutatorOptions {
  /** The edits to choose from, each equally likely (the order fixes which draw picks which edit). */
  readonly mutations: readonly ByteMutation[];
  /** Bytes a 'set' edit writes: those that tend to matter to an HTTP/1 parser. */
  readonly interesting: readonly number[];
}

/**
 * Returns a copy of `input` with one to three random edits: set a byte to an interesting value, insert a random
 * byte, delete one to four bytes, truncate, or duplicate up to eight bytes in place.
 */
export function mutateBytes(input: Buffer, rnd: () => number, options: ByteMutatorOptions): Buffer {
  const { mutations, interesting } = options;
  let b = Buffer.from(input);
  const ops = 1 + Math.floor(rnd() * 3);
  for (let k = 0; k < ops; k++) {
    const at = Math.floor(rnd() * Math.max(1, b.length));
    switch (mutations[Math.floor(rnd() * mutations.length)]) {
      case 'set': if (b.length) b[at] = interesting[Math.floor(rnd() * interesting.length)]; break;
      case 'insert': b = Buffer.concat([b.subarray(0, at), Buffer.from([Math.floor(rnd() * 256)]), b.subarray(at)]); break;
      case 'delete': b = Buffer.concat([b.subarray(0, at), b.subarray(at + 1 + Math.floor(rnd() * 4))]); break;
      case 'truncate': b = b.subarray(0, at); break;
      case 'duplicate': b = Buffer.concat([b.subarray(0, at), b.subarray(at, at + 8), b.subarray(at)]); break;
    }
  }
  return b;
}
