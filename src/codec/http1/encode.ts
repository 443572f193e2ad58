/**
 * Head serialization. Forwarded heads are built in wasm from the parsed record (one call; the rewrite's path,
 * remove-names and add-lines are written into the thread's scratch region first). Local heads (local replies,
 * health checks) have no record and are built here in JS.
 */
import { STATUS_CODES } from 'node:http';
import { SkiffError } from '../../common/errors.js';
import type { HeadRewrite, RequestHead, ResponseHead } from '../../types/http.js';
import type { WasmInstance } from '../../wasm/module.js';
import * as L from '../../wasm/layout.js';
import { bodyKindCode } from '../common/body_kind.js';

/** Hop-by-hop headers (RFC 9110 §7.6.1) and the framing headers Skiff always re-derives. */
export const HOP_BY_HOP: ReadonlySet<string> = new Set([
  'connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'content-length',
]);

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// field-value: no CTL but HTAB, no DEL, latin1 only
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;
const TARGET = /^[\x21-\x7e]+$/;

export class RewriteError extends SkiffError {
  constructor(message: string) {
    super('SKIFF_HTTP1_INVALID_REWRITE', message, 'internal');
    this.name = 'RewriteError';
  }
}

function checkHeader(name: string, value: string): void {
  if (!TOKEN.test(name)) throw new RewriteError(`header name ${JSON.stringify(name)} is not a token`);
  if (!FIELD_VALUE.test(value)) throw new RewriteError(`header ${name}: value holds a forbidden character`);
}

function checkTarget(path: string): void {
  if (!TARGET.test(path)) throw new RewriteError(`request target ${JSON.stringify(path)} holds a forbidden character`);
}

// Where the last writeRewrite put its parts in scratch (module state: one synchronous call at a time).
let pathPtr = 0, pathLen = -1, removePtr = 0, removeLen = 0, addPtr = 0, addLen = 0;

const TCHAR_TABLE = new Uint8Array(256);
for (let c = 0; c < 256; c++) TCHAR_TABLE[c] = TOKEN.test(String.fromCharCode(c)) ? 1 : 0;

/**
 * Copies `s` into memory at `at` as latin1, checking each character on the way: `kind` 0 = token (header
 * name, lowercased), 1 = field value, 2 = request-target. Returns the bytes written, or -1 on a forbidden
 * character. A JS loop: the strings are short, and a Buffer.write call costs more than copying them.
 */
function copyChecked(u8: Uint8Array, at: number, s: string, kind: 0 | 1 | 2): number {
  const n = s.length;
  for (let i = 0; i < n; i++) {
    let c = s.charCodeAt(i);
    if (kind === 0) {
      if (c > 255 || TCHAR_TABLE[c] === 0) return -1;
      if (c >= 65 && c <= 90) c |= 0x20;
    } else if (kind === 1) {
      if (c > 255 || (c < 0x20 && c !== 9) || c === 0x7f) return -1;
    } else if (c <= 0x20 || c >= 0x7f) {
      return -1;
    }
    u8[at + i] = c;
  }
  return n;
}

function scratchOverflow(wasm: WasmInstance): RewriteError {
  return new RewriteError(`rewrite larger than the scratch region (${wasm.scratchLen} bytes)`);
}

/** Writes the rewrite's path, remove list and add lines into the scratch region, once (no closure per call). */
function writeRewrite(wasm: WasmInstance, rewrite: HeadRewrite, withPath: boolean): void {
  const u8 = wasm.u8;
  const end = wasm.scratchBase + wasm.scratchLen;
  let at = wasm.scratchBase;
  pathPtr = at; pathLen = -1;
  if (withPath && rewrite.path !== undefined) {
    if (at + rewrite.path.length > end) throw scratchOverflow(wasm);
    pathLen = copyChecked(u8, at, rewrite.path, 2);
    if (pathLen <= 0) throw new RewriteError(`request target ${JSON.stringify(rewrite.path)} holds a forbidden character`);
    at += pathLen;
  }
  removePtr = at;
  const remove = rewrite.remove;
  if (remove) {
    for (let i = 0; i < remove.length; i++) {
      const name = remove[i];
      if (at + 2 + name.length > end) throw scratchOverflow(wasm);
      if (copyChecked(u8, at + 2, name, 0) <= 0) throw new RewriteError(`header name ${JSON.stringify(name)} is not a token`);
      u8[at] = name.length & 0xff;
      u8[at + 1] = name.length >>> 8;
      at += 2 + name.length;
    }
  }
  removeLen = at - removePtr;
  addPtr = at;
  const add = rewrite.add;
  if (add) {
    for (let i = 0; i < add.length; i++) {
      const [name, value] = add[i];
      if (at + name.length + value.length + 4 > end) throw scratchOverflow(wasm);
      if (copyChecked(u8, at, name, 0) <= 0) throw new RewriteError(`header name ${JSON.stringify(name)} is not a token`);
      at += name.length;
      u8[at++] = 0x3a; u8[at++] = 0x20;
      if (copyChecked(u8, at, value, 1) < 0) throw new RewriteError(`header ${name}: value holds a forbidden character`);
      at += value.length;
      u8[at++] = 0x0d; u8[at++] = 0x0a;
    }
  }
  addLen = at - addPtr;
}

function contentLengthOf(rewrite: HeadRewrite, fallback: number): number {
  const n = rewrite.contentLength ?? fallback;
  if (rewrite.bodyKind === 'length' && !(Number.isSafeInteger(n) && n >= 0)) {
    throw new RewriteError(`content length ${n} is not a non-negative integer`);
  }
  return n;
}

/** Forwarded request head into [out, out+outCap); bytes written, or -1 when outCap is too small. */
export function encodeRequestHead(wasm: WasmInstance, head: RequestHead, rewrite: HeadRewrite, out: number, outCap: number): number {
  writeRewrite(wasm, rewrite, true);
  return wasm.exports.h1_encode_request(
    head.recordPtr, pathPtr, pathLen, removePtr, removeLen, addPtr, addLen,
    bodyKindCode(rewrite.bodyKind), contentLengthOf(rewrite, head.contentLength), rewrite.close ? 1 : 0, out, outCap,
  );
}

/** Forwarded response head into [out, out+outCap); bytes written, or -1 when outCap is too small. */
export function encodeResponseHead(wasm: WasmInstance, head: ResponseHead, rewrite: HeadRewrite, out: number, outCap: number): number {
  writeRewrite(wasm, rewrite, false);
  return wasm.exports.h1_encode_response(
    head.recordPtr, removePtr, removeLen, addPtr, addLen,
    bodyKindCode(rewrite.bodyKind), contentLengthOf(rewrite, head.contentLength), rewrite.close ? 1 : 0, out, outCap,
  );
}

/** Header lines, additions, framing and close of a head built from scratch. */
function localHeaderBlock(headers: readonly (readonly [string, string])[], rewrite: HeadRewrite): string {
  const removed = new Set((rewrite.remove ?? []).map((n) => n.toLowerCase()));
  let s = '';
  for (const [rawName, value] of headers) {
    const name = rawName.toLowerCase();
    if (HOP_BY_HOP.has(name) || removed.has(name)) continue;
    checkHeader(name, value);
    s += `${name}: ${value}\r\n`;
  }
  for (const [name, value] of rewrite.add ?? []) {
    checkHeader(name, value);
    s += `${name}: ${value}\r\n`;
  }
  if (rewrite.bodyKind === 'length') s += `content-length: ${contentLengthOf(rewrite, 0)}\r\n`;
  else if (rewrite.bodyKind === 'chunked') s += 'transfer-encoding: chunked\r\n';
  if (rewrite.close) s += 'connection: close\r\n';
  return s + '\r\n';
}

/** A response head from scratch (local replies): `HTTP/1.1 status reason`, then the headers. */
export function encodeLocalResponseHead(status: number, headers: readonly (readonly [string, string])[], rewrite: HeadRewrite): Buffer {
  if (!(Number.isInteger(status) && status >= 100 && status <= 999)) throw new RewriteError(`status ${status} is not 3 digits`);
  const reason = STATUS_CODES[status] ?? 'Unknown';
  return Buffer.from(`HTTP/1.1 ${status} ${reason}\r\n${localHeaderBlock(headers, rewrite)}`, 'latin1');
}

/** A request head from scratch (health checks, mirrors): `method path HTTP/1.1`, then the headers. */
export function encodeLocalRequestHead(method: string, path: string, headers: readonly (readonly [string, string])[], rewrite: HeadRewrite): Buffer {
  if (!TOKEN.test(method)) throw new RewriteError(`method ${JSON.stringify(method)} is not a token`);
  const target = rewrite.path ?? path;
  checkTarget(target);
  return Buffer.from(`${method} ${target} HTTP/1.1\r\n${localHeaderBlock(headers, rewrite)}`, 'latin1');
}
