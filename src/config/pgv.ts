/**
 * protoc-gen-validate rules, enforced generically: the `(validate.rules)` field options and
 * `(validate.required)` oneof options that protobufjs keeps as parsedOptions are read from the loaded protos
 * and checked against a decoded message tree. As PGV does, scalar rules apply to a field's value even when
 * it is absent (its proto3 default: "" or 0), rules on message fields only when the message is set.
 * Packed Any messages are checked with their own type (Envoy validates a typed_config when it builds the
 * extension). Errors are ConfigErrors naming the field and the rule.
 */
import { isIP } from 'node:net';
import protobuf from 'protobufjs';
import { ConfigError } from '../common/errors.js';
import { fieldPath, isSyntheticOneof, isWellKnownType } from './decode.js';
import { resolveTypeUrl, typeName, type ProtoField, type ProtoType } from './protos.js';

type Rules = Record<string, any>;

const MAX_DEPTH = 64;

function optionOf(parsed: Record<string, unknown>[] | null | undefined, name: string): unknown {
  if (!parsed) return undefined;
  for (const o of parsed) if (name in o) return o[name];
  return undefined;
}

const rulesCache = new WeakMap<ProtoField, Rules | null>();

function rulesOf(field: ProtoField): Rules | null {
  let rules = rulesCache.get(field);
  if (rules === undefined) {
    rules = (optionOf(field.parsedOptions, '(validate.rules)') as Rules | undefined) ?? null;
    rulesCache.set(field, rules);
  }
  return rules;
}

interface FieldPlan { field: ProtoField; rules: Rules | null; sub: ProtoType | undefined; absentOk?: boolean }
interface TypePlan {
  disabled: boolean;
  requiredOneofs: protobuf.OneOf[];
  fields: FieldPlan[];
  /** The same fields by name, for walking the fields a value has. */
  byName: Map<string, FieldPlan>;
  /** Fields whose rules fail when the field is absent (required ones): checked whether set or not. */
  failWhenAbsent: FieldPlan[];
}

const planCache = new WeakMap<ProtoType, TypePlan>();

/** Per type, once: the required oneofs and only the fields that carry rules or hold messages. */
function planOf(type: ProtoType): TypePlan {
  let plan = planCache.get(type);
  if (!plan) {
    const fields: FieldPlan[] = [];
    for (const field of type.fieldsArray) {
      const rules = rulesOf(field);
      const sub = field.resolvedType instanceof protobuf.Type ? field.resolvedType : undefined;
      if (rules || sub) fields.push({ field, rules, sub });
    }
    // An absent field's verdict depends on its rules only: worked out here, once (most pass).
    const failWhenAbsent = fields.filter((fp) => {
      if (!fp.rules) return false;
      try { checkField(fp.field, fp.rules, undefined, fp.field.name); return false; } catch { return true; }
    });
    plan = {
      disabled: optionOf(type.parsedOptions, '(validate.disabled)') === true || optionOf(type.parsedOptions, '(validate.ignored)') === true,
      requiredOneofs: type.oneofsArray.filter((o) => !isSyntheticOneof(o) && optionOf(o.parsedOptions, '(validate.required)') === true),
      fields,
      byName: new Map(fields.map((fp) => [fp.field.name, fp])),
      failWhenAbsent,
    };
    planCache.set(type, plan);
  }
  return plan;
}

/** Checks every PGV rule of `type` and its set sub-messages against `value` (a decoded message). */
export function checkRules(type: ProtoType, value: unknown, path: string, depth = 0): void {
  if (depth > MAX_DEPTH || typeof value !== 'object' || value === null) return;
  const plan = planOf(type);
  if (plan.disabled) return;
  const msg = value as Record<string, unknown>;
  for (const oneof of plan.requiredOneofs) {
    if (!oneof.oneof.some((name) => msg[name] !== undefined)) {
      throw new ConfigError(fieldPath(path, oneof.name), `one of ${oneof.oneof.join(', ')} must be set (validate.required)`);
    }
  }
  for (const fp of plan.failWhenAbsent) {
    if (msg[fp.field.name] === undefined) checkField(fp.field, fp.rules!, undefined, fieldPath(path, fp.field.name));
  }
  // Only the fields the value has (a message sets a handful of its ~100 fields).
  for (const key in msg) {
    const fp = plan.byName.get(key);
    if (fp === undefined) continue;
    const { field, rules, sub } = fp;
    const v = msg[key];
    if (v === undefined) continue;
    const at = fieldPath(path, field.name);
    if (rules) checkField(field, rules, v, at);
    if (!sub || rules?.message?.skip === true) continue;
    if (field.map) for (const [k, item] of Object.entries(v as object)) checkNested(sub, item, `${at}[${JSON.stringify(k)}]`, depth);
    else if (field.repeated) (v as unknown[]).forEach((item, i) => checkNested(sub, item, `${at}[${i}]`, depth));
    else checkNested(sub, v, at, depth);
  }
}

function checkNested(type: ProtoType, value: unknown, path: string, depth: number): void {
  const name = typeName(type);
  if (name === 'google.protobuf.Any') {
    const url = (value as { '@type'?: string })['@type'];
    const packed = url ? resolveTypeUrl(url) : undefined;
    if (packed && !isWellKnownType(typeName(packed))) checkRules(packed, value, path, depth + 1);
    return;
  }
  if (isWellKnownType(name)) return;
  checkRules(type, value, path, depth + 1);
}

function fail(path: string, message: string, rule: string): never {
  throw new ConfigError(path, `${message} (${rule})`);
}

function checkField(field: ProtoField, rules: Rules, value: unknown, path: string): void {
  // Rules on a oneof member apply only when that member is the one set.
  if (value === undefined && field.partOf && !isSyntheticOneof(field.partOf)) return;
  if (rules.message?.required === true && value === undefined) fail(path, 'is required', 'message.required');
  if (field.map) {
    const entries = value === undefined ? [] : Object.entries(value as object);
    const m = rules.map;
    if (m) {
      if (m.min_pairs !== undefined && entries.length < Number(m.min_pairs)) fail(path, `must have at least ${m.min_pairs} entries`, 'map.min_pairs');
      if (m.max_pairs !== undefined && entries.length > Number(m.max_pairs)) fail(path, `must have at most ${m.max_pairs} entries`, 'map.max_pairs');
      for (const [k, v] of entries) {
        const at = `${path}[${JSON.stringify(k)}]`;
        if (m.keys) checkValue(m.keys, (field as unknown as protobuf.MapField).keyType, k, at, field);
        if (m.values) checkValue(m.values, field.type, v, at, field);
      }
    }
    return;
  }
  if (field.repeated) {
    const items = (value ?? []) as unknown[];
    const r = rules.repeated;
    if (r) {
      if (r.min_items !== undefined && items.length < Number(r.min_items)) fail(path, `must have at least ${r.min_items} items`, 'repeated.min_items');
      if (r.max_items !== undefined && items.length > Number(r.max_items)) fail(path, `must have at most ${r.max_items} items`, 'repeated.max_items');
      if (r.unique === true) {
        const seen = new Set<string>();
        items.forEach((item, i) => {
          const key = JSON.stringify(item);
          if (seen.has(key)) fail(`${path}[${i}]`, 'repeats an earlier item', 'repeated.unique');
          seen.add(key);
        });
      }
      if (r.items) items.forEach((item, i) => checkValue(r.items, field.type, item, `${path}[${i}]`, field));
    }
    return;
  }
  // Oneof members and proto3 `optional` fields are checked only when set; plain scalars at their default.
  const hasPresence = field.partOf !== null && field.partOf !== undefined;
  if (value === undefined && (hasPresence || field.resolvedType instanceof protobuf.Type)) {
    if (rules.duration?.required === true || rules.any?.required === true || rules.timestamp?.required === true) fail(path, 'is required', 'required');
    return;
  }
  checkValue(rules, field.type, value, path, field);
}

const NUMERIC_KINDS = ['double', 'float', 'int32', 'int64', 'uint32', 'uint64', 'sint32', 'sint64', 'fixed32', 'fixed64', 'sfixed32', 'sfixed64'];

/** Checks one value (a field, a list item or a map key/value) against its rule set. */
function checkValue(rules: Rules, protoType: string, value: unknown, path: string, field: ProtoField): void {
  const resolved = field.resolvedType;
  const valueType = resolved ? typeName(resolved) : protoType;
  if (rules.string) return checkString(rules.string, (value as string | undefined) ?? '', path);
  if (rules.bytes) return checkBytes(rules.bytes, (value as string | undefined) ?? '', path);
  if (rules.bool) {
    if (rules.bool.const !== undefined && (value ?? false) !== rules.bool.const) fail(path, `must be ${rules.bool.const}`, 'bool.const');
    return;
  }
  if (rules.enum) return checkEnum(rules.enum, resolved instanceof protobuf.Enum ? resolved : undefined, value, path);
  if (rules.duration) return checkDuration(rules.duration, value as { seconds?: number; nanos?: number } | undefined, path);
  if (rules.any) {
    const url = (value as { '@type'?: string } | undefined)?.['@type'];
    if (url !== undefined) {
      if (Array.isArray(rules.any.in) && !rules.any.in.includes(url)) fail(path, `type URL must be one of ${rules.any.in.join(', ')}`, 'any.in');
      if (Array.isArray(rules.any.not_in) && rules.any.not_in.includes(url)) fail(path, `type URL ${url} is not allowed`, 'any.not_in');
    }
    return;
  }
  if (rules.message) return;
  for (const kind of NUMERIC_KINDS) {
    if (!rules[kind]) continue;
    // Wrapper messages (UInt32Value) carry their rules on the wrapped value.
    const raw = valueType.startsWith('google.protobuf.') && typeof value === 'object' && value !== null
      ? (value as { value?: number }).value ?? 0 : value ?? 0;
    checkNumber(rules[kind], Number(raw), path, kind);
    return;
  }
}

function checkNumber(r: Rules, n: number, path: string, kind: string): void {
  const num = (x: unknown): number => Number(x);
  if (r.const !== undefined && n !== num(r.const)) fail(path, `must equal ${r.const}`, `${kind}.const`);
  if (Array.isArray(r.in) && !r.in.map(num).includes(n)) fail(path, `must be one of ${r.in.join(', ')}`, `${kind}.in`);
  if (Array.isArray(r.not_in) && r.not_in.map(num).includes(n)) fail(path, `must not be ${n}`, `${kind}.not_in`);
  const lower = r.gt !== undefined ? { v: num(r.gt), ok: (x: number) => x > num(r.gt), text: `greater than ${r.gt}`, rule: 'gt' }
    : r.gte !== undefined ? { v: num(r.gte), ok: (x: number) => x >= num(r.gte), text: `at least ${r.gte}`, rule: 'gte' } : undefined;
  const upper = r.lt !== undefined ? { v: num(r.lt), ok: (x: number) => x < num(r.lt), text: `less than ${r.lt}`, rule: 'lt' }
    : r.lte !== undefined ? { v: num(r.lte), ok: (x: number) => x <= num(r.lte), text: `at most ${r.lte}`, rule: 'lte' } : undefined;
  checkRange(lower, upper, n, path, kind);
}

interface Bound<T> { v: T; ok: (x: T) => boolean; text: string; rule: string }

/** PGV ranges: with both bounds, lower > upper means "outside the range" (an exclusive range). */
function checkRange<T>(lower: Bound<T> | undefined, upper: Bound<T> | undefined, x: T, path: string, kind: string): void {
  if (lower && upper && lower.v > upper.v) {
    if (!(lower.ok(x) || upper.ok(x))) fail(path, `must be ${upper.text} or ${lower.text}`, `${kind}.${lower.rule}/${upper.rule}`);
    return;
  }
  if (lower && !lower.ok(x)) fail(path, `must be ${lower.text}`, `${kind}.${lower.rule}`);
  if (upper && !upper.ok(x)) fail(path, `must be ${upper.text}`, `${kind}.${upper.rule}`);
}

function durationNanos(d: { seconds?: number | string; nanos?: number } | undefined): bigint {
  return BigInt(d?.seconds ?? 0) * 1_000_000_000n + BigInt(d?.nanos ?? 0);
}

function durationText(ns: bigint): string {
  return `${Number(ns) / 1e9}s`;
}

function checkDuration(r: Rules, d: { seconds?: number; nanos?: number } | undefined, path: string): void {
  if (d === undefined) {
    if (r.required === true) fail(path, 'is required', 'duration.required');
    return;
  }
  const x = durationNanos(d);
  const bound = (name: string, cmp: (a: bigint, b: bigint) => boolean, words: string): Bound<bigint> | undefined => {
    if (r[name] === undefined) return undefined;
    const v = durationNanos(r[name]);
    return { v, ok: (y) => cmp(y, v), text: `${words} ${durationText(v)}`, rule: name };
  };
  if (r.const !== undefined && x !== durationNanos(r.const)) fail(path, `must equal ${durationText(durationNanos(r.const))}`, 'duration.const');
  const lower = bound('gt', (a, b) => a > b, 'greater than') ?? bound('gte', (a, b) => a >= b, 'at least');
  const upper = bound('lt', (a, b) => a < b, 'less than') ?? bound('lte', (a, b) => a <= b, 'at most');
  checkRange(lower, upper, x, path, 'duration');
}

function checkEnum(r: Rules, e: protobuf.Enum | undefined, value: unknown, path: string): void {
  const number = typeof value === 'string' ? e?.values[value] : typeof value === 'number' ? value : 0;
  if (r.defined_only === true && (number === undefined || (e && e.valuesById[number] === undefined))) {
    fail(path, `${String(value)} is not a defined value of ${e?.name ?? 'the enum'}`, 'enum.defined_only');
  }
  if (r.const !== undefined && number !== Number(r.const)) fail(path, `must be ${e?.valuesById[Number(r.const)] ?? r.const}`, 'enum.const');
  if (Array.isArray(r.in) && !r.in.map(Number).includes(number as number)) fail(path, `${String(value)} is not allowed here`, 'enum.in');
  if (Array.isArray(r.not_in) && r.not_in.map(Number).includes(number as number)) fail(path, `${String(value)} is not allowed here`, 'enum.not_in');
}

// RFC 7230 token for header names (with the HTTP/2 pseudo-header colon) and field-content for values.
const HEADER_NAME_STRICT = /^:?[0-9a-zA-Z!#$%&'*+\-.^_|~`]+$/;
const HEADER_VALUE_STRICT = /^[^\u0000-\u0008\u000A-\u001F\u007F]*$/;
const HEADER_LOOSE = /^[^\u0000\u000A\u000D]*$/;

const patternCache = new Map<string, RegExp | null>();

/** RE2 patterns from the protos, compiled as JS regexes (the syntax the protos use is common to both). */
function compilePattern(pattern: string): RegExp | null {
  let re = patternCache.get(pattern);
  if (re === undefined) {
    try {
      re = new RegExp(pattern, 'u');
    } catch {
      // Some RE2 escapes are only legal in JS's non-unicode mode; a pattern neither accepts is skipped.
      try {
        re = new RegExp(pattern);
      } catch {
        re = null;
      }
    }
    patternCache.set(pattern, re);
  }
  return re;
}

function checkString(r: Rules, s: string, path: string): void {
  if (r.ignore_empty === true && s === '') return;
  const runes = [...s].length;
  const bytes = Buffer.byteLength(s, 'utf8');
  const n = (x: unknown): number => Number(x);
  if (r.const !== undefined && s !== r.const) fail(path, `must equal ${JSON.stringify(r.const)}`, 'string.const');
  if (r.len !== undefined && runes !== n(r.len)) fail(path, `must be ${r.len} characters long`, 'string.len');
  if (r.min_len !== undefined && runes < n(r.min_len)) fail(path, `must be at least ${r.min_len} characters long`, 'string.min_len');
  if (r.max_len !== undefined && runes > n(r.max_len)) fail(path, `must be at most ${r.max_len} characters long`, 'string.max_len');
  if (r.len_bytes !== undefined && bytes !== n(r.len_bytes)) fail(path, `must be ${r.len_bytes} bytes long`, 'string.len_bytes');
  if (r.min_bytes !== undefined && bytes < n(r.min_bytes)) fail(path, `must be at least ${r.min_bytes} bytes long`, 'string.min_bytes');
  if (r.max_bytes !== undefined && bytes > n(r.max_bytes)) fail(path, `must be at most ${r.max_bytes} bytes long`, 'string.max_bytes');
  if (r.prefix !== undefined && !s.startsWith(r.prefix)) fail(path, `must start with ${JSON.stringify(r.prefix)}`, 'string.prefix');
  if (r.suffix !== undefined && !s.endsWith(r.suffix)) fail(path, `must end with ${JSON.stringify(r.suffix)}`, 'string.suffix');
  if (r.contains !== undefined && !s.includes(r.contains)) fail(path, `must contain ${JSON.stringify(r.contains)}`, 'string.contains');
  if (r.not_contains !== undefined && s.includes(r.not_contains)) fail(path, `must not contain ${JSON.stringify(r.not_contains)}`, 'string.not_contains');
  if (Array.isArray(r.in) && !r.in.includes(s)) fail(path, `must be one of ${r.in.join(', ')}`, 'string.in');
  if (Array.isArray(r.not_in) && r.not_in.includes(s)) fail(path, `must not be ${JSON.stringify(s)}`, 'string.not_in');
  if (typeof r.pattern === 'string') {
    const re = compilePattern(r.pattern);
    if (re && !re.test(s)) fail(path, `does not match the pattern ${r.pattern}`, 'string.pattern');
  }
  if (r.well_known_regex !== undefined) {
    const strict = r.strict !== false;
    const name = r.well_known_regex === 'HTTP_HEADER_NAME' || r.well_known_regex === 1;
    const re = !strict ? HEADER_LOOSE : name ? HEADER_NAME_STRICT : HEADER_VALUE_STRICT;
    // An empty header name is left to min_len (PGV's strict name regex would reject it too).
    if (!(name && strict && s === '') && !re.test(s)) {
      fail(path, `is not a valid HTTP header ${name ? 'name' : 'value'}`, 'string.well_known_regex');
    }
  }
  if (r.ip === true && isIP(s) === 0) fail(path, 'must be an IP address', 'string.ip');
  if (r.ipv4 === true && isIP(s) !== 4) fail(path, 'must be an IPv4 address', 'string.ipv4');
  if (r.ipv6 === true && isIP(s) !== 6) fail(path, 'must be an IPv6 address', 'string.ipv6');
  if (r.hostname === true && !isHostname(s)) fail(path, 'must be a hostname', 'string.hostname');
  if (r.address === true && isIP(s) === 0 && !isHostname(s)) fail(path, 'must be an IP address or a hostname', 'string.address');
  if (r.uuid === true && !/^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$/.test(s)) fail(path, 'must be a UUID', 'string.uuid');
}

function isHostname(s: string): boolean {
  if (s.length === 0 || s.length > 253) return false;
  return s.replace(/\.$/, '').split('.').every((l) => /^[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?$/.test(l));
}

function checkBytes(r: Rules, b64: string, path: string): void {
  const len = Buffer.from(b64, 'base64').length;
  if (r.len !== undefined && len !== Number(r.len)) fail(path, `must be ${r.len} bytes long`, 'bytes.len');
  if (r.min_len !== undefined && len < Number(r.min_len)) fail(path, `must be at least ${r.min_len} bytes long`, 'bytes.min_len');
  if (r.max_len !== undefined && len > Number(r.max_len)) fail(path, `must be at most ${r.max_len} bytes long`, 'bytes.max_len');
}
