// A small route table for the offload tests (the real one comes from src/router): routes are path prefixes,
// first match wins, and both halves read the path from the head record in shared memory, as the router does.
import { HEAD_PATH_LEN, HEAD_PATH_PTR, HEAD_RECORD_FIXED } from '../../../src/wasm/layout.js';
import type { WasmInstance } from '../../../src/wasm/module.js';
import type { RequestHead } from '../../../src/types/http.js';
import type { RouteEntry, RouteTable } from '../../../src/types/router.js';
import type { AttachedRouteTable, RouteOffloadBinding, RouteTableDescriptor } from '../../../src/workers/route_offload.js';
import { slabPool } from '../../../src/wasm/slab.js';

export const PREFIX_MATCH_TASK = 'test.prefix.match';

function matchRecord(u8: Uint8Array, view: DataView, prefixes: readonly Uint8Array[], rec: number): number {
  const ptr = view.getUint32(rec + HEAD_PATH_PTR, true);
  const len = view.getUint32(rec + HEAD_PATH_LEN, true);
  outer: for (let r = 0; r < prefixes.length; r++) {
    const p = prefixes[r];
    if (p.length > len) continue;
    for (let i = 0; i < p.length; i++) if (u8[ptr + i] !== p[i]) continue outer;
    return r;
  }
  return -1;
}

const bytesOf = (s: string): Uint8Array => new TextEncoder().encode(s);

export class PrefixTable implements RouteTable {
  readonly entries: RouteEntry[];
  private readonly prefixBytes: Uint8Array[];
  constructor(private readonly wasm: WasmInstance, readonly prefixes: readonly string[], readonly version = 1) {
    this.prefixBytes = prefixes.map(bytesOf);
    this.entries = prefixes.map((p, index) => ({
      index, name: `r${index}`, virtualHost: 'all', action: { kind: 'cluster', cluster: `c${index}` }, matchPrefix: p,
      timeoutMs: 15000, hashHeaders: [], requestHeaders: { add: [], remove: [] }, responseHeaders: { add: [], remove: [] },
    }));
  }
  match(head: RequestHead): RouteEntry | null {
    const i = matchRecord(this.wasm.u8, this.wasm.view, this.prefixBytes, head.recordPtr);
    return i >= 0 ? this.entries[i] : null;
  }
  entryAt(i: number): RouteEntry { return this.entries[i]; }
}

export const prefixBinding: RouteOffloadBinding = {
  taskKind: PREFIX_MATCH_TASK,
  describe: (t) => ({ handle: 1, version: (t as PrefixTable).version, regexes: (t as PrefixTable).prefixes }),
  entryAt: (t, i) => (t as PrefixTable).entryAt(i),
};

/** Worker side: the descriptor carries the prefixes. */
export function attachPrefixTable(wasm: WasmInstance, d: RouteTableDescriptor): AttachedRouteTable {
  const prefixes = d.regexes.map(bytesOf);
  return {
    matchBatch(recs) {
      const out = new Int32Array(recs.length);
      for (let i = 0; i < recs.length; i++) out[i] = matchRecord(wasm.u8, wasm.view, prefixes, recs[i]);
      return out;
    },
  };
}

/** Lays a head record and its path bytes out in a slab; returns a RequestHead over it (release with `free`). */
export function writeHead(wasm: WasmInstance, path: string): RequestHead & { free(): void } {
  const slab = slabPool(wasm);
  const bytes = bytesOf(path);
  const rec = slab.lease(HEAD_RECORD_FIXED + bytes.length);
  if (rec === 0) throw new Error('test: slab exhausted');
  wasm.u8.set(bytes, rec + HEAD_RECORD_FIXED);
  wasm.view.setUint32(rec + HEAD_PATH_PTR, rec + HEAD_RECORD_FIXED, true);
  wasm.view.setUint32(rec + HEAD_PATH_LEN, bytes.length, true);
  return { path, recordPtr: rec, free: () => slab.release(rec) } as unknown as RequestHead & { free(): void };
}
