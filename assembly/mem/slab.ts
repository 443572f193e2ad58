// The slab pool: fixed size classes carved from the shared memory's slab region, leased and released by
// pointer from any thread.
//
// Region layout (offsets from the region base; everything lives in shared memory, nothing in statics):
//
//   +0    header (64 B): state, geometry, chunk bump pointer
//   +64   one 64-byte line per size class (own cache line, so classes do not contend):
//           +0  free-list head, u64 = (tag << 32) | first free slab   (tag: bumped by every successful CAS)
//           +8  slabs leased now (i32)      +12 slabs carved (u32)       +16 leases refused: exhausted (u32)
//         (no lease/release totals: each would cost one more atomic add per call, ~10 ns of a ~57 ns pair)
//   then  chunk class table: u8 per chunk, 0 = not carved yet, else class + 1
//   then  slab state table: u8 per 1 KiB granule, 1 = leased (only the first granule of a slab is used)
//   then  chunks of 256 KiB (aligned to 4 KiB), each carved into slabs of one class when first needed.
//
// Why a tag on the head: with a bare pointer, thread A reads head=X next=Y, thread B pops X, pops Y, pushes X;
// A's CAS (X -> Y) then succeeds and hands out Y, which B holds (ABA). The tag makes A's CAS fail instead.
// Why a state byte per slab: a double release would put a slab on a free list twice (and hand it to two
// holders later); the byte turns it into an error code instead.

import {
  SLAB_CLASS_COUNT, SLAB_INIT_DONE, SLAB_INIT_ATTACHED, SLAB_ERR_TOO_SMALL, SLAB_ERR_MISMATCH, SLAB_ERR_TIMEOUT,
  SLAB_RELEASED, SLAB_ERR_NOT_SLAB, SLAB_ERR_NOT_LEASED,
} from "../abi/layout";

// Size classes: 1 KiB x 4^c, c = 0..4 (1, 4, 16, 64, 256 KiB). Geometric spacing keeps internal waste under
// 4x with five lists; 1 KiB is the granule, 256 KiB the chunk.
const MIN_CLASS_SHIFT: u32 = 10;
const CHUNK_SHIFT: u32 = 18;
const CHUNK_BYTES: u32 = 1 << CHUNK_SHIFT;
const GRANULE_SHIFT: u32 = MIN_CLASS_SHIFT;

const STATE_FRESH: u32 = 0;
const STATE_INITIALISING: u32 = 1;
const STATE_READY: u32 = 2;

// header fields
const H_STATE: usize = 0;
const H_BASE: usize = 4;
const H_LEN: usize = 8;
const H_DATA: usize = 12;
const H_CHUNKS: usize = 16;
const H_NEXT_CHUNK: usize = 20;
const H_CLASS_TABLE: usize = 24;
const H_STATE_TABLE: usize = 28;
const H_CLASSES: usize = 64;
const CLASS_LINE: usize = 64;

// per-class fields
const C_HEAD: usize = 0;
const C_LEASED: usize = 8;
const C_CARVED: usize = 12;
const C_EXHAUSTED: usize = 16;

// Per-instance view of the region (globals are per instance; the region itself is shared).
let regionBase: usize = 0;
let dataBase: usize = 0;
let chunkCount: u32 = 0;
let classTable: usize = 0;
let stateTable: usize = 0;

// @ts-ignore: decorator
@inline function classLine(c: i32): usize {
  return regionBase + H_CLASSES + <usize>c * CLASS_LINE;
}

// @ts-ignore: decorator
@inline function classSize(c: i32): u32 {
  return (1 << MIN_CLASS_SHIFT) << (<u32>c << 1);
}

/** Smallest class holding `bytes`, or -1 when it exceeds the largest. */
// @ts-ignore: decorator
@inline function classFor(bytes: u32): i32 {
  if (bytes <= (1 << MIN_CLASS_SHIFT)) return 0;
  const bits = 32 - <i32>clz(bytes - 1);
  const c = (bits - <i32>MIN_CLASS_SHIFT + 1) >> 1;
  return c < SLAB_CLASS_COUNT ? c : -1;
}

function attach(base: usize): void {
  regionBase = base;
  dataBase = <usize>load<u32>(base + H_DATA);
  chunkCount = load<u32>(base + H_CHUNKS);
  classTable = <usize>load<u32>(base + H_CLASS_TABLE);
  stateTable = <usize>load<u32>(base + H_STATE_TABLE);
}

/**
 * Lays the pool out over [base, base+len) once per memory, and attaches this instance to it. Any thread may
 * call it; the first call initialises (the main thread does so before workers start), later ones attach.
 */
export function slab_init(base: usize, len: usize): i32 {
  const statePtr = base + H_STATE;
  const prev = atomic.cmpxchg<u32>(statePtr, STATE_FRESH, STATE_INITIALISING);
  if (prev != STATE_FRESH) {
    // Someone else initialises or did: wait (bounded: 1000 x 1 ms) until ready.
    for (let i = 0; i < 1000 && atomic.load<u32>(statePtr) != STATE_READY; i++) {
      memory.atomic.wait32(statePtr, <i32>STATE_INITIALISING, 1_000_000);
    }
    if (atomic.load<u32>(statePtr) != STATE_READY) return SLAB_ERR_TIMEOUT;
    if (load<u32>(base + H_BASE) != <u32>base || load<u32>(base + H_LEN) != <u32>len) return SLAB_ERR_MISMATCH;
    attach(base);
    return SLAB_INIT_ATTACHED;
  }
  // Tables sized for the whole region (an upper bound on the chunk count), then the chunks.
  const headerEnd = base + H_CLASSES + <usize>SLAB_CLASS_COUNT * CLASS_LINE;
  const maxChunks = <u32>(len >> CHUNK_SHIFT);
  const cTable = headerEnd;
  const sTable = (cTable + maxChunks + 63) & ~<usize>63;
  const granulesPerChunk: usize = 1 << (CHUNK_SHIFT - GRANULE_SHIFT);
  const data = (sTable + <usize>maxChunks * granulesPerChunk + 4095) & ~<usize>4095;
  const end = base + len;
  if (data >= end || ((end - data) >> CHUNK_SHIFT) == 0) {
    atomic.store<u32>(statePtr, STATE_FRESH);
    return SLAB_ERR_TOO_SMALL;
  }
  const chunks = <u32>((end - data) >> CHUNK_SHIFT);
  memory.fill(base + 4, 0, data - base - 4);
  store<u32>(base + H_BASE, <u32>base);
  store<u32>(base + H_LEN, <u32>len);
  store<u32>(base + H_DATA, <u32>data);
  store<u32>(base + H_CHUNKS, chunks);
  store<u32>(base + H_CLASS_TABLE, <u32>cTable);
  store<u32>(base + H_STATE_TABLE, <u32>sTable);
  attach(base);
  atomic.store<u32>(statePtr, STATE_READY);
  atomic.notify(statePtr);
  return SLAB_INIT_DONE;
}

function pop(c: i32): usize {
  const head = classLine(c) + C_HEAD;
  while (true) {
    const old = atomic.load<u64>(head);
    const p = <usize>(<u32>old);
    if (p == 0) return 0;
    // `p` may be popped and overwritten by another thread meanwhile: then `next` is garbage, but the tag has
    // moved and the CAS below fails.
    const next = <u64>atomic.load<u32>(p);
    const replacement = (((old >> 32) + 1) << 32) | next;
    if (atomic.cmpxchg<u64>(head, old, replacement) == old) return p;
  }
}

/** Pushes the chain first -> ... -> last (already linked) onto class `c`'s free list. */
function pushChain(c: i32, first: usize, last: usize): void {
  const head = classLine(c) + C_HEAD;
  while (true) {
    const old = atomic.load<u64>(head);
    store<u32>(last, <u32>old); // published by the CAS below
    const replacement = (((old >> 32) + 1) << 32) | <u64>first;
    if (atomic.cmpxchg<u64>(head, old, replacement) == old) return;
  }
}

/** Takes a fresh chunk for class `c`: returns its first slab, the rest go on the free list. 0 when none left. */
function carve(c: i32): usize {
  const nextPtr = regionBase + H_NEXT_CHUNK;
  let idx: u32 = 0;
  while (true) {
    idx = atomic.load<u32>(nextPtr);
    if (idx >= chunkCount) return 0;
    if (atomic.cmpxchg<u32>(nextPtr, idx, idx + 1) == idx) break;
  }
  const chunk = dataBase + (<usize>idx << CHUNK_SHIFT);
  atomic.store<u8>(classTable + idx, <u8>(c + 1));
  const size = <usize>classSize(c);
  const count = CHUNK_BYTES / <u32>size;
  atomic.add<u32>(classLine(c) + C_CARVED, count);
  if (count > 1) {
    const first = chunk + size;
    const last = chunk + (<usize>(count - 1)) * size;
    for (let p = first; p < last; p += size) store<u32>(p, <u32>(p + size));
    pushChain(c, first, last);
  }
  return chunk;
}

/** Leases a slab of at least `bytes` bytes; 0 when its class is exhausted or `bytes` exceeds 256 KiB. */
export function slab_lease(bytes: usize): usize {
  const c = classFor(<u32>bytes);
  if (c < 0 || regionBase == 0) return 0;
  let p = pop(c);
  if (p == 0) p = carve(c);
  if (p == 0) p = pop(c); // a release may have landed while the chunks ran out
  const line = classLine(c);
  if (p == 0) {
    atomic.add<u32>(line + C_EXHAUSTED, 1);
    return 0;
  }
  // A plain store is enough: the holder passes `p` on through some synchronising hand-off (a CAS here, a
  // message between threads) before anyone can release it.
  store<u8>(stateTable + ((p - dataBase) >> GRANULE_SHIFT), 1);
  atomic.add<i32>(line + C_LEASED, 1);
  return p;
}

/** Class of the slab starting at `p`, or -1 when `p` is not the start of a carved slab. */
function classOfSlab(p: usize): i32 {
  if (regionBase == 0 || p < dataBase) return -1;
  const off = p - dataBase;
  const idx = <u32>(off >> CHUNK_SHIFT);
  if (idx >= chunkCount) return -1;
  const c = <i32>atomic.load<u8>(classTable + idx) - 1;
  if (c < 0) return -1;
  if ((off & (<usize>classSize(c) - 1)) != 0) return -1;
  return c;
}

/** Returns a leased slab to its class. SLAB_RELEASED, or SLAB_ERR_NOT_SLAB / SLAB_ERR_NOT_LEASED. */
export function slab_release(p: usize): i32 {
  const c = classOfSlab(p);
  if (c < 0) return SLAB_ERR_NOT_SLAB;
  if (atomic.cmpxchg<u8>(stateTable + ((p - dataBase) >> GRANULE_SHIFT), 1, 0) != 1) return SLAB_ERR_NOT_LEASED;
  const line = classLine(c);
  atomic.sub<i32>(line + C_LEASED, 1);
  pushChain(c, p, p);
  return SLAB_RELEASED;
}

/** Capacity of the slab starting at `p`; 0 when `p` is not the start of a carved slab. */
export function slab_size_of(p: usize): u32 {
  const c = classOfSlab(p);
  return c < 0 ? 0 : classSize(c);
}

export function slab_class_count(): i32 {
  return SLAB_CLASS_COUNT;
}

/** Size in bytes of class `c` (0 outside 0..count-1). */
export function slab_class_size(c: i32): u32 {
  return c >= 0 && c < SLAB_CLASS_COUNT ? classSize(c) : 0;
}

// ---- stats (read with atomics; counters are per class, over all threads) ----

export function slab_leased(c: i32): i32 {
  return c >= 0 && c < SLAB_CLASS_COUNT && regionBase != 0 ? atomic.load<i32>(classLine(c) + C_LEASED) : 0;
}

export function slab_carved(c: i32): u32 {
  return c >= 0 && c < SLAB_CLASS_COUNT && regionBase != 0 ? atomic.load<u32>(classLine(c) + C_CARVED) : 0;
}

export function slab_exhausted_total(c: i32): u32 {
  return c >= 0 && c < SLAB_CLASS_COUNT && regionBase != 0 ? atomic.load<u32>(classLine(c) + C_EXHAUSTED) : 0;
}

export function slab_chunk_count(): u32 {
  return chunkCount;
}

export function slab_chunks_used(): u32 {
  if (regionBase == 0) return 0;
  const n = atomic.load<u32>(regionBase + H_NEXT_CHUNK);
  return n < chunkCount ? n : chunkCount;
}

/**
 * Length of class `c`'s free list, walking at most `limit` links (-1 past the limit). Only meaningful while
 * no thread leases or releases (checks and tests).
 */
export function slab_free_length(c: i32, limit: i32): i32 {
  if (c < 0 || c >= SLAB_CLASS_COUNT || regionBase == 0) return 0;
  let p = <usize>(<u32>atomic.load<u64>(classLine(c) + C_HEAD));
  let n = 0;
  while (p != 0) {
    if (n >= limit) return -1;
    n++;
    p = <usize>atomic.load<u32>(p);
  }
  return n;
}
