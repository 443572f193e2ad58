/**
 * Skiff's listener filter `skiff.filters.listener.protocol_inspector`: names the application protocol of a
 * plain-text connection from its first bytes, so that filter_chain_match.application_protocols picks the chain
 * on a listener that serves HTTP and RPC on one port (MOSN's auto protocol, done before the chain is chosen).
 *
 * Answers, in the order they are tried:
 *  - a registered x-protocol's name (`bolt`, `dubbo`, anything registered with registerXProtocol), from the
 *    wasm matchers (xp_detect) over at most the first DETECT_WINDOW bytes;
 *  - `h2c` for the HTTP/2 connection preface, `http/1.1` / `http/1.0` for an HTTP/1 request line (the same
 *    answers as envoy.filters.listener.http_inspector);
 *  - nothing: the connection falls to the chains without application_protocols or the default chain.
 * Garbage is recognised early: a first byte that starts no x-protocol frame and no HTTP method token is
 * `unknown` at once, so a stray client does not hold a pre-connection slot until listener_filters_timeout.
 *
 * Threads: main thread (the listener's), with the main thread's WasmInstance.
 */
import type { StatsStore, Counter } from '../common/stats.js';
import { detectProtocol, xProtocolForId } from '../codec/xprotocol/index.js';
import { XP_NEED_MORE } from '../wasm/layout.js';
import type { WasmInstance } from '../wasm/module.js';
import { slabPool, type SlabPool } from '../wasm/slab.js';
import { checkPreface } from '../stream/server_codecs.js';

export const PROTOCOL_INSPECTOR = 'skiff.filters.listener.protocol_inspector';
export const PROTOCOL_INSPECTOR_TYPE_URL = 'type.googleapis.com/skiff.filters.listener.protocol_inspector.v1.ProtocolInspector';

/** Bytes handed to the wasm matchers: every x-protocol decides on its fixed header (Bolt 4-5, Dubbo 2, echo 4). */
const DETECT_WINDOW = 64;
/** Longest HTTP method token Skiff waits for (the IANA registry's longest is 17: UPDATEREDIRECTREF). */
const MAX_METHOD_TOKEN = 24;
/** Envoy's http_inspector gives up after this many bytes without a request line. */
export const MAX_REQUEST_LINE_BYTES = 8 * 1024;
const HTTP_1_PREFIX = [0x48, 0x54, 0x54, 0x50, 0x2f, 0x31, 0x2e]; // "HTTP/1."

export type ProtocolGuess =
  | { readonly kind: 'need-more' }
  | { readonly kind: 'found'; readonly protocol: string }
  | { readonly kind: 'unknown' };

const NEED_MORE: ProtocolGuess = { kind: 'need-more' };
const UNKNOWN: ProtocolGuess = { kind: 'unknown' };

/** Letters and '-' (VERSION-CONTROL is a registered method). */
function isTokenLetter(b: number): boolean {
  return (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a) || b === 0x2d;
}

/**
 * Whether the bytes can still become an HTTP/1 request line or the h2 preface: a method token of letters,
 * then a space. Anything else (a control byte, a digit, a binary magic) rules HTTP out without waiting for CRLF.
 */
export function couldBeHttp(bytes: Uint8Array): boolean {
  const n = Math.min(bytes.length, MAX_METHOD_TOKEN + 1);
  for (let i = 0; i < n; i++) {
    const b = bytes[i]!;
    if (b === 0x20) return i > 0;
    if (!isTokenLetter(b)) return false;
  }
  return bytes.length <= MAX_METHOD_TOKEN;
}

/**
 * The same answers as http_inspector's (`h2c`, `http/1.1`, `http/1.0`), without a regex or a string: a method
 * token, a space, a target without whitespace, a space, `HTTP/1.0` or `HTTP/1.1`, CRLF.
 */
export function inspectHttpBytes(bytes: Uint8Array): 'need-more' | 'h2c' | 'http/1.1' | 'http/1.0' | 'unknown' {
  const preface = checkPreface(bytes);
  if (preface === 'h2') return 'h2c';
  const limit = Math.min(bytes.length, MAX_REQUEST_LINE_BYTES);
  let crlf = -1;
  for (let i = 1; i < limit; i++) {
    if (bytes[i] === 0x0a && bytes[i - 1] === 0x0d) { crlf = i - 1; break; }
  }
  if (crlf < 0) return bytes.length >= MAX_REQUEST_LINE_BYTES ? 'unknown' : 'need-more';
  if (preface === 'need-more') return 'need-more'; // "PRI * HTTP/2.0\r\n" is a prefix of the preface
  let i = 0;
  while (i < crlf && isTokenLetter(bytes[i]!)) i++;
  if (i === 0 || bytes[i] !== 0x20) return 'unknown';
  const targetStart = ++i;
  while (i < crlf && bytes[i]! > 0x20 && bytes[i] !== 0x7f) i++;
  if (i === targetStart || bytes[i] !== 0x20) return 'unknown';
  i++;
  if (crlf - i !== HTTP_1_PREFIX.length + 1) return 'unknown';
  for (let k = 0; k < HTTP_1_PREFIX.length; k++) if (bytes[i + k] !== HTTP_1_PREFIX[k]) return 'unknown';
  const minor = bytes[crlf - 1];
  return minor === 0x31 ? 'http/1.1' : minor === 0x30 ? 'http/1.0' : 'unknown';
}

/** Counters under `protocol_inspector.` (Envoy's http_inspector keeps `http_inspector.http11_found` and so on). */
class InspectorStats {
  private readonly found = new Map<string, Counter>();
  readonly notFound: Counter;
  readonly readError: Counter;

  constructor(private readonly store: StatsStore) {
    this.notFound = store.counter('protocol_inspector.protocol_not_found');
    this.readError = store.counter('protocol_inspector.read_error');
  }

  foundFor(protocol: string): Counter {
    let c = this.found.get(protocol);
    if (c === undefined) {
      // Stat names keep [a-z0-9_]: 'http/1.1' -> 'http_1_1_found'.
      c = this.store.counter(`protocol_inspector.${protocol.toLowerCase().replace(/[^a-z0-9_]/g, '_')}_found`);
      this.found.set(protocol, c);
    }
    return c;
  }
}

/** One per listener that configures the filter (they share the wasm instance and slab pool). */
export class ProtocolInspector {
  private readonly slabs: SlabPool;
  private readonly stats: InspectorStats | undefined;

  constructor(private readonly wasm: WasmInstance, stats?: StatsStore) {
    this.slabs = slabPool(wasm);
    this.stats = stats === undefined ? undefined : new InspectorStats(stats);
  }

  /** The protocol of a connection whose first bytes (all read so far) are `bytes`. */
  inspect(bytes: Uint8Array): ProtocolGuess {
    if (bytes.length === 0) return NEED_MORE;
    const x = this.detectX(bytes);
    if (x.kind === 'found') return x;
    if (couldBeHttp(bytes)) {
      const h = inspectHttpBytes(bytes);
      if (h === 'h2c' || h === 'http/1.1' || h === 'http/1.0') return { kind: 'found', protocol: h };
      if (h === 'need-more') return NEED_MORE;
    }
    return x.kind === 'need-more' ? NEED_MORE : UNKNOWN;
  }

  /** Counts an answer once per connection (the caller calls it with the final guess). */
  record(guess: ProtocolGuess): void {
    if (this.stats === undefined) return;
    if (guess.kind === 'found') this.stats.foundFor(guess.protocol).inc();
    else this.stats.notFound.inc();
  }

  /** The connection closed or timed out before an answer. */
  recordReadError(): void {
    this.stats?.readError.inc();
  }

  /** The x-protocol whose wasm matcher accepts the bytes (registered ones only). */
  private detectX(bytes: Uint8Array): ProtocolGuess {
    const size = Math.min(bytes.length, DETECT_WINDOW);
    const ptr = this.slabs.lease(size);
    if (ptr === 0) return UNKNOWN; // no buffer: treat as undetectable rather than wait for one
    let id: number;
    try {
      this.wasm.u8.set(bytes.subarray(0, size), ptr);
      id = detectProtocol(this.wasm, ptr, size);
    } finally {
      this.slabs.release(ptr);
    }
    if (id === XP_NEED_MORE) return NEED_MORE;
    if (id <= 0) return UNKNOWN;
    const spec = xProtocolForId(id);
    return spec === undefined ? UNKNOWN : { kind: 'found', protocol: spec.name };
  }
}
