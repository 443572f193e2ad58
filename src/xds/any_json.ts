/**
 * Between protobuf bytes and the proto3 JSON form src/config's decodeResource reads: an Any from a
 * DiscoveryResponse is unpacked by its type URL against the config Root and printed as JSON (durations as
 * "1.5s", bare wrapper values, Struct as plain JSON, nested Any as {"@type", ...fields}, enums by name,
 * 64-bit integers as strings, bytes as base64); and the reverse, packing a JSON resource into an Any (for
 * control planes and test peers). Only reflection: no type is special-cased beyond protobuf's well-known ones.
 */
import protobuf from 'protobufjs';
import { ConfigError } from '../common/errors.js';
import { formatDuration, parseDuration } from '../config/decode.js';
import { resolveTypeUrl, typeName } from '../config/protos.js';
import type { AnyMessage } from './protocol.js';

const MAX_DEPTH = 64;

const WRAPPERS = new Set([
  'google.protobuf.DoubleValue', 'google.protobuf.FloatValue', 'google.protobuf.Int64Value', 'google.protobuf.UInt64Value',
  'google.protobuf.Int32Value', 'google.protobuf.UInt32Value', 'google.protobuf.BoolValue', 'google.protobuf.StringValue',
  'google.protobuf.BytesValue',
]);
const WELL_KNOWN_JSON = new Set([...WRAPPERS, 'google.protobuf.Duration', 'google.protobuf.Timestamp', 'google.protobuf.Struct',
  'google.protobuf.Value', 'google.protobuf.ListValue', 'google.protobuf.FieldMask', 'google.protobuf.Empty']);

type Msg = Record<string, unknown>;

function own(m: Msg, key: string): boolean {
  return Object.prototype.hasOwnProperty.call(m, key);
}

function scalarToJson(type: string, v: unknown): unknown {
  switch (type) {
    case 'int64': case 'uint64': case 'sint64': case 'fixed64': case 'sfixed64': return String(v);
    case 'bytes': return Buffer.from(v as Uint8Array).toString('base64');
    case 'double': case 'float': return Number.isFinite(v as number) ? v : String(v);
    default: return v;
  }
}

/** protobufjs bundles struct.proto with camelCase field names (its common.js), whatever keepCase says. */
function pick(v: Msg, camel: string, snake: string): [boolean, unknown] {
  if (own(v, camel)) return [true, v[camel]];
  if (own(v, snake)) return [true, v[snake]];
  return [false, undefined];
}

/** google.protobuf.Value (protobufjs object form) as plain JSON. */
export function valueToJson(v: Msg, depth: number): unknown {
  if (depth > MAX_DEPTH) throw new ConfigError('(resource)', `nesting deeper than ${MAX_DEPTH} levels`);
  let [has, x] = pick(v, 'structValue', 'struct_value');
  if (has) return structToJson(x as Msg, depth + 1);
  [has, x] = pick(v, 'listValue', 'list_value');
  if (has) return (((x as Msg).values ?? []) as Msg[]).map((y) => valueToJson(y, depth + 1));
  for (const [camel, snake] of [['stringValue', 'string_value'], ['numberValue', 'number_value'], ['boolValue', 'bool_value']]) {
    [has, x] = pick(v, camel!, snake!);
    if (has) return x;
  }
  return null;
}

/** google.protobuf.Struct (protobufjs object form) as a plain JSON object. */
export function structToJson(s: Msg, depth: number): Msg {
  const out: Msg = {};
  const fields = (s.fields ?? {}) as Record<string, Msg>;
  for (const [k, v] of Object.entries(fields)) {
    Object.defineProperty(out, k, { value: valueToJson(v, depth + 1), enumerable: true, writable: true, configurable: true });
  }
  return out;
}

/** JSON form of a decoded Any (protobufjs message or {type_url, value}). Unloaded types keep only "@type". */
export function anyToJson(any: { type_url?: string; value?: Uint8Array }, depth = 0): Msg {
  const url = any.type_url ?? '';
  const type = resolveTypeUrl(url);
  if (!type) return { '@type': url };
  const inner = messageToJson(type, type.decode(any.value ?? new Uint8Array(0)) as unknown as Msg, depth + 1);
  if (WELL_KNOWN_JSON.has(typeName(type))) return { '@type': url, value: inner };
  return { '@type': url, ...(inner as Msg) };
}

/** proto3 JSON of a protobufjs message decoded against the config Root. */
export function messageToJson(type: protobuf.Type, m: Msg, depth = 0): unknown {
  if (depth > MAX_DEPTH) throw new ConfigError('(resource)', `nesting deeper than ${MAX_DEPTH} levels`);
  const name = typeName(type);
  if (WRAPPERS.has(name)) return scalarToJson(type.fields.value!.type, own(m, 'value') ? m.value : type.fields.value!.defaultValue);
  switch (name) {
    case 'google.protobuf.Duration': return formatDuration({ seconds: Number(m.seconds ?? 0), nanos: Number(m.nanos ?? 0) });
    case 'google.protobuf.Timestamp': {
      const ms = Number(m.seconds ?? 0) * 1000 + Math.floor(Number(m.nanos ?? 0) / 1e6);
      return new Date(ms).toISOString();
    }
    case 'google.protobuf.Struct': return structToJson(m, depth);
    case 'google.protobuf.Value': return valueToJson(m, depth);
    case 'google.protobuf.ListValue': return ((m.values ?? []) as Msg[]).map((x) => valueToJson(x, depth + 1));
    case 'google.protobuf.FieldMask': return ((m.paths ?? []) as string[]).join(',');
    case 'google.protobuf.Any': return anyToJson(m as { type_url?: string; value?: Uint8Array }, depth);
    default: break;
  }
  const out: Msg = {};
  for (const field of type.fieldsArray) {
    if (!own(m, field.name)) continue;
    const raw = m[field.name];
    const one = (v: unknown): unknown => {
      const resolved = field.resolvedType;
      if (resolved instanceof protobuf.Type) return messageToJson(resolved, v as Msg, depth + 1);
      if (resolved instanceof protobuf.Enum) return resolved.valuesById[v as number] ?? v;
      return scalarToJson(field.type, v);
    };
    if (field.map) {
      const entries = Object.entries(raw as Msg);
      if (entries.length === 0) continue;
      const obj: Msg = {};
      for (const [k, v] of entries) Object.defineProperty(obj, k, { value: one(v), enumerable: true, writable: true, configurable: true });
      out[field.name] = obj;
    } else if (field.repeated) {
      const list = raw as unknown[];
      if (list.length === 0) continue;
      out[field.name] = list.map(one);
    } else {
      out[field.name] = one(raw);
    }
  }
  return out;
}

/** Unpacks a resource Any into JSON with "@type" (what decodeResource takes). Throws a ConfigError on bad bytes. */
export function unpackResource(any: AnyMessage, path: string): Msg {
  try {
    return anyToJson(any);
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    throw new ConfigError(path, `cannot decode ${any.type_url}: ${(err as Error).message}`, { cause: err });
  }
}

// ---- JSON -> protobuf (packing) ----

function jsonToValue(v: unknown): Msg {
  if (v === null || v === undefined) return { nullValue: 0 };
  if (typeof v === 'string') return { stringValue: v };
  if (typeof v === 'number') return { numberValue: v };
  if (typeof v === 'boolean') return { boolValue: v };
  if (Array.isArray(v)) return { listValue: { values: v.map(jsonToValue) } };
  return { structValue: jsonToStruct(v as Msg) };
}

/** A plain JSON object as a google.protobuf.Struct in protobufjs object form. */
export function jsonToStruct(obj: Msg): Msg {
  const fields: Msg = {};
  for (const [k, v] of Object.entries(obj)) fields[k] = jsonToValue(v);
  return { fields };
}

function jsonToObject(type: protobuf.Type, json: unknown, path: string, depth: number): unknown {
  if (depth > MAX_DEPTH) throw new ConfigError(path, `nesting deeper than ${MAX_DEPTH} levels`);
  const name = typeName(type);
  if (WRAPPERS.has(name)) return { value: json !== null && typeof json === 'object' && 'value' in json ? (json as Msg).value : json };
  switch (name) {
    case 'google.protobuf.Duration': return parseDuration(json, path);
    case 'google.protobuf.Timestamp': {
      const ms = Date.parse(String(json));
      if (!Number.isFinite(ms)) throw new ConfigError(path, `invalid timestamp ${JSON.stringify(json)}`);
      return { seconds: Math.floor(ms / 1000), nanos: (ms % 1000) * 1e6 };
    }
    case 'google.protobuf.Struct': return jsonToStruct((json ?? {}) as Msg);
    case 'google.protobuf.Value': return jsonToValue(json);
    case 'google.protobuf.ListValue': return { values: (json as unknown[]).map(jsonToValue) };
    case 'google.protobuf.FieldMask': return { paths: String(json).split(',').filter((p) => p !== '') };
    case 'google.protobuf.Any': return packResource(json as Msg, path, depth + 1);
    default: break;
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) throw new ConfigError(path, `expected an object (${type.name})`);
  const out: Msg = {};
  for (const [key, raw] of Object.entries(json as Msg)) {
    const field = type.fields[key] ?? type.fieldsArray.find((f) => f.name.replace(/_([a-z0-9])/g, (_m, c: string) => c.toUpperCase()) === key);
    if (!field) throw new ConfigError(`${path}.${key}`, `unknown field in ${name}`);
    const at = `${path}.${field.name}`;
    const one = (v: unknown, p: string): unknown => {
      const resolved = field.resolvedType;
      if (resolved instanceof protobuf.Type) return jsonToObject(resolved, v, p, depth + 1);
      if (field.type === 'bytes' && typeof v === 'string') return Buffer.from(v, 'base64');
      return v;
    };
    if (field.map) out[field.name] = Object.fromEntries(Object.entries(raw as Msg).map(([k, v]) => [k, one(v, `${at}[${k}]`)]));
    else if (field.repeated) out[field.name] = (Array.isArray(raw) ? raw : [raw]).map((v, i) => one(v, `${at}[${i}]`));
    else out[field.name] = one(raw, at);
  }
  return out;
}

/** Packs a JSON resource {"@type": url, ...fields} (proto3 JSON) into an Any with its encoded bytes. */
export function packResource(json: Msg, path = '(resource)', depth = 0): AnyMessage {
  const url = json['@type'];
  if (typeof url !== 'string') throw new ConfigError(path, 'resource without "@type"');
  const type = resolveTypeUrl(url);
  if (!type) throw new ConfigError(path, `unknown type URL ${url}`);
  const { '@type': _omit, ...fields } = json;
  const body = WELL_KNOWN_JSON.has(typeName(type)) ? fields.value : fields;
  const obj = jsonToObject(type, body, path, depth);
  const message = type.fromObject(obj as Msg);
  return { type_url: url, value: Buffer.from(type.encode(message).finish()) };
}
