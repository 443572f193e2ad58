/**
 * One resource Any of a discovery response -> the decoded shape of src/types/envoy.ts, straight from the
 * protobuf bytes: protobufjs's generated decoder reads the message, then one walk per message (a plan compiled
 * once per type) writes the decoded shape (snake_case, enums by name, 64-bit ints as numbers, Duration
 * {seconds, nanos}, wrappers {value}, Struct as plain JSON, nested Any as {'@type', ...fields}), exactly what
 * src/config's decodeResource makes of the proto3 JSON form, without printing and re-parsing that JSON.
 *
 * Envoy's JSON form (for /config_dump) is not made here: DecodedAny.json() derives it from the bytes when asked.
 * Errors are ConfigErrors naming the resource path and the field.
 */
import protobuf from 'protobufjs';
import { ConfigError } from '../common/errors.js';
import { decodeResource, type DecodedResource } from '../config/resources.js';
import { isKnownApiType, resolveTypeUrl, typeName } from '../config/protos.js';
import { structToJson, unpackResource, valueToJson } from './any_json.js';
import type { AnyMessage } from './protocol.js';
import { asBuffer, pathOf, WireDecoder, type WireCtx, type Where } from './wire_decode.js';

const MAX_DEPTH = 64;
const EMPTY = new Uint8Array(0);

type Msg = Record<string, unknown>;

const enum Kind { Message, Enum, Long, Bytes, Plain }

interface FieldPlan {
  readonly name: string;
  readonly kind: Kind;
  readonly repeated: boolean;
  readonly map: boolean;
  readonly type?: protobuf.Type;
  readonly enumType?: protobuf.Enum;
  readonly deprecated: boolean;
}

const LONG_TYPES = new Set(['int64', 'uint64', 'sint64', 'fixed64', 'sfixed64']);
const WRAPPERS = new Set([
  'google.protobuf.DoubleValue', 'google.protobuf.FloatValue', 'google.protobuf.Int64Value', 'google.protobuf.UInt64Value',
  'google.protobuf.Int32Value', 'google.protobuf.UInt32Value', 'google.protobuf.BoolValue', 'google.protobuf.StringValue',
  'google.protobuf.BytesValue',
]);

/** Per type: its fields by name, for the fields a decoded message actually has (usually a handful of ~100). */
const plans = new WeakMap<protobuf.Type, Map<string, FieldPlan>>();

function kindOf(type: string, resolved: protobuf.ReflectionObject | null): Kind {
  if (resolved instanceof protobuf.Type) return Kind.Message;
  if (resolved instanceof protobuf.Enum) return Kind.Enum;
  if (LONG_TYPES.has(type)) return Kind.Long;
  if (type === 'bytes') return Kind.Bytes;
  return Kind.Plain;
}

function planOf(type: protobuf.Type): Map<string, FieldPlan> {
  let plan = plans.get(type);
  if (plan === undefined) {
    plan = new Map(type.fieldsArray.map((f): [string, FieldPlan] => {
      const resolved = f.resolvedType;
      if (f.map && LONG_TYPES.has((f as unknown as protobuf.MapField).keyType)) {
        // protobufjs keys 64-bit maps by a hash of the bits: not a name anyone could read back.
        throw new ConfigError(typeName(type), `map ${f.name} with 64-bit keys is not supported`);
      }
      return [f.name, {
        name: f.name, kind: kindOf(f.type, resolved), repeated: f.repeated, map: f.map,
        type: resolved instanceof protobuf.Type ? resolved : undefined,
        enumType: resolved instanceof protobuf.Enum ? resolved : undefined,
        deprecated: f.options?.deprecated === true,
      }];
    }));
    plans.set(type, plan);
  }
  return plan;
}

function longToNumber(v: unknown): number {
  return typeof v === 'number' ? v : Number(String(v));
}

function bytesToBase64(v: unknown): string {
  return Buffer.from(v as Uint8Array).toString('base64');
}

function scalar(kind: Kind, v: unknown): unknown {
  switch (kind) {
    case Kind.Long: return longToNumber(v);
    case Kind.Bytes: return bytesToBase64(v);
    default: return v;
  }
}

type Ctx = WireCtx;

/** A decoded (protobufjs) message -> decoded shape. */
function convertMessage(type: protobuf.Type, m: Msg, where: Where | string, ctx: Ctx, depth: number): unknown {
  if (depth > MAX_DEPTH) throw new ConfigError(pathOf(where), `nesting deeper than ${MAX_DEPTH} levels`);
  const name = typeName(type);
  if (name.startsWith('google.protobuf.')) {
    if (WRAPPERS.has(name)) {
      const f = type.fields.value!;
      const raw = Object.prototype.hasOwnProperty.call(m, 'value') ? m.value : f.defaultValue;
      return { value: scalar(kindOf(f.type, null), raw) };
    }
    switch (name) {
      case 'google.protobuf.Duration': {
        // As parseDuration leaves it: no negative zero.
        const seconds = longToNumber(m.seconds ?? 0) || 0;
        const nanos = Number(m.nanos ?? 0) || 0;
        return { seconds, nanos };
      }
      case 'google.protobuf.Timestamp': {
        const ms = longToNumber(m.seconds ?? 0) * 1000 + Math.floor(Number(m.nanos ?? 0) / 1e6);
        return new Date(ms).toISOString();
      }
      case 'google.protobuf.Struct': return structToJson(m, depth);
      case 'google.protobuf.Value': return valueToJson(m, depth);
      case 'google.protobuf.ListValue': return ((m.values ?? []) as Msg[]).map((x) => valueToJson(x, depth + 1));
      case 'google.protobuf.FieldMask': return { paths: [...((m.paths ?? []) as string[])] };
      case 'google.protobuf.Empty': return {};
      case 'google.protobuf.Any': return convertAny(m as { type_url?: string; value?: Uint8Array }, where, ctx, depth);
      default: break;
    }
  }
  const out: Msg = {};
  const plan = planOf(type);
  // Own keys only: what the wire set (and the empty lists / maps protobufjs's constructor makes); the defaults
  // of the rest live on the prototype.
  for (const key of Object.keys(m)) {
    const f = plan.get(key);
    if (f === undefined) continue;
    const raw = m[key];
    if (raw === null || raw === undefined) continue;
    let value: unknown;
    if (f.map) {
      const keys = Object.keys(raw as Msg);
      if (keys.length === 0) continue;
      const obj: Msg = {};
      for (const k of keys) {
        Object.defineProperty(obj, k, { value: one(f, (raw as Msg)[k], { parent: where, key: `${f.name}[${JSON.stringify(k)}]` }, ctx, depth), enumerable: true, writable: true, configurable: true });
      }
      value = obj;
    } else if (f.repeated) {
      const list = raw as unknown[];
      if (list.length === 0) continue;
      const arr = new Array<unknown>(list.length);
      const at: Where = { parent: where, key: f.name };
      for (let i = 0; i < list.length; i++) arr[i] = one(f, list[i], f.kind === Kind.Message ? { parent: at, key: i } : at, ctx, depth);
      value = arr;
    } else {
      value = one(f, raw, f.kind === Kind.Message ? { parent: where, key: f.name } : where, ctx, depth);
    }
    if (f.deprecated) ctx.warnings.push(`${pathOf({ parent: where, key: f.name })}: deprecated field`);
    out[f.name] = value;
  }
  return out;
}

function one(f: FieldPlan, v: unknown, where: Where | string, ctx: Ctx, depth: number): unknown {
  switch (f.kind) {
    case Kind.Message: return convertMessage(f.type!, v as Msg, where, ctx, depth + 1);
    case Kind.Enum: return f.enumType!.valuesById[v as number] ?? v;
    case Kind.Long: return longToNumber(v);
    case Kind.Bytes: return bytesToBase64(v);
    default: return v;
  }
}

function convertAny(any: { type_url?: string; value?: Uint8Array }, where: Where | string, ctx: Ctx, depth: number): Msg {
  const url = any.type_url ?? '';
  if (url === '') throw new ConfigError(pathOf(where), 'Any without "@type"');
  const packed = resolveTypeUrl(url);
  if (!packed) {
    const name = url.slice(url.lastIndexOf('/') + 1);
    if (!url.includes('/') || !isKnownApiType(name)) throw new ConfigError(pathOf(where), `unknown type URL ${url}`);
    // A real Envoy type Skiff does not load: kept opaque (its fields unreadable) for validation to reject by name.
    return { '@type': url };
  }
  const inner = convertMessage(packed, packed.decode(any.value ?? EMPTY) as unknown as Msg, where, ctx, depth + 1);
  const packedName = typeName(packed);
  if (packedName.startsWith('google.protobuf.') && (WRAPPERS.has(packedName) || WELL_KNOWN_VALUE.has(packedName))) {
    return { '@type': url, value: inner };
  }
  return { '@type': url, ...(inner as Msg) };
}

/** Well-known types whose Any form carries the JSON value under "value" (besides the wrappers). */
const WELL_KNOWN_VALUE = new Set(['google.protobuf.Duration', 'google.protobuf.Timestamp', 'google.protobuf.Struct',
  'google.protobuf.Value', 'google.protobuf.ListValue', 'google.protobuf.FieldMask', 'google.protobuf.Empty']);

/** A resource decoded from its Any: `value` at once, Envoy's JSON form on demand (from the same bytes). */
export interface DecodedAny extends DecodedResource {
  /** The packed bytes the resource was decoded from (not a copy: the caller copies what it keeps). */
  readonly bytes: Uint8Array;
}

/**
 * Decodes a resource Any (whose type must be loaded) into the decoded shape with '@type', as decodeResource
 * does for its JSON form. `json` is computed when first read (config_dump only). Throws ConfigError naming `path`.
 */
export function decodeAnyResource(any: AnyMessage, path: string): DecodedAny {
  const url = any.type_url ?? '';
  const type = resolveTypeUrl(url);
  if (!type) throw new ConfigError(path, `resource type ${url} is not loaded by Skiff`);
  const bytes = any.value ?? EMPTY;
  const ctx: Ctx = { warnings: [] };
  const value: Msg = { '@type': url };
  Object.assign(value, wire.message(type, asBuffer(bytes), 0, bytes.length, path, ctx, 1) as Msg);
  return new Decoded(url, value, ctx.warnings, bytes, path);
}

class Decoded implements DecodedAny {
  constructor(readonly typeUrl: string, readonly value: Msg, readonly warnings: string[], readonly bytes: Uint8Array, private readonly path: string) {}
  get json(): Record<string, unknown> { return envoyJson(this.typeUrl, this.bytes, this.path); }
}

/** The wire decoder, with the protobufjs path for the rare well-known types (Struct, Timestamp, ...). */
const wire = new WireDecoder((type, bytes, where, ctx, depth) => {
  let m: Msg;
  try {
    m = type.decode(bytes) as unknown as Msg;
  } catch (err) {
    throw new ConfigError(pathOf(where), `cannot decode: ${(err as Error).message}`, { cause: err });
  }
  return convertMessage(type, m, where, ctx, depth);
});

/** The reference path: protobufjs decode, then convertMessage (tests compare the wire decoder against it). */
export function decodeAnyResourceViaProtobufjs(any: AnyMessage, path: string): Msg {
  const url = any.type_url ?? '';
  const type = resolveTypeUrl(url);
  if (!type) throw new ConfigError(path, `resource type ${url} is not loaded by Skiff`);
  let message: Msg;
  try {
    message = type.decode(any.value ?? EMPTY) as unknown as Msg;
  } catch (err) {
    throw new ConfigError(path, `cannot decode ${url}: ${(err as Error).message}`, { cause: err });
  }
  return { '@type': url, ...(convertMessage(type, message, path, { warnings: [] }, 1) as Msg) };
}

/** Envoy's JSON form of packed bytes, through the reflection path (slow, for /config_dump only). */
export function envoyJson(typeUrl: string, bytes: Uint8Array, path: string): Record<string, unknown> {
  return decodeResource(unpackResource({ type_url: typeUrl, value: bytes }, path), path).json;
}
