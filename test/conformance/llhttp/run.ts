/**
 * Runs one llhttp fixture through Skiff's codec: head parser (wasm), then the body by its framing
 * (Content-Length, the strict ChunkedDecoder, or close-delimited), message after message, as the stream layer
 * would. The outcome is compared with llhttp's log by compare.ts.
 */
import * as L from '../../../src/wasm/layout.js';
import {
  parseRequestHead, parseResponseHead, requestHeadView, responseHeadView, ChunkedDecoder, recordBytes, type HeadLimits,
} from '../../../src/codec/http1/index.js';
import { mainInstance } from '../../../src/wasm/runtime.js';
import { slabPool } from '../../../src/wasm/slab.js';
import type { FixtureCase } from './fixtures.js';

export interface SkiffMessage {
  method?: string;
  url?: string;
  versionMinor: number;
  statusCode?: number;
  reason?: string;
  headers: [string, string][];
  trailers: [string, string][];
  flags: number;
  contentLength: number;
  body: string;
  complete: boolean;
}

export type Stop =
  | { kind: 'end' }                         // all input consumed, every message complete
  | { kind: 'incomplete'; onCompletion?: number } // input ended inside a head (onCompletion: see below) or a body
  | { kind: 'head-error'; code: number }    // H1E_* code
  | { kind: 'body-error'; code: string }    // ChunkedDecoder error
  | { kind: 'closed'; extra: number }       // connection not kept alive, `extra` bytes follow
  | { kind: 'upgraded' };                   // CONNECT/Upgrade: the rest is a tunnel

export interface SkiffOutcome { messages: SkiffMessage[]; stop: Stop; missingHostRejected: boolean }

const wasm = mainInstance();
const BUF_BYTES = 262144;
const buf = slabPool(wasm).lease(BUF_BYTES);
const rec = slabPool(wasm).lease(recordBytes(512));
const MAX_MESSAGES = 64;

/**
 * Runs the fixture. With `split`, the first head is first offered with only its first `split` bytes (as if
 * the socket delivered it in two reads), then in full with scanFrom = split.
 */
export function runFixture(fx: FixtureCase, split = 0): SkiffOutcome {
  const limits: HeadLimits = { maxHeaders: 512, maxHeadBytes: 65536, allowMissingHost: true };
  const input = fx.input;
  if (input.length > BUF_BYTES) throw new RangeError(`${fx.name}: input larger than the harness buffer`);
  const messages: SkiffMessage[] = [];
  let missingHostRejected = false;
  let pos = 0;
  for (let n = 0; n < MAX_MESSAGES; n++) {
    if (pos >= input.length) return { messages, stop: { kind: 'end' }, missingHostRejected };
    const rest = input.subarray(pos);
    wasm.u8.set(rest, buf);
    if (fx.kind === 'request') {
      // The strict default (no allowMissingHost) is tried first only to count how often it alone differs.
      wasm.u8.set(rest, buf);
      const strict = parseRequestHead(wasm, buf, rest.length, 0, rec, { ...limits, allowMissingHost: false });
      if (strict === L.H1E_MISSING_HOST) missingHostRejected = true;
      wasm.u8.set(rest, buf);
    }
    const parse = fx.kind === 'request' ? parseRequestHead : parseResponseHead;
    let status: number = L.HEAD_NEED_MORE;
    let scanFrom = 0;
    if (n === 0 && split > 0 && split < rest.length) {
      status = parse(wasm, buf, split, 0, rec, limits);
      scanFrom = split;
    }
    if (status === L.HEAD_NEED_MORE) status = parse(wasm, buf, rest.length, scanFrom, rec, limits);
    if (status === L.HEAD_NEED_MORE) {
      // Skiff checks a head once it is complete (only CR/LF pairing earlier), llhttp byte by byte. To compare a
      // rejection inside an unfinished head, end the head right there and report what Skiff says then.
      const ended = Buffer.concat([rest, Buffer.from('\r\n\r\n')]);
      wasm.u8.set(ended, buf);
      const onCompletion = fx.kind === 'request'
        ? parseRequestHead(wasm, buf, ended.length, 0, rec, limits)
        : parseResponseHead(wasm, buf, ended.length, 0, rec, limits);
      return { messages, stop: { kind: 'incomplete', onCompletion }, missingHostRejected };
    }
    if (status !== L.HEAD_OK) return { messages, stop: { kind: 'head-error', code: status }, missingHostRejected };
    const headLen = wasm.view.getInt32(rec + L.HEAD_LENGTH, true);
    const flags = wasm.view.getInt32(rec + L.HEAD_FLAGS, true);
    const msg: SkiffMessage = { versionMinor: 0, headers: [], trailers: [], flags, contentLength: -1, body: '', complete: false };
    let bodyKind: string;
    let keepAlive: boolean;
    let upgrade: boolean;
    if (fx.kind === 'request') {
      const h = requestHeadView(wasm, rec);
      msg.method = h.method;
      msg.url = h.target;
      msg.versionMinor = h.versionMinor;
      for (let i = 0; i < h.headers.size; i++) msg.headers.push([h.headers.name(i), h.headers.value(i)]);
      bodyKind = fx.skipBody ? 'none' : h.bodyKind;
      msg.contentLength = wasm.view.getFloat64(rec + L.HEAD_CONTENT_LENGTH, true);
      keepAlive = h.keepAlive;
      upgrade = h.upgrade || h.method === 'CONNECT';
    } else {
      const h = responseHeadView(wasm, rec, fx.skipBody ? 'HEAD' : 'GET');
      msg.statusCode = h.status;
      msg.reason = h.reason;
      msg.versionMinor = h.versionMinor;
      for (let i = 0; i < h.headers.size; i++) msg.headers.push([h.headers.name(i), h.headers.value(i)]);
      bodyKind = h.bodyKind;
      msg.contentLength = wasm.view.getFloat64(rec + L.HEAD_CONTENT_LENGTH, true);
      keepAlive = h.keepAlive;
      upgrade = h.status === 101;
    }
    messages.push(msg);
    pos += headLen;
    // The body, read from the original bytes (the parser lowercased names in the wasm copy only).
    const body = input.subarray(pos);
    if (bodyKind === 'length') {
      const want = fx.kind === 'request' ? requestHeadView(wasm, rec).contentLength : msg.contentLength;
      const take = Math.min(want, body.length);
      msg.body = body.subarray(0, take).toString('latin1');
      pos += take;
      if (take < want) return { messages, stop: { kind: 'incomplete' }, missingHostRejected };
    } else if (bodyKind === 'chunked') {
      const dec = new ChunkedDecoder();
      const r = dec.push(body);
      msg.body = r.data.map((d) => Buffer.from(d).toString('latin1')).join('');
      msg.trailers = dec.trailers;
      if (r.error) return { messages, stop: { kind: 'body-error', code: r.error }, missingHostRejected };
      pos += r.consumed;
      if (!r.done) return { messages, stop: { kind: 'incomplete' }, missingHostRejected };
    } else if (bodyKind === 'close') {
      msg.body = body.toString('latin1');
      pos = input.length;
      msg.complete = fx.finish;
      return { messages, stop: fx.finish ? { kind: 'end' } : { kind: 'incomplete' }, missingHostRejected };
    }
    msg.complete = true;
    if (upgrade) return { messages, stop: { kind: 'upgraded' }, missingHostRejected };
    if (!keepAlive) {
      return { messages, stop: pos < input.length ? { kind: 'closed', extra: input.length - pos } : { kind: 'end' }, missingHostRejected };
    }
  }
  throw new Error(`${fx.name}: more than ${MAX_MESSAGES} messages`);
}
