/**
 * A CommonTlsContext's SDS references, and the inline-only context they stand for once their secrets are there:
 * tls_certificate_sds_secret_configs add certificates after the inline tls_certificates;
 * validation_context_sds_secret_config replaces the inline validation_context; combined_validation_context is
 * its default_validation_context merged with the SDS one as Envoy merges them (protobuf MergeFrom of the SDS
 * message into the default: a field the secret sets wins, lists are concatenated).
 */
import { ConfigError, UnsupportedConfigError } from '../common/errors.js';
import type { CommonTlsContextConfig } from './context.js';
import { initialFetchTimeoutMs, secretSourceOf, type SdsSecretConfig, type SecretSource, type SecretStore, type ValidationContextConfig } from './sds.js';

export interface SecretRef {
  name: string;
  source: SecretSource;
  /** How long to warm waiting for its first version (0 = for ever; undefined = a static secret: no waiting). */
  initialFetchTimeoutMs: number | undefined;
}

function secretRef(ref: SdsSecretConfig, path: string): SecretRef {
  return { ...secretSourceOf(ref, path), initialFetchTimeoutMs: initialFetchTimeoutMs(ref, path) };
}

export interface SecretRefs {
  /** Every secret named, certificates first. */
  readonly all: readonly SecretRef[];
  /** The context with the secrets put in place (only called once every secret is in `store`). */
  effective(store: SecretStore): CommonTlsContextConfig;
}

interface CombinedValidationContext {
  default_validation_context?: ValidationContextConfig;
  validation_context_sds_secret_config?: SdsSecretConfig;
  [k: string]: unknown;
}

/** MergeFrom: `over`'s set fields replace `base`'s, lists are appended. */
function mergeValidation(base: ValidationContextConfig | undefined, over: ValidationContextConfig | undefined): ValidationContextConfig | undefined {
  if (base === undefined) return over;
  if (over === undefined) return base;
  const out: ValidationContextConfig = { ...base };
  for (const [k, v] of Object.entries(over)) {
    const b = out[k];
    out[k] = Array.isArray(v) && Array.isArray(b) ? [...b, ...v] : v;
  }
  return out;
}

export function resolveSecrets(config: CommonTlsContextConfig, path: string): SecretRefs {
  const certRefs = ((config.tls_certificate_sds_secret_configs ?? []) as SdsSecretConfig[])
    .map((r, i) => secretRef(r, `${path}.tls_certificate_sds_secret_configs[${i}]`));
  const combined = config.combined_validation_context as CombinedValidationContext | undefined;
  const single = config.validation_context_sds_secret_config as SdsSecretConfig | undefined;
  const inlineVc = config.validation_context;
  const setVc = [inlineVc !== undefined, single !== undefined, combined !== undefined].filter(Boolean).length;
  if (setVc > 1) {
    throw new ConfigError(path, 'only one of validation_context, validation_context_sds_secret_config, combined_validation_context may be set');
  }
  let vcRef: SecretRef | undefined;
  if (single !== undefined) vcRef = secretRef(single, `${path}.validation_context_sds_secret_config`);
  if (combined !== undefined) {
    for (const key of Object.keys(combined)) {
      if (key !== 'default_validation_context' && key !== 'validation_context_sds_secret_config') {
        throw new UnsupportedConfigError(`${path}.combined_validation_context.${key}`, 'field');
      }
    }
    if (combined.validation_context_sds_secret_config === undefined) {
      throw new ConfigError(`${path}.combined_validation_context.validation_context_sds_secret_config`, 'required');
    }
    vcRef = secretRef(combined.validation_context_sds_secret_config, `${path}.combined_validation_context.validation_context_sds_secret_config`);
  }
  const all = [...certRefs, ...(vcRef ? [vcRef] : [])];
  return {
    all,
    effective(store: SecretStore): CommonTlsContextConfig {
      const certs = [...(config.tls_certificates ?? [])];
      for (const ref of certRefs) {
        const s = store.get(ref.name)!;
        if (s.tls_certificate === undefined) throw new ConfigError(`${path}.tls_certificate_sds_secret_configs`, `secret ${ref.name} holds no tls_certificate`);
        certs.push(s.tls_certificate);
      }
      let vc = inlineVc;
      if (vcRef !== undefined) {
        const s = store.get(vcRef.name)!;
        if (s.validation_context === undefined) throw new ConfigError(`${path}.validation_context_sds_secret_config`, `secret ${vcRef.name} holds no validation_context`);
        vc = mergeValidation(combined?.default_validation_context, s.validation_context);
      }
      return {
        ...(certs.length > 0 ? { tls_certificates: certs } : {}),
        ...(vc !== undefined ? { validation_context: vc } : {}),
        ...(config.alpn_protocols !== undefined ? { alpn_protocols: config.alpn_protocols } : {}),
        ...(config.tls_params !== undefined ? { tls_params: config.tls_params } : {}),
      };
    },
  };
}
