/**
 * Stats with Envoy's names (`http.<prefix>.downstream_rq_total`, `cluster.<name>.upstream_rq_200`, ...).
 * Counters and gauges are plain numbers in a Map: incrementing is a property write on an object the
 * caller keeps, never a name lookup on the hot path.
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

export class StatsStore {
  private readonly counters = new Map<string, Counter>();
  private readonly gauges = new Map<string, Gauge>();

  counter(name: string): Counter {
    let c = this.counters.get(name);
    if (!c) { c = new CounterImpl(name); this.counters.set(name, c); }
    return c;
  }

  gauge(name: string): Gauge {
    let g = this.gauges.get(name);
    if (!g) { g = new GaugeImpl(name); this.gauges.set(name, g); }
    return g;
  }

  /** A view that prefixes every name, e.g. `scope('cluster.web.')`. */
  scope(prefix: string): StatsScope {
    return new StatsScope(this, prefix);
  }

  /** Every counter and gauge, sorted by name (for /stats). */
  snapshot(): { counters: Counter[]; gauges: Gauge[] } {
    const byName = (a: { name: string }, b: { name: string }): number => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
    return { counters: [...this.counters.values()].sort(byName), gauges: [...this.gauges.values()].sort(byName) };
  }
}

export class StatsScope {
  constructor(readonly store: StatsStore, readonly prefix: string) {}
  counter(name: string): Counter { return this.store.counter(this.prefix + name); }
  gauge(name: string): Gauge { return this.store.gauge(this.prefix + name); }
  scope(prefix: string): StatsScope { return new StatsScope(this.store, this.prefix + prefix); }
}
