/**
 * Turns a route's HeaderMutation (already merged route -> virtual host -> route config by the router)
 * into the remove/add lists of a HeadRewrite, over the headers as received. Pure: no I/O, no state.
 */
import type { HeaderList } from '../types/http.js';
import type { HeaderMutation } from '../types/router.js';

/** Accumulates the removes and adds that become one HeadRewrite. */
export class HeaderEdits {
  readonly remove: string[] = [];
  readonly add: [string, string][] = [];

  constructor(private readonly original: HeaderList) {}

  /** Another HeaderEdits over the same headers starting from these edits (the [name, value] pairs are shared, never mutated). */
  copy(): HeaderEdits {
    const c = new HeaderEdits(this.original);
    for (let i = 0; i < this.remove.length; i++) c.remove.push(this.remove[i]!);
    for (let i = 0; i < this.add.length; i++) c.add.push(this.add[i]!);
    return c;
  }

  /** Whether `name` will be present after the edits so far. */
  has(name: string): boolean {
    if (!this.remove.includes(name) && this.original.has(name)) return true;
    for (const [n] of this.add) if (n === name) return true;
    return false;
  }

  /** The first value `name` will have after the edits so far. */
  get(name: string): string | undefined {
    if (!this.remove.includes(name)) {
      const v = this.original.get(name);
      if (v !== undefined) return v;
    }
    for (const [n, v] of this.add) if (n === name) return v;
    return undefined;
  }

  drop(name: string): void {
    // A linear scan: a request carries a handful of removes, and a Set per HeaderEdits costs more.
    if (!this.remove.includes(name)) this.remove.push(name);
    for (let i = this.add.length - 1; i >= 0; i--) if (this.add[i]![0] === name) this.add.splice(i, 1);
  }

  append(name: string, value: string): void { this.add.push([name, value]); }

  set(name: string, value: string): void { this.drop(name); this.add.push([name, value]); }
}

/** Applies a mutation as Envoy does: removals first, then each add by its append action. */
export function applyHeaderMutation(edits: HeaderEdits, mutation: HeaderMutation): void {
  for (const name of mutation.remove) edits.drop(name.toLowerCase());
  for (const { name, value, mode } of mutation.add) {
    const n = name.toLowerCase();
    switch (mode) {
      case 'append': edits.append(n, value); break;
      case 'add_if_absent': if (!edits.has(n)) edits.append(n, value); break;
      case 'overwrite': edits.set(n, value); break;
      case 'overwrite_if_exists': if (edits.has(n)) edits.set(n, value); break;
    }
  }
}
