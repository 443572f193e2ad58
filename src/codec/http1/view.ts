/**
 * Lazy JS views over a parsed HTTP/1 head record (assembly/abi/layout.ts HEAD_*, HDR_*). Nothing is decoded
 * until asked: strings are sliced from the shared memory on first access and then cached; header lookups
 * compare bytes in place. A view is valid while the bytes of its head stay where the parser saw them.
 */
import type { BodyKind, HeaderList, RequestHead, ResponseHead } from '../../types/http.js';
import type { WasmInstance } from '../../wasm/module.js';
import * as L from '../../wasm/layout.js';

const memoryBuffers = new WeakMap<WebAssembly.Memory, Buffer>();

/** A Buffer over the whole shared memory, for latin1 slicing and writing (made once per memory). */
export function memoryBuffer(wasm: WasmInstance): Buffer {
  let b = memoryBuffers.get(wasm.memory);
  if (!b) {
    b = Buffer.from(wasm.memory.buffer as ArrayBuffer);
    memoryBuffers.set(wasm.memory, b);
  }
  return b;
}

const METHOD_NAMES: Record<number, string> = {
  [L.METHOD_GET]: 'GET', [L.METHOD_HEAD]: 'HEAD', [L.METHOD_POST]: 'POST', [L.METHOD_PUT]: 'PUT',
  [L.METHOD_DELETE]: 'DELETE', [L.METHOD_CONNECT]: 'CONNECT', [L.METHOD_OPTIONS]: 'OPTIONS',
  [L.METHOD_TRACE]: 'TRACE', [L.METHOD_PATCH]: 'PATCH',
};

class RecordHeaderList implements HeaderList {
  readonly size: number;
  private readonly mem: Buffer;
  private readonly view: DataView;

  constructor(wasm: WasmInstance, private readonly rec: number) {
    this.mem = memoryBuffer(wasm);
    this.view = wasm.view;
    this.size = wasm.view.getInt32(rec + L.HEAD_HEADER_COUNT, true);
  }

  private entry(i: number): number {
    if (!(i >= 0 && i < this.size)) throw new RangeError(`header index ${i} out of range (size ${this.size})`);
    return this.rec + L.HEAD_HEADERS + i * L.HEADER_ENTRY_SIZE;
  }

  name(i: number): string {
    const e = this.entry(i);
    const p = this.view.getUint32(e + L.HDR_NAME_PTR, true);
    return this.mem.toString('latin1', p, p + this.view.getUint16(e + L.HDR_NAME_LEN, true));
  }

  value(i: number): string {
    const e = this.entry(i);
    const p = this.view.getUint32(e + L.HDR_VALUE_PTR, true);
    return this.mem.toString('latin1', p, p + this.view.getUint32(e + L.HDR_VALUE_LEN, true));
  }

  /** Index of the first header at or after `from` named `name` (lowercase), or -1. Compares bytes. */
  indexOf(name: string, from = 0): number {
    const n = name.length;
    const mem = this.mem;
    const view = this.view;
    for (let i = from; i < this.size; i++) {
      const e = this.rec + L.HEAD_HEADERS + i * L.HEADER_ENTRY_SIZE;
      if (view.getUint16(e + L.HDR_NAME_LEN, true) !== n) continue;
      const p = view.getUint32(e + L.HDR_NAME_PTR, true);
      let j = 0;
      while (j < n && mem[p + j] === name.charCodeAt(j)) j++;
      if (j === n) return i;
    }
    return -1;
  }

  get(name: string): string | undefined {
    const i = this.indexOf(lower(name));
    return i < 0 ? undefined : this.value(i);
  }

  getAll(name: string): string[] {
    const key = lower(name);
    const out: string[] = [];
    for (let i = this.indexOf(key); i >= 0; i = this.indexOf(key, i + 1)) out.push(this.value(i));
    return out;
  }

  has(name: string): boolean {
    return this.indexOf(lower(name)) >= 0;
  }
}

const UPPER = /[A-Z]/;
function lower(name: string): string {
  return UPPER.test(name) ? name.toLowerCase() : name;
}

/** Shared reads of the record fields. */
abstract class RecordHead {
  protected readonly mem: Buffer;
  protected readonly flags: number;
  private headerList: HeaderList | undefined;

  constructor(protected readonly wasm: WasmInstance, readonly recordPtr: number) {
    this.mem = memoryBuffer(wasm);
    this.flags = this.i32(L.HEAD_FLAGS);
  }

  protected i32(off: number): number {
    return this.wasm.view.getInt32(this.recordPtr + off, true);
  }

  protected slice(ptrOff: number, lenOff: number): string {
    const p = this.wasm.view.getUint32(this.recordPtr + ptrOff, true);
    return this.mem.toString('latin1', p, p + this.i32(lenOff));
  }

  get versionMinor(): number { return this.i32(L.HEAD_VERSION_MINOR); }

  get headers(): HeaderList {
    this.headerList ??= new RecordHeaderList(this.wasm, this.recordPtr);
    return this.headerList;
  }

  protected get recordContentLength(): number {
    return this.wasm.view.getFloat64(this.recordPtr + L.HEAD_CONTENT_LENGTH, true);
  }
}

class RecordRequestHead extends RecordHead implements RequestHead {
  private cache: { method?: string; target?: string; path?: string; host?: string } = {};

  get method(): string {
    return this.cache.method ??= METHOD_NAMES[this.i32(L.HEAD_METHOD_ID)] ?? this.slice(L.HEAD_METHOD_PTR, L.HEAD_METHOD_LEN);
  }

  get target(): string {
    return this.cache.target ??= this.slice(L.HEAD_TARGET_PTR, L.HEAD_TARGET_LEN);
  }

  get path(): string {
    if (this.cache.path !== undefined) return this.cache.path;
    let path = this.slice(L.HEAD_PATH_PTR, L.HEAD_PATH_LEN);
    // An absolute-form target may have an empty path ("http://a" or "http://a?q"): origin-form needs "/".
    if ((this.flags & L.FLAG_ABSOLUTE_FORM) !== 0 && !path.startsWith('/')) path = '/' + path;
    return this.cache.path = path;
  }

  get host(): string {
    return this.cache.host ??= this.slice(L.HEAD_HOST_PTR, L.HEAD_HOST_LEN);
  }

  get keepAlive(): boolean { return (this.flags & L.FLAG_KEEP_ALIVE) !== 0; }
  get expectContinue(): boolean { return (this.flags & L.FLAG_EXPECT_CONTINUE) !== 0; }
  get upgrade(): boolean { return (this.flags & L.FLAG_UPGRADE) !== 0; }

  get bodyKind(): 'none' | 'length' | 'chunked' {
    // RFC 9110 §9.3.6: a CONNECT request has no content; what follows the head is the tunnel.
    if (this.i32(L.HEAD_METHOD_ID) === L.METHOD_CONNECT) return 'none';
    if ((this.flags & L.FLAG_CHUNKED) !== 0) return 'chunked';
    if ((this.flags & L.FLAG_CONTENT_LENGTH) !== 0) return 'length';
    return 'none';
  }

  get contentLength(): number {
    return this.bodyKind === 'length' ? this.recordContentLength : -1;
  }
}

class RecordResponseHead extends RecordHead implements ResponseHead {
  private reasonText: string | undefined;
  readonly bodyKind: BodyKind;

  constructor(wasm: WasmInstance, rec: number, requestMethod: string) {
    super(wasm, rec);
    this.bodyKind = responseBodyKind(this.status, this.flags, requestMethod);
  }

  get status(): number { return this.i32(L.HEAD_STATUS_CODE); }

  get reason(): string {
    return this.reasonText ??= this.slice(L.HEAD_METHOD_PTR, L.HEAD_METHOD_LEN);
  }

  get keepAlive(): boolean {
    return (this.flags & L.FLAG_KEEP_ALIVE) !== 0 && this.bodyKind !== 'close';
  }

  get contentLength(): number {
    return this.bodyKind === 'length' ? this.recordContentLength : -1;
  }
}

/** RFC 9112 §6.3: how the body of a response is delimited, given the method of its request. */
export function responseBodyKind(status: number, flags: number, requestMethod: string): BodyKind {
  if (requestMethod === 'HEAD' || status < 200 || status === 204 || status === 304) return 'none';
  if (requestMethod === 'CONNECT' && status < 300) return 'none';
  if ((flags & L.FLAG_CHUNKED) !== 0) return 'chunked';
  if ((flags & L.FLAG_TRANSFER_ENCODING) !== 0) return 'close';
  if ((flags & L.FLAG_CONTENT_LENGTH) !== 0) return 'length';
  return 'close';
}

export function requestHeadView(wasm: WasmInstance, rec: number): RequestHead {
  return new RecordRequestHead(wasm, rec);
}

export function responseHeadView(wasm: WasmInstance, rec: number, requestMethod: string): ResponseHead {
  return new RecordResponseHead(wasm, rec, requestMethod);
}
