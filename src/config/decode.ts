/**
 * Decodes parsed YAML/JSON (the proto3 JSON mapping Envoy accepts) against protobufjs reflection into two
 * forms at once: the decoded shape of src/types/envoy.ts (snake_case, Duration {seconds, nanos}, wrappers
 * {value}, Any {'@type', ...fields}, 64-bit ints as numbers) and Envoy's JSON form (snake_case, Duration
 * "1.5s", bare wrapper values, 64-bit ints as strings) that /config_dump prints. Every error is a
 * ConfigError whose path names the field.
 */
import protobuf from 'protobufjs';
import { ConfigError } from '../common/errors.js';
import { ISTIO_OWN_TYPE_URLS } from './istio.js';
import { isKnownApiType, resolveTypeUrl, typeName, type ProtoField, type ProtoType } from './protos.js';

export interface DecodeResult { value: unknown; json: unknown }

export interface DecodeContext {
  /** Human-readable notes (deprecated fields in use); never errors. */
  warnings: string[];
}

const MAX_DEPTH = 64;
const MAX_DURATION_SECONDS = 315_576_000_000;

/** `a.b` joined the way error paths read; the root has no leading dot. */
export function fieldPath(parent: string, field: string): string {
  return parent === '' ? field : `${parent}.${field}`;
}

/** lowerCamelCase JSON name of a snake_case proto field, as protoc derives json_name. */
function jsonNameOf(name: string): string {
  return name.replace(/_([a-z0-9])/g, (_m, c: string) => c.toUpperCase());
}

const fieldIndexCache = new WeakMap<ProtoType, Map<string, ProtoField>>();

/** Proto name and JSON (lowerCamelCase) name -> field, built once per type. */
function fieldIndex(type: ProtoType): Map<string, ProtoField> {
  let index = fieldIndexCache.get(type);
  if (!index) {
    index = new Map();
    for (const f of type.fieldsArray) {
      index.set(f.name, f);
      index.set(jsonNameOf(f.name), f);
      const declared = f.options?.json_name;
      if (typeof declared === 'string') index.set(declared, f);
    }
    fieldIndexCache.set(type, index);
  }
  return index;
}

/** Sets an own property even for the key "__proto__" (JSON.parse and YAML can produce it as data). */
function setOwn(target: Record<string, unknown>, key: string, v: unknown): void {
  Object.defineProperty(target, key, { value: v, enumerable: true, writable: true, configurable: true });
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function describe(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (Array.isArray(v)) return 'a list';
  if (v === null) return 'null';
  if (typeof v === 'object') return 'an object';
  return JSON.stringify(String(v));
}

/** Decodes a message given as a JSON object. */
export function decodeMessage(type: ProtoType, input: unknown, path: string, ctx: DecodeContext, depth = 0): DecodeResult {
  if (depth > MAX_DEPTH) throw new ConfigError(path, `nesting deeper than ${MAX_DEPTH} levels`);
  const special = WELL_KNOWN.get(typeName(type));
  if (special) return special(type, input, path, ctx, depth);
  if (!isPlainObject(input)) throw new ConfigError(path || '(root)', `expected an object (${type.name}), got ${describe(input)}`);
  const index = fieldIndex(type);
  const value: Record<string, unknown> = {};
  const json: Record<string, unknown> = {};
  const oneofSet = new Map<string, string>();
  for (const [key, raw] of Object.entries(input)) {
    const field = index.get(key);
    if (!field) throw new ConfigError(fieldPath(path, key), `unknown field in ${typeName(type)}`);
    const at = fieldPath(path, field.name);
    if (Object.prototype.hasOwnProperty.call(value, field.name)) throw new ConfigError(at, 'field set twice (snake_case and camelCase)');
    if (raw === null && !(field.resolvedType && typeName(field.resolvedType) === 'google.protobuf.Value')) continue;
    const oneof = field.partOf;
    if (oneof && !isSyntheticOneof(oneof)) {
      const other = oneofSet.get(oneof.name);
      if (other) throw new ConfigError(at, `only one of ${other} and ${field.name} may be set (oneof ${oneof.name})`);
      oneofSet.set(oneof.name, field.name);
    }
    if (field.options?.deprecated === true) ctx.warnings.push(`${at}: deprecated field`);
    const decoded = decodeField(field, raw, at, ctx, depth);
    value[field.name] = decoded.value;
    json[field.name] = decoded.json;
  }
  return { value, json };
}

/** protobufjs models proto3 `optional` as a one-member oneof named `_field`. */
export function isSyntheticOneof(oneof: protobuf.OneOf): boolean {
  return oneof.oneof.length === 1 && oneof.name === `_${oneof.oneof[0]}`;
}

function decodeField(field: ProtoField, raw: unknown, path: string, ctx: DecodeContext, depth: number): DecodeResult {
  if (field.map) {
    if (!isPlainObject(raw)) throw new ConfigError(path, `expected a map (object), got ${describe(raw)}`);
    const keyType = (field as unknown as protobuf.MapField).keyType;
    const value: Record<string, unknown> = {};
    const json: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(raw)) {
      const at = `${path}[${JSON.stringify(k)}]`;
      if (keyType !== 'string') decodeScalar(keyType, k, at);
      const d = decodeSingle(field, v, at, ctx, depth);
      setOwn(value, k, d.value);
      setOwn(json, k, d.json);
    }
    return { value, json };
  }
  if (field.repeated) {
    // Envoy's JSON parser (protobuf's) reads a single value given for a list as a one-item list, and
    // Envoy's own examples rely on it; accepted, with a warning.
    if (!Array.isArray(raw)) ctx.warnings.push(`${path}: a single value given for a list, read as a one-item list`);
    const list = Array.isArray(raw) ? raw : [raw];
    const value: unknown[] = [];
    const json: unknown[] = [];
    list.forEach((item, i) => {
      const d = decodeSingle(field, item, `${path}[${i}]`, ctx, depth);
      value.push(d.value);
      json.push(d.json);
    });
    return { value, json };
  }
  return decodeSingle(field, raw, path, ctx, depth);
}

function decodeSingle(field: ProtoField, raw: unknown, path: string, ctx: DecodeContext, depth: number): DecodeResult {
  const resolved = field.resolvedType;
  if (resolved instanceof protobuf.Type) return decodeMessage(resolved, raw, path, ctx, depth + 1);
  if (resolved instanceof protobuf.Enum) return decodeEnum(resolved, raw, path);
  return decodeScalar(field.type, raw, path);
}

function decodeEnum(e: protobuf.Enum, raw: unknown, path: string): DecodeResult {
  if (typeof raw === 'string') {
    // Envoy parses enums case-insensitively (protobuf's case_insensitive_enum_parsing): `codec_type: auto`.
    const upper = raw.toUpperCase();
    if (!Object.prototype.hasOwnProperty.call(e.values, raw) && Object.prototype.hasOwnProperty.call(e.values, upper)) {
      return { value: upper, json: upper };
    }
    if (!Object.prototype.hasOwnProperty.call(e.values, raw)) {
      throw new ConfigError(path, `unknown value ${JSON.stringify(raw)} of enum ${e.name} (one of ${Object.keys(e.values).join(', ')})`);
    }
    return { value: raw, json: raw };
  }
  if (typeof raw === 'number' && Number.isInteger(raw)) {
    const name = e.valuesById[raw];
    // An undefined number is kept: proto3 enums are open; PGV's defined_only rejects it where required.
    return name === undefined ? { value: raw, json: raw } : { value: name, json: name };
  }
  throw new ConfigError(path, `invalid enum ${e.name} value ${describe(raw)}`);
}

const INT_RANGES: Record<string, [number, number]> = {
  int32: [-2147483648, 2147483647], sint32: [-2147483648, 2147483647], sfixed32: [-2147483648, 2147483647],
  uint32: [0, 4294967295], fixed32: [0, 4294967295],
};
const BIG_RANGES: Record<string, [bigint, bigint]> = {
  int64: [-(2n ** 63n), 2n ** 63n - 1n], sint64: [-(2n ** 63n), 2n ** 63n - 1n], sfixed64: [-(2n ** 63n), 2n ** 63n - 1n],
  uint64: [0n, 2n ** 64n - 1n], fixed64: [0n, 2n ** 64n - 1n],
};

function parseInteger(raw: unknown): bigint | undefined {
  if (typeof raw === 'number') return Number.isInteger(raw) ? BigInt(raw) : undefined;
  if (typeof raw === 'string' && /^-?\d{1,20}$/.test(raw)) return BigInt(raw);
  return undefined;
}

/** Scalars: JSON numbers or their decimal strings for ints, numbers or NaN/Infinity for floats. */
export function decodeScalar(type: string, raw: unknown, path: string): DecodeResult {
  switch (type) {
    case 'string':
      if (typeof raw !== 'string') throw new ConfigError(path, `expected a string, got ${describe(raw)}`);
      return { value: raw, json: raw };
    case 'bool':
      if (typeof raw !== 'boolean') throw new ConfigError(path, `expected true or false, got ${describe(raw)}`);
      return { value: raw, json: raw };
    case 'bytes':
      if (typeof raw !== 'string' || !/^[A-Za-z0-9+/_-]*={0,2}$/.test(raw)) {
        throw new ConfigError(path, `expected base64 bytes, got ${describe(raw)}`);
      }
      return { value: raw, json: raw };
    case 'double':
    case 'float': {
      const n = typeof raw === 'number' ? raw
        : typeof raw === 'string' && /^(NaN|-?Infinity|-?\d+(\.\d+)?([eE][-+]?\d+)?)$/.test(raw) ? Number(raw) : undefined;
      if (n === undefined) throw new ConfigError(path, `expected a number, got ${describe(raw)}`);
      return { value: n, json: Number.isFinite(n) ? n : String(n) };
    }
    default: {
      const small = INT_RANGES[type];
      const big = BIG_RANGES[type];
      if (!small && !big) throw new ConfigError(path, `unsupported scalar type ${type}`);
      const n = parseInteger(raw);
      const [lo, hi] = big ?? [BigInt(small![0]), BigInt(small![1])];
      if (n === undefined) throw new ConfigError(path, `expected an integer (${type}), got ${describe(raw)}`);
      if (n < lo || n > hi) throw new ConfigError(path, `${n} out of range for ${type}`);
      const value = Number(n);
      // proto3 JSON prints 64-bit integers as strings (Envoy's config_dump does the same).
      return { value, json: big ? n.toString() : value };
    }
  }
}

type WellKnownDecoder = (type: ProtoType, input: unknown, path: string, ctx: DecodeContext, depth: number) => DecodeResult;

/** "1.5s", "-0.000000001s", "300s": the proto3 JSON Duration form. */
const DURATION_RE = /^(-)?(\d{1,12})(?:\.(\d{1,9}))?s$/;

export function parseDuration(raw: unknown, path: string): { seconds: number; nanos: number } {
  if (typeof raw === 'string') {
    const m = DURATION_RE.exec(raw);
    if (m) {
      const sign = m[1] ? -1 : 1;
      const seconds = Number(m[2]);
      const nanos = m[3] ? Number(m[3].padEnd(9, '0')) : 0;
      if (seconds <= MAX_DURATION_SECONDS) return { seconds: sign * seconds || 0, nanos: sign * nanos || 0 };
    }
  } else if (isPlainObject(raw)) {
    // The decoded form itself ({seconds, nanos}) is accepted too, e.g. from programmatic configs.
    const keys = Object.keys(raw);
    const s = parseInteger(raw.seconds ?? 0);
    const n = parseInteger(raw.nanos ?? 0);
    if (keys.every((k) => k === 'seconds' || k === 'nanos') && s !== undefined && n !== undefined
      && s >= -BigInt(MAX_DURATION_SECONDS) && s <= BigInt(MAX_DURATION_SECONDS) && n > -1_000_000_000n && n < 1_000_000_000n
      && !(s > 0n && n < 0n) && !(s < 0n && n > 0n)) {
      return { seconds: Number(s), nanos: Number(n) };
    }
  }
  throw new ConfigError(path, `invalid duration "${typeof raw === 'object' ? JSON.stringify(raw) : String(raw)}"`);
}

/** Envoy's JSON form of a Duration: seconds with 0, 3, 6 or 9 fractional digits and an `s`. */
export function formatDuration(d: { seconds?: number; nanos?: number }): string {
  const seconds = d.seconds ?? 0;
  const nanos = d.nanos ?? 0;
  const negative = seconds < 0 || nanos < 0;
  const s = Math.abs(seconds);
  const n = Math.abs(nanos);
  let frac = '';
  if (n !== 0) {
    const digits = String(n).padStart(9, '0');
    frac = '.' + (n % 1_000_000 === 0 ? digits.slice(0, 3) : n % 1000 === 0 ? digits.slice(0, 6) : digits);
  }
  return `${negative ? '-' : ''}${s}${frac}s`;
}

const WRAPPER_SCALARS: Record<string, string> = {
  'google.protobuf.DoubleValue': 'double', 'google.protobuf.FloatValue': 'float',
  'google.protobuf.Int64Value': 'int64', 'google.protobuf.UInt64Value': 'uint64',
  'google.protobuf.Int32Value': 'int32', 'google.protobuf.UInt32Value': 'uint32',
  'google.protobuf.BoolValue': 'bool', 'google.protobuf.StringValue': 'string', 'google.protobuf.BytesValue': 'bytes',
};

function wrapperDecoder(scalar: string): WellKnownDecoder {
  return (_type, input, path) => {
    // Bare value (proto3 JSON) or the decoded form {value}.
    const raw = isPlainObject(input) && Object.keys(input).length === 1 && 'value' in input ? input.value : input;
    const d = decodeScalar(scalar, raw, path);
    return { value: { value: d.value }, json: d.json };
  };
}

/** JSON values kept as they are (Struct, Value, ListValue), copied so callers cannot alias the input. */
function plainJson(input: unknown, path: string, depth: number): unknown {
  if (depth > MAX_DEPTH) throw new ConfigError(path, `nesting deeper than ${MAX_DEPTH} levels`);
  if (Array.isArray(input)) return input.map((v, i) => plainJson(v, `${path}[${i}]`, depth + 1));
  if (isPlainObject(input)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(input)) setOwn(out, k, plainJson(v, fieldPath(path, k), depth + 1));
    return out;
  }
  if (input === undefined || typeof input === 'function' || typeof input === 'symbol' || typeof input === 'bigint') {
    throw new ConfigError(path, 'not a JSON value');
  }
  return input;
}

const decodeAny: WellKnownDecoder = (_type, input, path, ctx, depth) => {
  if (!isPlainObject(input)) throw new ConfigError(path, `expected an Any object with "@type", got ${describe(input)}`);
  const url = input['@type'];
  if (typeof url !== 'string' || url === '') throw new ConfigError(path, 'Any without "@type"');
  const { '@type': _omit, ...fields } = input;
  const packed = resolveTypeUrl(url);
  if (!packed) {
    const name = url.slice(url.lastIndexOf('/') + 1);
    // Istio's own extension configs (no Envoy proto declares them) are kept opaque too: src/config/istio.ts decides.
    if (!url.includes('/') || (!isKnownApiType(name) && !ISTIO_OWN_TYPE_URLS.has(url))) throw new ConfigError(path, `unknown type URL ${url}`);
    // A real Envoy type Skiff does not load (an unsupported extension): kept opaque for validation to
    // reject by name.
    const opaque = { '@type': url, ...(plainJson(fields, path, depth + 1) as Record<string, unknown>) };
    return { value: opaque, json: opaque };
  }
  // Well-known types packed in an Any carry their JSON form in "value".
  const wellKnown = WELL_KNOWN.has(typeName(packed));
  const inner = wellKnown ? fields.value : fields;
  const d = decodeMessage(packed, inner, path, ctx, depth + 1);
  if (wellKnown) return { value: { '@type': url, value: d.value }, json: { '@type': url, value: d.json } };
  return {
    value: { '@type': url, ...(d.value as Record<string, unknown>) },
    json: { '@type': url, ...(d.json as Record<string, unknown>) },
  };
};

const WELL_KNOWN = new Map<string, WellKnownDecoder>(Object.entries({
  'google.protobuf.Duration': (_t, input, path) => {
    const d = parseDuration(input, path);
    return { value: d, json: formatDuration(d) };
  },
  'google.protobuf.Timestamp': (_t, input, path) => {
    if (typeof input !== 'string' || !/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?(Z|[+-]\d\d:\d\d)$/.test(input)) {
      throw new ConfigError(path, `invalid timestamp ${describe(input)}`);
    }
    return { value: input, json: input };
  },
  'google.protobuf.FieldMask': (_t, input, path) => {
    if (typeof input !== 'string') throw new ConfigError(path, `expected a field mask string, got ${describe(input)}`);
    return { value: { paths: input === '' ? [] : input.split(',') }, json: input };
  },
  'google.protobuf.Struct': (_t, input, path, _c, depth) => {
    if (!isPlainObject(input)) throw new ConfigError(path, `expected an object (Struct), got ${describe(input)}`);
    const v = plainJson(input, path, depth);
    return { value: v, json: v };
  },
  'google.protobuf.Value': (_t, input, path, _c, depth) => {
    const v = plainJson(input, path, depth);
    return { value: v, json: v };
  },
  'google.protobuf.ListValue': (_t, input, path, _c, depth) => {
    if (!Array.isArray(input)) throw new ConfigError(path, `expected a list, got ${describe(input)}`);
    const v = plainJson(input, path, depth);
    return { value: v, json: v };
  },
  'google.protobuf.Empty': (_t, input, path) => {
    if (!isPlainObject(input) || Object.keys(input).length > 0) throw new ConfigError(path, 'expected an empty object');
    return { value: {}, json: {} };
  },
  'google.protobuf.Any': decodeAny,
  ...Object.fromEntries(Object.entries(WRAPPER_SCALARS).map(([name, scalar]) => [name, wrapperDecoder(scalar)])),
} satisfies Record<string, WellKnownDecoder>));

/** Full names (no leading dot) of the types whose JSON form is not an object of fields. */
export function isWellKnownType(fullName: string): boolean {
  return WELL_KNOWN.has(fullName);
}
