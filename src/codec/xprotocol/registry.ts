/**
 * X-protocols by name (and by wasm protocol id). A protocol plugs in with registerXProtocol(name, spec);
 * the built-ins are listed once in builtins.ts. Unknown names fail with SKIFF_CONFIG_UNSUPPORTED, a second
 * registration of a name or protocol id with SKIFF_XPROTO_DUPLICATE.
 */
import { SkiffError, UnsupportedConfigError } from '../../common/errors.js';
import type { XProtocolSpec } from './spec.js';

const byName = new Map<string, XProtocolSpec>();
const byProtoId = new Map<number, XProtocolSpec>();

export function registerXProtocol(name: string, spec: XProtocolSpec): void {
  if (name !== spec.name) throw new SkiffError('SKIFF_XPROTO_NAME', `x-protocol registered as ${name} but named ${spec.name}`);
  if (byName.has(name)) throw new SkiffError('SKIFF_XPROTO_DUPLICATE', `x-protocol ${name} already registered`);
  if (spec.protoIds.length === 0) throw new SkiffError('SKIFF_XPROTO_NAME', `x-protocol ${name} has no protocol id`);
  for (const id of spec.protoIds) {
    const other = byProtoId.get(id);
    if (other) throw new SkiffError('SKIFF_XPROTO_DUPLICATE', `protocol id ${id} of ${name} already belongs to ${other.name}`);
  }
  byName.set(name, spec);
  for (const id of spec.protoIds) byProtoId.set(id, spec);
}

/** The spec registered as `name`; `path` names the config field for the error. */
export function getXProtocol(name: string, path = 'protocol'): XProtocolSpec {
  const spec = byName.get(name);
  if (!spec) throw new UnsupportedConfigError(path, `x-protocol: ${name}`);
  return spec;
}

export function hasXProtocol(name: string): boolean {
  return byName.has(name);
}

/** The protocol a wasm protocol id (XF_PROTO, xp_detect's answer) belongs to, undefined when none. */
export function xProtocolForId(protoId: number): XProtocolSpec | undefined {
  return byProtoId.get(protoId);
}

export function listXProtocols(): XProtocolSpec[] {
  return [...byName.values()];
}
