/**
 * Thread indices for workers. Each worker claims the lowest free index 1..n in a shared table (so a worker
 * that piscina replaces later takes over a freed index, and two workers never share a scratch region); the
 * main thread frees an index when its worker ends.
 */
export class ThreadSlots {
  private readonly table: Int32Array;

  constructor(readonly buffer: SharedArrayBuffer) {
    this.table = new Int32Array(buffer);
  }

  static create(threads: number): ThreadSlots {
    return new ThreadSlots(new SharedArrayBuffer(4 * (threads + 1)));
  }

  /** Claims a free index for `owner` (a nonzero worker threadId); 0 when all are taken. */
  claim(owner: number): number {
    for (let i = 1; i < this.table.length; i++) {
      if (Atomics.compareExchange(this.table, i, 0, owner) === 0) return i;
    }
    return 0;
  }

  /** Frees the index `owner` holds, if any. */
  releaseOwner(owner: number): void {
    for (let i = 1; i < this.table.length; i++) Atomics.compareExchange(this.table, i, owner, 0);
  }

  /** Frees every index whose owner is not in `live` (a thread that ended reports threadId -1, not its old id). */
  releaseAllBut(live: ReadonlySet<number>): void {
    for (let i = 1; i < this.table.length; i++) {
      const owner = Atomics.load(this.table, i);
      if (owner !== 0 && !live.has(owner)) Atomics.compareExchange(this.table, i, owner, 0);
    }
  }

  held(): number {
    let n = 0;
    for (let i = 1; i < this.table.length; i++) if (Atomics.load(this.table, i) !== 0) n++;
    return n;
  }
}
