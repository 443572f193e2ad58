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

/** The first XP_* id whose matcher accepts the bytes, 0 when none, XP_NEED_MORE when undecided. */
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
 * Patches the request id of the decoded frame at `buf` in place (Bolt v2: and its CRC32). id < 2^53.
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

/** The protocol's goaway frame (Dubbo READONLY event) or XPE_UNSUPPORTED. */
export function encodeGoaway(wasm: WasmInstance, proto: number, id: number, out: number, outCap: number): number {
  return xpExports(wasm).xp_encode_goaway(proto, id, out, outCap);
}

/** CRC-32 (IEEE) of [buf, buf+len) as Bolt v2 computes it; unsigned. */
export function crc32(wasm: WasmInstance, buf: number, len: number): number {
  return xpExports(wasm).xp_crc32(buf, len) >>> 0;
}
