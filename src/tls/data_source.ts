/**
 * Envoy's DataSource for TLS material: `filename`, `inline_string` or `inline_bytes` (base64 in JSON/YAML).
 * A file is read when the context is built and again when it changes (src/tls/context.ts).
 */
import { readFileSync } from 'node:fs';
import { ConfigError, UnsupportedConfigError } from '../common/errors.js';

export interface DataSourceConfig { filename?: string; inline_string?: string; inline_bytes?: string | Uint8Array; [k: string]: unknown }

/** Reads a DataSource now; `path` names it in errors. */
export function readDataSource(ds: DataSourceConfig | undefined, path: string): Buffer {
  if (ds === undefined || ds === null) throw new ConfigError(path, 'required');
  for (const key of Object.keys(ds)) {
    if (key !== 'filename' && key !== 'inline_string' && key !== 'inline_bytes') throw new UnsupportedConfigError(`${path}.${key}`, 'field');
  }
  if (typeof ds.filename === 'string' && ds.filename !== '') {
    try {
      return readFileSync(ds.filename);
    } catch (e) {
      throw new ConfigError(`${path}.filename`, `cannot read ${ds.filename}: ${(e as Error).message}`);
    }
  }
  if (typeof ds.inline_string === 'string') return Buffer.from(ds.inline_string, 'utf8');
  if (ds.inline_bytes instanceof Uint8Array) return Buffer.from(ds.inline_bytes);
  if (typeof ds.inline_bytes === 'string') return Buffer.from(ds.inline_bytes, 'base64');
  throw new ConfigError(path, 'one of filename, inline_string, inline_bytes is required');
}

/** The file a DataSource reads, if it reads one (watched for changes). */
export function dataSourceFile(ds: DataSourceConfig | undefined): string | undefined {
  return typeof ds?.filename === 'string' && ds.filename !== '' ? ds.filename : undefined;
}
