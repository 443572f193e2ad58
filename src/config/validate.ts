/**
 * Validation of a decoded bootstrap, in the order a user fixes things: (1) the protoc-gen-validate rules of
 * Envoy's protos (is this a valid Envoy config at all?), (2) Skiff's supported subset (does Skiff implement
 * every field and extension it sets?), (3) cross-references (duplicate names, clashing addresses, the
 * router last). The first problem found is thrown as a ConfigError / UnsupportedConfigError naming the field.
 */
import type { UnsupportedConfigError } from '../common/errors.js';
import { checkRules } from './pgv.js';
import { envoyRoot } from './protos.js';
import { checkReferences } from './references.js';
import { findUnsupported } from './subset.js';
import type { LoadedBootstrap } from './types.js';

export const BOOTSTRAP_TYPE = 'envoy.config.bootstrap.v3.Bootstrap';

/** Throws the first problem; appends non-fatal notes (hints, deprecations) to `loaded.warnings`. */
export function validateBootstrap(loaded: LoadedBootstrap): void {
  checkRules(envoyRoot().lookupType(BOOTSTRAP_TYPE), loaded.bootstrap, '');
  const { unsupported, warnings } = findUnsupported(BOOTSTRAP_TYPE, loaded.bootstrap, '');
  if (unsupported.length > 0) throw unsupported[0];
  loaded.warnings.push(...warnings);
  checkReferences(loaded.bootstrap);
}

/**
 * Every field and extension of a (PGV-valid) bootstrap outside Skiff's subset, not just the first: for
 * `--mode validate` style reports and the conformance summary.
 */
export function listUnsupported(loaded: LoadedBootstrap): UnsupportedConfigError[] {
  return findUnsupported(BOOTSTRAP_TYPE, loaded.bootstrap, '').unsupported;
}
