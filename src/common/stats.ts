/**
 * Stats with Envoy's names (`http.<prefix>.downstream_rq_total`, `cluster.<name>.upstream_rq_200`, ...).
 * Counters and gauges are plain numbers: incrementing is a property write on an object the caller keeps,
 * never a name lookup on the hot path.
 *
 * Two storages, one namespace:
 * - single stats in a Map (name -> Counter/Gauge object), for stats that exist once or a few times;
 * - **blocks**: a fixed set of stat names under one prefix (a cluster's ~35 counters and gauges), stored as a run
 *   of slots in a shared Float64Array slab, with the name lists shared by every block of the same schema. A block stat's
 *   Counter/Gauge object is made on first access only, so 10 000 clusters cost 10 000 small arrays instead of
 *   350 000 objects, strings and Map entries. Block stats are listed by snapshot() under their full names like
 *   any other, at their initial values until written (Envoy shows a cluster's stats from the start, too).
 */
export interface Counter { readonly name: string; value: number; inc(n?: number): void }
export interface Gauge { readonly name: string; value: number; inc(n?: number): void; dec(n?: number): void; set(v: number): void }

class CounterImpl implements Counter {
  value = 0;
  constructor(readonly name: string) {}
  inc(n = 1): void { this.value += n; }
}

class GaugeImpl implements Gauge {
  value = 0;
  constructor(readonly name: string) {}
  inc(n = 1): void { this.value += n; }
  dec(n = 1): void { this.value -= n; }
  set(v: number): void { this.value = v; }
}

/**
 * The stat names of a block kind, shared by every block of that kind: gauges first (a block's Counter/Gauge
 * objects are kept in a list by slot, and gauges set at creation, like circuit-breaker budgets, then need a
 * short list only), then counters.
 */
export class StatBlockSchema {
  readonly names: readonly string[];
  readonly index: ReadonlyMap<string, number>;
  constructor(readonly counters: readonly string[], readonly gauges: readonly string[]) {
    this.names = [...gauges, ...counters];
    this.index = new Map(this.names.map((n, i) => [n, i]));
  }
  isGauge(i: number): boolean { return i < this.gauges.length; }

  private readonly subIndexes = new Map<string, ReadonlyMap<string, number>>();
  private sortedBy: [number[], number[]] | undefined;

  /** The slots of the gauges (or counters), ordered by name. */
  sortedSlots(gauges: boolean): readonly number[] {
    if (this.sortedBy === undefined) {
      const order = this.names.map((n, i) => [n, i] as const).sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)).map(([, i]) => i);
      this.sortedBy = [order.filter((i) => !this.isGauge(i)), order.filter((i) => this.isGauge(i))];
    }
    return this.sortedBy[gauges ? 1 : 0];
  }

  /** The slots of the names under `sub` (e.g. `circuit_breakers.default.`), keyed without it: built once per sub. */
  subIndex(sub: string): ReadonlyMap<string, number> {
    if (sub === '') return this.index;
    let m = this.subIndexes.get(sub);
    if (m === undefined) {
      m = new Map(this.names.flatMap((n, i): [string, number][] => (n.startsWith(sub) ? [[n.slice(sub.length), i]] : [])));
      this.subIndexes.set(sub, m);
    }
    return m;
  }
}

/** A block stat's Counter/Gauge object: a view on one slot of the block's array (made on first access). */
class BlockStat implements Counter, Gauge {
  private readonly at: number;
  private readonly slab: Float64Array;
  constructor(private readonly block: StatBlock, private readonly slot: number) {
    this.slab = block.slab;
    this.at = block.base + slot;
  }
  get name(): string { return this.block.prefix + this.block.schema.names[this.slot]; }
  get value(): number { return this.slab[this.at]; }
  set value(v: number) { this.slab[this.at] = v; }
  inc(n = 1): void { this.slab[this.at] += n; }
  dec(n = 1): void { this.slab[this.at] -= n; }
  set(v: number): void { this.slab[this.at] = v; }
}

/** Slots per slab: blocks are carved from shared Float64Arrays (one typed array per block costs ~10x its data). */
const SLAB_SLOTS = 8192;

/** Hands out runs of slots from big Float64Arrays; slots are never returned (stats live as long as the process). */
class SlabAllocator {
  private slab = new Float64Array(SLAB_SLOTS);
  private used = 0;
  take(n: number): { slab: Float64Array; base: number } {
    if (n > SLAB_SLOTS) return { slab: new Float64Array(n), base: 0 };
    if (this.used + n > SLAB_SLOTS) { this.slab = new Float64Array(SLAB_SLOTS); this.used = 0; }
    const base = this.used;
    this.used += n;
    return { slab: this.slab, base };
  }
}

/** One prefix's stats of one schema: a run of slots in a shared slab. */
export class StatBlock {
  readonly slab: Float64Array;
  readonly base: number;
  /** Objects handed out so far (sparse): the same object every time for one slot. */
  private views: (BlockStat | undefined)[] | undefined;
  constructor(readonly prefix: string, readonly schema: StatBlockSchema, slots: SlabAllocator) {
    const { slab, base } = slots.take(schema.names.length);
    this.slab = slab;
    this.base = base;
  }

  /** The current value of slot `i`. */
  valueAt(i: number): number { return this.slab[this.base + i]; }

  /** The Counter/Gauge object of slot `i` (for callers that keep an object; a slot write is cheaper still). */
  stat(i: number): BlockStat {
    // Sized once to the schema: growing a sparse [] by index leaves a dictionary-mode store (~0.5 KB a block).
    if (this.views === undefined) this.views = new Array<BlockStat | undefined>(this.schema.names.length);
    let v = this.views[i];
    if (v === undefined) { v = new BlockStat(this, i); this.views[i] = v; }
    return v;
  }

  counter(name: string): Counter { return this.stat(this.slotOf(name)); }
  gauge(name: string): Gauge { return this.stat(this.slotOf(name)); }

  slotOf(name: string): number {
    const i = this.schema.index.get(name);
    if (i === undefined) throw new Error(`stat ${name} is not in this block (${this.prefix})`);
    return i;
  }
}

/** A read-only copy of one stat for listings. */
interface StatSnapshot { readonly name: string; value: number; inc(n?: number): void; dec(n?: number): void; set(v: number): void }
const readOnly = (name: string, value: number): StatSnapshot => ({ name, value, inc() {}, dec() {}, set() {} });

export class StatsStore {
  private readonly counters = new Map<string, Counter>();
  private readonly gauges = new Map<string, Gauge>();
  private readonly blocks = new Map<string, StatBlock>();
  private readonly slots = new SlabAllocator();

  counter(name: string): Counter {
    let c = this.counters.get(name);
    if (!c) {
      const b = this.blockStat(name, false);
      if (b) return b;
      c = new CounterImpl(name);
      this.counters.set(name, c);
    }
    return c;
  }

  gauge(name: string): Gauge {
    let g = this.gauges.get(name);
    if (!g) {
      const b = this.blockStat(name, true);
      if (b) return b;
      g = new GaugeImpl(name);
      this.gauges.set(name, g);
    }
    return g;
  }

  /**
   * The block of `schema` under `prefix` (e.g. `cluster.web.`): the existing one when that prefix has one (so a
   * replaced cluster's counters continue), else a new one. Names in it must not also be used as single stats.
   */
  block(prefix: string, schema: StatBlockSchema): StatBlock {
    let b = this.blocks.get(prefix);
    if (b === undefined || b.schema !== schema) {
      b = new StatBlock(prefix, schema, this.slots);
      this.blocks.set(prefix, b);
    }
    return b;
  }

  /** A name that falls in a block (tried at every '.' of the name: cluster names may hold dots). */
  private blockStat(name: string, gauge: boolean): BlockStat | undefined {
    if (this.blocks.size === 0) return undefined;
    // Bounded by the dots in the name.
    for (let dot = name.indexOf('.'); dot >= 0; dot = name.indexOf('.', dot + 1)) {
      const b = this.blocks.get(name.slice(0, dot + 1));
      if (b === undefined) continue;
      const i = b.schema.index.get(name.slice(dot + 1));
      if (i !== undefined && b.schema.isGauge(i) === gauge) return b.stat(i);
    }
    return undefined;
  }

  /** A view that prefixes every name, e.g. `scope('cluster.web.')`. */
  scope(prefix: string): StatsScope {
    return new StatsScope(this, prefix);
  }

  /**
   * Every counter and gauge, sorted by name (for /stats). Block stats are listed as read-only copies. With
   * 10 000 clusters that is ~350 000 stats: rather than sorting them all, blocks are walked in prefix order with
   * each schema's names pre-sorted, and merged with the (few) sorted single stats.
   */
  snapshot(): { counters: Counter[]; gauges: Gauge[] } {
    const singles = (m: Map<string, Counter | Gauge>): StatSnapshot[] => ([...m.values()] as StatSnapshot[]).sort(byName);
    const blocks = this.sortedBlocks();
    if (blocks === undefined) {
      // Some block prefix is a prefix of another's (cluster names "a" and "a.b"): their names interleave.
      const counters: Counter[] = [...this.counters.values()];
      const gauges: Gauge[] = [...this.gauges.values()];
      for (const b of this.blocks.values()) {
        const names = b.schema.names;
        for (let i = 0; i < names.length; i++) (b.schema.isGauge(i) ? gauges : counters).push(readOnly(b.prefix + names[i], b.valueAt(i)));
      }
      return { counters: counters.sort(byName), gauges: gauges.sort(byName) };
    }
    return {
      counters: merge(singles(this.counters), blockStats(blocks, false)),
      gauges: merge(singles(this.gauges), blockStats(blocks, true)),
    };
  }

  private sorted: StatBlock[] | undefined | null = null;

  /** Blocks by prefix (cached until a block is added); undefined when prefixes nest. */
  private sortedBlocks(): StatBlock[] | undefined {
    if (this.sorted !== null && this.sortedCount === this.blocks.size) return this.sorted;
    const list = [...this.blocks.values()].sort((a, b) => (a.prefix < b.prefix ? -1 : a.prefix > b.prefix ? 1 : 0));
    let nested = false;
    for (let i = 1; i < list.length && !nested; i++) nested = list[i]!.prefix.startsWith(list[i - 1]!.prefix);
    this.sorted = nested ? undefined : list;
    this.sortedCount = this.blocks.size;
    return this.sorted;
  }
  private sortedCount = -1;
}

const byName = (a: { name: string }, b: { name: string }): number => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

/** Every block's stats of one kind, in name order (blocks sorted by prefix, prefixes not nested). */
function blockStats(blocks: readonly StatBlock[], gauges: boolean): StatSnapshot[] {
  const out: StatSnapshot[] = [];
  for (const b of blocks) {
    for (const i of b.schema.sortedSlots(gauges)) out.push(readOnly(b.prefix + b.schema.names[i], b.valueAt(i)));
  }
  return out;
}

/** Two lists sorted by name, as one. */
function merge(a: StatSnapshot[], b: StatSnapshot[]): StatSnapshot[] {
  if (a.length === 0) return b;
  if (b.length === 0) return a;
  const out: StatSnapshot[] = new Array(a.length + b.length);
  let i = 0;
  let j = 0;
  let k = 0;
  while (i < a.length && j < b.length) out[k++] = a[i]!.name <= b[j]!.name ? a[i++]! : b[j++]!;
  while (i < a.length) out[k++] = a[i++]!;
  while (j < b.length) out[k++] = b[j++]!;
  return out;
}

export class StatsScope {
  /** Built on first read: a child scope whose names all fall in its block never needs its full prefix. */
  private fullPrefix: string | undefined;
  private parent: StatsScope | undefined;
  private suffix = '';
  /** The block this scope's names fall in (set by block(), inherited by child scopes) and the scope's prefix relative to it. */
  private within: { block: StatBlock; sub: string } | undefined;

  constructor(readonly store: StatsStore, prefix: string) {
    this.fullPrefix = prefix;
  }

  get prefix(): string {
    if (this.fullPrefix === undefined) this.fullPrefix = this.parent!.prefix + this.suffix;
    return this.fullPrefix;
  }

  counter(name: string): Counter { return this.inBlock(name, false) ?? this.store.counter(this.prefix + name); }
  gauge(name: string): Gauge { return this.inBlock(name, true) ?? this.store.gauge(this.prefix + name); }

  scope(prefix: string): StatsScope {
    const child = new StatsScope(this.store, '');
    child.fullPrefix = undefined;
    child.parent = this;
    child.suffix = prefix;
    if (this.within !== undefined) child.within = this.within.sub === '' && prefix === this.within.sub ? this.within : { block: this.within.block, sub: this.within.sub + prefix };
    return child;
  }

  block(schema: StatBlockSchema): StatBlock {
    const b = this.store.block(this.prefix, schema);
    this.within = { block: b, sub: '' };
    return b;
  }

  private inBlock(name: string, gauge: boolean): BlockStat | undefined {
    if (this.within === undefined) return undefined;
    const { block, sub } = this.within;
    const i = block.schema.subIndex(sub).get(name);
    return i !== undefined && block.schema.isGauge(i) === gauge ? block.stat(i) : undefined;
  }
}
