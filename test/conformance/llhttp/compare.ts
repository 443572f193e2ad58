/**
 * Compares Skiff's outcome on a fixture with llhttp's log: every message llhttp parsed must parse to the same
 * method, URL, version, status, headers (values compared after OWS trimming, which Skiff does and llhttp does
 * not), framing flags, content length and body; and Skiff must reject where llhttp (strict) rejects.
 */
import * as L from '../../../src/wasm/layout.js';
import type { FixtureCase, FixtureMessage } from './fixtures.js';
import type { SkiffMessage, SkiffOutcome } from './run.js';

// llhttp flags (llhttp.h enum llhttp_flags)
const F_CONNECTION_CLOSE = 0x2;
const F_CHUNKED = 0x8;
const F_CONTENT_LENGTH = 0x20;
const F_TRANSFER_ENCODING = 0x200;

export type Verdict =
  | { ok: true; onCompletion?: boolean }
  | { ok: false; kind: 'skiff-rejects' | 'skiff-accepts' | 'differs'; detail: string };

const trimOws = (s: string): string => s.replace(/^[ \t]+|[ \t]+$/g, '');

function compareHead(e: FixtureMessage, s: SkiffMessage, kind: 'request' | 'response'): string | undefined {
  if (kind === 'request') {
    if (e.method !== s.method) return `method ${s.method} != ${e.method}`;
    if ((e.url ?? '') !== s.url) return `url ${JSON.stringify(s.url)} != ${JSON.stringify(e.url)}`;
  } else {
    if (e.statusCode !== s.statusCode) return `status ${s.statusCode} != ${e.statusCode}`;
    if ((e.reason ?? '') !== s.reason) return `reason ${JSON.stringify(s.reason)} != ${JSON.stringify(e.reason)}`;
  }
  if (e.version !== `1.${s.versionMinor}`) return `version 1.${s.versionMinor} != ${e.version}`;
  if (e.headers.length !== s.headers.length) return `${s.headers.length} headers != ${e.headers.length}`;
  for (let i = 0; i < e.headers.length; i++) {
    const [en, ev] = e.headers[i];
    const [sn, sv] = s.headers[i];
    if (en.toLowerCase() !== sn) return `header ${i} name ${sn} != ${en}`;
    if (trimOws(ev) !== sv) return `header ${sn} value ${JSON.stringify(sv)} != ${JSON.stringify(ev)}`;
  }
  const pairs: [number, number, string][] = [
    [F_CHUNKED, L.FLAG_CHUNKED, 'chunked'], [F_CONTENT_LENGTH, L.FLAG_CONTENT_LENGTH, 'content-length'],
    [F_TRANSFER_ENCODING, L.FLAG_TRANSFER_ENCODING, 'transfer-encoding'], [F_CONNECTION_CLOSE, L.FLAG_CONNECTION_CLOSE, 'close'],
  ];
  for (const [ef, sf, name] of pairs) {
    if (((e.flags & ef) !== 0) !== ((s.flags & sf) !== 0)) return `flag ${name}: skiff ${(s.flags & sf) !== 0}, llhttp ${(e.flags & ef) !== 0}`;
  }
  if ((e.flags & F_CONTENT_LENGTH) !== 0 && e.contentLength !== s.contentLength) return `content-length ${s.contentLength} != ${e.contentLength}`;
  return undefined;
}

export function compare(fx: FixtureCase, out: SkiffOutcome): Verdict {
  const rejected = out.stop.kind === 'head-error' || out.stop.kind === 'body-error' || out.stop.kind === 'closed';
  const e = fx.messages;
  const s = out.messages;
  // Messages both sides parsed a head for must agree.
  for (let i = 0; i < Math.min(e.length, s.length); i++) {
    if (!e[i].headersComplete) break;
    const d = compareHead(e[i], s[i], fx.kind);
    if (d) return { ok: false, kind: 'differs', detail: `message ${i}: ${d}` };
    if (e[i].complete && s[i].complete && e[i].body !== s[i].body) {
      return { ok: false, kind: 'differs', detail: `message ${i}: body ${JSON.stringify(s[i].body)} != ${JSON.stringify(e[i].body)}` };
    }
    if (e[i].complete && s[i].complete) {
      const et = e[i].trailers.map(([n, v]) => [n.toLowerCase(), trimOws(v)]);
      if (JSON.stringify(et) !== JSON.stringify(s[i].trailers)) {
        return { ok: false, kind: 'differs', detail: `message ${i}: trailers ${JSON.stringify(s[i].trailers)} != ${JSON.stringify(et)}` };
      }
    }
  }
  const eComplete = e.filter((m) => m.complete).length;
  const sComplete = s.filter((m) => m.complete).length;
  if (fx.error) {
    const lastHeadless = e.length > 0 && !e[e.length - 1].headersComplete;
    if (!rejected && out.stop.kind === 'incomplete' && lastHeadless && (out.stop.onCompletion ?? 0) > 0 && sComplete === eComplete) {
      return { ok: true, onCompletion: true };
    }
    if (!rejected) return { ok: false, kind: 'skiff-accepts', detail: `llhttp error ${fx.error.code} "${fx.error.reason}", Skiff ${JSON.stringify(out.stop)}` };
    if (sComplete > eComplete) return { ok: false, kind: 'differs', detail: `Skiff completed ${sComplete} messages before rejecting, llhttp ${eComplete}` };
    if (sComplete < eComplete) return { ok: false, kind: 'skiff-rejects', detail: `Skiff rejected message ${sComplete} (${describe(out)}), llhttp completed ${eComplete}` };
    return { ok: true };
  }
  if (rejected) return { ok: false, kind: 'skiff-rejects', detail: `${describe(out)} where llhttp accepts` };
  if (sComplete !== eComplete) return { ok: false, kind: 'differs', detail: `Skiff completed ${sComplete} messages, llhttp ${eComplete}` };
  if (fx.paused && out.stop.kind !== 'upgraded') return { ok: false, kind: 'differs', detail: `llhttp paused (${fx.paused}), Skiff ${out.stop.kind}` };
  // An incomplete last message: the part both saw must agree (checked above).
  return { ok: true };
}

export function describe(out: SkiffOutcome): string {
  const st = out.stop;
  if (st.kind === 'head-error') return `head error ${st.code}`;
  if (st.kind === 'body-error') return `body error ${st.code}`;
  if (st.kind === 'closed') return `connection closed with ${st.extra} bytes after the last message`;
  return st.kind;
}
