/**
 * Strict incremental decoder of the chunked transfer coding (RFC 9112 §7.1):
 *
 *   chunked-body = *chunk last-chunk trailer-section CRLF
 *   chunk        = chunk-size [ chunk-ext ] CRLF chunk-data CRLF
 *   chunk-ext    = *( BWS ";" BWS ext-name [ BWS "=" BWS ( token / quoted-string ) ] )
 *
 * CRLF only; chunk-size digits and extension bytes are bounded, so a peer cannot make the decoder buffer or
 * loop without end. Data is returned as views of the pushed bytes (never copied). Used by the stream layer
 * for request and response bodies, and by the llhttp conformance harness.
 */
import type { HeaderList } from '../../types/http.js';

export interface ChunkedLimits {
  /** Most hex digits of one chunk-size (leading zeros count). */
  maxSizeDigits: number;
  /** Most bytes of one chunk's extensions. */
  maxExtensionBytes: number;
  /** Most bytes of the trailer section. */
  maxTrailerBytes: number;
}

export const DEFAULT_CHUNKED_LIMITS: ChunkedLimits = { maxSizeDigits: 16, maxExtensionBytes: 4096, maxTrailerBytes: 16384 };

export interface ChunkedResult {
  /** Chunk data decoded from this push, as views into the pushed bytes. */
  readonly data: Uint8Array[];
  /** The last chunk and the trailer section have been read. */
  readonly done: boolean;
  /** Stable error code (SKIFF_HTTP1_CHUNK_*), or undefined. After an error every push returns it again. */
  readonly error: string | undefined;
  /** Bytes of this push consumed; when done, bytes after it belong to the next message. */
  readonly consumed: number;
}

const enum S {
  Size, SizeCr, ExtStart, ExtName, ExtAfterName, ExtValueStart, ExtToken, ExtQuoted, ExtQuotedEscape, ExtAfterValue,
  SizeLf, Data, DataCr, DataLf, TrailerLineStart, TrailerLine, TrailerLf, EndLf, Done, Error,
}

const TCHAR = new Uint8Array(256);
for (const c of "!#$%&'*+-.^_`|~") TCHAR[c.charCodeAt(0)] = 1;
for (let c = 48; c <= 57; c++) TCHAR[c] = 1;
for (let c = 65; c <= 90; c++) { TCHAR[c] = 1; TCHAR[c + 32] = 1; }

const CR = 13, LF = 10, SP = 32, HTAB = 9;

function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  const l = c | 0x20;
  if (l >= 97 && l <= 102) return l - 87;
  return -1;
}

/** qdtext and the octets of a quoted-pair (RFC 9110 §5.6.4), without the quote and backslash. */
function isQuotedText(c: number): boolean {
  return c === HTAB || c === SP || (c >= 0x21 && c <= 0x7e && c !== 0x22 && c !== 0x5c) || c >= 0x80;
}

export class ChunkedDecoder {
  private state = S.Size;
  private size = 0;
  private sizeDigits = 0;
  private remaining = 0;
  private extBytes = 0;
  private trailerBytes = 0;
  private errorCode: string | undefined;
  private trailerLine: number[] = [];
  /** Trailer fields of the body (names lowercase), complete once `done`. */
  readonly trailers: [string, string][] = [];
  private readonly limits: ChunkedLimits;

  constructor(limits: Partial<ChunkedLimits> = {}) {
    this.limits = { ...DEFAULT_CHUNKED_LIMITS, ...limits };
  }

  get done(): boolean { return this.state === S.Done; }
  /** The trailers as a HeaderList (for BodyHandler.onEnd). */
  trailerList(): HeaderList { return new PairHeaderList(this.trailers); }
  get error(): string | undefined { return this.errorCode; }

  private fail(code: string, at: number, data: Uint8Array[]): ChunkedResult {
    this.state = S.Error;
    this.errorCode = `SKIFF_HTTP1_${code}`;
    return { data, done: false, error: this.errorCode, consumed: at };
  }

  push(bytes: Uint8Array): ChunkedResult {
    const data: Uint8Array[] = [];
    if (this.state === S.Error) return { data, done: false, error: this.errorCode, consumed: 0 };
    const n = bytes.length;
    let i = 0;
    while (i < n && this.state !== S.Done) {
      const c = bytes[i];
      switch (this.state) {
        case S.Size: {
          const h = hexValue(c);
          if (h >= 0) {
            if (++this.sizeDigits > this.limits.maxSizeDigits) return this.fail('CHUNK_SIZE_TOO_LONG', i, data);
            this.size = this.size * 16 + h;
            if (this.size > Number.MAX_SAFE_INTEGER) return this.fail('CHUNK_SIZE_TOO_LONG', i, data);
            break;
          }
          if (this.sizeDigits === 0) return this.fail('INVALID_CHUNK_SIZE', i, data);
          if (c === CR) this.state = S.SizeLf;
          else if (c === 0x3b) { this.state = S.ExtStart; this.extBytes = 0; }
          else if (c === SP || c === HTAB) this.state = S.SizeCr; // BWS before ";"
          else return this.fail('INVALID_CHUNK_SIZE', i, data);
          break;
        }
        case S.SizeCr:
          // BWS after the size is only allowed in front of an extension
          if (c === SP || c === HTAB) { if (++this.extBytes > this.limits.maxExtensionBytes) return this.fail('CHUNK_EXTENSION_TOO_LONG', i, data); break; }
          if (c === 0x3b) { this.state = S.ExtStart; break; }
          return this.fail('INVALID_CHUNK_SIZE', i, data);
        default:
          if (this.state >= S.ExtStart && this.state <= S.ExtAfterValue) {
            if (++this.extBytes > this.limits.maxExtensionBytes) return this.fail('CHUNK_EXTENSION_TOO_LONG', i, data);
            const err = this.extension(c);
            if (err) return this.fail(err, i, data);
            break;
          }
          switch (this.state) {
            case S.SizeLf:
              if (c !== LF) return this.fail('CHUNK_BARE_CR', i, data);
              if (this.size === 0) { this.state = S.TrailerLineStart; break; }
              this.remaining = this.size;
              this.state = S.Data;
              break;
            case S.Data: {
              const take = Math.min(this.remaining, n - i);
              data.push(bytes.subarray(i, i + take));
              this.remaining -= take;
              i += take;
              if (this.remaining === 0) this.state = S.DataCr;
              continue;
            }
            case S.DataCr:
              if (c !== CR) return this.fail('CHUNK_DATA_NOT_CRLF', i, data);
              this.state = S.DataLf;
              break;
            case S.DataLf:
              if (c !== LF) return this.fail('CHUNK_DATA_NOT_CRLF', i, data);
              this.size = 0; this.sizeDigits = 0;
              this.state = S.Size;
              break;
            case S.TrailerLineStart:
              if (c === CR) { this.state = S.EndLf; break; }
              if (!TCHAR[c]) return this.fail('INVALID_TRAILER', i, data);
              this.trailerLine = [c];
              this.state = S.TrailerLine;
              if (++this.trailerBytes > this.limits.maxTrailerBytes) return this.fail('TRAILERS_TOO_LARGE', i, data);
              break;
            case S.TrailerLine:
              if (++this.trailerBytes > this.limits.maxTrailerBytes) return this.fail('TRAILERS_TOO_LARGE', i, data);
              if (c === CR) { this.state = S.TrailerLf; break; }
              if (c === LF || (c < 0x20 && c !== HTAB) || c === 0x7f) return this.fail('INVALID_TRAILER', i, data);
              this.trailerLine.push(c);
              break;
            case S.TrailerLf: {
              if (c !== LF) return this.fail('INVALID_TRAILER', i, data);
              const err = this.addTrailer();
              if (err) return this.fail(err, i, data);
              this.state = S.TrailerLineStart;
              break;
            }
            case S.EndLf:
              if (c !== LF) return this.fail('CHUNK_BARE_CR', i, data);
              this.state = S.Done;
              break;
          }
      }
      i++;
    }
    return { data, done: this.state === S.Done, error: undefined, consumed: i };
  }

  /** One byte of a chunk extension; returns an error code or undefined. */
  private extension(c: number): string | undefined {
    switch (this.state) {
      case S.ExtStart:
        if (c === SP || c === HTAB) return undefined;
        if (!TCHAR[c]) return 'INVALID_CHUNK_EXTENSION';
        this.state = S.ExtName;
        return undefined;
      case S.ExtName:
        if (TCHAR[c]) return undefined;
        this.state = S.ExtAfterName;
        return this.extension(c);
      case S.ExtAfterName:
        if (c === SP || c === HTAB) return undefined;
        if (c === 0x3d) { this.state = S.ExtValueStart; return undefined; }
        if (c === 0x3b) { this.state = S.ExtStart; return undefined; }
        if (c === CR) { this.state = S.SizeLf; return undefined; }
        return 'INVALID_CHUNK_EXTENSION';
      case S.ExtValueStart:
        if (c === SP || c === HTAB) return undefined;
        if (c === 0x22) { this.state = S.ExtQuoted; return undefined; }
        if (!TCHAR[c]) return 'INVALID_CHUNK_EXTENSION';
        this.state = S.ExtToken;
        return undefined;
      case S.ExtToken:
        if (TCHAR[c]) return undefined;
        this.state = S.ExtAfterValue;
        return this.extension(c);
      case S.ExtQuoted:
        if (c === 0x22) { this.state = S.ExtAfterValue; return undefined; }
        if (c === 0x5c) { this.state = S.ExtQuotedEscape; return undefined; }
        return isQuotedText(c) ? undefined : 'INVALID_CHUNK_EXTENSION';
      case S.ExtQuotedEscape:
        if (c === HTAB || c === SP || (c >= 0x21 && c <= 0x7e) || c >= 0x80) { this.state = S.ExtQuoted; return undefined; }
        return 'INVALID_CHUNK_EXTENSION';
      case S.ExtAfterValue:
        if (c === SP || c === HTAB) return undefined;
        if (c === 0x3b) { this.state = S.ExtStart; return undefined; }
        if (c === CR) { this.state = S.SizeLf; return undefined; }
        return 'INVALID_CHUNK_EXTENSION';
    }
    return 'INVALID_CHUNK_EXTENSION';
  }

  private addTrailer(): string | undefined {
    const line = this.trailerLine;
    let k = 0;
    while (k < line.length && TCHAR[line[k]]) k++;
    if (k === 0 || line[k] !== 0x3a) return 'INVALID_TRAILER';
    const name = Buffer.from(line.slice(0, k)).toString('latin1').toLowerCase();
    let v = k + 1;
    let e = line.length;
    while (v < e && (line[v] === SP || line[v] === HTAB)) v++;
    while (e > v && (line[e - 1] === SP || line[e - 1] === HTAB)) e--;
    this.trailers.push([name, Buffer.from(line.slice(v, e)).toString('latin1')]);
    return undefined;
  }
}

/** A HeaderList over name/value pairs (trailers, locally built heads). Names are compared lowercase. */
export class PairHeaderList implements HeaderList {
  constructor(private readonly pairs: readonly (readonly [string, string])[]) {}
  get size(): number { return this.pairs.length; }
  name(i: number): string { return this.at(i)[0]; }
  value(i: number): string { return this.at(i)[1]; }
  get(name: string): string | undefined {
    const key = name.toLowerCase();
    return this.pairs.find(([n]) => n.toLowerCase() === key)?.[1];
  }
  getAll(name: string): string[] {
    const key = name.toLowerCase();
    return this.pairs.filter(([n]) => n.toLowerCase() === key).map(([, v]) => v);
  }
  has(name: string): boolean { return this.get(name) !== undefined; }
  private at(i: number): readonly [string, string] {
    const p = this.pairs[i];
    if (!p) throw new RangeError(`header index ${i} out of range (size ${this.pairs.length})`);
    return p;
  }
}

/** `size-in-hex CRLF`: the line in front of a chunk of `size` bytes (size > 0) when writing a chunked body. */
export function chunkHeader(size: number): Buffer {
  if (!(Number.isSafeInteger(size) && size > 0)) throw new RangeError(`chunk size ${size} must be a positive integer`);
  return Buffer.from(`${size.toString(16)}\r\n`, 'latin1');
}

/** The CRLF that ends each chunk's data. */
export const CHUNK_END: Buffer = Buffer.from('\r\n', 'latin1');
/** The last chunk and an empty trailer section: ends a chunked body. */
export const CHUNKED_BODY_END: Buffer = Buffer.from('0\r\n\r\n', 'latin1');
