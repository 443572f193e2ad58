/**
 * Single xDS resources (a Listener, Cluster, RouteConfiguration, ... packed as an Any with its `@type`),
 * as they come in a DiscoveryResponse or in a file read by a path_config_source (`resources: [...]`):
 * decoded and validated the same way as the bootstrap's static resources.
 */
import { ConfigError } from '../common/errors.js';
import { decodeMessage, type DecodeContext } from './decode.js';
import { checkRules } from './pgv.js';
import { envoyRoot, resolveTypeUrl, typeName } from './protos.js';
import { findUnsupported } from './subset.js';

export interface DecodedResource {
  typeUrl: string;
  /** Decoded shape (src/types/envoy.ts), with '@type'. */
  value: Record<string, unknown>;
  /** Envoy's JSON form, with '@type'. */
  json: Record<string, unknown>;
  warnings: string[];
}

/** Decodes one resource given as {"@type": url, ...fields}; unknown or unsupported types are ConfigErrors. */
export function decodeResource(input: unknown, path: string): DecodedResource {
  const ctx: DecodeContext = { warnings: [] };
  const { value, json } = decodeMessage(envoyRoot().lookupType('google.protobuf.Any'), input, path, ctx);
  const typeUrl = (value as { '@type': string })['@type'];
  if (!resolveTypeUrl(typeUrl)) throw new ConfigError(path, `resource type ${typeUrl} is not loaded by Skiff`);
  return { typeUrl, value: value as Record<string, unknown>, json: json as Record<string, unknown>, warnings: ctx.warnings };
}

/** PGV rules, then Skiff's subset, for one decoded resource; throws the first problem. */
export function validateResource(resource: DecodedResource, path: string): void {
  const type = resolveTypeUrl(resource.typeUrl)!;
  checkRules(type, resource.value, path);
  const { unsupported, warnings } = findUnsupported(typeName(type), resource.value, path);
  if (unsupported.length > 0) throw unsupported[0];
  resource.warnings.push(...warnings);
}
