// HPACK dynamic table (RFC 7541 §2.3.2, §4) in a region the caller leases (a slab per connection and
// direction). Entry bytes live in a ring of 2 x capacity bytes: an entry never wraps (it restarts at the
// ring's start when the tail is too short), and because the live bytes never exceed the capacity and at
// most one gap (shorter than one entry) lies between them, 2 x capacity always holds them.
//
// Region layout:
//   [0, T_HEADER_BYTES)  header fields T_* below
//   name buckets         BUCKETS x u32: 1 + insertion number of the newest entry whose name hashes there (0 = none)
//   entry slots          T_SLOT_BYTES each: u32 data offset, u16 name length, u16 unused, u32 value length,
//                        u32 name hash, u32 1 + insertion number of the previous entry in the same bucket
//   data ring            2 x capacity bytes
//   staging              capacity + 32 bytes: the decoder decodes a field to be indexed here when the caller's
//                        output buffer is full, so the table stays in sync
import { eqBytes } from "../../util/ascii";

const T_MAX_SIZE: usize = 0;      // current maximum size (last size update)
const T_LIMIT: usize = 4;         // protocol limit: SETTINGS_HEADER_TABLE_SIZE (decoder) / chosen size (encoder)
const T_SIZE: usize = 8;          // current size, RFC accounting (name + value + 32 per entry)
const T_COUNT: usize = 12;
const T_NEWEST: usize = 16;       // slot of the newest entry
const T_DATA_HEAD: usize = 20;    // next write offset in the data ring
const T_CAPACITY: usize = 24;     // largest size this region holds
const T_SLOTS: usize = 28;
const T_FLAGS: usize = 32;        // TF_* bits
const T_PENDING_MIN: usize = 36;  // encoder: smallest limit since the last block
const T_INSERTED: usize = 40;     // entries ever inserted (u32, wraps): entry n lives in slot (n + 1) % slots
const T_HEADER_BYTES: usize = 64;
// The encoder finds entries by name through hash chains, not by a scan of the whole table.
const BUCKETS: usize = 256;
const T_SLOTS_AT: usize = T_HEADER_BYTES + BUCKETS * 4;
const T_SLOT_BYTES: usize = 20;

/** Decoder: the limit went below the table size; the next block must start with a size update. */
export const TF_UPDATE_REQUIRED: u32 = 1;
/** Encoder: a size update is to be sent at the start of the next block. */
export const TF_UPDATE_PENDING: u32 = 2;

export const ENTRY_OVERHEAD: u32 = 32;

// @ts-ignore: decorator
@inline function slotCount(capacity: u32): u32 { return capacity / ENTRY_OVERHEAD + 1; }
// @ts-ignore: decorator
@inline function dataBase(t: usize): usize { return t + T_SLOTS_AT + <usize>load<u32>(t + T_SLOTS) * T_SLOT_BYTES; }

/** Bytes a table region of `capacity` needs. */
export function tableBytes(capacity: u32): u32 {
  // staging holds at least 32 bytes: the encoder formats digits there
  return <u32>T_SLOTS_AT + slotCount(capacity) * <u32>T_SLOT_BYTES + 3 * capacity + 32;
}

/** Lays out an empty table at `t` with room for sizes up to `capacity`; max size and limit start at `initial`. */
export function tableInit(t: usize, capacity: u32, initial: u32): void {
  memory.fill(t, 0, T_SLOTS_AT);
  store<u32>(t + T_CAPACITY, capacity);
  store<u32>(t + T_SLOTS, slotCount(capacity));
  store<u32>(t + T_MAX_SIZE, initial);
  store<u32>(t + T_LIMIT, initial);
  store<u32>(t + T_PENDING_MIN, initial);
}

export function tableCapacity(t: usize): u32 { return load<u32>(t + T_CAPACITY); }
export function tableMaxSize(t: usize): u32 { return load<u32>(t + T_MAX_SIZE); }
export function tableLimit(t: usize): u32 { return load<u32>(t + T_LIMIT); }
export function tableSize(t: usize): u32 { return load<u32>(t + T_SIZE); }
export function tableCount(t: usize): i32 { return load<i32>(t + T_COUNT); }
export function tableFlags(t: usize): u32 { return load<u32>(t + T_FLAGS); }
export function tableSetFlags(t: usize, f: u32): void { store<u32>(t + T_FLAGS, f); }
export function tablePendingMin(t: usize): u32 { return load<u32>(t + T_PENDING_MIN); }
export function tableSetPendingMin(t: usize, v: u32): void { store<u32>(t + T_PENDING_MIN, v); }
export function tableSetLimit(t: usize, v: u32): void { store<u32>(t + T_LIMIT, v); }
export function tableStaging(t: usize): usize { return dataBase(t) + 2 * <usize>load<u32>(t + T_CAPACITY); }

function evictOldest(t: usize): void {
  const count = load<u32>(t + T_COUNT);
  const slots = load<u32>(t + T_SLOTS);
  const oldest = (load<u32>(t + T_NEWEST) + slots - count + 1) % slots;
  const s = t + T_SLOTS_AT + <usize>oldest * T_SLOT_BYTES;
  const size = <u32>load<u16>(s + 4) + load<u32>(s + 8) + ENTRY_OVERHEAD;
  store<u32>(t + T_SIZE, load<u32>(t + T_SIZE) - size);
  store<u32>(t + T_COUNT, count - 1);
  if (count == 1) store<u32>(t + T_DATA_HEAD, 0);
}

/** Sets the maximum size (a size update, ≤ capacity), evicting entries until the table fits. */
export function tableSetMaxSize(t: usize, max: u32): void {
  store<u32>(t + T_MAX_SIZE, max);
  while (load<u32>(t + T_SIZE) > max && load<u32>(t + T_COUNT) > 0) evictOldest(t);
}

/** Evicts every entry (an entry larger than the maximum size was added, RFC 7541 §4.4). */
export function tableClear(t: usize): void {
  while (load<u32>(t + T_COUNT) > 0) evictOldest(t);
}

/** FNV-1a 32 of [p, p+len). */
export function hashBytes(p: usize, len: i32): u32 {
  let h: u32 = 0x811c9dc5;
  for (let i = 0; i < len; i++) h = (h ^ <u32>load<u8>(p + <usize>i)) * 0x01000193;
  return h;
}

/**
 * Adds an entry (RFC 7541 §4.4): evicts until it fits; an entry larger than the maximum size empties the
 * table and is not added. The source bytes must not lie in the table's data ring.
 */
export function tableInsert(t: usize, name: usize, nameLen: i32, value: usize, valueLen: i32): void {
  const size = <u32>nameLen + <u32>valueLen + ENTRY_OVERHEAD;
  const max = load<u32>(t + T_MAX_SIZE);
  while (load<u32>(t + T_SIZE) + size > max && load<u32>(t + T_COUNT) > 0) evictOldest(t);
  if (size > max) return;
  const ringLen: u32 = 2 * load<u32>(t + T_CAPACITY);
  const len = <u32>(nameLen + valueLen);
  let at = load<u32>(t + T_DATA_HEAD);
  if (at + len > ringLen) at = 0;
  const data = dataBase(t) + <usize>at;
  memory.copy(data, name, <usize>nameLen);
  memory.copy(data + <usize>nameLen, value, <usize>valueLen);
  const slots = load<u32>(t + T_SLOTS);
  const n = load<u32>(t + T_INSERTED);
  const slot = (n + 1) % slots;
  const s = t + T_SLOTS_AT + <usize>slot * T_SLOT_BYTES;
  const hash = hashBytes(name, nameLen);
  const bucket = t + T_HEADER_BYTES + (<usize>(hash & <u32>(BUCKETS - 1)) << 2);
  store<u32>(s, at);
  store<u16>(s + 4, <u16>nameLen);
  store<u32>(s + 8, <u32>valueLen);
  store<u32>(s + 12, hash);
  store<u32>(s + 16, load<u32>(bucket));
  store<u32>(bucket, n + 1);
  store<u32>(t + T_INSERTED, n + 1);
  store<u32>(t + T_NEWEST, slot);
  store<u32>(t + T_COUNT, load<u32>(t + T_COUNT) + 1);
  store<u32>(t + T_SIZE, load<u32>(t + T_SIZE) + size);
  store<u32>(t + T_DATA_HEAD, at + len);
}

/** Slot address of dynamic index `i` (1 = newest); the caller checks 1 <= i <= count. */
export function tableSlot(t: usize, i: i32): usize {
  const slots = load<u32>(t + T_SLOTS);
  const slot = (load<u32>(t + T_NEWEST) + slots - <u32>(i - 1)) % slots;
  return t + T_SLOTS_AT + <usize>slot * T_SLOT_BYTES;
}

// @ts-ignore: decorator
@inline export function slotName(t: usize, s: usize): usize { return dataBase(t) + <usize>load<u32>(s); }
// @ts-ignore: decorator
@inline export function slotNameLen(s: usize): i32 { return <i32>load<u16>(s + 4); }
// @ts-ignore: decorator
@inline export function slotValueLen(s: usize): i32 { return load<i32>(s + 8); }
// @ts-ignore: decorator
@inline export function slotHash(s: usize): u32 { return load<u32>(s + 12); }

/**
 * Encoder lookup: dynamic index of an entry equal to (name, value) -> returned as a positive index; else the
 * index of an entry with that name, negated; 0 when none.
 */
export function tableFind(t: usize, name: usize, nameLen: i32, nameHash: u32, value: usize, valueLen: i32): i32 {
  const count = load<u32>(t + T_COUNT);
  const inserted = load<u32>(t + T_INSERTED);
  const slots = load<u32>(t + T_SLOTS);
  const data = dataBase(t);
  let link = load<u32>(t + T_HEADER_BYTES + (<usize>(nameHash & <u32>(BUCKETS - 1)) << 2));
  let nameMatch = 0;
  // Newest to oldest along the bucket's chain; an evicted entry ends it (every older one is evicted too).
  while (link != 0) {
    const n = link - 1;
    const age = inserted - 1 - n;
    if (age >= count) break;
    const s = t + T_SLOTS_AT + <usize>((n + 1) % slots) * T_SLOT_BYTES;
    if (slotHash(s) == nameHash && slotNameLen(s) == nameLen) {
      const p = data + <usize>load<u32>(s);
      if (eqBytes(p, name, nameLen)) {
        if (slotValueLen(s) == valueLen && eqBytes(p + <usize>nameLen, value, valueLen)) return <i32>age + 1;
        if (nameMatch == 0) nameMatch = <i32>age + 1;
      }
    }
    link = load<u32>(s + 16);
  }
  return -nameMatch;
}
