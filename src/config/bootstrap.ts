/**
 * Loads an Envoy v3 bootstrap from YAML or JSON text: parse, decode against Envoy's protos (proto3 JSON
 * mapping: snake_case or lowerCamelCase names, "0.25s" durations, bare wrapper values, enums by name, Any
 * with "@type" and its fields inline), then validate (unless told not to).
 */
import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { ConfigError } from '../common/errors.js';
import type { Bootstrap } from '../types/envoy.js';
import { decodeMessage, type DecodeContext } from './decode.js';
import { envoyRoot } from './protos.js';
import type { LoadedBootstrap } from './types.js';
import { BOOTSTRAP_TYPE, validateBootstrap } from './validate.js';

export type { LoadedBootstrap } from './types.js';
export type ConfigFormat = 'yaml' | 'json';

export interface LoadOptions {
  /** Run validateBootstrap (default true). */
  validate?: boolean;
}

/** Largest config accepted: far beyond any real bootstrap, small enough that parsing cannot exhaust memory. */
const MAX_CONFIG_BYTES = 64 * 1024 * 1024;

function parseText(text: string, format: ConfigFormat): unknown {
  if (text.length > MAX_CONFIG_BYTES) throw new ConfigError('(config)', `larger than ${MAX_CONFIG_BYTES} bytes`);
  if (format === 'json') {
    try {
      return JSON.parse(text);
    } catch (err) {
      throw new ConfigError('(json)', `invalid JSON: ${(err as Error).message}`, { cause: err });
    }
  }
  try {
    // YAML 1.2 core schema (as yaml-cpp reads Envoy configs), merge keys allowed, aliases bounded.
    return parseYaml(text, { merge: true, maxAliasCount: 1000, uniqueKeys: true, prettyErrors: false });
  } catch (err) {
    throw new ConfigError('(yaml)', `invalid YAML: ${(err as Error).message}`, { cause: err });
  }
}

/** Decodes and (by default) validates a bootstrap given as YAML or JSON text. */
export function loadBootstrapText(text: string, format: ConfigFormat, options: LoadOptions = {}): LoadedBootstrap {
  const doc = parseText(text, format);
  const input = doc === null || doc === undefined ? {} : doc;
  const ctx: DecodeContext = { warnings: [] };
  const { value, json } = decodeMessage(envoyRoot().lookupType(BOOTSTRAP_TYPE), input, '', ctx);
  const loaded: LoadedBootstrap = { bootstrap: value as Bootstrap, raw: json, warnings: ctx.warnings };
  if (options.validate !== false) validateBootstrap(loaded);
  return loaded;
}

/** The format Envoy infers from a file name: .json is JSON, everything else is read as YAML (a JSON superset). */
export function formatOfPath(path: string): ConfigFormat {
  return extname(path).toLowerCase() === '.json' ? 'json' : 'yaml';
}

export function loadBootstrapFile(path: string, options: LoadOptions = {}): LoadedBootstrap {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(path, `cannot read config file: ${(err as Error).message}`, { cause: err });
  }
  return loadBootstrapText(text, formatOfPath(path), options);
}
