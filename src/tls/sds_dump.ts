/**
 * Envoy's SecretsConfigDump for /config_dump: static_secrets (the bootstrap's), dynamic_active_secrets (from ADS
 * or an SDS server, with version_info) and dynamic_warming_secrets (named by a TLS context, not arrived yet).
 * Private keys are shown as "[redacted]", as Envoy does.
 */
import type { SecretConfig, SecretStore } from './sds.js';

export const SECRETS_CONFIG_DUMP_TYPE = 'type.googleapis.com/envoy.admin.v3.SecretsConfigDump';
const SECRET_TYPE = 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret';

type Json = Record<string, unknown>;

/** A DataSource in Envoy's JSON form (bytes as base64). */
function dataSourceJson(ds: unknown): unknown {
  if (ds === null || typeof ds !== 'object') return ds;
  const out: Json = { ...(ds as Json) };
  if (out.inline_bytes instanceof Uint8Array) out.inline_bytes = Buffer.from(out.inline_bytes).toString('base64');
  return out;
}

function secretJson(s: SecretConfig): Json {
  const out: Json = { '@type': SECRET_TYPE, name: s.name };
  if (s.tls_certificate !== undefined) {
    out.tls_certificate = {
      ...(s.tls_certificate.certificate_chain !== undefined ? { certificate_chain: dataSourceJson(s.tls_certificate.certificate_chain) } : {}),
      ...(s.tls_certificate.private_key !== undefined ? { private_key: { inline_string: '[redacted]' } } : {}),
    };
  }
  if (s.validation_context !== undefined) {
    const vc: Json = { ...s.validation_context };
    if (vc.trusted_ca !== undefined) vc.trusted_ca = dataSourceJson(vc.trusted_ca);
    out.validation_context = vc;
  }
  return out;
}

export function secretsConfigDump(store: SecretStore): Json {
  const entries = store.entries();
  return {
    '@type': SECRETS_CONFIG_DUMP_TYPE,
    static_secrets: entries.filter((e) => e.meta.origin === 'static')
      .map((e) => ({ name: e.secret.name, last_updated: e.meta.lastUpdated.toISOString(), secret: secretJson(e.secret) })),
    dynamic_active_secrets: entries.filter((e) => e.meta.origin === 'dynamic').map((e) => ({
      name: e.secret.name, version_info: e.meta.version, last_updated: e.meta.lastUpdated.toISOString(), secret: secretJson(e.secret),
    })),
    dynamic_warming_secrets: store.awaited().map((name) => ({ name })),
  };
}
