/**
 * Frames larger than the largest slab (up to max_frame_bytes): the routing fields are decoded in wasm from a
 * copy of the frame's head only, the body stays in the JS Buffer it arrived in, and the request id is patched
 * in that Buffer, which is written on as is (no second copy of the body).
 *
 * Only protocols whose routing fields all sit before the body can do this. Bolt (v1 and v2) does: fixed header,
 * class name, header map, then content. Dubbo does not (its attachments follow the arguments), so its frames
 * stay limited to one slab.
 */
import * as L from '../wasm/layout.js';

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
}

/**
 * The decodable head of a whole frame `frame` of protocol `proto`, or null when the protocol cannot be split
 * (its routing fields are not all before the body) or the bytes are not a frame it knows.
 */
export function bigFrameHead(proto: number, frame: Buffer): BigFrameHead | null {
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
