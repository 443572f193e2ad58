// Route table and route cache entry points: numbers in, numbers out. `table` is the absolute address of a
// table compiled by src/router/compile.ts; `rec` the address of an HTTP/1 head record. Any thread may call
// these concurrently (tables are read-only once published; the cache is lock-free).
import { thread_scratch, thread_scratch_len } from "../abi/exports";
import { ROUTER_SCRATCH_BYTES, RS_KEY, HEAD_METHOD_ID, METHOD_CONNECT } from "../abi/layout";
import { isTable, matchUncached, selectVirtualHost } from "./match";
import { buildKey, cacheEnabled, cacheGet, cachePut, keyHash, CACHE_MISS } from "./cache";

function routerScratch(): usize {
  return thread_scratch() + thread_scratch_len() - <usize>ROUTER_SCRATCH_BYTES;
}

/** Global route index of the first matching route, or -1 (no virtual host or no route). Uses the cache. */
export function route_match(table: usize, rec: usize): i32 {
  if (!isTable(table)) return -1;
  const scratch = routerScratch();
  // CONNECT requests are rare and their key (authority, empty path) could equal another method's: not cached.
  if (!cacheEnabled(table) || load<i32>(rec + HEAD_METHOD_ID) == METHOD_CONNECT) return matchUncached(table, rec, scratch);
  const key = scratch + RS_KEY;
  const keyLen = buildKey(table, rec, key);
  if (keyLen < 0) return matchUncached(table, rec, scratch);
  const hash = keyHash(key, <usize>keyLen);
  const cached = cacheGet(table, key, <usize>keyLen, hash);
  if (cached != CACHE_MISS) return cached;
  const result = matchUncached(table, rec, scratch);
  cachePut(table, key, <usize>keyLen, hash, result);
  return result;
}

/** As route_match, bypassing the cache (reference answers, cold benchmarks). */
export function route_match_nocache(table: usize, rec: usize): i32 {
  if (!isTable(table)) return -1;
  return matchUncached(table, rec, routerScratch());
}

/** Matches `n` records whose addresses are the u32s at `recs`; writes n i32 results at `out`. */
export function route_match_batch(table: usize, recs: usize, n: i32, out: usize): void {
  for (let i: i32 = 0; i < n; i++) {
    store<i32>(out + (<usize>i << 2), route_match(table, load<u32>(recs + (<usize>i << 2))));
  }
}

/** Virtual host index for the record's authority, or -1 (diagnostics and tests). */
export function route_select_vhost(table: usize, rec: usize): i32 {
  return isTable(table) ? selectVirtualHost(table, rec) : -1;
}
