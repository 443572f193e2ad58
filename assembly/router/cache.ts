// The route cache: fixed-size entries in the shared routeCache region, two-way set associative, each guarded
// by a seqlock so any thread may read and write at once without locks.
//   writer: seq even -> CAS to odd -> write fields -> store seq+2 (skips the entry if another writer holds it)
//   reader: seq even -> read and compare fields -> seq unchanged, else a miss
// All of an entry's fields are accessed with atomics: the reads of one reader and the writes of one writer
// are then ordered with the sequence number in the single total order of atomics, which is what makes the
// seqlock sound (plain accesses would rely on x86's ordering).
// The key is the full match input (authority, path with query, the method when a matcher reads it, the
// values of every header a matcher reads), compared byte for byte, and the entry is tagged with the table
// version: a hash collision, a torn entry or an older table can only miss, never answer wrongly.
import {
  HEAD_HOST_PTR, HEAD_HOST_LEN, HEAD_PATH_PTR, HEAD_PATH_LEN, HEAD_METHOD_PTR, HEAD_METHOD_LEN,
  HEAD_HEADER_COUNT, HEAD_HEADERS, HDR_NAME_PTR, HDR_NAME_LEN, HDR_VALUE_PTR, HDR_VALUE_LEN, HEADER_ENTRY_SIZE,
  RT_VERSION, RT_KEY_HEADER_COUNT, RT_KEY_HEADERS, RT_FLAGS, RTF_KEY_METHOD, RT_CACHE_BASE, RT_CACHE_ENTRIES,
  KH_NAME, KH_LEN, KH_SIZE,
  RC_SEQ, RC_VERSION, RC_HASH, RC_KEY_LEN, RC_RESULT, RC_KEY, RC_ENTRY_SIZE, RC_MAX_KEY,
} from "../abi/layout";
import { bytesEqual, keyHash } from "./bytes";

/** Result of cacheGet when the key is not cached. */
export const CACHE_MISS: i32 = -2;

/** Appends a length-prefixed field to the key; -1 when the key would exceed RC_MAX_KEY. */
function appendField(key: usize, at: i32, ptr: usize, len: usize): i32 {
  if (at < 0 || <usize>at + 4 + len > <usize>RC_MAX_KEY) return -1;
  store<u32>(key + <usize>at, <u32>len);
  memory.copy(key + <usize>at + 4, ptr, len);
  return at + 4 + <i32>len;
}

/** Writes the cache key for `rec` into `key`; returns its length, or -1 when it is too long to cache. */
export function buildKey(table: usize, rec: usize, key: usize): i32 {
  let at = appendField(key, 0, load<u32>(rec + HEAD_HOST_PTR), load<u32>(rec + HEAD_HOST_LEN));
  at = appendField(key, at, load<u32>(rec + HEAD_PATH_PTR), load<u32>(rec + HEAD_PATH_LEN));
  if ((load<u32>(table + RT_FLAGS) & RTF_KEY_METHOD) != 0) {
    at = appendField(key, at, load<u32>(rec + HEAD_METHOD_PTR), load<u32>(rec + HEAD_METHOD_LEN));
  }
  const nk = <usize>load<u32>(table + RT_KEY_HEADER_COUNT);
  const names = table + <usize>load<u32>(table + RT_KEY_HEADERS);
  const count = <usize>load<u32>(rec + HEAD_HEADER_COUNT);
  for (let k: usize = 0; k < nk && at >= 0; k++) {
    const name = table + <usize>load<u32>(names + k * KH_SIZE + KH_NAME);
    const nameLen = <usize>load<u32>(names + k * KH_SIZE + KH_LEN);
    for (let i: usize = 0; i < count && at >= 0; i++) {
      const e = rec + HEAD_HEADERS + i * HEADER_ENTRY_SIZE;
      if (<usize>load<u16>(e + HDR_NAME_LEN) != nameLen) continue;
      if (!bytesEqual(<usize>load<u32>(e + HDR_NAME_PTR), name, nameLen, false)) continue;
      at = appendField(key, at, load<u32>(e + HDR_VALUE_PTR), load<u32>(e + HDR_VALUE_LEN));
    }
    // End of this header's values, so ("a","b") and ("a,b") or a value moved between headers differ.
    if (at < 0 || at + 4 > RC_MAX_KEY) return -1;
    store<u32>(key + <usize>at, 0xffffffff);
    at += 4;
  }
  if (at >= 0) store<u64>(key + <usize>at, 0); // zero pad: the hash reads u32 words, the compare u64 words
  return at;
}

function entryAt(table: usize, hash: u32, way: u32): usize {
  const n = load<u32>(table + RT_CACHE_ENTRIES);
  return <usize>load<u32>(table + RT_CACHE_BASE) + <usize>((hash ^ way) & (n - 1)) * RC_ENTRY_SIZE;
}

/** The cached result for the key, or CACHE_MISS. `key` is zero padded to a multiple of 8 bytes. */
export function cacheGet(table: usize, key: usize, keyLen: usize, hash: u32): i32 {
  const version = load<u32>(table + RT_VERSION);
  const words = (keyLen + 7) >> 3;
  for (let way: u32 = 0; way < 2; way++) {
    const e = entryAt(table, hash, way);
    const s1 = atomic.load<u32>(e + RC_SEQ);
    if ((s1 & 1) != 0) continue;
    if (atomic.load<u32>(e + RC_VERSION) != version || atomic.load<u32>(e + RC_HASH) != hash) continue;
    if (<usize>atomic.load<u32>(e + RC_KEY_LEN) != keyLen) continue;
    let same = true;
    for (let w: usize = 0; w < words; w++) {
      if (atomic.load<u64>(e + RC_KEY + (w << 3)) != load<u64>(key + (w << 3))) { same = false; break; }
    }
    if (!same) continue;
    const result = atomic.load<i32>(e + RC_RESULT);
    if (atomic.load<u32>(e + RC_SEQ) != s1) continue; // written meanwhile: what we read may be torn
    return result;
  }
  return CACHE_MISS;
}

/** Stores a result; gives up silently when another thread is writing the chosen entry. */
export function cachePut(table: usize, key: usize, keyLen: usize, hash: u32, result: i32): void {
  const version = load<u32>(table + RT_VERSION);
  // Prefer an entry of an older table; otherwise pick a way from a hash bit the index does not use.
  let e = entryAt(table, hash, 0);
  if (atomic.load<u32>(e + RC_VERSION) == version) {
    const other = entryAt(table, hash, 1);
    if (atomic.load<u32>(other + RC_VERSION) != version || (hash >>> 31) != 0) e = other;
  }
  const s = atomic.load<u32>(e + RC_SEQ);
  if ((s & 1) != 0) return;
  if (atomic.cmpxchg<u32>(e + RC_SEQ, s, s + 1) != s) return;
  // Atomic stores (sequentially consistent, as every read of the entry): a reader that sees any of them
  // also sees the odd sequence number, so it cannot take a half-written entry for a whole one.
  atomic.store<u32>(e + RC_VERSION, version);
  atomic.store<u32>(e + RC_HASH, hash);
  atomic.store<u32>(e + RC_KEY_LEN, <u32>keyLen);
  atomic.store<i32>(e + RC_RESULT, result);
  const words = (keyLen + 7) >> 3;
  for (let w: usize = 0; w < words; w++) atomic.store<u64>(e + RC_KEY + (w << 3), load<u64>(key + (w << 3)));
  atomic.store<u32>(e + RC_SEQ, s + 2);
}

/** Whether the table has a cache attached. */
export function cacheEnabled(table: usize): bool {
  return load<u32>(table + RT_CACHE_BASE) != 0 && load<u32>(table + RT_CACHE_ENTRIES) >= 2;
}

export { keyHash };
