/**
 * Writes an HTTP/1 request head record (assembly/abi/layout.ts HEAD_*) straight into wasm memory, as the
 * head parser would: the record, its header entries (names lowercased), then the bytes they point at.
 * Lets router tests and benchmarks build requests without the codec.
 */
import * as L from '../../src/wasm/layout.js';
import type { WasmInstance } from '../../src/wasm/module.js';
import type { HeaderList, RequestHead } from '../../src/types/http.js';

export interface HeadRecordInput {
  readonly method?: string;
  /** The authority; also sent as a `host` header unless `headers` has one. */
  readonly host: string;
  /** Path with optional query. */
  readonly path: string;
  readonly headers?: readonly (readonly [string, string])[];
}

export interface WrittenHead {
  readonly recPtr: number;
  /** First byte after everything written (where the next record may go). */
  readonly end: number;
  readonly head: RequestHead;
}

const METHOD_IDS: Record<string, number> = {
  GET: L.METHOD_GET, HEAD: L.METHOD_HEAD, POST: L.METHOD_POST, PUT: L.METHOD_PUT, DELETE: L.METHOD_DELETE,
  CONNECT: L.METHOD_CONNECT, OPTIONS: L.METHOD_OPTIONS, TRACE: L.METHOD_TRACE, PATCH: L.METHOD_PATCH,
};

class ArrayHeaderList implements HeaderList {
  constructor(private readonly list: readonly (readonly [string, string])[]) {}
  get size(): number { return this.list.length; }
  name(i: number): string { return this.list[i][0]; }
  value(i: number): string { return this.list[i][1]; }
  get(name: string): string | undefined { return this.list.find(([n]) => n === name)?.[1]; }
  getAll(name: string): string[] { return this.list.filter(([n]) => n === name).map(([, v]) => v); }
  has(name: string): boolean { return this.list.some(([n]) => n === name); }
}

const encoder = new TextEncoder();

/**
 * Lays the record out at `at` (default: the start of the thread's scratch region, below the router's
 * working area). Throws when it would not fit before `limit`.
 */
export function writeHeadRecord(wasm: WasmInstance, req: HeadRecordInput, at = wasm.scratchBase,
  limit = wasm.scratchBase + wasm.scratchLen - L.ROUTER_SCRATCH_BYTES): WrittenHead {
  const method = req.method ?? 'GET';
  const headers: [string, string][] = (req.headers ?? []).map(([n, v]) => [n.toLowerCase(), v]);
  if (!headers.some(([n]) => n === 'host')) headers.unshift(['host', req.host]);
  const rec = (at + 7) & ~7;
  let cursor = rec + L.HEAD_RECORD_FIXED + headers.length * L.HEADER_ENTRY_SIZE;
  const put = (s: string): [number, number] => {
    const bytes = encoder.encode(s);
    if (cursor + bytes.length > limit) throw new RangeError(`head record does not fit below ${limit}`);
    wasm.u8.set(bytes, cursor);
    const r: [number, number] = [cursor, bytes.length];
    cursor += bytes.length;
    return r;
  };
  if (cursor > limit) throw new RangeError(`head record does not fit below ${limit}`);
  wasm.u8.fill(0, rec, rec + L.HEAD_RECORD_FIXED);
  const v = wasm.view;
  const u32 = (off: number, value: number): void => v.setUint32(rec + off, value, true);
  const [mp, ml] = put(method);
  const [pp, pl] = put(req.path);
  const [hp, hl] = put(req.host);
  const q = req.path.indexOf('?');
  const queryBytes = q < 0 ? 0 : encoder.encode(req.path.slice(q + 1)).length;
  u32(L.HEAD_STATUS, L.HEAD_OK);
  u32(L.HEAD_METHOD_ID, METHOD_IDS[method] ?? L.METHOD_OTHER);
  u32(L.HEAD_METHOD_PTR, mp); u32(L.HEAD_METHOD_LEN, ml);
  u32(L.HEAD_TARGET_PTR, pp); u32(L.HEAD_TARGET_LEN, pl);
  u32(L.HEAD_PATH_PTR, pp); u32(L.HEAD_PATH_LEN, pl);
  u32(L.HEAD_QUERY_PTR, q < 0 ? pp + pl : pp + pl - queryBytes); u32(L.HEAD_QUERY_LEN, queryBytes);
  u32(L.HEAD_HOST_PTR, hp); u32(L.HEAD_HOST_LEN, hl);
  u32(L.HEAD_VERSION_MINOR, 1);
  u32(L.HEAD_FLAGS, L.FLAG_KEEP_ALIVE);
  v.setFloat64(rec + L.HEAD_CONTENT_LENGTH, -1, true);
  u32(L.HEAD_HEADER_COUNT, headers.length);
  headers.forEach(([name, value], i) => {
    const e = rec + L.HEAD_HEADERS + i * L.HEADER_ENTRY_SIZE;
    const [np, nl] = put(name);
    const [vp, vl] = put(value);
    v.setUint32(e + L.HDR_NAME_PTR, np, true);
    v.setUint16(e + L.HDR_NAME_LEN, nl, true);
    v.setUint16(e + L.HDR_ID, name === 'host' ? L.H_HOST : 0, true);
    v.setUint32(e + L.HDR_VALUE_PTR, vp, true);
    v.setUint32(e + L.HDR_VALUE_LEN, vl, true);
  });
  u32(L.HEAD_LENGTH, cursor - rec);
  const head: RequestHead = {
    method, target: req.path, path: req.path, host: req.host, versionMinor: 1,
    headers: new ArrayHeaderList(headers), keepAlive: true, expectContinue: false, upgrade: false,
    bodyKind: 'none', contentLength: -1, recordPtr: rec,
  };
  return { recPtr: rec, end: cursor, head };
}
