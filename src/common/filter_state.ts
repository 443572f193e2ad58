/**
 * The filter state store (src/types/network.ts FilterState): a Map with Envoy's read-only rule, and the
 * hand-over of shared objects to an upstream connection (ONCE objects go one hop and arrive as NONE;
 * TRANSITIVE ones keep going).
 */
import type { FilterState, FilterStateObject } from '../types/network.js';

export class FilterStateStore implements FilterState {
  private readonly objects = new Map<string, FilterStateObject>();

  /** `parent`: the connection's state under a stream's, read through (Envoy's stream info sees both). */
  constructor(private readonly parent?: FilterState) {}

  get(key: string): FilterStateObject | undefined { return this.objects.get(key) ?? this.parent?.get(key); }

  set(key: string, object: FilterStateObject): boolean {
    if (this.get(key)?.readOnly) return false;
    this.objects.set(key, object);
    return true;
  }

  /** This level's keys (not the parent's). */
  keys(): IterableIterator<string> { return this.objects.keys(); }

  /** The objects an upstream connection (an internal listener's) starts with. */
  sharedWithUpstream(): FilterStateStore {
    const out = new FilterStateStore();
    for (const [key, o] of this.objects) {
      if (o.sharedWithUpstream === 'NONE') continue;
      out.objects.set(key, o.sharedWithUpstream === 'ONCE' ? { ...o, sharedWithUpstream: 'NONE' } : o);
    }
    return out;
  }
}

/** A plain string object (Envoy's `envoy.string` factory). */
export function stringObject(value: string, options: Partial<Omit<FilterStateObject, 'value'>> = {}): FilterStateObject {
  return { value, factoryKey: options.factoryKey ?? 'envoy.string', readOnly: options.readOnly ?? false, sharedWithUpstream: options.sharedWithUpstream ?? 'NONE' };
}
