/**
 * Lazy view over a decoded frame record (XF_* in src/wasm/layout.ts): numbers are read from the record,
 * strings decoded from the frame bytes only when asked for. The view is valid while the frame bytes and the
 * record stay where they are (the framework re-uses both once the frame is forwarded).
 */
import type { WasmInstance } from '../../wasm/module.js';
import * as L from '../../wasm/layout.js';
import { XProtocolError } from './errors.js';
import { xpExports } from './codec.js';

/**
 * Strings are read through a Buffer over the whole shared memory (no copy; TextDecoder would copy a shared
 * view first): routing names are ASCII, which latin1 decodes fastest, anything else goes through utf8.
 */
const memoryBuffers = new WeakMap<WebAssembly.Memory, Buffer>();
function memoryBuffer(wasm: WasmInstance): Buffer {
  let b = memoryBuffers.get(wasm.memory);
  if (!b) {
    b = Buffer.from(wasm.memory.buffer as ArrayBuffer);
    memoryBuffers.set(wasm.memory, b);
  }
  return b;
}

function text(wasm: WasmInstance, ptr: number, len: number): string {
  const u8 = wasm.u8;
  const end = ptr + len;
  for (let i = ptr; i < end; i++) {
    if (u8[i] >= 0x80) return decodeCesu8(u8, ptr, end);
  }
  return memoryBuffer(wasm).toString('latin1', ptr, end);
}

/**
 * UTF-8 that may hold CESU-8 surrogate halves (Java and hessian.js write a character outside the BMP as two
 * 3-byte sequences, which a strict UTF-8 decoder rejects). Malformed sequences become U+FFFD.
 */
function decodeCesu8(u8: Uint8Array, start: number, end: number): string {
  const units: number[] = [];
  let i = start;
  while (i < end) {
    const b = u8[i];
    const need = b < 0x80 ? 0 : b >= 0xf0 && b < 0xf8 ? 3 : b >= 0xe0 ? 2 : b >= 0xc0 ? 1 : -1;
    if (need < 0 || i + need >= end) { units.push(0xfffd); i++; continue; }
    let cp = need === 0 ? b : b & (0x3f >> need);
    let ok = true;
    for (let k = 1; k <= need; k++) {
      const c = u8[i + k];
      if ((c & 0xc0) !== 0x80) { ok = false; break; }
      cp = (cp << 6) | (c & 0x3f);
    }
    if (!ok) { units.push(0xfffd); i++; continue; }
    if (cp > 0xffff) units.push(0xd800 + ((cp - 0x10000) >> 10), 0xdc00 + ((cp - 0x10000) & 0x3ff));
    else units.push(cp);
    i += need + 1;
  }
  let out = '';
  for (let k = 0; k < units.length; k += 4096) out += String.fromCharCode(...units.slice(k, k + 4096));
  return out;
}

export type XFrameKind = 'request' | 'response' | 'oneway' | 'heartbeat' | 'heartbeat_reply' | 'goaway' | 'event';

const KINDS: Record<number, XFrameKind> = {
  [L.XK_REQUEST]: 'request', [L.XK_RESPONSE]: 'response', [L.XK_ONEWAY]: 'oneway',
  [L.XK_HEARTBEAT]: 'heartbeat', [L.XK_HEARTBEAT_REPLY]: 'heartbeat_reply', [L.XK_GOAWAY]: 'goaway',
  [L.XK_EVENT]: 'event',
};

/** One argument of a request as xp_read_arg reads it: scalars by value, other shapes by type only. */
export type XArgument =
  | { type: 'null' }
  | { type: 'bool'; value: boolean }
  | { type: 'int' | 'double'; value: number }
  | { type: 'string'; value: string }
  | { type: 'other' };

export class XFrameView {
  constructor(private readonly wasm: WasmInstance, readonly rec: number) {}

  private u32(field: number): number { return this.wasm.view.getUint32(this.rec + field, true); }
  private i32(field: number): number { return this.wasm.view.getInt32(this.rec + field, true); }
  private str(ptrField: number, lenField: number): string {
    const len = this.u32(lenField);
    return len === 0 ? '' : text(this.wasm, this.u32(ptrField), len);
  }

  /** XP_* id of the frame's protocol (Bolt v1 or v2 as received). */
  get proto(): number { return this.i32(L.XF_PROTO); }
  get kindCode(): number { return this.i32(L.XF_KIND); }
  get kind(): XFrameKind { return KINDS[this.kindCode] ?? 'event'; }
  get frameLength(): number { return this.i32(L.XF_FRAME_LEN); }
  get flags(): number { return this.i32(L.XF_FLAGS); }
  /** The request id; exact below 2^53 (Dubbo ids above that lose precision; use requestIdBig). */
  get requestId(): number { return this.u32(L.XF_ID_HI) * 0x1_0000_0000 + this.u32(L.XF_ID_LO); }
  get requestIdBig(): bigint { return (BigInt(this.u32(L.XF_ID_HI)) << 32n) | BigInt(this.u32(L.XF_ID_LO)); }
  get idOffset(): number { return this.i32(L.XF_ID_OFFSET); }
  get idWidth(): number { return this.i32(L.XF_ID_WIDTH); }
  /** Wire status of a response. */
  get status(): number { return this.i32(L.XF_STATUS); }
  /** Timeout carried by the frame in ms, 0 when none. */
  get timeoutMs(): number { return this.i32(L.XF_TIMEOUT); }
  get codec(): number { return this.i32(L.XF_CODEC); }
  get version(): number { return this.i32(L.XF_VERSION); }
  get responseType(): number { return this.i32(L.XF_RESPONSE_TYPE); }
  get className(): string { return this.str(L.XF_CLASS_PTR, L.XF_CLASS_LEN); }
  get service(): string { return this.str(L.XF_SERVICE_PTR, L.XF_SERVICE_LEN); }
  get method(): string { return this.str(L.XF_METHOD_PTR, L.XF_METHOD_LEN); }
  get serviceVersion(): string { return this.str(L.XF_SVC_VERSION_PTR, L.XF_SVC_VERSION_LEN); }
  get group(): string { return this.str(L.XF_GROUP_PTR, L.XF_GROUP_LEN); }
  get rpcVersion(): string { return this.str(L.XF_RPC_VERSION_PTR, L.XF_RPC_VERSION_LEN); }
  /** Absolute address and length of the content / body. */
  get payloadPtr(): number { return this.u32(L.XF_PAYLOAD_PTR); }
  get payloadLength(): number { return this.u32(L.XF_PAYLOAD_LEN); }
  get headerCount(): number { return this.i32(L.XF_HEADER_COUNT); }

  /**
   * Header (Bolt) / attachment (Dubbo) entries with string values, in wire order. When the record holds only
   * the first XF_MAX_HEADERS (XFF_HEADERS_TRUNCATED), a Bolt header map is read whole from the frame bytes;
   * Dubbo attachments past the first XF_MAX_HEADERS are not available.
   */
  headers(): Array<[string, string]> {
    if ((this.flags & L.XFF_HEADERS_TRUNCATED) !== 0 && this.u32(L.XF_HEADER_LEN) > 0) return this.rawHeaderMap();
    const out: Array<[string, string]> = [];
    const n = this.headerCount;
    const v = this.wasm.view;
    for (let i = 0; i < n; i++) {
      const e = this.rec + L.XF_HEADERS + i * L.HEADER_ENTRY_SIZE;
      const np = v.getUint32(e + L.HDR_NAME_PTR, true);
      const nl = v.getUint16(e + L.HDR_NAME_LEN, true);
      const vp = v.getUint32(e + L.HDR_VALUE_PTR, true);
      const vl = v.getUint32(e + L.HDR_VALUE_LEN, true);
      out.push([text(this.wasm, np, nl), text(this.wasm, vp, vl)]);
    }
    return out;
  }

  /** Number of arguments of a peeked Dubbo hessian2 request (from its descriptor), 0 otherwise. */
  get argumentCount(): number { return this.i32(L.XF_ARGS_COUNT); }

  /**
   * Argument `index` of the request (Dubbo hessian2), for parameter route matches; undefined when there is no
   * such argument. Throws XProtocolError when the arguments cannot be walked. The frame bytes must not have moved.
   */
  argument(index: number): XArgument | undefined {
    const t = xpExports(this.wasm).xp_read_arg(this.proto, this.rec, index);
    switch (t) {
      case 0: case L.XPE_UNSUPPORTED: return undefined;
      case L.XA_NULL: return { type: 'null' };
      case L.XA_BOOL: return { type: 'bool', value: this.wasm.view.getFloat64(this.rec + L.XF_ARG_NUM, true) !== 0 };
      case L.XA_INT: return { type: 'int', value: this.wasm.view.getFloat64(this.rec + L.XF_ARG_NUM, true) };
      case L.XA_DOUBLE: return { type: 'double', value: this.wasm.view.getFloat64(this.rec + L.XF_ARG_NUM, true) };
      case L.XA_STRING: return { type: 'string', value: this.str(L.XF_ARG_PTR, L.XF_ARG_LEN) };
      case L.XA_OTHER: return { type: 'other' };
      default: throw new XProtocolError(t, -1);
    }
  }

  /** Every entry of a SimpleMapSerializer header map (Bolt), read from the frame bytes; wasm checked its framing. */
  private rawHeaderMap(): Array<[string, string]> {
    const out: Array<[string, string]> = [];
    const v = this.wasm.view;
    let p = this.u32(L.XF_HEADER_PTR);
    const end = p + this.u32(L.XF_HEADER_LEN);
    while (p + 8 <= end) {
      const kl = v.getInt32(p, false);
      const key = text(this.wasm, p + 4, kl);
      p += 4 + kl;
      const vl = Math.max(0, v.getInt32(p, false)); // -1: null
      out.push([key, text(this.wasm, p + 4, vl)]);
      p += 4 + vl;
    }
    return out;
  }

  /** The first header / attachment named `name` (exact), undefined when absent. */
  header(name: string): string | undefined {
    for (const [k, v] of this.headers()) if (k === name) return v;
    return undefined;
  }
}
