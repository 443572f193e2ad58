/**
 * CommonTlsContext -> a Node SecureContext that follows its files: tls_certificates (certificate_chain,
 * private_key), validation_context (trusted_ca, match_typed_subject_alt_names), alpn_protocols and tls_params
 * (min/max protocol version, cipher_suites as OpenSSL names). Files are watched (fs.watch on their directories,
 * which also sees Kubernetes' symlink swaps) and rescanned periodically in case an event is missed; when their
 * contents change the context is rebuilt and new handshakes use it. A rebuild that fails keeps the old context.
 * Certificates and validation contexts may instead be named SDS secrets (src/tls/sds.ts): the context follows
 * them and is rebuilt when a new version arrives; until every named secret is there it is not `ready`. Until
 * each has arrived or stopped being waited for (initial_fetch_timeout, a rejected response) it is not `warm`
 * either, and its listener or cluster warms (src/tls/warming.ts).
 */
import { watch, type FSWatcher } from 'node:fs';
import { dirname } from 'node:path';
import tls from 'node:tls';
import { ConfigError, UnsupportedConfigError } from '../common/errors.js';
import type { Logger } from '../common/logger.js';
import { dataSourceFile, readDataSource, type DataSourceConfig } from './data_source.js';
import { compileSanMatchers, type SanCheck, type SanMatcherConfig } from './san_matcher.js';
import { resolveSecrets, type SecretRefs } from './sds_context.js';
import { secretStore } from './sds.js';
import { registerWarmingTarget, type WarmingTarget } from './warming.js';
import { sharedSecureContext } from './secure_context_cache.js';

export interface CommonTlsContextConfig {
  tls_certificates?: { certificate_chain?: DataSourceConfig; private_key?: DataSourceConfig; [k: string]: unknown }[];
  validation_context?: { trusted_ca?: DataSourceConfig; match_typed_subject_alt_names?: SanMatcherConfig[]; [k: string]: unknown };
  alpn_protocols?: string[];
  tls_params?: { tls_minimum_protocol_version?: string; tls_maximum_protocol_version?: string; cipher_suites?: string[]; [k: string]: unknown };
  [k: string]: unknown;
}

const COMMON_FIELDS = new Set(['tls_certificates', 'validation_context', 'alpn_protocols', 'tls_params',
  'tls_certificate_sds_secret_configs', 'validation_context_sds_secret_config', 'combined_validation_context']);
const VERSIONS: Record<string, tls.SecureVersion | undefined> = {
  TLS_AUTO: undefined, TLSv1_0: 'TLSv1', TLSv1_1: 'TLSv1.1', TLSv1_2: 'TLSv1.2', TLSv1_3: 'TLSv1.3',
};
/** How often files are compared with what was loaded, in case a watch event was missed. */
const RESCAN_MS = 5_000;
/** Writers replace key and certificate one after the other: wait for both before reloading. */
const SETTLE_MS = 100;

function checkFields(obj: object, allowed: readonly string[], path: string): void {
  for (const key of Object.keys(obj)) if (!allowed.includes(key)) throw new UnsupportedConfigError(`${path}.${key}`, 'field');
}

interface Material {
  options: tls.SecureContextOptions; context: tls.SecureContext; fingerprint: string;
  hasTrustedCa: boolean; sanCheck: SanCheck | undefined;
}

export interface TlsContextRole {
  /** 'server': a certificate is required. 'client': optional (mTLS). */
  readonly side: 'server' | 'client';
  /** Envoy's defaults differ by side: downstream TLSv1.2..TLSv1.3, upstream TLSv1.2..TLSv1.2. */
  readonly defaultMin: tls.SecureVersion;
  readonly defaultMax: tls.SecureVersion;
}

export class ReloadableTlsContext implements WarmingTarget {
  readonly alpn: string[];
  /** SDS secrets not there at construction and still waited for (warming). */
  private readonly awaited = new Set<string>();
  private readonly fetchTimers: NodeJS.Timeout[] = [];
  private readonly warmWaiters = new Set<() => void>();
  /** Undefined until every SDS secret named is there. */
  private material: Material | undefined;
  private readonly refs: SecretRefs;
  private readonly unfollow: (() => void)[] = [];
  private readonly files: string[];
  private readonly watchers: FSWatcher[] = [];
  private rescan: NodeJS.Timeout | undefined;
  private settle: NodeJS.Timeout | undefined;
  private disposed = false;

  constructor(private readonly config: CommonTlsContextConfig, private readonly path: string, private readonly role: TlsContextRole,
    private readonly log: Logger | undefined) {
    checkFields(config, [...COMMON_FIELDS], path);
    this.alpn = config.alpn_protocols ?? [];
    this.refs = resolveSecrets(config, path);
    const store = secretStore();
    for (const ref of this.refs.all) {
      this.unfollow.push(store.follow(ref.name, ref.source, () => {
        this.stopWaiting(ref.name);
        if (this.material === undefined) this.firstLoad(); else this.reload();
      }, () => this.stopWaiting(ref.name, 'a response carrying it was rejected')));
    }
    try {
      this.firstLoad(true);
    } catch (e) {
      for (const u of this.unfollow) u();
      throw e;
    }
    // A static secret (no sds_config) is there from start-up or never: nothing to wait for.
    for (const ref of this.refs.all) {
      if (ref.initialFetchTimeoutMs === undefined || store.get(ref.name) !== undefined || this.awaited.has(ref.name)) continue;
      this.awaited.add(ref.name);
      if (ref.initialFetchTimeoutMs > 0) {
        const timer = setTimeout(() => this.stopWaiting(ref.name, `no version within the initial_fetch_timeout (${ref.initialFetchTimeoutMs} ms)`), ref.initialFetchTimeoutMs);
        timer.unref();
        this.fetchTimers.push(timer);
      }
    }
    if (this.awaited.size > 0) registerWarmingTarget(this);
    const vc = config.validation_context;
    this.files = [
      ...(config.tls_certificates ?? []).flatMap((c) => [dataSourceFile(c.certificate_chain), dataSourceFile(c.private_key)]),
      dataSourceFile(vc?.trusted_ca),
    ].filter((f): f is string => f !== undefined);
    if (this.files.length > 0) this.watch();
  }

  /** False while an SDS secret is still waited for (see the header); true for good once none is. */
  get warm(): boolean { return this.awaited.size === 0; }

  get awaitedSecrets(): readonly string[] { return [...this.awaited]; }

  whenWarm(onWarm: () => void): () => void {
    if (this.warm || this.disposed) return () => {};
    const once = (): void => { this.warmWaiters.delete(once); onWarm(); };
    this.warmWaiters.add(once);
    return () => { this.warmWaiters.delete(once); };
  }

  /** A secret arrived (no `reason`) or is no longer waited for (`reason`): the context may turn warm. */
  private stopWaiting(name: string, reason?: string): void {
    if (this.disposed || !this.awaited.delete(name)) return;
    if (reason !== undefined) this.log?.warn(`${this.path}: stopped waiting for SDS secret ${name}: ${reason}; handshakes fail until it comes`);
    if (this.awaited.size > 0) return;
    for (const t of this.fetchTimers) clearTimeout(t);
    this.fetchTimers.length = 0;
    for (const w of [...this.warmWaiters]) w();
  }

  /** Whether every secret is there and a context is built (handshakes need it). */
  get ready(): boolean { return this.material !== undefined; }

  /** The context new handshakes use. Only when `ready`. */
  get current(): tls.SecureContext { return this.mustHave().context; }

  /** The options the current context was built from (a client connection passes them to tls.connect). */
  get options(): tls.SecureContextOptions { return this.mustHave().options; }

  /** Whether peers' certificates are verified (a trusted CA is configured, inline or by SDS). */
  get hasTrustedCa(): boolean { return this.material?.hasTrustedCa ?? false; }

  get sanCheck(): SanCheck | undefined { return this.material?.sanCheck; }

  private mustHave(): Material {
    if (this.material === undefined) throw new ConfigError(this.path, `waiting for SDS secrets ${this.refs.all.map((r) => r.name).join(', ')}`);
    return this.material;
  }

  /** Builds the first material once every secret is there; at construction a bad inline config throws. */
  private firstLoad(atConstruction = false): void {
    if (this.disposed || this.material !== undefined) return;
    if (!this.refs.all.every((r) => secretStore().get(r.name) !== undefined)) return;
    try {
      this.material = this.load();
      if (!atConstruction) this.log?.info(`${this.path}: SDS secrets arrived; TLS ready`);
    } catch (e) {
      if (atConstruction) throw e;
      this.log?.warn(`${this.path}: SDS secret not usable: ${(e as Error).message}`);
    }
  }

  private load(): Material {
    const c = this.refs.effective(secretStore());
    const path = this.path;
    const vc = c.validation_context;
    if (vc !== undefined) checkFields(vc, ['trusted_ca', 'match_typed_subject_alt_names', 'match_subject_alt_names'], `${path}.validation_context`);
    const hasTrustedCa = vc?.trusted_ca !== undefined;
    // The deprecated untyped list: each matcher against every SAN type (Envoy's meaning).
    const legacy = ((vc?.match_subject_alt_names ?? []) as SanMatcherConfig['matcher'][])
      .flatMap((matcher) => (['DNS', 'URI', 'EMAIL', 'IP_ADDRESS'] as const).map((san_type) => ({ san_type, matcher }) as SanMatcherConfig));
    const typed = [...(vc?.match_typed_subject_alt_names ?? []), ...legacy];
    const sanCheck = compileSanMatchers(typed.length > 0 ? typed : undefined, `${path}.validation_context.match_typed_subject_alt_names`);
    if (sanCheck !== undefined && !hasTrustedCa) {
      throw new ConfigError(`${path}.validation_context.trusted_ca`, 'required to match subject alt names (a certificate is only matched once verified)');
    }
    const certs = (c.tls_certificates ?? []).map((tc, i) => {
      const at = `${path}.tls_certificates[${i}]`;
      checkFields(tc, ['certificate_chain', 'private_key'], at);
      return { cert: readDataSource(tc.certificate_chain, `${at}.certificate_chain`), key: readDataSource(tc.private_key, `${at}.private_key`) };
    });
    if (this.role.side === 'server' && certs.length === 0) throw new ConfigError(`${path}.tls_certificates`, 'a server needs a certificate');
    const ca = vc?.trusted_ca === undefined ? undefined : readDataSource(vc.trusted_ca, `${path}.validation_context.trusted_ca`);
    const params = this.config.tls_params ?? {};
    checkFields(params, ['tls_minimum_protocol_version', 'tls_maximum_protocol_version', 'cipher_suites'], `${path}.tls_params`);
    const version = (v: string | undefined, field: string, fallback: tls.SecureVersion): tls.SecureVersion => {
      if (v === undefined) return fallback;
      if (!(v in VERSIONS)) throw new UnsupportedConfigError(`${path}.tls_params.${field}`, `value ${v}`);
      return VERSIONS[v] ?? fallback;
    };
    const minVersion = version(params.tls_minimum_protocol_version, 'tls_minimum_protocol_version', this.role.defaultMin);
    const maxVersion = version(params.tls_maximum_protocol_version, 'tls_maximum_protocol_version', this.role.defaultMax);
    (params.cipher_suites ?? []).forEach((s, i) => {
      // BoringSSL's equal-preference groups ("[A|B]") have no OpenSSL equivalent.
      if (s.includes('[') || s.includes('|')) throw new UnsupportedConfigError(`${path}.tls_params.cipher_suites[${i}]`, `equal-preference cipher group ${s}`);
    });
    const options: tls.SecureContextOptions = {
      minVersion, maxVersion,
      ...(certs.length > 0 ? { cert: certs.map((x) => x.cert), key: certs.map((x) => x.key) } : {}),
      ...(ca !== undefined ? { ca } : {}),
      ...(params.cipher_suites !== undefined && params.cipher_suites.length > 0 ? { ciphers: params.cipher_suites.join(':') } : {}),
    };
    let context: tls.SecureContext;
    try {
      context = sharedSecureContext(options);
    } catch (e) {
      const msg = (e as Error).message;
      const field = /cipher/i.test(msg) ? 'tls_params.cipher_suites' : /version/i.test(msg) ? 'tls_params' : 'tls_certificates';
      throw new ConfigError(`${path}.${field}`, msg);
    }
    const fingerprint = [...certs.flatMap((x) => [x.cert, x.key]), ca ?? Buffer.alloc(0)].map((b) => b.toString('base64')).join('|')
      + `|${JSON.stringify(typed)}`;
    return { options, context, fingerprint, hasTrustedCa, sanCheck };
  }

  private watch(): void {
    for (const dir of new Set(this.files.map((f) => dirname(f)))) {
      try {
        const w = watch(dir, { persistent: false }, () => this.changed());
        w.on('error', () => {}); // the rescan still runs
        this.watchers.push(w);
      } catch (e) {
        this.log?.warn(`${this.path}: cannot watch ${dir} (${(e as Error).message}); rescanning every ${RESCAN_MS} ms`);
      }
    }
    this.rescan = setInterval(() => this.reload(), RESCAN_MS);
    this.rescan.unref();
  }

  private changed(): void {
    if (this.settle !== undefined || this.disposed) return;
    this.settle = setTimeout(() => { this.settle = undefined; this.reload(); }, SETTLE_MS);
    this.settle.unref();
  }

  /** Re-reads the files; swaps the context in when they changed and still make a valid one. */
  reload(): boolean {
    if (this.disposed) return false;
    if (this.material === undefined) { this.firstLoad(); return this.material !== undefined; }
    let next: Material;
    try {
      next = this.load();
    } catch (e) {
      this.log?.warn(`${this.path}: certificate reload failed, keeping the previous one: ${(e as Error).message}`);
      return false;
    }
    if (next.fingerprint === this.material.fingerprint) return false;
    this.material = next;
    this.log?.info(`${this.path}: certificates reloaded`);
    return true;
  }

  dispose(): void {
    this.disposed = true;
    for (const t of this.fetchTimers) clearTimeout(t);
    this.warmWaiters.clear();
    for (const u of this.unfollow) u();
    for (const w of this.watchers) w.close();
    if (this.rescan !== undefined) clearInterval(this.rescan);
    if (this.settle !== undefined) clearTimeout(this.settle);
  }
}
