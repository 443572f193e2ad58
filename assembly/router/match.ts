// Route matching over a compiled table (layout: assembly/abi/layout.ts RT_*, VH_*, RR_*, HT_*).
// 1. Virtual host by authority: exact domain, then "*suffix" longest first, then "prefix*" longest first,
//    then "*"; ASCII case-insensitive; every step a hash probe (one per distinct wildcard length).
// 2. Candidates: one pass over the path computes FNV-1a of every prefix (raw and lowercased); at each
//    length that some indexed prefix has, the prefix hash tables are probed, and at the end of the path the
//    exact-path tables. Each hit is a list of local route indices, ascending; so is the list of routes no
//    index covers. The lists are merged in route order and the first route whose every matcher passes wins,
//    so Envoy's first-match order holds while the work depends on the path, not on the number of routes.
import { host_regex_match } from "../abi/imports";
import {
  RT_MAGIC, RT_MAGIC_VALUE, RT_VHOSTS, RT_DOMAIN_EXACT, RT_DOMAIN_SUFFIX, RT_DOMAIN_SUFFIX_LENS,
  RT_DOMAIN_PREFIX, RT_DOMAIN_PREFIX_LENS, RT_DOMAIN_STAR, RT_ROUTES, RT_FLAGS, RTF_IGNORE_PORT,
  VH_FIRST_ROUTE, VH_EXACT, VH_EXACT_CI, VH_PREFIX, VH_PREFIX_CI, VH_PREFIX_LENS, VH_OTHERS, VH_MAX_PREFIX, VH_SIZE,
  HT_MASK, HT_SLOTS, HS_HASH, HS_STR, HS_LEN, HS_LIST, HS_SIZE,
  RR_KIND, RR_FLAGS, RR_STR, RR_LEN, RR_REGEX, RR_HDR_COUNT, RR_HDRS, RR_QRY_COUNT, RR_QRYS, RR_SIZE,
  PK_PREFIX, PK_PATH, PK_SEPARATED_PREFIX, PK_REGEX, PK_CONNECT, RRF_CASE_INSENSITIVE, HM_SIZE,
  HEAD_METHOD_ID, METHOD_CONNECT, HEAD_HOST_PTR, HEAD_HOST_LEN, HEAD_PATH_PTR, HEAD_PATH_LEN, RS_CURSORS, RS_CURSORS_BYTES,
} from "../abi/layout";
import { FNV_OFFSET, FNV_PRIME, lower, fnv, bytesEqual } from "./bytes";
import { headerMatches, queryMatches } from "./matchers";

/** Whether `table` points at a compiled table. */
export function isTable(table: usize): bool {
  return table != 0 && load<i32>(table + RT_MAGIC) == RT_MAGIC_VALUE;
}

/** Looks [s, s+len) up in a hash table at table offset `ht`; returns the candidate list's offset, 0 if absent. */
function htFind(table: usize, ht: u32, hash: u32, s: usize, len: usize, fold: bool): u32 {
  if (ht == 0) return 0;
  const base = table + <usize>ht;
  const mask = load<u32>(base + HT_MASK);
  let i = hash & mask;
  for (let probes: u32 = 0; probes <= mask; probes++) {
    const slot = base + HT_SLOTS + <usize>i * HS_SIZE;
    const list = load<u32>(slot + HS_LIST);
    if (list == 0) return 0;
    if (load<u32>(slot + HS_HASH) == hash && <usize>load<u32>(slot + HS_LEN) == len
      && bytesEqual(s, table + <usize>load<u32>(slot + HS_STR), len, fold)) return list;
    i = (i + 1) & mask;
  }
  return 0;
}

/** Virtual host index for the record's authority, -1 when none matches. */
export function selectVirtualHost(table: usize, rec: usize): i32 {
  const host = <usize>load<u32>(rec + HEAD_HOST_PTR);
  let len = <usize>load<u32>(rec + HEAD_HOST_LEN);
  if ((load<u32>(table + RT_FLAGS) & RTF_IGNORE_PORT) != 0) len = withoutPort(host, len);
  const exact = htFind(table, load<u32>(table + RT_DOMAIN_EXACT), fnv(host, len, true), host, len, true);
  if (exact != 0) return load<i32>(table + <usize>exact + 4);
  // "*" must match at least one character, so the host must be longer than the stored suffix/prefix.
  // One hash probe per distinct wildcard length, longest first.
  const suffixes = load<u32>(table + RT_DOMAIN_SUFFIX);
  const suffixLens = table + <usize>load<u32>(table + RT_DOMAIN_SUFFIX_LENS);
  const ns = <usize>load<u32>(suffixLens);
  for (let i: usize = 0; i < ns; i++) {
    const dl = <usize>load<u32>(suffixLens + 4 + i * 4);
    if (len <= dl) continue;
    const at = host + len - dl;
    const list = htFind(table, suffixes, fnv(at, dl, true), at, dl, true);
    if (list != 0) return load<i32>(table + <usize>list + 4);
  }
  const prefixes = load<u32>(table + RT_DOMAIN_PREFIX);
  const prefixLens = table + <usize>load<u32>(table + RT_DOMAIN_PREFIX_LENS);
  const np = <usize>load<u32>(prefixLens);
  for (let i: usize = 0; i < np; i++) {
    const dl = <usize>load<u32>(prefixLens + 4 + i * 4);
    if (len <= dl) continue;
    const list = htFind(table, prefixes, fnv(host, dl, true), host, dl, true);
    if (list != 0) return load<i32>(table + <usize>list + 4);
  }
  return load<i32>(table + RT_DOMAIN_STAR);
}

/** Length of the host without a trailing ":port" (IPv6 literals only when bracketed). */
function withoutPort(host: usize, len: usize): usize {
  let i = len;
  while (i > 0 && <u32>load<u8>(host + i - 1) - 48 < 10) i--;
  if (i == len || i == 0 || load<u8>(host + i - 1) != 0x3a) return len; // no ':digits'
  const colon = i - 1;
  if (load<u8>(host) == 0x5b) return colon > 0 && load<u8>(host + colon - 1) == 0x5d ? colon : len; // "[v6]:port"
  for (let j: usize = 0; j < colon; j++) if (load<u8>(host + j) == 0x3a) return len; // bare IPv6: no port
  return colon;
}

// Candidate cursors live in the router scratch area: (next u32 ptr, end ptr) pairs.
let cursorCount: usize = 0;

function addList(table: usize, list: u32, cursors: usize): void {
  if (list == 0) return;
  const at = table + <usize>list;
  const n = <usize>load<u32>(at);
  if (n == 0 || (cursorCount + 1) * 8 > <usize>RS_CURSORS_BYTES) return;
  const c = cursors + cursorCount * 8;
  store<u32>(c, <u32>(at + 4));
  store<u32>(c + 4, <u32>(at + 4 + n * 4));
  cursorCount++;
}

/** Whether route record `r` accepts the request (path part, then headers, then query parameters). */
function routePasses(table: usize, r: usize, rec: usize, path: usize, pathLen: usize, q: usize, qLen: usize, scratch: usize): bool {
  const kind = load<i32>(r + RR_KIND);
  const fold = (load<u32>(r + RR_FLAGS) & RRF_CASE_INSENSITIVE) != 0;
  const s = table + <usize>load<u32>(r + RR_STR);
  const sl = <usize>load<u32>(r + RR_LEN);
  // A CONNECT carries no path: only connect_matcher routes take it, and they take nothing else (Envoy's).
  const connect = load<i32>(rec + HEAD_METHOD_ID) == METHOD_CONNECT;
  if (kind == PK_CONNECT) {
    if (!connect) return false;
  } else if (connect) {
    return false;
  } else if (kind == PK_PREFIX) {
    if (pathLen < sl || !bytesEqual(path, s, sl, fold)) return false;
  } else if (kind == PK_PATH) {
    if (pathLen != sl || !bytesEqual(path, s, sl, fold)) return false;
  } else if (kind == PK_SEPARATED_PREFIX) {
    if (pathLen < sl || !bytesEqual(path, s, sl, fold)) return false;
    if (pathLen != sl && load<u8>(path + sl) != 0x2f) return false;
  } else if (kind == PK_REGEX) {
    if (host_regex_match(load<i32>(r + RR_REGEX), path, pathLen) != 1) return false;
  } else {
    return false;
  }
  const nh = <usize>load<u32>(r + RR_HDR_COUNT);
  const hdrs = table + <usize>load<u32>(r + RR_HDRS);
  for (let i: usize = 0; i < nh; i++) if (!headerMatches(table, hdrs + i * HM_SIZE, rec, scratch)) return false;
  const nq = <usize>load<u32>(r + RR_QRY_COUNT);
  const qrys = table + <usize>load<u32>(r + RR_QRYS);
  for (let i: usize = 0; i < nq; i++) if (!queryMatches(table, qrys + i * HM_SIZE, q, qLen)) return false;
  return true;
}

/** The matching route's global index, or -1. No cache. `scratch` is this thread's router scratch area. */
export function matchUncached(table: usize, rec: usize, scratch: usize): i32 {
  const vh = selectVirtualHost(table, rec);
  if (vh < 0) return -1;
  const v = table + <usize>load<u32>(table + RT_VHOSTS) + <usize>vh * VH_SIZE;
  const full = <usize>load<u32>(rec + HEAD_PATH_PTR);
  const fullLen = <usize>load<u32>(rec + HEAD_PATH_LEN);
  const cursors = scratch + RS_CURSORS;
  cursorCount = 0;

  // The path ends at '?': path matching ignores the query.
  let pathLen = fullLen;
  for (let i: usize = 0; i < fullLen; i++) if (load<u8>(full + i) == 0x3f) { pathLen = i; break; }
  const prefixCs = load<u32>(v + VH_PREFIX);
  const prefixCi = load<u32>(v + VH_PREFIX_CI);
  const exactCs = load<u32>(v + VH_EXACT);
  const exactCi = load<u32>(v + VH_EXACT_CI);
  const lens = table + <usize>load<u32>(v + VH_PREFIX_LENS);
  const maxPrefix = load<i32>(v + VH_MAX_PREFIX);
  // Prefix lengths worth probing are 0..min(pathLen, maxPrefix); hash on to pathLen only for exact paths.
  const probeLimit: usize = maxPrefix < 0 ? 0 : min(pathLen, <usize>maxPrefix) + 1;
  const hashEnd: usize = exactCs != 0 || exactCi != 0 ? pathLen : (probeLimit == 0 ? 0 : probeLimit - 1);
  if (prefixCi == 0 && exactCi == 0) {
    // Case-sensitive tables only: one hash chain.
    let h = FNV_OFFSET;
    for (let k: usize = 0; k <= hashEnd; k++) {
      if (k < probeLimit && ((load<u8>(lens + (k >> 3)) >> <u8>(k & 7)) & 1) != 0) {
        addList(table, htFind(table, prefixCs, h, full, k, false), cursors);
      }
      if (k == hashEnd) break;
      h = (h ^ <u32>load<u8>(full + k)) * FNV_PRIME;
    }
    addList(table, htFind(table, exactCs, h, full, pathLen, false), cursors); // h covers the path when exactCs != 0
  } else {
    let hRaw = FNV_OFFSET;
    let hFold = FNV_OFFSET;
    for (let k: usize = 0; k <= hashEnd; k++) {
      if (k < probeLimit && ((load<u8>(lens + (k >> 3)) >> <u8>(k & 7)) & 1) != 0) {
        addList(table, htFind(table, prefixCs, hRaw, full, k, false), cursors);
        addList(table, htFind(table, prefixCi, hFold, full, k, true), cursors);
      }
      if (k == hashEnd) break;
      const b = <u32>load<u8>(full + k);
      hRaw = (hRaw ^ b) * FNV_PRIME;
      hFold = (hFold ^ lower(b)) * FNV_PRIME;
    }
    addList(table, htFind(table, exactCs, hRaw, full, pathLen, false), cursors);
    addList(table, htFind(table, exactCi, hFold, full, pathLen, true), cursors);
  }
  addList(table, load<u32>(v + VH_OTHERS), cursors);

  const q = pathLen < fullLen ? full + pathLen + 1 : full + fullLen;
  const qLen = pathLen < fullLen ? fullLen - pathLen - 1 : 0;
  const first = load<u32>(v + VH_FIRST_ROUTE);
  const routes = table + <usize>load<u32>(table + RT_ROUTES);
  const n = cursorCount;
  // k-way merge by smallest local index; every route sits in exactly one list.
  for (let guard: u32 = 0; guard < 0x7fffffff; guard++) {
    let best: u32 = 0xffffffff;
    let bestCursor: usize = 0;
    for (let i: usize = 0; i < n; i++) {
      const c = cursors + i * 8;
      const at = <usize>load<u32>(c);
      if (at == <usize>load<u32>(c + 4)) continue;
      const idx = load<u32>(at);
      if (idx < best) { best = idx; bestCursor = c; }
    }
    if (best == 0xffffffff) return -1;
    store<u32>(bestCursor, load<u32>(bestCursor) + 4);
    const global = first + best;
    if (routePasses(table, routes + <usize>global * RR_SIZE, rec, full, pathLen, q, qLen, scratch)) return <i32>global;
  }
  return -1;
}
