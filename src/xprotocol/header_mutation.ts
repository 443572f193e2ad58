/**
 * A route's request_headers_to_add / request_headers_to_remove (and the response ones) applied to an RPC frame's
 * key/value map: the Bolt header map, or a Dubbo hessian2 request's attachments. Frames stay as received unless a
 * mutation changes their map; then the frame is rebuilt once in JS with its length fields fixed (and Bolt v2's
 * CRC32 recomputed), entries the mutation leaves alone copied byte for byte.
 *
 * A map holds one value per key, so Envoy's `append` on a key that is present joins the values with "," (as a
 * repeated HTTP header reads); names compare case-insensitively, as the router matches them. A frame whose map
 * cannot be rebuilt safely (a Dubbo body that is not hessian2 or was not peeked, attachments that are not plain
 * strings, a response's attachments, a Bolt header map over 64 KiB) is left as it is and counted as skipped.
 */
import type { HeaderMutation } from '../types/router.js';
import * as L from '../wasm/layout.js';
import { crc32 } from './big_frame.js';
import type { WasmInstance } from '../wasm/module.js';
import type { Frame } from './frame_reader.js';

/** One map entry: its original bytes (key and value as on the wire) while unchanged. */
interface MapEntry {
  readonly key: string;
  readonly value: string | null;
  readonly raw: Buffer | null;
}

export type MutationResult = 'unchanged' | 'applied' | 'skipped';

export function hasMutations(m: HeaderMutation): boolean {
  return m.add.length > 0 || m.remove.length > 0;
}

/**
 * Applies `m` to the map entries in place (removals first, then each add by its append action, as Envoy does).
 * Returns whether anything changed.
 */
export function mutateEntries(entries: MapEntry[], m: HeaderMutation): boolean {
  let changed = false;
  const find = (name: string): number => {
    for (let i = 0; i < entries.length; i++) if (entries[i]!.key.toLowerCase() === name) return i;
    return -1;
  };
  const drop = (name: string): void => {
    for (let i = entries.length - 1; i >= 0; i--) {
      if (entries[i]!.key.toLowerCase() === name) { entries.splice(i, 1); changed = true; }
    }
  };
  for (const name of m.remove) drop(name.toLowerCase());
  for (const { name, value, mode } of m.add) {
    const n = name.toLowerCase();
    const at = find(n);
    if (at < 0) {
      if (mode === 'overwrite_if_exists') continue;
      entries.push({ key: name, value, raw: null });
      changed = true;
      continue;
    }
    const old = entries[at]!;
    if (mode === 'add_if_absent') continue;
    const next = mode === 'append' && old.value !== null && old.value !== '' ? `${old.value},${value}` : value;
    if (next === old.value) continue;
    entries[at] = { key: old.key, value: next, raw: null };
    changed = true;
  }
  return changed;
}

// ---- Bolt: SimpleMapSerializer, (i32 keyLen, key, i32 valueLen, value)*, -1 for null --------------------------

function boltEntries(map: Buffer): MapEntry[] | null {
  const out: MapEntry[] = [];
  let p = 0;
  // Each entry consumes at least 8 bytes: the loop ends within map.length / 8 rounds.
  while (p < map.length) {
    const start = p;
    if (p + 4 > map.length) return null;
    const kl = map.readInt32BE(p); p += 4;
    if (kl < 0 || p + kl + 4 > map.length) return null;
    const key = map.toString('utf8', p, p + kl); p += kl;
    const vl = map.readInt32BE(p); p += 4;
    let value: string | null = null;
    if (vl >= 0) {
      if (p + vl > map.length) return null;
      value = map.toString('utf8', p, p + vl); p += vl;
    } else if (vl !== -1) return null;
    out.push({ key, value, raw: map.subarray(start, p) });
  }
  return out;
}

function boltMap(entries: readonly MapEntry[]): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    if (e.raw !== null) { parts.push(e.raw); continue; }
    const k = Buffer.from(e.key, 'utf8');
    const v = e.value === null ? null : Buffer.from(e.value, 'utf8');
    const b = Buffer.allocUnsafe(8 + k.length + (v?.length ?? 0));
    b.writeInt32BE(k.length, 0);
    k.copy(b, 4);
    b.writeInt32BE(v === null ? -1 : v.length, 4 + k.length);
    v?.copy(b, 8 + k.length);
    parts.push(b);
  }
  return Buffer.concat(parts);
}

/** The Bolt frame with its header map mutated, null when the mutation changes nothing, 'skipped' when it cannot. */
export function mutateBoltFrame(frame: Buffer, headerOff: number, headerLen: number, classLen: number, crc: boolean, m: HeaderMutation): Buffer | null | 'skipped' {
  const entries = boltEntries(frame.subarray(headerOff, headerOff + headerLen));
  if (entries === null) return 'skipped';
  if (!mutateEntries(entries, m)) return null;
  const map = boltMap(entries);
  if (map.length > 0xffff) return 'skipped';
  const tail = frame.subarray(headerOff + headerLen, frame.length - (crc ? 4 : 0));
  const out = Buffer.concat([frame.subarray(0, headerOff), map, tail, crc ? Buffer.alloc(4) : Buffer.alloc(0)]);
  // headerLen (u16) sits after classLen (u16), right before contentLen (u32) and the class name.
  out.writeUInt16BE(map.length, headerOff - classLen - 6);
  if (crc) out.writeUInt32BE(crc32(out, out.length - 4), out.length - 4);
  return out;
}

// ---- Dubbo: the hessian2 attachments map at the end of a request body ----------------------------------------

/** End (exclusive) of a hessian2 string at `p` and its text; null for any other shape (or a chunked string). */
function hessianString(b: Buffer, p: number): { end: number; text: string } | null {
  if (p >= b.length) return null;
  const tag = b[p]!;
  let units: number;
  let q: number;
  if (tag <= 0x1f) { units = tag; q = p + 1; }
  else if (tag >= 0x30 && tag <= 0x33) { if (p + 2 > b.length) return null; units = ((tag - 0x30) << 8) | b[p + 1]!; q = p + 2; }
  else if (tag === 0x53) { if (p + 3 > b.length) return null; units = b.readUInt16BE(p + 1); q = p + 3; }
  else return null;
  const start = q;
  // One UTF-16 unit per 1-3 byte sequence (a 4-byte one is two units): bounded by `units` rounds.
  for (let u = 0; u < units; u++) {
    if (q >= b.length) return null;
    const c = b[q]!;
    const n = c < 0x80 ? 1 : c >= 0xc0 && c < 0xe0 ? 2 : c >= 0xe0 && c < 0xf0 ? 3 : c >= 0xf0 && c < 0xf8 ? 4 : 0;
    if (n === 0 || q + n > b.length) return null;
    if (n === 4) u++;
    q += n;
  }
  return { end: q, text: b.toString('utf8', start, q) };
}

function encodeHessianString(s: string): Buffer | null {
  const bytes = Buffer.from(s, 'utf8');
  // Hessian counts UTF-16 units; characters outside the BMP are written as surrogate pairs, which Buffer's UTF-8
  // does not produce: such values are not written.
  for (let i = 0; i < s.length; i++) { const c = s.charCodeAt(i); if (c >= 0xd800 && c <= 0xdfff) return null; }
  const n = s.length;
  if (n < 32) return Buffer.concat([Buffer.from([n]), bytes]);
  if (n < 1024) return Buffer.concat([Buffer.from([0x30 + (n >> 8), n & 0xff]), bytes]);
  if (n <= 0xffff) return Buffer.concat([Buffer.from([0x53, n >> 8, n & 0xff]), bytes]);
  return null;
}

/**
 * The attachments map at the end of the body ('H', or 'M' with its type as a string or a compact int) whose keys
 * and values are all strings: its opening bytes (kept as they are) and its entries.
 */
function dubboEntries(frame: Buffer, mapOff: number): { open: Buffer; entries: MapEntry[] } | null {
  if (frame[frame.length - 1] !== 0x5a) return null;
  let p: number;
  if (frame[mapOff] === 0x48) p = mapOff + 1;
  else if (frame[mapOff] === 0x4d) {
    const typeAt = mapOff + 1;
    const t = frame[typeAt];
    if (t === undefined) return null;
    if (t >= 0x80 && t <= 0xbf) p = typeAt + 1;
    else { const s = hessianString(frame, typeAt); if (s === null) return null; p = s.end; }
  } else return null;
  const open = frame.subarray(mapOff, p);
  const entries: MapEntry[] = [];
  const end = frame.length - 1;
  // Each entry consumes at least two bytes: the loop ends within (end - p) / 2 rounds.
  while (p < end) {
    const k = hessianString(frame, p);
    if (k === null) return null;
    const v = hessianString(frame, k.end);
    if (v === null) return null;
    entries.push({ key: k.text, value: v.text, raw: frame.subarray(p, v.end) });
    p = v.end;
  }
  return p === end ? { open, entries } : null;
}

export function mutateDubboRequest(frame: Buffer, mapOff: number, maxFrameBytes: number, m: HeaderMutation): Buffer | null | 'skipped' {
  const map = dubboEntries(frame, mapOff);
  if (map === null) return 'skipped';
  if (!mutateEntries(map.entries, m)) return null;
  const parts: Buffer[] = [frame.subarray(0, mapOff), map.open];
  for (const e of map.entries) {
    if (e.raw !== null) { parts.push(e.raw); continue; }
    const k = encodeHessianString(e.key);
    const v = e.value === null ? Buffer.from([0x4e]) : encodeHessianString(e.value);
    if (k === null || v === null) return 'skipped';
    parts.push(k, v);
  }
  parts.push(Buffer.from([0x5a]));
  const out = Buffer.concat(parts);
  if (out.length > maxFrameBytes) return 'skipped';
  out.writeUInt32BE(out.length - 16, 12);   // the body length in the 16-byte header
  return out;
}

// ---- a decoded frame ---------------------------------------------------------------------------------------------

/**
 * Applies `m` to a decoded frame's map. When it changes, the frame's bytes are replaced by the rebuilt ones
 * (Frame.replaceBytes); the id is patched afterwards, as for any frame.
 */
export function mutateFrame(wasm: WasmInstance, frame: Frame, m: HeaderMutation, maxFrameBytes: number): MutationResult {
  const v = wasm.view;
  const rec = frame.rec;
  const proto = v.getInt32(rec + L.XF_PROTO, true);
  const flags = v.getInt32(rec + L.XF_FLAGS, true);
  const bytes = frame.bytes();
  let out: Buffer | null | 'skipped';
  let crc = false;
  if (proto === L.XP_BOLT_V1 || proto === L.XP_BOLT_V2) {
    // The Bolt decoder stores the header region's place even when it is empty; its offset is the same in a
    // frame decoded in place and in a big frame's head copy (both start at frame.ptr).
    const headerOff = v.getUint32(rec + L.XF_HEADER_PTR, true) - frame.ptr;
    const headerLen = v.getUint32(rec + L.XF_HEADER_LEN, true);
    const classLen = v.getUint32(rec + L.XF_CLASS_LEN, true);
    crc = frame.crcTrailer;
    const inside = headerOff >= classLen + 6 && headerOff + headerLen <= bytes.length;
    out = inside ? mutateBoltFrame(bytes, headerOff, headerLen, classLen, crc, m) : 'skipped';
  } else if (proto === L.XP_DUBBO && (flags & L.XFF_PEEKED) !== 0 && !frame.isBig && frame.view.kindCode !== L.XK_RESPONSE) {
    const argsEnd = v.getUint32(rec + L.XF_ARGS_PTR, true) + v.getUint32(rec + L.XF_ARGS_LEN, true) - frame.ptr;
    out = argsEnd >= bytes.length ? 'skipped' : mutateDubboRequest(bytes, argsEnd, maxFrameBytes, m);
  } else {
    out = 'skipped';
  }
  if (out === null) return 'unchanged';
  if (out === 'skipped') return 'skipped';
  frame.replaceBytes(out, crc);
  return 'applied';
}
