import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError, UnsupportedConfigError } from '../../../src/common/errors.js';
import { applySecretUpdate, secretSourceOf, SecretStore, type SecretConfig } from '../../../src/tls/sds.js';
import { resolveSecrets } from '../../../src/tls/sds_context.js';

const flush = (): Promise<void> => new Promise((r) => setImmediate(r));

test('SecretStore: followers see new versions; demand per source is counted and reported once settled', async () => {
  const store = new SecretStore();
  const told: [string, string[]][] = [];
  store.onDemand('t', (source, names) => told.push([source, names]));
  const seen: string[] = [];
  const stopA = store.follow('cert', 'ads', (s) => seen.push(`a:${String(s.tls_certificate?.certificate_chain?.inline_string)}`));
  const stopB = store.follow('cert', 'ads', () => seen.push('b'));
  store.follow('ca', 'static', () => {});
  await flush();
  assert.deepEqual(told, [['ads', ['cert']]], 'two followers of one name: one subscription; static names are not asked for');
  store.set({ name: 'cert', tls_certificate: { certificate_chain: { inline_string: 'v1' } } });
  assert.deepEqual(seen, ['a:v1', 'b']);
  stopA();
  stopA(); // twice is harmless
  await flush();
  assert.deepEqual(store.namesFrom('ads'), ['cert'], 'still followed by b');
  stopB();
  await flush();
  assert.deepEqual(store.namesFrom('ads'), []);
  assert.deepEqual(told.at(-1), ['ads', []]);
});

test('secretSourceOf: static, ADS, an SDS server of its own; anything else named', () => {
  assert.deepEqual(secretSourceOf({ name: 'x' }, 'p'), { name: 'x', source: 'static' });
  assert.deepEqual(secretSourceOf({ name: 'x', sds_config: { ads: {} } }, 'p'), { name: 'x', source: 'ads' });
  const api = { api_type: 'GRPC', grpc_services: [{ envoy_grpc: { cluster_name: 'sds-grpc' } }] };
  assert.equal(secretSourceOf({ name: 'x', sds_config: { api_config_source: api } }, 'p').source, `grpc:${JSON.stringify(api)}`);
  assert.throws(() => secretSourceOf({ name: 'x', sds_config: { path_config_source: {} } }, 'p'), UnsupportedConfigError);
  assert.throws(() => secretSourceOf({ sds_config: { ads: {} } }, 'p'), /p\.name/);
});

test('combined_validation_context: the SDS validation context merged into the default one (secret wins, lists appended)', () => {
  const store = new SecretStore();
  const refs = resolveSecrets({
    tls_certificate_sds_secret_configs: [{ name: 'default', sds_config: { ads: {} } }],
    combined_validation_context: {
      default_validation_context: { match_typed_subject_alt_names: [{ san_type: 'URI', matcher: { exact: 'spiffe://a' } }], trusted_ca: { inline_string: 'default-ca' } },
      validation_context_sds_secret_config: { name: 'ROOTCA', sds_config: { ads: {} } },
    },
    alpn_protocols: ['istio'],
  }, 'ctx');
  assert.deepEqual(refs.all, [{ name: 'default', source: 'ads', initialFetchTimeoutMs: 15_000 }, { name: 'ROOTCA', source: 'ads', initialFetchTimeoutMs: 15_000 }]);
  store.set({ name: 'default', tls_certificate: { certificate_chain: { inline_string: 'c' }, private_key: { inline_string: 'k' } } });
  store.set({ name: 'ROOTCA', validation_context: { trusted_ca: { inline_string: 'sds-ca' }, match_typed_subject_alt_names: [{ san_type: 'DNS', matcher: { exact: 'b' } }] } });
  const eff = refs.effective(store);
  assert.deepEqual(eff.tls_certificates, [{ certificate_chain: { inline_string: 'c' }, private_key: { inline_string: 'k' } }]);
  assert.deepEqual(eff.validation_context, {
    trusted_ca: { inline_string: 'sds-ca' },
    match_typed_subject_alt_names: [{ san_type: 'URI', matcher: { exact: 'spiffe://a' } }, { san_type: 'DNS', matcher: { exact: 'b' } }],
  });
  assert.deepEqual(eff.alpn_protocols, ['istio']);
  // A certificate reference to a secret that holds only a CA is an error naming the field.
  store.set({ name: 'default', validation_context: { trusted_ca: { inline_string: 'x' } } });
  assert.throws(() => refs.effective(store), /tls_certificate_sds_secret_configs/);
  assert.throws(() => resolveSecrets({ validation_context: {}, validation_context_sds_secret_config: { name: 'x' } }, 'ctx'), ConfigError);
});

test('applySecretUpdate: a bad secret throws naming it and nothing of the update is applied', () => {
  const store = new SecretStore();
  const ca: SecretConfig = { name: 'ca', validation_context: { trusted_ca: { inline_string: '' } } };
  const bad: SecretConfig = { name: 'cert', tls_certificate: { certificate_chain: { inline_string: 'not a pem' }, private_key: { inline_string: 'nor this' } } };
  assert.throws(() => applySecretUpdate([['ca', ca], ['cert', bad]], [], store), (e: unknown) => e instanceof ConfigError && /^Secret "cert"\.tls_certificate/.test(e.path));
  assert.equal(store.get('ca'), undefined, 'the good secret of the same update is not applied either');
  assert.throws(() => applySecretUpdate([['x', { name: 'x', generic_secret: {} } as SecretConfig]], [], store), /Secret "x"\.generic_secret/);
  assert.throws(() => applySecretUpdate([['y', { name: 'y' }]], [], store), /one of tls_certificate, validation_context/);
});
