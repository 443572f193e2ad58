/**
 * Dubbo parameter route matches (dubbo_proxy MethodMatch.params_match): each route that uses them becomes one
 * predicate, evaluated in JS on the frame's arguments (read on demand through xp_read_arg) before the wasm
 * router runs; the ids of the predicates that hold go into the x-protocol-params pseudo-header as ",0,3,",
 * and the route matches it with `contains ",<id>,"`. Frames of filters without predicates read no argument.
 *
 * Like Envoy, a parameter is compared by its string form: a Hessian2 string as is, an int/long in decimal;
 * exact_match is string equality, range_match [start, end) needs a decimal integer. Other types (null, bool,
 * double, lists, maps, objects) never match; neither does an argument past the end, nor one of a big frame
 * (its arguments are not in the wasm head, big_frame.ts).
 */
import { ConfigError } from '../common/errors.js';
import { checkFields } from '../config/values.js';
import type { XFrameView } from '../codec/xprotocol/frame.js';

export const PSEUDO_PARAMS = 'x-protocol-params';
/** Parameter routes per filter: bounds the x-protocol-params value (at most 183 bytes) in the routing head. */
export const MAX_PARAM_PREDICATES = 64;

export interface ParamEntry {
  readonly index: number;
  readonly exact?: string;
  /** Int64Range: start inclusive, end exclusive. */
  readonly range?: { readonly start: bigint; readonly end: bigint };
}
/** One route's params_match: every entry must hold. */
export interface ParamPredicate { readonly id: number; readonly entries: readonly ParamEntry[] }

function int64(v: unknown, path: string): bigint {
  if (v === undefined) return 0n;
  if ((typeof v === 'number' && Number.isInteger(v)) || (typeof v === 'string' && /^-?\d+$/.test(v))) {
    const b = BigInt(v);
    if (b >= -(2n ** 63n) && b < 2n ** 63n) return b;
  }
  throw new ConfigError(path, 'must be an int64');
}

/** Reads a params_match map (uint32 index -> ParameterMatchSpecifier) into predicate `id`. */
export function parseParamsMatch(m: Record<string, unknown>, id: number, path: string): ParamPredicate {
  if (id >= MAX_PARAM_PREDICATES) throw new ConfigError(path, `at most ${MAX_PARAM_PREDICATES} routes with params_match per dubbo_proxy filter`);
  if (m === null || typeof m !== 'object' || Array.isArray(m)) throw new ConfigError(path, 'must be a map of argument index to ParameterMatchSpecifier');
  const entries: ParamEntry[] = [];
  for (const [key, spec] of Object.entries(m)) {
    const at = `${path}.${key}`;
    if (!/^\d+$/.test(key) || Number(key) > 0xffff_ffff) throw new ConfigError(at, 'the key must be a uint32 argument index');
    const s = spec as { exact_match?: unknown; range_match?: { start?: unknown; end?: unknown } };
    if (s === null || typeof s !== 'object') throw new ConfigError(at, 'must be a ParameterMatchSpecifier');
    checkFields(s, ['exact_match', 'range_match'], at);
    if ((s.exact_match === undefined) === (s.range_match === undefined)) throw new ConfigError(at, 'exactly one of exact_match or range_match is required');
    const index = Number(key);
    if (s.exact_match !== undefined) {
      if (typeof s.exact_match !== 'string') throw new ConfigError(`${at}.exact_match`, 'must be a string');
      entries.push({ index, exact: s.exact_match });
    } else {
      checkFields(s.range_match!, ['start', 'end'], `${at}.range_match`);
      entries.push({ index, range: { start: int64(s.range_match!.start, `${at}.range_match.start`), end: int64(s.range_match!.end, `${at}.range_match.end`) } });
    }
  }
  return { id, entries };
}

/** The string form Envoy compares: strings as is, integers in decimal; undefined for any other argument. */
function argumentText(frame: XFrameView, index: number): string | undefined {
  let a;
  try { a = frame.argument(index); } catch { return undefined; } // arguments that cannot be walked match nothing
  if (a === undefined) return undefined;
  if (a.type === 'string') return a.value;
  if (a.type === 'int' && Number.isInteger(a.value)) return BigInt(a.value).toString();
  return undefined;
}

function entryHolds(e: ParamEntry, text: string | undefined): boolean {
  if (text === undefined) return false;
  if (e.exact !== undefined) return text === e.exact;
  if (!/^[+-]?\d{1,20}$/.test(text)) return false;
  const n = BigInt(text);
  return n >= e.range!.start && n < e.range!.end;
}

/** The x-protocol-params value for `frame`: ",id,id," of the predicates that hold (each argument read once). */
export function paramsHeaderValue(frame: XFrameView, predicates: readonly ParamPredicate[]): string {
  const texts = new Map<number, string | undefined>();
  let out = ',';
  for (const p of predicates) {
    let ok = true;
    for (const e of p.entries) {
      if (!texts.has(e.index)) texts.set(e.index, argumentText(frame, e.index));
      if (!entryHolds(e, texts.get(e.index))) { ok = false; break; }
    }
    if (ok) out += `${p.id},`;
  }
  return out;
}
