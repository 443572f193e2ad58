/**
 * Snapshots: every served resource, packed as google.protobuf.Any, at one version. A new snapshot gets the next
 * version only when some resource's bytes changed, so a rescan that finds nothing new pushes nothing.
 */
import { createHash } from 'node:crypto';
import { ConfigError } from '../common/errors.js';
import { resolveTypeUrl } from '../config/protos.js';
import { packResource } from '../xds/any_json.js';
import type { FileResource } from './resource_files.js';
import { SERVED_TYPES, type ServedResource, type Snapshot } from './types.js';

/**
 * Encodes one decoded resource to its protobuf bytes. Through the proto3 JSON packer (src/xds/any_json.ts), not
 * protobufjs' fromObject alone: that one dropped the content of Struct fields (Istio's metadata) and of nested
 * typed_configs (Any), so a client received them empty.
 */
export function encodeResource(resource: FileResource): Uint8Array {
  const type = resolveTypeUrl(resource.typeUrl);
  if (!type) throw new ConfigError(resource.path, `type ${resource.typeUrl} is not loaded`);
  try {
    return packResource({ ...resource.value, '@type': resource.typeUrl }, resource.path).value;
  } catch (e) {
    if (e instanceof ConfigError) throw e;
    throw new ConfigError(resource.path, `cannot encode: ${(e as Error).message}`);
  }
}

function contentVersion(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex').slice(0, 16);
}

/** Packs resources by type and name; a name used twice for one type is a ConfigError naming both places. */
export function packResources(resources: readonly FileResource[]): Map<string, Map<string, ServedResource>> {
  const byType = new Map<string, Map<string, ServedResource>>(SERVED_TYPES.map((t) => [t, new Map()]));
  for (const r of resources) {
    const forType = byType.get(r.typeUrl)!;
    const earlier = forType.get(r.name);
    if (earlier) throw new ConfigError(r.path, `duplicate ${r.typeUrl.slice(r.typeUrl.lastIndexOf('.') + 1)} name '${r.name}' (also in ${earlier.source})`);
    const value = encodeResource(r);
    forType.set(r.name, { name: r.name, typeUrl: r.typeUrl, version: contentVersion(value), any: { type_url: r.typeUrl, value }, source: r.path });
  }
  return byType;
}

function sameContent(a: Snapshot['resources'], b: Snapshot['resources']): boolean {
  for (const type of SERVED_TYPES) {
    const x = a.get(type)!;
    const y = b.get(type)!;
    if (x.size !== y.size) return false;
    for (const [name, r] of x) if (y.get(name)?.version !== r.version) return false;
  }
  return true;
}

/** Hands out snapshots with increasing versions; keeps the current one when nothing changed. */
export class SnapshotSequence {
  private current: Snapshot | undefined;
  private counter = 0;

  latest(): Snapshot | undefined {
    return this.current;
  }

  /** Packs `resources` (throws ConfigError on a duplicate or unencodable one) and returns [snapshot, changed]. */
  next(resources: readonly FileResource[], now = new Date()): { snapshot: Snapshot; changed: boolean } {
    const packed = packResources(resources);
    if (this.current && sameContent(this.current.resources, packed)) return { snapshot: this.current, changed: false };
    this.counter += 1;
    this.current = { version: String(this.counter), resources: packed, loadedAt: now };
    return { snapshot: this.current, changed: true };
  }
}
