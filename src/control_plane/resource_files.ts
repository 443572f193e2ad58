/**
 * Reads the resource files of a control-plane directory. A file (YAML, or JSON when it ends in .json) holds one
 * resource, a list of them, or Envoy's path_config_source form `{version_info?, resources: [...]}`. Each item is a
 * resource with its `@type`, or just its fields, whose type is then taken from the file name
 * (listener/lds, route/rds, cluster/cds, endpoint/eds/cla, secret/sds) or, failing that, from the item's shape.
 * Every item is decoded and checked with src/config (schema and PGV rules), so an error names file and field.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { ConfigError, SkiffError, UnsupportedConfigError } from '../common/errors.js';
import { decodeResource, validateResource } from '../config/resources.js';
import { CLUSTER_TYPE, ENDPOINT_TYPE, LISTENER_TYPE, ROUTE_TYPE, SECRET_TYPE, SERVED_TYPES } from './types.js';

export interface FileResource {
  typeUrl: string;
  name: string;
  /** The decoded value (src/types/envoy.ts shape) with '@type'. */
  value: Record<string, unknown>;
  /** `file` plus the item's position, e.g. `dir/a.yaml[2]`: what errors and logs name. */
  path: string;
  file: string;
  /** Things a Skiff data plane would refuse (it NACKs them itself), and decoder warnings: logged, still served. */
  warnings: string[];
}

export const RESOURCE_FILE_EXTENSIONS: readonly string[] = ['.yaml', '.yml', '.json'];
const MAX_FILE_BYTES = 64 * 1024 * 1024;
const MAX_FILES = 100_000;

/** The resource files of `dir`, sorted, hidden and editor temp files left out. */
export function listResourceFiles(dir: string): string[] {
  const names = readdirSync(dir).filter((n) => !n.startsWith('.') && !n.endsWith('~')
    && RESOURCE_FILE_EXTENSIONS.includes(extname(n).toLowerCase()));
  if (names.length > MAX_FILES) throw new SkiffError('SKIFF_CP_TOO_MANY_FILES', `${dir}: more than ${MAX_FILES} files`, 'config');
  return names.sort().map((n) => join(dir, n)).filter((p) => { try { return statSync(p).isFile(); } catch { return false; } });
}

function parseText(text: string, file: string): unknown {
  if (text.length > MAX_FILE_BYTES) throw new ConfigError(file, `larger than ${MAX_FILE_BYTES} bytes`);
  if (extname(file).toLowerCase() === '.json') {
    try { return JSON.parse(text); } catch (e) { throw new ConfigError(file, `invalid JSON: ${(e as Error).message}`); }
  }
  try {
    return parseYaml(text, { merge: true, maxAliasCount: 1000, uniqueKeys: true, prettyErrors: false });
  } catch (e) {
    throw new ConfigError(file, `invalid YAML: ${(e as Error).message}`);
  }
}

/** A type hinted by the file name, e.g. `listeners.yaml`, `rds-main.json`, `cla_backend.yaml`. */
export function typeFromFileName(file: string): string | undefined {
  const stem = basename(file).toLowerCase();
  if (/(^|[^a-z])(lds|listeners?)([^a-z]|$)/.test(stem)) return LISTENER_TYPE;
  if (/(^|[^a-z])(rds|routes?|route_?config(uration)?s?)([^a-z]|$)/.test(stem)) return ROUTE_TYPE;
  if (/(^|[^a-z])(eds|cla|endpoints?|load_?assignments?)([^a-z]|$)/.test(stem)) return ENDPOINT_TYPE;
  if (/(^|[^a-z])(cds|clusters?)([^a-z]|$)/.test(stem)) return CLUSTER_TYPE;
  if (/(^|[^a-z])(sds|secrets?)([^a-z]|$)/.test(stem)) return SECRET_TYPE;
  return undefined;
}

/** A type guessed from fields only one of the four messages has. */
function typeFromShape(item: Record<string, unknown>): string | undefined {
  if ('cluster_name' in item || 'endpoints' in item) return ENDPOINT_TYPE;
  if ('tls_certificate' in item || 'validation_context' in item) return SECRET_TYPE;
  if ('virtual_hosts' in item || 'vhds' in item) return ROUTE_TYPE;
  if ('filter_chains' in item || 'api_listener' in item || 'address' in item || 'listener_filters' in item) return LISTENER_TYPE;
  if ('type' in item || 'eds_cluster_config' in item || 'load_assignment' in item || 'connect_timeout' in item || 'lb_policy' in item) return CLUSTER_TYPE;
  return undefined;
}

function itemsOf(doc: unknown, file: string): { item: unknown; path: string }[] {
  if (doc === null || doc === undefined) return [];
  if (Array.isArray(doc)) return doc.map((item, i) => ({ item, path: `${file}[${i}]` }));
  if (typeof doc === 'object' && Array.isArray((doc as { resources?: unknown }).resources)) {
    return ((doc as { resources: unknown[] }).resources).map((item, i) => ({ item, path: `${file}.resources[${i}]` }));
  }
  return [{ item: doc, path: file }];
}

function nameOf(typeUrl: string, value: Record<string, unknown>): string | undefined {
  const name = typeUrl === ENDPOINT_TYPE ? value.cluster_name : value.name;
  return typeof name === 'string' && name.length > 0 ? name : undefined;
}

/** Decodes and checks one item; throws a ConfigError naming `path` and the field. */
export function decodeItem(item: unknown, path: string, file: string): FileResource {
  if (typeof item !== 'object' || item === null || Array.isArray(item)) throw new ConfigError(path, 'a resource must be a mapping');
  const fields = item as Record<string, unknown>;
  let input = fields;
  if (fields['@type'] === undefined) {
    const typeUrl = typeFromFileName(file) ?? typeFromShape(fields);
    if (!typeUrl) throw new ConfigError(path, 'no @type, and neither the file name nor the fields tell the resource type');
    input = { '@type': typeUrl, ...fields };
  }
  const decoded = decodeResource(input, path);
  if (!SERVED_TYPES.includes(decoded.typeUrl)) throw new ConfigError(`${path}.@type`, `type ${decoded.typeUrl} is not served (Listener, RouteConfiguration, Cluster, ClusterLoadAssignment, Secret are)`);
  try {
    validateResource(decoded, path);
  } catch (e) {
    // PGV failures make the resource invalid for every client; Skiff's own subset only matters to a Skiff
    // data plane (which NACKs it itself), so it is a warning here: gRPC and Envoy clients may accept it.
    if (!(e instanceof UnsupportedConfigError)) throw e;
    decoded.warnings.push(`not accepted by a Skiff data plane: ${e.message}`);
  }
  const name = nameOf(decoded.typeUrl, decoded.value);
  if (!name) throw new ConfigError(`${path}.${decoded.typeUrl === ENDPOINT_TYPE ? 'cluster_name' : 'name'}`, 'a served resource needs a name');
  return { typeUrl: decoded.typeUrl, name, value: decoded.value, path, file, warnings: decoded.warnings };
}

/** Every resource of one file, in order; throws on the first bad item. */
export function parseResourceText(text: string, file: string): FileResource[] {
  return itemsOf(parseText(text, file), file).map(({ item, path }) => decodeItem(item, path, file));
}

export function readResourceFile(file: string): FileResource[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new ConfigError(file, `cannot read: ${(e as Error).message}`);
  }
  return parseResourceText(text, file);
}
