/**
 * A ServerHeaderCodec for the connection tests, independent of Skiff's wasm HPACK: hpack.js decodes a block,
 * test/helpers/head-record.ts lays the head record out in a slab, and hpack.js encodes responses. It lets
 * these tests exercise the HTTP/2 connection state machine alone.
 */
import { createRequire } from 'node:module';
import type { HeaderList, HeadRewrite, ResponseHead } from '../../../../src/types/http.js';
import type { WasmInstance } from '../../../../src/wasm/module.js';
import { slabPool } from '../../../../src/wasm/slab.js';
import type { Decoded, HeaderFailure, ServerHeaderCodec } from '../../../../src/stream/http2/header_codec.js';
import type { ServerHeaderCodecFactory } from '../../../../src/stream/http2/server.js';
import { writeHeadRecord } from '../../../helpers/head-record.js';

const require = createRequire(import.meta.url);
// eslint-disable-next-line @typescript-eslint/no-require-imports
const hpack = require('hpack.js') as {
  decompressor: { create(o: { table: { maxSize: number } }): Decompressor };
  compressor: { create(o: { table: { maxSize: number } }): Compressor };
};
interface Decompressor { write(b: Buffer): void; execute(): void; read(): { name: string; value: string } | null }
interface Compressor { write(h: { name: string; value: string }[]): void; read(): Buffer | null }

class ListHeaders implements HeaderList {
  constructor(private readonly list: [string, string][]) {}
  get size(): number { return this.list.length; }
  name(i: number): string { return this.list[i][0]; }
  value(i: number): string { return this.list[i][1]; }
  get(n: string): string | undefined { return this.list.find(([k]) => k === n)?.[1]; }
  getAll(n: string): string[] { return this.list.filter(([k]) => k === n).map(([, v]) => v); }
  has(n: string): boolean { return this.list.some(([k]) => k === n); }
}

const HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'proxy-connection', 'te', 'content-length']);

export const jsHeaderCodec: ServerHeaderCodecFactory = (wasm: WasmInstance, limits) => {
  const pool = slabPool(wasm);
  const dec = hpack.decompressor.create({ table: { maxSize: 4096 } });
  const enc = hpack.compressor.create({ table: { maxSize: 4096 } });
  const wasmBytes = (ptr: number, len: number): Buffer => Buffer.from(wasm.u8.subarray(ptr, ptr + len));
  const decodeList = (ptr: number, len: number): [string, string][] | HeaderFailure => {
    try {
      dec.write(wasmBytes(ptr, len));
      dec.execute();
    } catch (e) {
      return { failure: 'compression', detail: String(e) };
    }
    const out: [string, string][] = [];
    let size = 0;
    for (let f = dec.read(); f !== null; f = dec.read()) { out.push([f.name, f.value]); size += f.name.length + f.value.length; }
    if (size > limits.maxHeaderBytes) return { failure: 'overflow', detail: 'too large' };
    if (out.length > limits.maxHeadersCount) return { failure: 'too_many', detail: 'too many' };
    return out;
  };
  const encode = (list: [string, string][]): Uint8Array => {
    enc.write(list.map(([name, value]) => ({ name, value })));
    const parts: Buffer[] = [];
    for (let b = enc.read(); b !== null; b = enc.read()) parts.push(b);
    return Buffer.concat(parts);
  };
  const responseList = (status: number, headers: [string, string][], rewrite: HeadRewrite): [string, string][] => {
    const remove = new Set(rewrite.remove ?? []);
    const out: [string, string][] = [[':status', String(status)]];
    for (const [n, v] of headers) if (!HOP.has(n) && !remove.has(n)) out.push([n, v]);
    for (const [n, v] of rewrite.add ?? []) out.push([n, v]);
    if (rewrite.bodyKind === 'length') out.push(['content-length', String(rewrite.contentLength ?? 0)]);
    return out;
  };
  const listOf = (h: HeaderList): [string, string][] => {
    const out: [string, string][] = [];
    for (let i = 0; i < h.size; i++) out.push([h.name(i), h.value(i)]);
    return out;
  };
  return {
    decodeRequest(ptr, len) {
      const list = decodeList(ptr, len);
      if (!Array.isArray(list)) return list;
      const pseudo = new Map(list.filter(([n]) => n.startsWith(':')));
      const method = pseudo.get(':method');
      const path = pseudo.get(':path');
      if (!method || !path) return { failure: 'malformed', detail: 'missing pseudo-header' };
      const regular = list.filter(([n]) => !n.startsWith(':'));
      const slab = pool.lease(65536);
      const written = writeHeadRecord(wasm, { method, path, host: pseudo.get(':authority') ?? '', headers: regular }, slab, slab + 65536);
      return { value: written.head, release: () => pool.release(slab) };
    },
    decodeTrailers(ptr, len): Decoded<HeaderList> | HeaderFailure {
      const list = decodeList(ptr, len);
      if (!Array.isArray(list)) return list;
      if (list.some(([n]) => n.startsWith(':'))) return { failure: 'malformed', detail: 'pseudo in trailers' };
      return { value: new ListHeaders(list), release: () => undefined };
    },
    encodeResponse(head: ResponseHead, rewrite) { return encode(responseList(head.status, listOf(head.headers), rewrite)); },
    encodeLocalResponse(status, headers, rewrite) { return encode(responseList(status, headers.map(([n, v]) => [n, v]), rewrite)); },
    encodeTrailers(t) { return encode(listOf(t)); },
    setEncoderTableSize() { /* hpack.js keeps its table at 4096, the default every peer accepts */ },
    release() { /* nothing in wasm memory */ },
  };
};
