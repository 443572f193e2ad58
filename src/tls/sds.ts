/**
 * SDS: named TLS secrets (envoy.extensions.transport_sockets.tls.v3.Secret: tls_certificate or
 * validation_context) that TLS contexts refer to by name (tls_certificate_sds_secret_configs,
 * validation_context_sds_secret_config, combined_validation_context) instead of carrying them inline.
 *
 * Secrets come from the bootstrap's static_resources.secrets (an SdsSecretConfig without sds_config) or from a
 * control plane over ADS (sds_config: {ads: {}}); src/server/xds_config.ts feeds the ADS ones in and subscribes
 * the names contexts ask for. A context whose secret has not arrived is not ready: its listener refuses
 * handshakes and its cluster fails connects until the secret comes (Skiff does not hold the listener in a
 * warming state as Envoy does). A new version of a secret is applied to new handshakes; open connections keep
 * the certificate they were made with.
 *
 * The store is process-wide because TLS contexts are built deep inside listener and cluster config readers
 * that take only their config; one Skiff server runs per process.
 */
import { ConfigError, UnsupportedConfigError } from '../common/errors.js';
import tls from 'node:tls';
import { readDataSource, type DataSourceConfig } from './data_source.js';
import type { SanMatcherConfig } from './san_matcher.js';

export const SECRET_TYPE_URL = 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret';

export interface TlsCertificateConfig { certificate_chain?: DataSourceConfig; private_key?: DataSourceConfig; [k: string]: unknown }
export interface ValidationContextConfig { trusted_ca?: DataSourceConfig; match_typed_subject_alt_names?: SanMatcherConfig[]; [k: string]: unknown }

/** A Secret as decoded (src/types/envoy.ts style: snake_case). */
export interface SecretConfig {
  name: string;
  tls_certificate?: TlsCertificateConfig;
  validation_context?: ValidationContextConfig;
  [k: string]: unknown;
}

/** Where a secret comes from: the bootstrap (static) or the ADS stream. */
export type SecretSource = 'static' | 'ads';

/** An SdsSecretConfig: a secret's name and where to fetch it. */
export interface SdsSecretConfig { name?: string; sds_config?: Record<string, unknown>; [k: string]: unknown }

type Watcher = (secret: SecretConfig) => void;

/** Named secrets and who follows them. Main thread only. */
export class SecretStore {
  private readonly secrets = new Map<string, SecretConfig>();
  private readonly watchers = new Map<string, Set<Watcher>>();
  /** Names asked for over ADS, with how many contexts follow each. */
  private readonly adsDemand = new Map<string, number>();
  private demandListener: ((names: string[]) => void) | undefined;

  /** Adds or replaces a secret; contexts following it rebuild (a throwing watcher is the watcher's business). */
  set(secret: SecretConfig): void {
    this.secrets.set(secret.name, secret);
    for (const w of [...(this.watchers.get(secret.name) ?? [])]) w(secret);
  }

  /** Forgets a secret (withdrawn by the control plane); contexts keep the material they built from it. */
  delete(name: string): void {
    this.secrets.delete(name);
  }

  get(name: string): SecretConfig | undefined {
    return this.secrets.get(name);
  }

  /** Follows one secret; `source` 'ads' makes the name part of the ADS subscription while followed. Returns the unfollow. */
  follow(name: string, source: SecretSource, onChange: Watcher): () => void {
    let set = this.watchers.get(name);
    if (set === undefined) { set = new Set(); this.watchers.set(name, set); }
    set.add(onChange);
    if (source === 'ads') this.changeDemand(name, +1);
    let followed = true;
    return () => {
      if (!followed) return;
      followed = false;
      set.delete(onChange);
      if (set.size === 0) this.watchers.delete(name);
      if (source === 'ads') this.changeDemand(name, -1);
    };
  }

  /** The names followed over ADS, sorted. */
  adsNames(): string[] {
    return [...this.adsDemand.keys()].sort();
  }

  /** Told (after the current change settles) whenever the set of ADS names changes. One listener. */
  onAdsDemand(listener: ((names: string[]) => void) | undefined): void {
    this.demandListener = listener;
  }

  private changeDemand(name: string, by: number): void {
    const before = this.adsDemand.size;
    const n = (this.adsDemand.get(name) ?? 0) + by;
    if (n <= 0) this.adsDemand.delete(name); else this.adsDemand.set(name, n);
    if (this.adsDemand.size !== before && this.demandListener) {
      const listener = this.demandListener;
      // Several contexts are built in one config load: one subscription change for all of them.
      queueMicrotask(() => listener(this.adsNames()));
    }
  }

  /** Drops every secret and follower (tests; a server stopping). */
  clear(): void {
    this.secrets.clear();
    this.watchers.clear();
    this.adsDemand.clear();
  }
}

const processStore = new SecretStore();

/** The process's secret store (see the header for why there is one). */
export function secretStore(): SecretStore {
  return processStore;
}

/** `path.` or nothing (a resource over xDS is named by its type and name in front). */
function prefix(path: string): string {
  return path === '' ? '' : `${path}.`;
}

/** Checks one Secret's fields; `path` names it in errors. */
export function checkSecret(secret: SecretConfig, path: string): void {
  if (typeof secret.name !== 'string' || secret.name === '') throw new ConfigError(`${prefix(path)}name`, 'a secret needs a name');
  for (const key of Object.keys(secret)) {
    if (key !== 'name' && key !== 'tls_certificate' && key !== 'validation_context' && key !== '@type') {
      throw new UnsupportedConfigError(`${prefix(path)}${key}`, 'field (Skiff secrets hold tls_certificate or validation_context)');
    }
  }
  if (secret.tls_certificate === undefined && secret.validation_context === undefined) {
    throw new ConfigError(path === '' ? 'tls_certificate' : path, 'one of tls_certificate, validation_context is required');
  }
}

/**
 * Checks that a secret's material loads (key matches certificate, PEM parses), so a bad one is NACKed when it
 * arrives instead of failing every handshake later.
 */
export function checkSecretMaterial(secret: SecretConfig, path: string): void {
  const options: tls.SecureContextOptions = {};
  const tc = secret.tls_certificate;
  if (tc !== undefined) {
    for (const key of Object.keys(tc)) {
      if (key !== 'certificate_chain' && key !== 'private_key') throw new UnsupportedConfigError(`${prefix(path)}tls_certificate.${key}`, 'field');
    }
    options.cert = readDataSource(tc.certificate_chain, `${prefix(path)}tls_certificate.certificate_chain`);
    options.key = readDataSource(tc.private_key, `${prefix(path)}tls_certificate.private_key`);
  }
  const vc = secret.validation_context;
  if (vc?.trusted_ca !== undefined) options.ca = readDataSource(vc.trusted_ca, `${prefix(path)}validation_context.trusted_ca`);
  try {
    tls.createSecureContext(options);
  } catch (e) {
    throw new ConfigError(`${prefix(path)}${tc !== undefined ? 'tls_certificate' : 'validation_context'}`, (e as Error).message);
  }
}

/** Loads the bootstrap's static_resources.secrets into the store. */
export function loadStaticSecrets(secrets: readonly SecretConfig[] | undefined, store: SecretStore = processStore): void {
  const seen = new Set<string>();
  (secrets ?? []).forEach((s, i) => {
    const path = `static_resources.secrets[${i}]`;
    checkSecret(s, path);
    if (seen.has(s.name)) throw new ConfigError(`${path}.name`, `duplicate secret name ${s.name}`);
    seen.add(s.name);
    store.set(s);
  });
}

/**
 * Where an SdsSecretConfig's secret comes from: no sds_config = the bootstrap's static secrets; `ads: {}` = the
 * ADS stream. A separate SDS server (api_config_source, as Istio's `sds-grpc` unix-socket cluster to
 * istio-agent) is not followed: rejected naming the field.
 */
export function secretSourceOf(ref: SdsSecretConfig, path: string): { name: string; source: SecretSource } {
  for (const key of Object.keys(ref)) {
    if (key !== 'name' && key !== 'sds_config') throw new UnsupportedConfigError(`${path}.${key}`, 'field');
  }
  if (typeof ref.name !== 'string' || ref.name === '') throw new ConfigError(`${path}.name`, 'required');
  const sds = ref.sds_config;
  if (sds === undefined) return { name: ref.name, source: 'static' };
  if (sds.api_config_source !== undefined) {
    throw new UnsupportedConfigError(`${path}.sds_config.api_config_source`,
      'SDS server of its own (Istio: istio-agent on the sds-grpc unix socket); Skiff takes secrets over ADS (sds_config: {ads: {}}) or from static_resources.secrets');
  }
  if (sds.ads === undefined) throw new UnsupportedConfigError(`${path}.sds_config`, 'config source (ads: {} or none)');
  return { name: ref.name, source: 'ads' };
}
