/**
 * Envoy's v3 API protos, loaded with protobufjs from the @grpc/grpc-js-xds package (deps/envoy-api, xds,
 * googleapis, protoc-gen-validate): never copied into the repo. The Root is built lazily, once per process,
 * from the bootstrap proto plus the extension protos Skiff supports (and what they import); everything a
 * decoder or validator needs is looked up in it.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';
import { ISTIO_ENVOY_PROTOS } from './istio.js';

export type ProtoType = protobuf.Type;
export type ProtoField = protobuf.Field;
export type ProtoEnum = protobuf.Enum;

/** The roots of the proto import paths, in the order protoc would get them as -I flags. */
const require = createRequire(import.meta.url);
const depsDir = join(dirname(require.resolve('@grpc/grpc-js-xds/package.json')), 'deps');
const protobufjsDir = dirname(require.resolve('protobufjs/package.json'));
/** Skiff's own protos (its extensions' configs), in the repo's protos/ folder. */
export const SKIFF_PROTO_DIR = fileURLToPath(new URL('../../../protos/', import.meta.url));
export const PROTO_INCLUDE_DIRS: readonly string[] = [...['envoy-api', 'xds', 'googleapis', 'protoc-gen-validate']
  .map((d) => join(depsDir, d)), SKIFF_PROTO_DIR];

/** The bootstrap plus one proto per extension Skiff implements; their imports are followed. */
export const ROOT_PROTOS: readonly string[] = [
  'envoy/config/bootstrap/v3/bootstrap.proto',
  'envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.proto',
  'envoy/extensions/filters/http/router/v3/router.proto',
  'envoy/extensions/transport_sockets/tls/v3/tls.proto',
  'envoy/extensions/transport_sockets/raw_buffer/v3/raw_buffer.proto',
  'envoy/extensions/filters/listener/tls_inspector/v3/tls_inspector.proto',
  'envoy/extensions/filters/listener/http_inspector/v3/http_inspector.proto',
  'envoy/extensions/filters/listener/original_dst/v3/original_dst.proto',
  'envoy/extensions/filters/network/tcp_proxy/v3/tcp_proxy.proto',
  'envoy/extensions/access_loggers/file/v3/file.proto',
  'envoy/extensions/access_loggers/stream/v3/stream.proto',
  'skiff/filters/network/xprotocol/v1/xprotocol.proto',
  'skiff/filters/listener/protocol_inspector/v1/protocol_inspector.proto',
  'envoy/extensions/filters/network/dubbo_proxy/v3/dubbo_proxy.proto',
  'envoy/extensions/filters/network/dubbo_proxy/router/v3/router.proto',
  'envoy/extensions/upstreams/http/v3/http_protocol_options.proto',
  // Istio compatibility: the Envoy extensions istiod emits that Skiff decides on (src/config/istio.ts).
  ...ISTIO_ENVOY_PROTOS,
  // istiomisc: filter_chain_matcher's inputs and IP matcher; set_filter_state (HTTP and network).
  'envoy/extensions/matching/common_inputs/network/v3/network_inputs.proto',
  'xds/type/matcher/v3/ip.proto',
  'envoy/extensions/filters/http/set_filter_state/v3/set_filter_state.proto',
  'envoy/extensions/filters/network/set_filter_state/v3/set_filter_state.proto',
];

export interface ProtoLoadStats { files: number; loadMs: number }

let root: protobuf.Root | undefined;
let stats: ProtoLoadStats | undefined;

function resolveImport(target: string): string {
  for (const dir of PROTO_INCLUDE_DIRS) {
    const candidate = join(dir, target);
    if (existsSync(candidate)) return candidate;
  }
  // google/protobuf/*.proto that protobufjs does not bundle as JSON (descriptor.proto) ship with it as files.
  const bundled = join(protobufjsDir, target);
  return existsSync(bundled) ? bundled : target;
}

/** The shared Root, loaded on first use. Field names keep their proto (snake_case) spelling. */
export function envoyRoot(): protobuf.Root {
  if (root) return root;
  const started = performance.now();
  const r = new protobuf.Root();
  r.resolvePath = (_origin, target) => resolveImport(target);
  r.loadSync(ROOT_PROTOS as string[], { keepCase: true });
  r.resolveAll();
  stats = { files: r.files.length, loadMs: performance.now() - started };
  root = r;
  return r;
}

/**
 * Drops the Root (about 10 MB of RSS, 4.5 MB of heap) for a process that has loaded its static config and
 * will decode no more (no xDS). A later envoyRoot() loads it again.
 */
export function releaseEnvoyRoot(): void {
  root = undefined;
  lookupCache = new Map();
}

/** Whether the Root is loaded now (false before the first use and after releaseEnvoyRoot). */
export function isEnvoyRootLoaded(): boolean {
  return root !== undefined;
}

/** How long the first load took and how many files it read (for the startup log and the report). */
export function protoLoadStats(): ProtoLoadStats | undefined {
  return stats;
}

/** `type.googleapis.com/envoy.x.v3.Foo` -> `envoy.x.v3.Foo` (everything after the last slash). */
export function typeNameOfUrl(url: string): string {
  const slash = url.lastIndexOf('/');
  return slash < 0 ? url : url.slice(slash + 1);
}

const nameCache = new WeakMap<protobuf.ReflectionObject, string>();

/** Full name without the leading dot, cached (protobufjs rebuilds `fullName` on every read). */
export function typeName(t: protobuf.ReflectionObject): string {
  let name = nameCache.get(t);
  if (name === undefined) {
    name = t.fullName.slice(1);
    nameCache.set(t, name);
  }
  return name;
}

let lookupCache = new Map<string, protobuf.Type | null>();

/** The loaded message type for a full name (no leading dot), or undefined. */
export function lookupMessage(fullName: string): protobuf.Type | undefined {
  const r = envoyRoot();
  let found = lookupCache.get(fullName);
  if (found === undefined) {
    const hit = /^[A-Za-z_][\w.]*$/.test(fullName) ? r.lookup(fullName) : null;
    found = hit instanceof protobuf.Type ? hit : null;
    lookupCache.set(fullName, found);
  }
  return found ?? undefined;
}

/** Resolves an Any type URL against the loaded Root. */
export function resolveTypeUrl(url: string): protobuf.Type | undefined {
  return lookupMessage(typeNameOfUrl(url));
}

const apiTypeCache = new Map<string, boolean>();

/**
 * Whether a full type name is a message of Envoy's API (or xds/udpa) that Skiff did not load: its package
 * directory holds a .proto declaring the top-level message. Lets an unsupported extension be rejected by
 * name instead of as an unknown type URL, without loading its protos.
 */
export function isKnownApiType(fullName: string): boolean {
  const cached = apiTypeCache.get(fullName);
  if (cached !== undefined) return cached;
  const parts = fullName.split('.');
  const firstType = parts.findIndex((p) => /^[A-Z]/.test(p));
  let known = false;
  if (firstType > 0 && parts.slice(0, firstType).every((p) => /^[a-z0-9_]+$/.test(p))) {
    const pkgPath = parts.slice(0, firstType).join('/');
    const declaration = new RegExp(`^message\\s+${parts[firstType]}\\s*\\{`, 'm');
    for (const dir of PROTO_INCLUDE_DIRS) {
      const pkgDir = join(dir, pkgPath);
      if (!existsSync(pkgDir)) continue;
      for (const file of readdirSync(pkgDir)) {
        if (file.endsWith('.proto') && declaration.test(readFileSync(join(pkgDir, file), 'utf8'))) known = true;
      }
    }
  }
  apiTypeCache.set(fullName, known);
  return known;
}
