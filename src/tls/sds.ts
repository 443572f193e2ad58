/**
 * SDS: named TLS secrets (envoy.extensions.transport_sockets.tls.v3.Secret: tls_certificate or
 * validation_context) that TLS contexts refer to by name (tls_certificate_sds_secret_configs,
 * validation_context_sds_secret_config, combined_validation_context) instead of carrying them inline.
 *
 * Secrets come from the bootstrap's static_resources.secrets (an SdsSecretConfig without sds_config) or from a
 * control plane over ADS (sds_config: {ads: {}}); src/server/xds_config.ts feeds the ADS ones in and subscribes
 * the names contexts ask for. A listener or cluster whose contexts wait for a secret *warms* (src/tls/warming.ts):
 * not bound, not used, until the secret arrives, its initial_fetch_timeout ends (default 15 s; 0s waits for
 * ever) or a response carrying it is rejected; after that a context still without its secret refuses handshakes
 * (listener) or fails connects (cluster). A new version of a secret is applied to new handshakes; open
 * connections keep the certificate they were made with.
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

/**
 * Where a secret comes from: the bootstrap ('static'), the ADS stream ('ads'), or an SDS server of its own
 * ('grpc:' + its api_config_source as JSON: one stream per distinct source).
 */
export type SecretSource = string;

/** An SdsSecretConfig: a secret's name and where to fetch it. */
export interface SdsSecretConfig { name?: string; sds_config?: Record<string, unknown>; [k: string]: unknown }

type Watcher = (secret: SecretConfig) => void;

/** One follower of a name: told of each new version, and (optionally) when a response carrying it was rejected. */
interface Follower { readonly onChange: Watcher; readonly onFetchFailed: (() => void) | undefined }

export interface SecretMeta { version: string; lastUpdated: Date; origin: 'static' | 'dynamic' }

/** Named secrets and who follows them. Main thread only. */
export class SecretStore {
  private readonly secrets = new Map<string, SecretConfig>();
  /** What /config_dump shows of each secret besides its content. */
  private readonly meta = new Map<string, SecretMeta>();
  private readonly watchers = new Map<string, Set<Follower>>();
  /** Per source fetched from (not 'static'): names asked for, with how many contexts follow each. */
  private readonly demand = new Map<SecretSource, Map<string, number>>();
  private readonly demandListeners = new Map<string, (source: SecretSource, names: string[]) => void>();

  /** Adds or replaces a secret; contexts following it rebuild (a throwing watcher is the watcher's business). */
  set(secret: SecretConfig, meta: Partial<SecretMeta> = {}): void {
    this.secrets.set(secret.name, secret);
    this.meta.set(secret.name, { version: meta.version ?? '', lastUpdated: new Date(), origin: meta.origin ?? 'dynamic' });
    for (const w of [...(this.watchers.get(secret.name) ?? [])]) w.onChange(secret);
  }

  /**
   * A response carrying these names was rejected (NACKed): followers still waiting for a first version stop
   * waiting (Envoy ends their warming; their handshakes fail until a good version comes).
   */
  fetchFailed(names: Iterable<string>): void {
    for (const name of names) {
      if (this.secrets.has(name)) continue;
      for (const w of [...(this.watchers.get(name) ?? [])]) w.onFetchFailed?.();
    }
  }

  /** Forgets a secret (withdrawn by the control plane); contexts keep the material they built from it. */
  delete(name: string): void {
    this.secrets.delete(name);
    this.meta.delete(name);
  }

  /** Every secret held, with its meta (for /config_dump). */
  entries(): { secret: SecretConfig; meta: SecretMeta }[] {
    return [...this.secrets.values()].map((secret) => ({ secret, meta: this.meta.get(secret.name)! }));
  }

  /** Names followed (from any source) that no secret answers yet: Envoy's warming secrets. */
  awaited(): string[] {
    return [...this.watchers.keys()].filter((n) => !this.secrets.has(n)).sort();
  }

  get(name: string): SecretConfig | undefined {
    return this.secrets.get(name);
  }

  /**
   * Follows one secret; `source` 'ads' makes the name part of the ADS subscription while followed.
   * `onFetchFailed`: see fetchFailed. Returns the unfollow.
   */
  follow(name: string, source: SecretSource, onChange: Watcher, onFetchFailed?: () => void): () => void {
    let set = this.watchers.get(name);
    if (set === undefined) { set = new Set(); this.watchers.set(name, set); }
    const follower: Follower = { onChange, onFetchFailed };
    set.add(follower);
    if (source !== 'static') this.changeDemand(source, name, +1);
    let followed = true;
    return () => {
      if (!followed) return;
      followed = false;
      set.delete(follower);
      if (set.size === 0) this.watchers.delete(name);
      if (source !== 'static') this.changeDemand(source, name, -1);
    };
  }

  /** The names followed from one source, sorted. */
  namesFrom(source: SecretSource): string[] {
    return [...(this.demand.get(source)?.keys() ?? [])].sort();
  }

  /** The sources secrets are followed from (other than static). */
  sources(): SecretSource[] {
    return [...this.demand.keys()].filter((s) => this.demand.get(s)!.size > 0);
  }

  /**
   * `listener` (under `key`; undefined removes it) is told, a microtask after a change, the names now followed
   * from a source whose set of names changed.
   */
  onDemand(key: string, listener: ((source: SecretSource, names: string[]) => void) | undefined): void {
    if (listener === undefined) this.demandListeners.delete(key); else this.demandListeners.set(key, listener);
  }

  private changeDemand(source: SecretSource, name: string, by: number): void {
    let names = this.demand.get(source);
    if (names === undefined) { names = new Map(); this.demand.set(source, names); }
    const before = names.size;
    const n = (names.get(name) ?? 0) + by;
    if (n <= 0) names.delete(name); else names.set(name, n);
    if (names.size === before) return;
    // Several contexts are built in one config load: the listeners see the settled set, possibly more than once.
    queueMicrotask(() => { for (const l of this.demandListeners.values()) l(source, this.namesFrom(source)); });
  }

  /** Drops every secret and follower (tests; a server stopping). */
  clear(): void {
    this.secrets.clear();
    this.meta.clear();
    this.watchers.clear();
    this.demand.clear();
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

/**
 * Checks every secret of an xDS update (fields, and that its material loads), then hands them all to the store;
 * a bad one throws a ConfigError naming `Secret "name".field` and nothing changes. Withdrawn names are forgotten
 * (contexts keep what they built from them).
 */
export function applySecretUpdate(added: Iterable<[string, SecretConfig, string?]>, removed: readonly string[], store: SecretStore = processStore): void {
  const checked: [SecretConfig, string][] = [];
  const all = [...added];
  for (const [name, secret, version] of all) {
    try {
      checkSecret(secret, '');
      checkSecretMaterial(secret, '');
    } catch (err) {
      // Envoy fails every watch of a rejected response: contexts waiting for any of its secrets stop warming.
      store.fetchFailed(all.map(([n]) => n));
      if (err instanceof ConfigError) throw new ConfigError(`Secret ${JSON.stringify(name)}.${err.path}`, err.message.startsWith(`${err.path}: `) ? err.message.slice(err.path.length + 2) : err.message, { cause: err });
      throw err;
    }
    checked.push([secret, version ?? '']);
  }
  // Contexts rebuild as each secret is set: new handshakes use the new certificate, open connections keep theirs.
  for (const [s, version] of checked) store.set(s, { version, origin: 'dynamic' });
  for (const name of removed) store.delete(name);
}

/** Loads the bootstrap's static_resources.secrets into the store. */
export function loadStaticSecrets(secrets: readonly SecretConfig[] | undefined, store: SecretStore = processStore): void {
  const seen = new Set<string>();
  (secrets ?? []).forEach((s, i) => {
    const path = `static_resources.secrets[${i}]`;
    checkSecret(s, path);
    if (seen.has(s.name)) throw new ConfigError(`${path}.name`, `duplicate secret name ${s.name}`);
    seen.add(s.name);
    store.set(s, { origin: 'static' });
  });
}

/** Envoy's default ConfigSource.initial_fetch_timeout. */
export const DEFAULT_INITIAL_FETCH_TIMEOUT_MS = 15_000;

/**
 * How long a listener or cluster warms waiting for the first version of an SDS secret: sds_config's
 * initial_fetch_timeout in ms (default 15 s); 0 = for ever (Istio sets 0s). Undefined for a static secret
 * (no sds_config), which is either there at start-up or never.
 */
export function initialFetchTimeoutMs(ref: SdsSecretConfig, path: string): number | undefined {
  const sds = ref.sds_config;
  if (sds === undefined) return undefined;
  const d = sds.initial_fetch_timeout as { seconds?: number | string; nanos?: number } | undefined;
  if (d === undefined || d === null) return DEFAULT_INITIAL_FETCH_TIMEOUT_MS;
  const ms = Number(d.seconds ?? 0) * 1000 + Math.floor(Number(d.nanos ?? 0) / 1e6);
  if (!Number.isFinite(ms) || ms < 0) throw new ConfigError(`${path}.sds_config.initial_fetch_timeout`, `invalid duration ${JSON.stringify(d)}`);
  return ms;
}

/**
 * Where an SdsSecretConfig's secret comes from: no sds_config = the bootstrap's static secrets; `ads: {}` = the
 * ADS stream; `api_config_source` (GRPC or DELTA_GRPC, one envoy_grpc or google_grpc service) = an SDS server
 * of its own, as Istio's `sds-grpc` cluster to istio-agent (src/tls/sds_client.ts follows it).
 */
export function secretSourceOf(ref: SdsSecretConfig, path: string): { name: string; source: SecretSource } {
  for (const key of Object.keys(ref)) {
    if (key !== 'name' && key !== 'sds_config') throw new UnsupportedConfigError(`${path}.${key}`, 'field');
  }
  if (typeof ref.name !== 'string' || ref.name === '') throw new ConfigError(`${path}.name`, 'required');
  const sds = ref.sds_config;
  if (sds === undefined) return { name: ref.name, source: 'static' };
  if (sds.api_config_source !== undefined) return { name: ref.name, source: `grpc:${JSON.stringify(sds.api_config_source)}` };
  if (sds.ads === undefined) throw new UnsupportedConfigError(`${path}.sds_config`, 'config source (ads: {} or none)');
  return { name: ref.name, source: 'ads' };
}
