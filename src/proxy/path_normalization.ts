/**
 * The HTTP connection manager's path normalization, applied to a request's :path before routing (Envoy's
 * ConnectionManagerUtility::maybeNormalizePath), in Envoy's order:
 *   1. path_with_escaped_slashes_action: %2F / %5C (either case) in the path are kept, rejected (400),
 *      unescaped and forwarded, or unescaped and redirected (307 to the new path);
 *   2. normalize_path: RFC 3986 §6.2.2 normalization: percent-encoded unreserved characters decoded, the hex
 *      digits of the remaining escapes upper-cased, `\` read as `/` (as Envoy's URL canonicalizer does), dot
 *      segments removed (§5.2.4; %2E counts as a dot). A malformed escape or a path that does not start with
 *      `/` is rejected (400). No case normalization of the path itself;
 *   3. merge_slashes: runs of `/` become one.
 * Only the path is changed: the query (from the first `?`) is kept as received. Every step only removes or
 * replaces bytes, so the result is never longer than the input and is written over the request's own bytes
 * (`rewriteRecordPath`). All of this runs only when one of the options is on.
 */
import { ConfigError, UnsupportedConfigError } from '../common/errors.js';
import type { WasmInstance } from '../wasm/module.js';
import * as L from '../wasm/layout.js';

export type EscapedSlashesAction = 'KEEP_UNCHANGED' | 'REJECT_REQUEST' | 'UNESCAPE_AND_REDIRECT' | 'UNESCAPE_AND_FORWARD';

export interface PathNormalizationConfig {
  readonly normalizePath: boolean;
  readonly mergeSlashes: boolean;
  readonly escapedSlashes: EscapedSlashesAction;
}

/** What happens to a request after normalization. */
export type PathVerdict =
  | { readonly kind: 'unchanged' }
  | { readonly kind: 'forward'; readonly path: string }
  | { readonly kind: 'redirect'; readonly path: string }
  | { readonly kind: 'reject'; readonly detail: string };

const ACTIONS: readonly string[] = ['IMPLEMENTATION_SPECIFIC_DEFAULT', 'KEEP_UNCHANGED', 'REJECT_REQUEST', 'UNESCAPE_AND_REDIRECT', 'UNESCAPE_AND_FORWARD'];

interface HcmPathFields {
  normalize_path?: { value?: boolean } | boolean;
  merge_slashes?: boolean;
  path_with_escaped_slashes_action?: string;
}

function boolValue(v: { value?: boolean } | boolean | undefined): boolean {
  return typeof v === 'boolean' ? v : v?.value ?? false;
}

/** The HCM's path options (`path` names the HCM's typed_config); undefined when all are off (the common case). */
export function pathNormalizationConfig(hcm: HcmPathFields, path: string): PathNormalizationConfig | undefined {
  const action = hcm.path_with_escaped_slashes_action ?? 'IMPLEMENTATION_SPECIFIC_DEFAULT';
  if (!ACTIONS.includes(action)) throw new UnsupportedConfigError(`${path}.path_with_escaped_slashes_action`, `value ${action}`);
  if (hcm.merge_slashes !== undefined && typeof hcm.merge_slashes !== 'boolean') throw new ConfigError(`${path}.merge_slashes`, 'must be a boolean');
  const cfg: PathNormalizationConfig = {
    normalizePath: boolValue(hcm.normalize_path),
    mergeSlashes: hcm.merge_slashes ?? false,
    // Envoy's implementation-specific default is to keep escaped slashes as they are.
    escapedSlashes: action === 'IMPLEMENTATION_SPECIFIC_DEFAULT' ? 'KEEP_UNCHANGED' : action as EscapedSlashesAction,
  };
  return cfg.normalizePath || cfg.mergeSlashes || cfg.escapedSlashes !== 'KEEP_UNCHANGED' ? cfg : undefined;
}

const HEX = '0123456789ABCDEF';

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  return -1;
}

/** RFC 3986 §2.3 unreserved: ALPHA / DIGIT / "-" / "." / "_" / "~". */
function isUnreserved(c: number): boolean {
  return (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || c === 0x2d || c === 0x2e || c === 0x5f || c === 0x7e;
}

const ESCAPED_SLASH = /%(2f|5c)/i;

/** %2F -> `/` and %5C -> `\` (either case); the rest as it is. */
function unescapeSlashes(p: string): string {
  return p.replace(/%(2f|5c)/gi, (m) => (m[2] === 'F' || m[2] === 'f' ? '/' : '\\'));
}

/**
 * Decodes escaped unreserved characters, upper-cases the hex of the others, reads `\` as `/`.
 * undefined when an escape is malformed.
 */
function decodeUnreserved(p: string): string | undefined {
  let out = '';
  for (let i = 0; i < p.length; i++) {
    const c = p.charCodeAt(i);
    if (c === 0x25) {
      const hi = hexValue(p.charCodeAt(i + 1));
      const lo = hexValue(p.charCodeAt(i + 2));
      if (hi < 0 || lo < 0) return undefined;
      const v = hi * 16 + lo;
      out += isUnreserved(v) ? String.fromCharCode(v) : `%${HEX[hi]}${HEX[lo]}`;
      i += 2;
    } else {
      out += c === 0x5c ? '/' : p[i];
    }
  }
  return out;
}

/** RFC 3986 §5.2.4 remove_dot_segments for an absolute path (starts with `/`). */
export function removeDotSegments(p: string): string {
  const segments = p.split('/');
  // segments[0] is '' (the leading slash); each later one is a segment.
  const out: string[] = [];
  const last = segments.length - 1;
  for (let i = 1; i <= last; i++) {
    const s = segments[i]!;
    if (s === '.') {
      if (i === last) out.push('');
    } else if (s === '..') {
      out.pop();
      if (i === last) out.push('');
    } else {
      out.push(s);
    }
  }
  return '/' + out.join('/');
}

/** Normalizes a request's path-and-query under `cfg`. */
export function normalizeRequestPath(pathAndQuery: string, cfg: PathNormalizationConfig): PathVerdict {
  const q = pathAndQuery.indexOf('?');
  const original = q < 0 ? pathAndQuery : pathAndQuery.slice(0, q);
  const query = q < 0 ? '' : pathAndQuery.slice(q);
  // An absolute-form target without a path ("http://a?q") means "/": nothing to normalize.
  if (original === '') return { kind: 'unchanged' };
  let path = original;
  let redirect = false;
  if (cfg.escapedSlashes !== 'KEEP_UNCHANGED' && ESCAPED_SLASH.test(path)) {
    if (cfg.escapedSlashes === 'REJECT_REQUEST') return { kind: 'reject', detail: 'escaped slashes in the path' };
    path = unescapeSlashes(path);
    redirect = cfg.escapedSlashes === 'UNESCAPE_AND_REDIRECT';
  }
  if (cfg.normalizePath) {
    if (!path.startsWith('/') && !path.startsWith('\\')) return { kind: 'reject', detail: 'the path does not start with /' };
    const decoded = decodeUnreserved(path);
    if (decoded === undefined) return { kind: 'reject', detail: 'malformed percent-encoding in the path' };
    path = removeDotSegments(decoded);
  }
  if (cfg.mergeSlashes) path = path.replace(/\/{2,}/g, '/');
  if (path === original) return { kind: 'unchanged' };
  const full = path + query;
  return redirect ? { kind: 'redirect', path: full } : { kind: 'forward', path: full };
}

/**
 * Reads a request's path-and-query from its head record (not through the head view, whose string cache
 * must not hold the pre-normalization path).
 */
export function recordPath(wasm: WasmInstance, rec: number): string {
  const p = wasm.view.getUint32(rec + L.HEAD_PATH_PTR, true);
  const len = wasm.view.getInt32(rec + L.HEAD_PATH_LEN, true);
  let s = '';
  for (let i = 0; i < len; i++) s += String.fromCharCode(wasm.u8[p + i]!);
  return s;
}

/**
 * Writes a normalized path-and-query over the request's own path bytes and points the record at it, so the
 * router and the upstream codecs see the new path. `next` is never longer than the current path (every
 * normalization step shortens or keeps it); an origin-form request-target shrinks with it.
 */
export function rewriteRecordPath(wasm: WasmInstance, rec: number, next: string): void {
  const v = wasm.view;
  const p = v.getUint32(rec + L.HEAD_PATH_PTR, true);
  const len = v.getInt32(rec + L.HEAD_PATH_LEN, true);
  if (next.length > len) throw new Error(`normalized path longer than the original (${next.length} > ${len})`);
  for (let i = 0; i < next.length; i++) wasm.u8[p + i] = next.charCodeAt(i);
  v.setInt32(rec + L.HEAD_PATH_LEN, next.length, true);
  const q = next.indexOf('?');
  const pathEnd = q < 0 ? next.length : q;
  v.setUint32(rec + L.HEAD_QUERY_PTR, p + pathEnd, true);
  v.setInt32(rec + L.HEAD_QUERY_LEN, next.length - pathEnd, true);
  // The target ends where the path ends (origin-form: it is the path; absolute-form: the path is its tail).
  const t = v.getUint32(rec + L.HEAD_TARGET_PTR, true);
  const tLen = v.getInt32(rec + L.HEAD_TARGET_LEN, true);
  if (t <= p && t + tLen === p + len) v.setInt32(rec + L.HEAD_TARGET_LEN, p - t + next.length, true);
}

/** One HCM's path normalization bound to the memory its request records live in. */
export class PathNormalizer {
  constructor(readonly config: PathNormalizationConfig, private readonly wasm: WasmInstance) {}

  /**
   * Normalizes the path of the request whose head record is `rec`; on 'forward' the record already holds
   * the new path. CONNECT requests (authority-form) and `*` have no path to normalize.
   */
  apply(rec: number, method: string): PathVerdict {
    if (method === 'CONNECT') return { kind: 'unchanged' };
    const current = recordPath(this.wasm, rec);
    if (current === '*') return { kind: 'unchanged' };
    const verdict = normalizeRequestPath(current, this.config);
    if (verdict.kind === 'forward') rewriteRecordPath(this.wasm, rec, verdict.path);
    return verdict;
  }
}
