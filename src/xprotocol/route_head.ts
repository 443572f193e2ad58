/**
 * A routing view of an x-protocol frame: an HTTP/1 head record (HEAD_*, the layout Skiff's wasm router
 * reads) written beside the frame record, so an Envoy RouteConfiguration routes RPC frames exactly as it
 * routes HTTP requests. What the router sees (documented in README.md):
 *
 *   authority (`:authority`, virtual host domains)  the interface: the frame's service up to the first ':'
 *   path (`:path`)                                  `/<interface>/<method>`
 *   method                                          POST
 *   header x-protocol-service                       the service as the frame carries it (Bolt: `iface:version`)
 *   header x-protocol-method                        the method name
 *   header x-protocol-version                       the service version (Dubbo version, Bolt's part after ':')
 *   header x-protocol-group                         the group (Dubbo `group` attachment)
 *   header x-protocol-params                        only when the filter has parameter predicates (param_match.ts):
 *                                                   ",id,id," of those that hold for the frame's arguments
 *   every frame header                              Bolt header map entries, Dubbo string attachments, by key
 *
 * Values point at the frame's own bytes (nothing is copied but the path); the record lives in the frame's
 * record lease, after the XF record.
 */
import type { HeaderList, RequestHead } from '../types/http.js';
import type { WasmInstance } from '../wasm/module.js';
import * as L from '../wasm/layout.js';
import type { Frame } from './frame_reader.js';
import { RECORD_LEASE_BYTES } from './frame_reader.js';
import { slabPool } from '../wasm/slab.js';
import { PSEUDO_PARAMS } from './param_match.js';

export const PSEUDO_SERVICE = 'x-protocol-service';
export const PSEUDO_METHOD = 'x-protocol-method';
export const PSEUDO_VERSION = 'x-protocol-version';
export const PSEUDO_GROUP = 'x-protocol-group';

const PSEUDO_NAMES = [PSEUDO_SERVICE, PSEUDO_METHOD, PSEUDO_VERSION, PSEUDO_GROUP] as const;
const PSEUDO_FIELDS: readonly (readonly [number, number])[] = [
  [L.XF_SERVICE_PTR, L.XF_SERVICE_LEN], [L.XF_METHOD_PTR, L.XF_METHOD_LEN],
  [L.XF_SVC_VERSION_PTR, L.XF_SVC_VERSION_LEN], [L.XF_GROUP_PTR, L.XF_GROUP_LEN],
];
const NAME_BYTES = PSEUDO_NAMES.map((n) => Buffer.from(n, 'latin1'));
const PARAMS_NAME = Buffer.from(PSEUDO_PARAMS, 'latin1');
const POST = Buffer.from('POST', 'latin1');

/** The constant strings every head record points at, written once per memory into a slab kept for good. */
interface Statics { readonly names: readonly number[]; readonly post: number; readonly params: number; readonly mem: Buffer }
const staticsByMemory = new WeakMap<WebAssembly.Memory, Statics>();

function staticsFor(wasm: WasmInstance): Statics {
  let s = staticsByMemory.get(wasm.memory);
  if (s === undefined) {
    const bytes = NAME_BYTES.reduce((n, b) => n + b.length, 0) + POST.length + PARAMS_NAME.length;
    const base = slabPool(wasm).lease(bytes);
    if (base === 0) throw new Error('no slab for the x-protocol routing names');
    let at = base;
    const names = NAME_BYTES.map((b) => { wasm.u8.set(b, at); at += b.length; return at - b.length; });
    wasm.u8.set(POST, at);
    wasm.u8.set(PARAMS_NAME, at + POST.length);
    s = { names, post: at, params: at + POST.length, mem: Buffer.from(wasm.memory.buffer as ArrayBuffer) };
    staticsByMemory.set(wasm.memory, s);
  }
  return s;
}

/** Headers read lazily from the head record (for hash policies and regex callbacks; routing itself reads wasm). */
class RecordHeaderList implements HeaderList {
  private cache: [string, string][] | undefined;
  constructor(private readonly wasm: WasmInstance, private readonly rec: number, readonly size: number) {}
  private all(): [string, string][] {
    if (this.cache === undefined) {
      const v = this.wasm.view;
      const b = staticsFor(this.wasm).mem;
      this.cache = [];
      for (let i = 0; i < this.size; i++) {
        const e = this.rec + L.HEAD_HEADERS + i * L.HEADER_ENTRY_SIZE;
        const np = v.getUint32(e + L.HDR_NAME_PTR, true);
        const nl = v.getUint16(e + L.HDR_NAME_LEN, true);
        const vp = v.getUint32(e + L.HDR_VALUE_PTR, true);
        const vl = v.getUint32(e + L.HDR_VALUE_LEN, true);
        this.cache.push([b.toString('latin1', np, np + nl).toLowerCase(), b.toString('utf8', vp, vp + vl)]);
      }
    }
    return this.cache;
  }
  name(i: number): string { return this.all()[i][0]; }
  value(i: number): string { return this.all()[i][1]; }
  get(name: string): string | undefined { return this.all().find(([n]) => n === name)?.[1]; }
  getAll(name: string): string[] { return this.all().filter(([n]) => n === name).map(([, v]) => v); }
  has(name: string): boolean { return this.all().some(([n]) => n === name); }
}

/**
 * Writes the head record for `frame` into its record lease and returns the RequestHead the router takes.
 * `params` (ASCII): the x-protocol-params value, only for filters with parameter predicates.
 */
export function buildRouteHead(wasm: WasmInstance, frame: Frame, params?: string): RequestHead {
  const v = wasm.view;
  const u8 = wasm.u8;
  const rec = frame.rec;
  const head = (rec + L.XF_RECORD_SIZE + 7) & ~7;
  const limit = rec + RECORD_LEASE_BYTES;
  const r32 = (off: number): number => v.getUint32(rec + off, true);
  const w32 = (off: number, value: number): void => v.setUint32(head + off, value, true);
  const frameHeaders = Math.max(0, r32(L.XF_HEADER_COUNT));
  const svcPtr = r32(L.XF_SERVICE_PTR);
  const svcLen = r32(L.XF_SERVICE_LEN);
  let ifaceLen = svcLen;
  for (let i = 0; i < svcLen; i++) if (u8[svcPtr + i] === 0x3a /* : */) { ifaceLen = i; break; }
  const methodPtr = r32(L.XF_METHOD_PTR);
  const methodLen = r32(L.XF_METHOD_LEN);

  // The path goes at the end of the lease; the constant strings live in the statics slab.
  const statics = staticsFor(wasm);
  const pathLen = 2 + ifaceLen + methodLen;
  const pathPtr = limit - pathLen;
  // The params value (digits and commas, bounded by MAX_PARAM_PREDICATES) goes just before the path; when a
  // very long path leaves no room for it, the header is left out and no parameter route matches.
  if (params !== undefined && pathPtr - params.length < head + L.HEAD_RECORD_FIXED + (PSEUDO_NAMES.length + 1) * L.HEADER_ENTRY_SIZE) params = undefined;
  const paramsLen = params === undefined ? 0 : params.length;
  const paramsPtr = pathPtr - paramsLen;
  for (let i = 0; i < paramsLen; i++) u8[paramsPtr + i] = params!.charCodeAt(i);
  const cursor = paramsPtr;
  u8[pathPtr] = 0x2f;
  u8.copyWithin(pathPtr + 1, svcPtr, svcPtr + ifaceLen);
  u8[pathPtr + 1 + ifaceLen] = 0x2f;
  u8.copyWithin(pathPtr + 2 + ifaceLen, methodPtr, methodPtr + methodLen);
  const namePtrs = statics.names;
  const postPtr = statics.post;
  // As many frame headers as fit between the fixed part and the strings.
  const pseudoCount = PSEUDO_NAMES.length + (params === undefined ? 0 : 1);
  const room = Math.floor((cursor - head - L.HEAD_RECORD_FIXED) / L.HEADER_ENTRY_SIZE) - pseudoCount;
  const copied = Math.max(0, Math.min(frameHeaders, room));

  u8.fill(0, head, head + L.HEAD_RECORD_FIXED);
  w32(L.HEAD_STATUS, L.HEAD_OK);
  w32(L.HEAD_METHOD_ID, L.METHOD_POST);
  w32(L.HEAD_METHOD_PTR, postPtr); w32(L.HEAD_METHOD_LEN, POST.length);
  w32(L.HEAD_TARGET_PTR, pathPtr); w32(L.HEAD_TARGET_LEN, pathLen);
  w32(L.HEAD_PATH_PTR, pathPtr); w32(L.HEAD_PATH_LEN, pathLen);
  w32(L.HEAD_QUERY_PTR, pathPtr + pathLen); w32(L.HEAD_QUERY_LEN, 0);
  w32(L.HEAD_HOST_PTR, svcPtr); w32(L.HEAD_HOST_LEN, ifaceLen);
  w32(L.HEAD_VERSION_MINOR, 1);
  w32(L.HEAD_FLAGS, L.FLAG_KEEP_ALIVE);
  v.setFloat64(head + L.HEAD_CONTENT_LENGTH, -1, true);
  const count = pseudoCount + copied;
  w32(L.HEAD_HEADER_COUNT, count);
  for (let i = 0; i < PSEUDO_NAMES.length; i++) {
    const e = head + L.HEAD_HEADERS + i * L.HEADER_ENTRY_SIZE;
    const [pf, lf] = PSEUDO_FIELDS[i];
    v.setUint32(e + L.HDR_NAME_PTR, namePtrs[i], true);
    v.setUint16(e + L.HDR_NAME_LEN, NAME_BYTES[i].length, true);
    v.setUint16(e + L.HDR_ID, 0, true);
    v.setUint32(e + L.HDR_VALUE_PTR, r32(pf), true);
    v.setUint32(e + L.HDR_VALUE_LEN, r32(lf), true);
  }
  if (params !== undefined) {
    const e = head + L.HEAD_HEADERS + PSEUDO_NAMES.length * L.HEADER_ENTRY_SIZE;
    v.setUint32(e + L.HDR_NAME_PTR, statics.params, true);
    v.setUint16(e + L.HDR_NAME_LEN, PARAMS_NAME.length, true);
    v.setUint16(e + L.HDR_ID, 0, true);
    v.setUint32(e + L.HDR_VALUE_PTR, paramsPtr, true);
    v.setUint32(e + L.HDR_VALUE_LEN, paramsLen, true);
  }
  // The frame's entries already use the HDR_* layout.
  const src = rec + L.XF_HEADERS;
  const dst = head + L.HEAD_HEADERS + pseudoCount * L.HEADER_ENTRY_SIZE;
  u8.copyWithin(dst, src, src + copied * L.HEADER_ENTRY_SIZE);
  for (let i = 0; i < copied; i++) v.setUint16(dst + i * L.HEADER_ENTRY_SIZE + L.HDR_ID, 0, true);
  w32(L.HEAD_LENGTH, limit - head);

  const mem = statics.mem;
  let path: string | undefined;
  let host: string | undefined;
  return {
    method: 'POST',
    get target() { return path ??= mem.toString('latin1', pathPtr, pathPtr + pathLen); },
    get path() { return path ??= mem.toString('latin1', pathPtr, pathPtr + pathLen); },
    get host() { return host ??= mem.toString('latin1', svcPtr, svcPtr + ifaceLen); },
    versionMinor: 1,
    headers: new RecordHeaderList(wasm, head, count),
    keepAlive: true, expectContinue: false, upgrade: false, bodyKind: 'none', contentLength: -1,
    recordPtr: head,
  };
}
