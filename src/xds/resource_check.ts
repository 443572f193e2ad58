/**
 * What is done to each resource of a response before any of it is applied, in two stages with distinct
 * failure rules (ads_client.ts): (1) decode its bytes and read its name: a failure here rejects the response
 * whatever the name; (2) PGV + Skiff's subset checks (validateResource), then the type's `prepare` work: a
 * failure here rejects it only if the resource was asked for (Envoy ignores resources of a named subscription
 * that it did not ask for). The same functions run inline (small responses) and on the xDS worker thread
 * (offload.ts), so both give the same results and the same error texts.
 */
import { ConfigError, SkiffError, UnsupportedConfigError } from '../common/errors.js';
import { validateResource } from '../config/resources.js';
import { decodeAnyResource, type DecodedAny } from './decode_any.js';
import { TYPE_URL } from './protocol.js';

export const SHORT_NAMES: Readonly<Record<string, string>> = {
  [TYPE_URL.cluster]: 'Cluster',
  [TYPE_URL.listener]: 'Listener',
  [TYPE_URL.route]: 'RouteConfiguration',
  [TYPE_URL.endpoint]: 'ClusterLoadAssignment',
  [TYPE_URL.secret]: 'Secret',
};

/** The resource's own name: `cluster_name` for a ClusterLoadAssignment, `name` for the others. */
export function resourceNameOf(typeUrl: string, value: Record<string, unknown>): unknown {
  return typeUrl === TYPE_URL.endpoint ? value.cluster_name : value.name;
}

/** How errors and warnings name a resource: `Cluster "web"`. */
export function resourcePath(typeUrl: string, name: string): string {
  return `${SHORT_NAMES[typeUrl]} ${JSON.stringify(name)}`;
}

/** Stage 1: the resource at `index` of a response, decoded from its packed bytes, and its name. Throws ConfigError. */
export function decodeNamed(typeUrl: string, bytes: Uint8Array, index: number): { decoded: DecodedAny; name: string } {
  const decoded = decodeAnyResource({ type_url: typeUrl, value: bytes }, `resources[${index}]`);
  const name = resourceNameOf(typeUrl, decoded.value);
  if (typeof name !== 'string' || name === '') throw new ConfigError(`${SHORT_NAMES[typeUrl]} resources[${index}]`, 'resource without a name');
  return { decoded, name };
}

/** Stage 2: PGV rules and the supported subset (unless `validate` is false); returns every warning to log. */
export function checkDecoded(decoded: DecodedAny, path: string, validate: boolean): string[] {
  if (validate) validateResource(decoded, path);
  return decoded.warnings;
}

/** The decoded resource without its '@type': what a type's prepare function takes. */
export function bodyOf(value: Record<string, unknown>): Record<string, unknown> {
  const { '@type': _type, ...rest } = value;
  return rest;
}

/** An error as it crosses from the worker thread (structured clone keeps no class): rebuilt by `unpackError`. */
export interface PackedError {
  readonly kind: 'unsupported' | 'config' | 'skiff' | 'error';
  readonly message: string;
  readonly path?: string;
  readonly code?: string;
}

export function packError(err: unknown): PackedError {
  if (err instanceof UnsupportedConfigError) return { kind: 'unsupported', message: err.message, path: err.path };
  if (err instanceof ConfigError) return { kind: 'config', message: err.message, path: err.path };
  if (err instanceof SkiffError) return { kind: 'skiff', message: err.message, code: err.code };
  return { kind: 'error', message: err instanceof Error ? err.message : String(err) };
}

/** The same class, path and message text as the error the worker caught (the NACK's error_detail is that text). */
export function unpackError(e: PackedError): Error {
  const path = e.path ?? '';
  const rest = e.message.startsWith(`${path}: `) ? e.message.slice(path.length + 2) : e.message;
  switch (e.kind) {
    case 'unsupported': {
      const err = new ConfigError(path, rest);
      Object.assign(err, { code: 'SKIFF_CONFIG_UNSUPPORTED', name: 'UnsupportedConfigError' });
      Object.setPrototypeOf(err, UnsupportedConfigError.prototype);
      return err;
    }
    case 'config': return new ConfigError(path, rest);
    case 'skiff': return new SkiffError(e.code ?? 'SKIFF_ERROR', e.message, 'config');
    default: return new Error(e.message);
  }
}
