/**
 * Lays match specs out as the binary route table the wasm matcher reads (assembly/abi/layout.ts RT_*):
 * per virtual host, hash tables over exact paths and over prefixes (case-sensitive and case-insensitive
 * apart), a bitmap of the prefix lengths present, and a list of the routes no index covers.
 */
import * as L from '../wasm/layout.js';
import { BlobWriter } from './blob.js';
import { byteKey, fnv1a, utf8 } from './bytes.js';
import type { DomainSpec, HeaderMatchSpec, QueryMatchSpec, RouteMatchSpec } from './match-spec.js';

export interface VirtualHostSpec {
  readonly firstRoute: number;
  readonly routes: readonly RouteMatchSpec[];
}

export interface TableSpec {
  readonly version: number;
  readonly domains: DomainSpec;
  readonly vhosts: readonly VirtualHostSpec[];
  readonly ignorePort: boolean;
  /** Absolute address and entry count of the route cache; 0 entries = no cache. */
  readonly cacheBase: number;
  readonly cacheEntries: number;
}

/** Writes a hash table over distinct byte strings, each with its list of values; 0 when empty. */
function hashTable(w: BlobWriter, entries: Map<string, { bytes: Uint8Array; values: number[] }>): number {
  if (entries.size === 0) return 0;
  let cap = 2;
  while (cap < entries.size * 2) cap *= 2;
  const at = w.alloc(L.HT_SLOTS + cap * L.HS_SIZE);
  w.u32(at + L.HT_MASK, cap - 1);
  for (const { bytes, values } of entries.values()) {
    const hash = fnv1a(bytes);
    const str = w.bytesAt(bytes);
    const list = w.list(values);
    let i = hash & (cap - 1);
    while (w.getU32(at + L.HT_SLOTS + i * L.HS_SIZE + L.HS_LIST) !== 0) i = (i + 1) & (cap - 1);
    const slot = at + L.HT_SLOTS + i * L.HS_SIZE;
    w.u32(slot + L.HS_HASH, hash);
    w.u32(slot + L.HS_STR, str);
    w.u32(slot + L.HS_LEN, bytes.length);
    w.u32(slot + L.HS_LIST, list);
  }
  return at;
}

function addTo(map: Map<string, { bytes: Uint8Array; values: number[] }>, bytes: Uint8Array, value: number): void {
  const k = byteKey(bytes);
  const e = map.get(k);
  if (e) e.values.push(value); else map.set(k, { bytes, values: [value] });
}

function matcherRecords(w: BlobWriter, ms: readonly (HeaderMatchSpec | QueryMatchSpec)[]): number {
  if (ms.length === 0) return 0;
  const at = w.alloc(ms.length * L.HM_SIZE);
  ms.forEach((m, i) => {
    const r = at + i * L.HM_SIZE;
    const h = m as Partial<HeaderMatchSpec>;
    w.u32(r + L.HM_NAME, w.bytesAt(m.name));
    w.u32(r + L.HM_NAME_LEN, m.name.length);
    w.u32(r + L.HM_SOURCE, h.source ?? L.HSRC_HEADER);
    w.u32(r + L.HM_TYPE, m.type);
    w.u32(r + L.HM_FLAGS, (m.ignoreCase ? L.HMF_IGNORE_CASE : 0) | (h.invert ? L.HMF_INVERT : 0)
      | (h.presentValue ?? true ? L.HMF_PRESENT_VALUE : 0) | (h.missingAsEmpty ? L.HMF_MISSING_AS_EMPTY : 0));
    w.u32(r + L.HM_VALUE, w.bytesAt(m.value));
    w.u32(r + L.HM_VALUE_LEN, m.value.length);
    w.u32(r + L.HM_REGEX, m.regexId);
  });
  return at;
}

/** Wildcard domains: a case-insensitive hash table of the fixed parts, and their distinct lengths, longest first. */
function wildcardDomains(w: BlobWriter, ds: readonly { str: Uint8Array; vhost: number }[]): { table: number; lens: number } {
  const entries = new Map<string, { bytes: Uint8Array; values: number[] }>();
  for (const d of ds) entries.set(byteKey(d.str), { bytes: d.str, values: [d.vhost] });
  const lens = [...new Set(ds.map((d) => d.str.length))].sort((a, b) => b - a);
  return { table: hashTable(w, entries), lens: w.list(lens) };
}

/** The headers whose values the cache key must hold, and whether it must hold the method. */
function keyInputs(vhosts: readonly VirtualHostSpec[]): { names: Uint8Array[]; method: boolean } {
  const names = new Map<string, Uint8Array>();
  let method = false;
  for (const vh of vhosts) for (const r of vh.routes) for (const h of r.headers) {
    if (h.source === L.HSRC_METHOD) method = true;
    if (h.source === L.HSRC_HEADER) names.set(byteKey(h.name), h.name);
  }
  return { names: [...names.values()], method };
}

/** The blob for `spec`. */
export function buildTableBlob(spec: TableSpec): Uint8Array {
  const w = new BlobWriter();
  const head = w.alloc(L.RT_HEADER_SIZE);
  const routeCount = spec.vhosts.reduce((n, v) => n + v.routes.length, 0);
  const keys = keyInputs(spec.vhosts);

  // Route records.
  const routes = w.alloc(Math.max(1, routeCount) * L.RR_SIZE);
  for (const vh of spec.vhosts) {
    vh.routes.forEach((r, i) => {
      const at = routes + (vh.firstRoute + i) * L.RR_SIZE;
      w.u32(at + L.RR_KIND, r.kind);
      w.u32(at + L.RR_FLAGS, r.caseInsensitive ? L.RRF_CASE_INSENSITIVE : 0);
      w.u32(at + L.RR_STR, w.bytesAt(r.str));
      w.u32(at + L.RR_LEN, r.str.length);
      w.u32(at + L.RR_REGEX, r.regexId);
      w.u32(at + L.RR_HDR_COUNT, r.headers.length);
      w.u32(at + L.RR_HDRS, matcherRecords(w, r.headers));
      w.u32(at + L.RR_QRY_COUNT, r.queries.length);
      w.u32(at + L.RR_QRYS, matcherRecords(w, r.queries));
    });
  }

  // Virtual hosts and their indexes.
  const vhosts = w.alloc(Math.max(1, spec.vhosts.length) * L.VH_SIZE);
  spec.vhosts.forEach((vh, v) => {
    const exactCs = new Map<string, { bytes: Uint8Array; values: number[] }>();
    const exactCi = new Map<string, { bytes: Uint8Array; values: number[] }>();
    const prefixCs = new Map<string, { bytes: Uint8Array; values: number[] }>();
    const prefixCi = new Map<string, { bytes: Uint8Array; values: number[] }>();
    const others: number[] = [];
    const lens = w.alloc(L.RT_MAX_INDEXED_PREFIX / 8);
    const lenBits = new Uint8Array(L.RT_MAX_INDEXED_PREFIX / 8);
    let maxPrefix = -1;
    vh.routes.forEach((r, i) => {
      if (r.kind === L.PK_PATH) {
        addTo(r.caseInsensitive ? exactCi : exactCs, r.str, i);
      } else if ((r.kind === L.PK_PREFIX || r.kind === L.PK_SEPARATED_PREFIX || (r.kind === L.PK_REGEX && r.str.length > 0))
        && r.str.length < L.RT_MAX_INDEXED_PREFIX) {
        // A regex route sits under the literal its matches start with; the regex still decides.
        addTo(r.caseInsensitive ? prefixCi : prefixCs, r.str, i);
        lenBits[r.str.length >> 3] |= 1 << (r.str.length & 7);
        maxPrefix = Math.max(maxPrefix, r.str.length);
      } else {
        others.push(i);
      }
    });
    lenBits.forEach((b, i) => { if (b !== 0) w.u32(lens + (i & ~3), w.getU32(lens + (i & ~3)) | (b << (8 * (i & 3)))); });
    const at = vhosts + v * L.VH_SIZE;
    w.u32(at + L.VH_FIRST_ROUTE, vh.firstRoute);
    w.u32(at + L.VH_ROUTE_COUNT, vh.routes.length);
    w.u32(at + L.VH_EXACT, hashTable(w, exactCs));
    w.u32(at + L.VH_EXACT_CI, hashTable(w, exactCi));
    w.u32(at + L.VH_PREFIX, hashTable(w, prefixCs));
    w.u32(at + L.VH_PREFIX_CI, hashTable(w, prefixCi));
    w.u32(at + L.VH_PREFIX_LENS, lens);
    w.u32(at + L.VH_OTHERS, others.length > 0 ? w.list(others) : 0);
    w.i32(at + L.VH_MAX_PREFIX, maxPrefix);
  });

  // Domains: exact names (lowercase) in a case-insensitive hash table.
  const exact = new Map<string, { bytes: Uint8Array; values: number[] }>();
  for (const [d, v] of spec.domains.exact) exact.set(d, { bytes: utf8(d), values: [v] });

  const keyHeaders = w.alloc(Math.max(1, keys.names.length) * L.KH_SIZE);
  keys.names.forEach((n, i) => {
    w.u32(keyHeaders + i * L.KH_SIZE + L.KH_NAME, w.bytesAt(n));
    w.u32(keyHeaders + i * L.KH_SIZE + L.KH_LEN, n.length);
  });

  w.u32(head + L.RT_MAGIC, L.RT_MAGIC_VALUE);
  w.u32(head + L.RT_VERSION, spec.version);
  w.u32(head + L.RT_VHOST_COUNT, spec.vhosts.length);
  w.u32(head + L.RT_VHOSTS, vhosts);
  w.u32(head + L.RT_DOMAIN_EXACT, hashTable(w, exact));
  const suffixes = wildcardDomains(w, spec.domains.suffixes);
  const prefixes = wildcardDomains(w, spec.domains.prefixes);
  w.u32(head + L.RT_DOMAIN_SUFFIX, suffixes.table);
  w.u32(head + L.RT_DOMAIN_SUFFIX_LENS, suffixes.lens);
  w.u32(head + L.RT_DOMAIN_PREFIX, prefixes.table);
  w.u32(head + L.RT_DOMAIN_PREFIX_LENS, prefixes.lens);
  w.i32(head + L.RT_DOMAIN_STAR, spec.domains.star);
  w.u32(head + L.RT_ROUTES, routes);
  w.u32(head + L.RT_ROUTE_COUNT, routeCount);
  w.u32(head + L.RT_KEY_HEADER_COUNT, keys.names.length);
  w.u32(head + L.RT_KEY_HEADERS, keyHeaders);
  w.u32(head + L.RT_CACHE_BASE, spec.cacheEntries > 0 ? spec.cacheBase : 0);
  w.u32(head + L.RT_CACHE_ENTRIES, spec.cacheEntries);
  w.u32(head + L.RT_FLAGS, (spec.ignorePort ? L.RTF_IGNORE_PORT : 0) | (keys.method ? L.RTF_KEY_METHOD : 0));
  w.u32(head + L.RT_SIZE, w.size);
  return w.finish();
}
