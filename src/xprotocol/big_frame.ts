/**
 * Frames larger than the largest slab (up to max_frame_bytes): the routing fields are decoded in wasm from a
 * copy of the frame's head only, the body stays in the JS Buffer it arrived in, and the request id is patched
 * in that Buffer, which is written on as is (no second copy of the body).
 *
 * Bolt (v1 and v2): fixed header, class name, header map, then content; every routing field is in the head.
 * Dubbo: the routing strings the body starts with (dubbo version, path, version, method) come first, and the
 * attachments follow the arguments. A hessian2 request's arguments are walked in JS (hessian_skip.ts) and the head
 * decoded in wasm is the frame with each argument replaced by a null: the routing strings and the attachments
 * (group, timeout, attachment headers) route it as they would a small frame. Parameter routes do not apply to big
 * frames (their arguments are not in wasm memory). When the walk fails, the head is the first 8 KiB of the body
 * and the frame is routed on interface, version and method only.
 */
import * as L from '../wasm/layout.js';
import { descriptorArgCount, HessianSkipper } from './hessian_skip.js';

/** Bolt v1/v2 wire facts (see assembly/xprotocol/bolt/decode.ts). */
const BOLT_TYPE_RESPONSE = 0;
/**
 * Content bytes kept in the head: a SofaRequest without a sofa_head_method_name header carries its method
 * name as the content's first field, which the decoder peeks at (best effort, a cut content is no error).
 */
const CONTENT_PEEK_BYTES = 1024;

export interface BigFrameHead {
  /** A shortened but decodable frame: the same head with the body cut to its first bytes (and no CRC trailer). */
  readonly head: Buffer;
  /** The frame has a CRC32 trailer over everything before it (Bolt v2, ver1 > 1, switch bit 0). */
  readonly crc: boolean;
  /** The original switch byte (the shortened head has its CRC bit cleared). */
  readonly switchByte: number;
  /** Dubbo: the head holds the routing strings and the attachments, its arguments replaced by nulls. */
  readonly whole?: boolean;
}

/**
 * The decodable head of a whole frame `frame` of protocol `proto`, or null when the protocol cannot be split
 * (its routing fields are not all before the body) or the bytes are not a frame it knows.
 */
export function bigFrameHead(proto: number, frame: Buffer): BigFrameHead | null {
  if (proto === L.XP_DUBBO) return dubboHead(frame);
  if (proto !== L.XP_BOLT_V1 && proto !== L.XP_BOLT_V2) return null;
  const v2 = frame[0] === L.XP_BOLT_V2;
  const at = v2 ? 1 : 0;
  const type = frame[at + 1];
  const hdr = (type === BOLT_TYPE_RESPONSE ? 20 : 22) + (v2 ? 2 : 0);
  if (frame.length < hdr) return null;
  const codecAt = at + 9;
  const lensAt = codecAt + (v2 ? 2 : 1) + (type === BOLT_TYPE_RESPONSE ? 2 : 4);
  const classLen = frame.readUInt16BE(lensAt);
  const headerLen = frame.readUInt16BE(lensAt + 2);
  const peek = Math.min(frame.readUInt32BE(lensAt + 4), CONTENT_PEEK_BYTES);
  const headLen = hdr + classLen + headerLen + peek;
  if (headLen > frame.length) return null;
  const head = Buffer.allocUnsafe(headLen);
  frame.copy(head, 0, 0, headLen);
  head.writeUInt32BE(peek, lensAt + 4);
  const switchByte = v2 ? frame[codecAt + 1]! : 0;
  const crc = v2 && frame[1]! > 1 && (switchByte & 1) !== 0;
  if (crc) head[codecAt + 1] = switchByte & ~1;
  return { head, crc, switchByte };
}

/** Dubbo's fixed header; the body length is its last 4 bytes. */
const DUBBO_HEADER_BYTES = 16;
/** Body bytes kept in a big Dubbo frame's head: room for the four routing strings the body starts with. */
const DUBBO_BODY_PEEK_BYTES = 8192;

/** A head with the arguments replaced by nulls stays below this size (else the 8 KiB cut is used). */
const DUBBO_WHOLE_HEAD_MAX = 64 * 1024;
const DUBBO_FLAG_REQUEST = 0x80;
const DUBBO_FLAG_EVENT = 0x20;
const DUBBO_SERIALIZATION_MASK = 0x1f;
const DUBBO_HESSIAN2 = 2;

function dubboHead(frame: Buffer): BigFrameHead | null {
  if (frame.length < DUBBO_HEADER_BYTES || frame[0] !== 0xda || frame[1] !== 0xbb) return null;
  const whole = dubboWholeHead(frame);
  if (whole !== null) return { head: whole, crc: false, switchByte: 0, whole: true };
  const peek = Math.min(frame.readUInt32BE(12), DUBBO_BODY_PEEK_BYTES, frame.length - DUBBO_HEADER_BYTES);
  const head = Buffer.allocUnsafe(DUBBO_HEADER_BYTES + peek);
  frame.copy(head, 0, 0, head.length);
  head.writeUInt32BE(peek, 12);
  return { head, crc: false, switchByte: 0 };
}

/**
 * A hessian2 request without its arguments: header, the body up to the arguments, one null per argument, then
 * the attachments map as received. Null when the body cannot be walked or the result is not small.
 */
function dubboWholeHead(frame: Buffer): Buffer | null {
  const flag = frame[2]!;
  if ((flag & DUBBO_FLAG_REQUEST) === 0 || (flag & DUBBO_FLAG_EVENT) !== 0 || (flag & DUBBO_SERIALIZATION_MASK) !== DUBBO_HESSIAN2) return null;
  if (frame.readUInt32BE(12) !== frame.length - DUBBO_HEADER_BYTES) return null;
  const walk = new HessianSkipper(frame);
  let p = DUBBO_HEADER_BYTES;
  for (let i = 0; i < 4 && p >= 0; i++) p = walk.skip(p);   // dubbo version, path, version, method
  if (p < 0) return null;
  const t = frame[p];
  if (t !== undefined && t >= 0x80 && t <= 0xbf) p++;        // dubbox writes an int (-1) before the descriptor
  const tag = frame[p];
  if (tag === undefined) return null;
  const descStart = tag <= 0x1f ? p + 1 : tag >= 0x30 && tag <= 0x33 ? p + 2 : tag === 0x53 ? p + 3 : -1;
  if (descStart < 0) return null;
  p = walk.skip(p);
  if (p < 0) return null;
  const args = descriptorArgCount(frame.toString('latin1', descStart, p));
  if (args < 0) return null;
  const argsAt = p;
  for (let i = 0; i < args && p >= 0; i++) p = walk.skip(p);
  if (p < 0) return null;
  const headLen = argsAt + args + (frame.length - p);
  if (headLen > DUBBO_WHOLE_HEAD_MAX) return null;
  const head = Buffer.concat([frame.subarray(0, argsAt), Buffer.alloc(args, 0x4e), frame.subarray(p)], headLen);
  head.writeUInt32BE(headLen - DUBBO_HEADER_BYTES, 12);
  return head;
}

/**
 * Whether the decode result `n` of a big frame's shortened head is usable, normalising the record when it is.
 * A cut Dubbo request body fails inside the arguments, after the decoder stored the routing strings: usable
 * when the method was read. What the decoder may have taken from the cut (arguments, attachment headers,
 * group, timeout) is cleared so that no route matches on half of it.
 */
export function bigHeadUsable(proto: number, view: DataView, rec: number, n: number, headLen: number, whole = false): boolean {
  if (n === headLen) {
    // A whole head's attachments are the frame's; its arguments are placeholders no parameter route may read.
    if (proto === L.XP_DUBBO && whole) clearDubboArgs(view, rec);
    else if (proto === L.XP_DUBBO) clearDubboTail(view, rec);
    return true;
  }
  if (proto !== L.XP_DUBBO || n >= L.XP_NEED_MORE) return false;
  const kind = view.getInt32(rec + L.XF_KIND, true);
  if (kind !== L.XK_REQUEST && kind !== L.XK_ONEWAY) return false;
  if (view.getUint32(rec + L.XF_METHOD_PTR, true) === 0 || view.getInt32(rec + L.XF_METHOD_LEN, true) <= 0) return false;
  clearDubboTail(view, rec);
  return true;
}

function clearDubboArgs(view: DataView, rec: number): void {
  for (const f of [L.XF_ARGS_PTR, L.XF_ARGS_LEN, L.XF_ARGS_COUNT]) view.setInt32(rec + f, 0, true);
}

function clearDubboTail(view: DataView, rec: number): void {
  for (const f of [L.XF_ARGS_PTR, L.XF_ARGS_LEN, L.XF_ARGS_COUNT, L.XF_HEADER_COUNT, L.XF_HEADER_PTR, L.XF_HEADER_LEN, L.XF_GROUP_PTR, L.XF_GROUP_LEN, L.XF_TIMEOUT, L.XF_ERROR_AT]) {
    view.setInt32(rec + f, 0, true);
  }
  view.setInt32(rec + L.XF_FLAGS, view.getInt32(rec + L.XF_FLAGS, true) & ~(L.XFF_HEADERS_TRUNCATED | L.XFF_PEEKED), true);
}

const CRC_TABLE = (() => {
  const t = new Int32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c;
  }
  return t;
})();

/** CRC32 (IEEE, as Bolt v2 uses) of [0, len) of `b`. Node 20 has no zlib.crc32. */
export function crc32(b: Uint8Array, len: number): number {
  let c = -1;
  for (let i = 0; i < len; i++) c = CRC_TABLE[(c ^ b[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ -1) >>> 0;
}

/** The trailer of a frame with a CRC32 matches its bytes. */
export function crcMatches(frame: Buffer): boolean {
  return crc32(frame, frame.length - 4) === frame.readUInt32BE(frame.length - 4);
}

/** Patches a big frame's request id in its Buffer (big-endian, `width` 4 or 8 bytes at `offset`) and its CRC. */
export function patchBigFrameId(frame: Buffer, offset: number, width: number, id: number, crc: boolean): void {
  if (width === 8) {
    frame.writeUInt32BE(Math.floor(id / 0x1_0000_0000) >>> 0, offset);
    frame.writeUInt32BE(id >>> 0, offset + 4);
  } else {
    frame.writeUInt32BE(id >>> 0, offset);
  }
  if (crc) frame.writeUInt32BE(crc32(frame, frame.length - 4), frame.length - 4);
}
