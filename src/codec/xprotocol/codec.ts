/**
 * Typed wrappers over the xp_* wasm exports (assembly/xprotocol/exports.ts). Addresses are absolute in the
 * shared memory: `buf` holds the frame bytes (a slab the socket bytes were copied into once), `rec` a frame
 * record of XF_RECORD_SIZE bytes, `out` room for frames Skiff writes. Any thread, with its own WasmInstance.
 */
import type { WasmInstance } from '../../wasm/module.js';
import * as L from '../../wasm/layout.js';
import { XProtocolError } from './errors.js';

/** Default cap on one frame (a length field above it is an error before any body is buffered). */
export const DEFAULT_MAX_FRAME_BYTES = L.XP_DEFAULT_MAX_FRAME;
/** Bytes a frame record needs. */
export const FRAME_RECORD_BYTES = L.XF_RECORD_SIZE;

/** The xp_* exports. */
export interface XProtocolExports {
  xp_match(proto: number, buf: number, len: number): number;
  xp_detect(buf: number, len: number): number;
  xp_decode(proto: number, buf: number, len: number, rec: number, maxFrameBytes: number): number;
  xp_set_request_id(proto: number, buf: number, rec: number, id: number): number;
  xp_encode_heartbeat(proto: number, id: number, out: number, outCap: number): number;
  xp_encode_heartbeat_reply(proto: number, rec: number, out: number, outCap: number): number;
  xp_encode_error_reply(proto: number, rec: number, status: number, msg: number, msgLen: number, out: number, outCap: number): number;
  xp_encode_goaway(proto: number, id: number, out: number, outCap: number): number;
  xp_crc32(buf: number, len: number): number;
  xp_read_arg(proto: number, rec: number, index: number): number;
}

export function xpExports(wasm: WasmInstance): XProtocolExports {
  return wasm.exports as unknown as XProtocolExports;
}

/** XP_MATCH, XP_NO or XP_NEED_MORE. */
export function matchFrame(wasm: WasmInstance, proto: number, buf: number, len: number): number {
  return xpExports(wasm).xp_match(proto, buf, len);
}

/**
 * The first XP_* id whose matcher accepts the bytes, 0 when none, XP_NEED_MORE when undecided. Every codec in
 * the wasm module is tried (the echo example too): check xProtocolForId(id) for a registered protocol.
 */
export function detectProtocol(wasm: WasmInstance, buf: number, len: number): number {
  return xpExports(wasm).xp_detect(buf, len);
}

/**
 * Decodes one frame at [buf, buf+len): the frame length (> 0; bytes after it belong to the next frame),
 * XP_NEED_MORE (XF_FRAME_LEN in the record holds the total needed when the fixed header is in), or an XPE_*
 * code (< -1; XF_ERROR_AT holds the offset). See XProtocolError.
 */
export function decodeFrame(wasm: WasmInstance, proto: number, buf: number, len: number, rec: number, maxFrameBytes = DEFAULT_MAX_FRAME_BYTES): number {
  return xpExports(wasm).xp_decode(proto, buf, len, rec, Math.min(maxFrameBytes, 0x7fff_ffff));
}

/** Bytes the frame being decoded needs in all, 0 when its fixed header is not in yet (after XP_NEED_MORE). */
export function neededBytes(wasm: WasmInstance, rec: number): number {
  return wasm.view.getInt32(rec + L.XF_FRAME_LEN, true);
}

/** Offset of a decode error inside the frame. */
export function errorOffset(wasm: WasmInstance, rec: number): number {
  return wasm.view.getInt32(rec + L.XF_ERROR_AT, true);
}

/**
 * Patches the request id of the decoded frame at `buf` in place (Bolt v2: and its CRC32). The id must fit the
 * frame's id field (XF_ID_WIDTH: 4 bytes for Bolt and echo, so below 2^32; 8 for Dubbo, below 2^53 here).
 * Throws when `rec` holds no decoded frame (nothing is written then).
 */
export function setRequestId(wasm: WasmInstance, proto: number, buf: number, rec: number, id: number): void {
  const r = xpExports(wasm).xp_set_request_id(proto, buf, rec, id);
  if (r !== 0) throw new XProtocolError(r, -1, 'internal');
}

/** Heartbeat request with `id` at `out`: bytes written or an XPE_* code. */
export function encodeHeartbeat(wasm: WasmInstance, proto: number, id: number, out: number, outCap: number): number {
  return xpExports(wasm).xp_encode_heartbeat(proto, id, out, outCap);
}

/** Reply to the heartbeat decoded in `rec`. */
export function encodeHeartbeatReply(wasm: WasmInstance, proto: number, rec: number, out: number, outCap: number): number {
  return xpExports(wasm).xp_encode_heartbeat_reply(proto, rec, out, outCap);
}

/**
 * A response in the protocol's own format to the request decoded in `rec`, with wire status `status` (see
 * the spec's httpToStatus) and `msg` (UTF-8 bytes already in wasm memory at msgPtr).
 */
export function encodeErrorReply(wasm: WasmInstance, proto: number, rec: number, status: number, msgPtr: number, msgLen: number, out: number, outCap: number): number {
  return xpExports(wasm).xp_encode_error_reply(proto, rec, status, msgPtr, msgLen, out, outCap);
}

/**
 * What the reply encoders (heartbeat reply, error reply) read from a request's record: keep these few numbers
 * per request in flight instead of its whole record, and write them into any record (a scratch one) to reply.
 */
export interface ReplyContext {
  readonly proto: number;
  readonly idLo: number;
  readonly idHi: number;
  readonly codec: number;
  readonly version: number;
  readonly switchByte: number;
}

export function replyContext(wasm: WasmInstance, rec: number): ReplyContext {
  const v = wasm.view;
  return {
    proto: v.getInt32(rec + L.XF_PROTO, true), idLo: v.getUint32(rec + L.XF_ID_LO, true),
    idHi: v.getUint32(rec + L.XF_ID_HI, true), codec: v.getInt32(rec + L.XF_CODEC, true),
    version: v.getInt32(rec + L.XF_VERSION, true), switchByte: v.getInt32(rec + L.XF_SWITCH, true),
  };
}

/** Writes a reply context into the record at `rec` (XF_RECORD_SIZE bytes) so the reply encoders can use it. */
export function writeReplyContext(wasm: WasmInstance, ctx: ReplyContext, rec: number): void {
  const v = wasm.view;
  v.setInt32(rec + L.XF_PROTO, ctx.proto, true);
  v.setUint32(rec + L.XF_ID_LO, ctx.idLo, true);
  v.setUint32(rec + L.XF_ID_HI, ctx.idHi, true);
  v.setInt32(rec + L.XF_CODEC, ctx.codec, true);
  v.setInt32(rec + L.XF_VERSION, ctx.version, true);
  v.setInt32(rec + L.XF_SWITCH, ctx.switchByte, true);
}

const utf8Encoder = new TextEncoder();

/**
 * encodeErrorReply with the message given as a JS string: the UTF-8 bytes are staged in the upper half of
 * [out, out+outCap) and the reply is written at `out`. Returns the reply's length or an XPE_* code.
 */
export function encodeErrorReplyText(wasm: WasmInstance, proto: number, rec: number, status: number, message: string, out: number, outCap: number): number {
  const half = outCap >>> 1;
  const staged = utf8Encoder.encodeInto(message, wasm.u8.subarray(out + half, out + outCap));
  if (staged.read < message.length) return L.XPE_OUT_TOO_SMALL;
  return xpExports(wasm).xp_encode_error_reply(proto, rec, status, out + half, staged.written, out, half);
}

/** The protocol's goaway frame (Dubbo READONLY event) or XPE_UNSUPPORTED. */
export function encodeGoaway(wasm: WasmInstance, proto: number, id: number, out: number, outCap: number): number {
  return xpExports(wasm).xp_encode_goaway(proto, id, out, outCap);
}

/** CRC-32 (IEEE) of [buf, buf+len) as Bolt v2 computes it; unsigned. */
export function crc32(wasm: WasmInstance, buf: number, len: number): number {
  return xpExports(wasm).xp_crc32(buf, len) >>> 0;
}
