/**
 * Reader of llhttp's markdown fixtures (../shared/conformance/llhttp/test/{request,response}/*.md).
 *
 * Each case is a heading, an optional `<!-- meta={...} -->` comment (type: request | response, optionally with
 * a `-lenient-*` or `-finish` suffix; pause, noScan, skipBody), an `http` block and the `log` llhttp wrote for it.
 * The http block's line breaks are CRLF on the wire, except after a line ending in a backslash (a continuation:
 * no bytes); inside a line, `\r \n \t \f`, `\xHH` and octal `\NNN` escapes stand for single bytes (other
 * backslashes are literal) and other characters are single latin1 bytes. Log spans are the bytes as latin1,
 * a lone CR or LF written as cr / lf.
 * The log lists callbacks in order: spans (method, url, version, status, header_field, header_value, body),
 * `headers complete ... flags=HEX content_length=N`, `message complete`, and `error code=N reason="..."`.
 */
import { readFileSync, readdirSync } from 'node:fs';

export interface FixtureMessage {
  method?: string;
  url?: string;
  version?: string;
  /** Reason phrase (responses). */
  reason?: string;
  statusCode?: number;
  headers: [string, string][];
  /** Trailer fields of a chunked body. */
  trailers: [string, string][];
  body: string;
  headersComplete: boolean;
  /** llhttp flags at headers complete (F_CHUNKED 0x8, F_CONTENT_LENGTH 0x20, F_TRANSFER_ENCODING 0x200, ...). */
  flags: number;
  contentLength: number;
  skipBody: boolean;
  complete: boolean;
}

export interface FixtureCase {
  file: string;
  name: string;
  kind: 'request' | 'response';
  /** The meta type as written (e.g. request-lenient-headers). */
  mode: string;
  lenient: boolean;
  finish: boolean;
  skipBody: boolean;
  input: Buffer;
  messages: FixtureMessage[];
  /** llhttp's error, if it stopped on one (pauses on upgrade are not errors, see `paused`). */
  error?: { code: number; reason: string };
  /** llhttp paused on CONNECT/Upgrade (22) or on an HTTP/2 preface (23). */
  paused?: number;
}

/** llhttp error codes that are pauses rather than rejections. */
const PAUSE_CODES = new Set([21, 22, 23]);

export function decodeHttpBlock(block: string): Buffer {
  const wire = block.replace(/\\\n/g, '').split('\n').join('\r\n');
  const bytes: number[] = [];
  for (let i = 0; i < wire.length; i++) {
    const c = wire[i];
    if (c === '\\' && i + 1 < wire.length) {
      const n = wire[i + 1];
      const simple: Record<string, number> = { r: 13, n: 10, t: 9, f: 12 };
      if (n in simple) { bytes.push(simple[n]); i++; continue; }
      const hex = /^x([0-9a-fA-F]{2})/.exec(wire.slice(i + 1, i + 4));
      if (hex) { bytes.push(parseInt(hex[1], 16)); i += 3; continue; }
      const oct = /^[0-7]{1,3}/.exec(wire.slice(i + 1, i + 4));
      if (oct) { bytes.push(parseInt(oct[0], 8) & 0xff); i += oct[0].length; continue; }
    }
    bytes.push(c.charCodeAt(0) & 0xff);
  }
  return Buffer.from(bytes);
}

/** The value of a log span: `"..."` with control bytes escaped as \t \f \r \n \xHH. */
function decodeLogString(s: string): string {
  return s.replace(/\\(t|f|r|n|x[0-9a-fA-F]{2})/g, (_, e: string) => {
    if (e === 't') return '\t';
    if (e === 'f') return '\f';
    if (e === 'r') return '\r';
    if (e === 'n') return '\n';
    return String.fromCharCode(parseInt(e.slice(1), 16));
  });
}

function parseLog(log: string[], fx: FixtureCase): void {
  let msg: FixtureMessage | undefined;
  let field: string | undefined;
  let value: string | undefined;
  const flushHeader = (): void => {
    if (msg && field !== undefined) (msg.headersComplete ? msg.trailers : msg.headers).push([field, value ?? '']);
    field = undefined;
    value = undefined;
  };
  let fieldDone = false;
  for (const line of log) {
    const span = /^off=\d+ len=\d+ span\[([a-z_.]+)\]=(?:"(.*)"|(cr|lf))$/.exec(line);
    if (/ message begin$/.test(line)) {
      msg = { headers: [], trailers: [], body: '', headersComplete: false, flags: 0, contentLength: 0, skipBody: false, complete: false };
      fx.messages.push(msg);
      continue;
    }
    if (!msg) continue;
    if (span) {
      const [, kind, raw, named] = span;
      const v = named ? (named === 'cr' ? '\r' : '\n') : decodeLogString(raw);
      switch (kind) {
        case 'method': msg.method = (msg.method ?? '') + v; break;
        case 'url': msg.url = (msg.url ?? '') + v; break;
        case 'version': msg.version = (msg.version ?? '') + v; break;
        case 'status': msg.reason = (msg.reason ?? '') + v; break;
        case 'header_field':
          if (fieldDone) { flushHeader(); fieldDone = false; }
          field = (field ?? '') + v;
          break;
        case 'header_value': value = (value ?? '') + v; break;
        case 'body': msg.body += v; break;
      }
      continue;
    }
    if (/ header_field complete$/.test(line)) { fieldDone = true; continue; }
    if (/ header_value complete$/.test(line)) { flushHeader(); fieldDone = false; continue; }
    const hc = /headers complete (?:method=\d+|status=(\d+)) v=\d+\/\d+ flags=([0-9a-f]+) content_length=(\d+)/.exec(line);
    if (hc) {
      flushHeader();
      msg.headersComplete = true;
      if (hc[1]) msg.statusCode = Number(hc[1]);
      msg.flags = parseInt(hc[2], 16);
      msg.contentLength = Number(hc[3]);
      continue;
    }
    if (/ skip body$/.test(line)) { msg.skipBody = true; continue; }
    if (/ message complete$/.test(line)) { msg.complete = true; continue; }
    // llhttp_finish() at the end of input: 1 means the message ended there (a close-delimited body).
    if (/^off=NULL finish=1$/.test(line)) { msg.complete = true; continue; }
    const err = /error code=(\d+) reason="(.*)"$/.exec(line);
    if (err) {
      const code = Number(err[1]);
      if (PAUSE_CODES.has(code)) fx.paused = code;
      else fx.error = { code, reason: err[2] };
      break;
    }
  }
}

/** Every http case of one fixture file. */
export function readFixtureFile(path: string, file: string): FixtureCase[] {
  const lines = readFileSync(path, 'utf8').split('\n');
  const cases: FixtureCase[] = [];
  let heading = '';
  let meta: Record<string, unknown> = {};
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    const h = /^#{2,4}\s+(.*)$/.exec(line);
    if (h) { heading = h[1].trim(); meta = {}; continue; }
    const m = /^<!--\s*meta=(\{.*\})\s*-->/.exec(line);
    if (m) { meta = JSON.parse(m[1]); continue; }
    if (line.startsWith('```http')) {
      const block: string[] = [];
      for (i++; i < lines.length && !lines[i].startsWith('```'); i++) block.push(lines[i]);
      let j = i + 1;
      while (j < lines.length && !lines[j].startsWith('```log')) j++;
      const log: string[] = [];
      for (j++; j < lines.length && !lines[j].startsWith('```'); j++) log.push(lines[j]);
      i = j;
      const type = String(meta.type ?? (file.startsWith('response') ? 'response' : 'request'));
      const fx: FixtureCase = {
        file, name: heading, kind: type.startsWith('response') ? 'response' : 'request', mode: type,
        lenient: type.includes('lenient'), finish: type.endsWith('-finish'), skipBody: meta.skipBody === true,
        input: decodeHttpBlock(block.join('\n')), messages: [],
      };
      parseLog(log, fx);
      cases.push(fx);
    }
  }
  return cases;
}

/** Every case under the llhttp fixture directory (request/ and response/). */
export function readAllFixtures(root: URL): FixtureCase[] {
  const out: FixtureCase[] = [];
  for (const dir of ['request', 'response']) {
    const base = new URL(`${dir}/`, root);
    for (const f of readdirSync(base).filter((n) => n.endsWith('.md')).sort()) {
      out.push(...readFixtureFile(new URL(f, base).pathname, `${dir}/${f}`));
    }
  }
  return out;
}
