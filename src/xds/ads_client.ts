/**
 * The ADS client: one gRPC stream (AggregatedDiscoveryService) to the control plane that carries LDS, CDS
 * (wildcard) and RDS, EDS (names the caller subscribes), state of the world (`api_type: GRPC`) or delta
 * (`DELTA_GRPC`), as Envoy speaks it.
 *
 * Responses arrive as raw bytes (envelope.ts reads their envelope). Every resource of a response is decoded and
 * validated (resource_check.ts: inline for small responses, on the xDS worker thread for large ones, offload.ts),
 * then the whole response is handed to the type's handler in one call; only if that returns is it committed and ACKed. Any problem (bad bytes, an
 * invalid field, an unknown type URL, a duplicate name, a throwing handler) NACKs it naming the resource and
 * field, and the last accepted resources stay. A stream that breaks mid-push therefore never half-applies:
 * what was not received whole was never handed over. The client reconnects with jittered exponential backoff
 * and, on a new stream, asks again for what it follows, telling the server what it already has.
 */
import * as grpc from '@grpc/grpc-js';
import { ConfigError, SkiffError, UnsupportedConfigError } from '../common/errors.js';
import { logger } from '../common/logger.js';
import type { Counter, Gauge, StatsStore } from '../common/stats.js';
import { StatsStore as DefaultStatsStore } from '../common/stats.js';
import { decodeAnyResource, envoyJson } from './decode_any.js';
import type { Duration } from '../types/envoy.js';
import { jsonToStruct } from './any_json.js';
import { JitteredBackoff, type BackoffOptions } from './backoff.js';
import { EnvelopeError, peekName, readDeltaResponse, readSotwResponse, type DeltaEnvelope, type ResourceRef, type SotwEnvelope } from './envelope.js';
import { XdsOffload, type OffloadJob, type OffloadOptions, type PreparerRef, type ResultEntry } from './offload.js';
import {
  ADS_SERVICE, RESOURCE_TYPE_URLS, TYPE_URL,
  type DeltaDiscoveryRequest, type DiscoveryRequest,
} from './protocol.js';
import { checkDecoded, decodeNamed, resourcePath, SHORT_NAMES, unpackError } from './resource_check.js';
import { TokenBucket } from './rate_limit.js';
import type {
  DynamicResourcesConfig, InitialFetchOutcome, NodeConfig, UpdateHandler, UpdateOptions, XdsResource, XdsUpdate,
} from './types.js';

const log = logger('xds');

/** google.rpc.Code.INVALID_ARGUMENT, what Envoy puts in a NACK's error_detail. */
const INVALID_ARGUMENT = 3;
/** Envoy's default initial_fetch_timeout. */
const DEFAULT_INITIAL_FETCH_TIMEOUT_MS = 15_000;
const EMPTY = new Uint8Array(0);

/** Envoy's stat prefixes for the types whose stats are not per resource; the caller may map RDS/EDS. */
export const DEFAULT_STAT_PREFIXES: Readonly<Record<string, string>> = {
  [TYPE_URL.cluster]: 'cluster_manager.cds.',
  [TYPE_URL.listener]: 'listener_manager.lds.',
  [TYPE_URL.route]: 'xds.rds.',
  [TYPE_URL.endpoint]: 'xds.eds.',
  [TYPE_URL.secret]: 'xds.sds.',
};

export interface AdsClientOptions {
  dynamicResources: DynamicResourcesConfig;
  node: NodeConfig;
  /** envoy_grpc cluster_name -> "host:port" (clusters live in the cluster manager); undefined = not yet known. */
  resolveCluster?: (clusterName: string) => string | undefined;
  stats?: StatsStore;
  /** Stat prefix per type URL, ending with '.', e.g. `http.ingress.rds.local_route.` */
  statPrefixes?: Record<string, string>;
  backoff?: BackoffOptions;
  /**
   * Check each resource against PGV rules and Skiff's supported subset (validateResource), not only decode it.
   * Default true: a resource Skiff cannot run is NACKed rather than accepted and failed later.
   */
  validate?: boolean;
  /** Lets a test use a clock it controls for the rate limiter; defaults to performance.now. */
  now?: () => number;
  /** Other method paths than ADS's, for a single-type discovery service (SDS's StreamSecrets / DeltaSecrets). */
  methods?: { sotw: string; delta: string };
  /**
   * Large responses are decoded and checked on a worker thread (offload.ts) when this is set: at least `minBytes`
   * (default 256 KiB; the SKIFF_XDS_OFFLOAD_MIN_BYTES environment variable overrides it, 0 sends every response,
   * and enables the worker when this is unset). Unset or `false` = inline (the default).
   * `startEagerly` (or SKIFF_XDS_OFFLOAD_START=eager) starts the worker with the client instead of on the first
   * large response: its ~30 MiB are then paid before any large push comes (or none ever does).
   */
  offload?: (OffloadOptions & { startEagerly?: boolean }) | false;
}

export interface SubscribeOptions {
  /** ms; 0 disables. Defaults: the lds_config / cds_config value for LDS / CDS, 15 s otherwise. */
  initialFetchTimeoutMs?: number;
}

interface TypeStats {
  updateAttempt: Counter;
  updateSuccess: Counter;
  updateRejected: Counter;
  updateFailure: Counter;
  initFetchTimeout: Counter;
  version: Gauge;
  updateTime: Gauge;
}

/**
 * An accepted resource: the decoded shape, and the packed bytes (to tell a changed resource from a repeated one,
 * and to print Envoy's JSON form for /config_dump when asked, instead of keeping a second tree per resource).
 */
class StoredResource implements XdsResource {
  constructor(
    readonly name: string,
    readonly version: string,
    /** The decoded shape while the update is applied; dropped after (release), decoded again if read. */
    private decoded: Record<string, unknown> | undefined,
    readonly bytes: Uint8Array,
    private readonly typeUrl: string,
  ) {}

  /** What the type's prepare hook made of it, if the type has one. */
  prepared?: unknown;

  get resource(): Record<string, unknown> {
    return this.decoded ?? decodeAnyResource({ type_url: this.typeUrl, value: this.bytes }, this.name).value;
  }

  /**
   * Forgets the decoded shape once applied: what the server built from it (clusters, host sets) is what runs,
   * and 10 000 decoded assignments would otherwise stay in memory twice over. Readers decode the bytes again.
   */
  release(): void {
    this.decoded = undefined;
  }

  /** The same resource under another response's version_info (state of the world resends unchanged ones). */
  withVersion(version: string): StoredResource {
    const copy = new StoredResource(this.name, version, undefined, this.bytes, this.typeUrl);
    copy.prepared = this.prepared;
    return copy;
  }

  get json(): Record<string, unknown> {
    return envoyJson(this.typeUrl, this.bytes, `${SHORT_NAMES[this.typeUrl]} ${JSON.stringify(this.name)}`);
  }
}

interface TypeState {
  typeUrl: string;
  wildcard: boolean;
  names: Set<string>;
  handler?: UpdateHandler;
  /** Runs on each resource as it is decoded (see UpdateOptions.prepare). */
  prepare?: (resource: XdsResource) => unknown;
  /** The same, importable by the worker thread (UpdateOptions.preparer). */
  preparer?: PreparerRef;
  resources: Map<string, StoredResource>;
  /** Last accepted version_info (SotW) or system_version_info (delta). */
  versionInfo: string;
  /** Last nonce received on the current stream. */
  nonce: string;
  /** Whether this type's first request went out on the current stream. */
  requested: boolean;
  /** Delta: names subscribed / unsubscribed since the last request on this stream. */
  pendingSubscribe: Set<string>;
  pendingUnsubscribe: Set<string>;
  stats: TypeStats;
  initialFetchTimeoutMs: number;
  initialFetch?: { timer?: NodeJS.Timeout; settled: boolean; promise: Promise<InitialFetchOutcome>; resolve(o: InitialFetchOutcome): void };
}

/** Responses arrive as their undecoded bytes (an identity deserializer): see envelope.ts. */
type AdsStream = grpc.ClientDuplexStream<DiscoveryRequest | DeltaDiscoveryRequest, Buffer>;

/** Identity: the ADS stream's responses reach the client as bytes, decoded resource by resource later. */
const rawBytes = (b: Buffer): Buffer => b;

/** The offload threshold from the environment (benchmarks and the test matrix), if set. */
function envOffloadMinBytes(): number | undefined {
  const v = process.env.SKIFF_XDS_OFFLOAD_MIN_BYTES;
  if (v === undefined || v === '') return undefined;
  const n = v === 'off' ? Infinity : Number(v);
  return Number.isFinite(n) && n >= 0 ? n : n === Infinity ? Infinity : undefined;
}

function durationMs(d: Duration | undefined): number | undefined {
  if (!d) return undefined;
  return Number(d.seconds ?? 0) * 1000 + Math.floor(Number(d.nanos ?? 0) / 1e6);
}

/** FNV-1a of the version string: Envoy's `version` gauge is a hash of the last accepted version. */
function versionHash(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.compare(a, b) === 0;
}

/** What a config error says, for error_detail: the field path leads. */
function describeError(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export class AdsClient {
  readonly delta: boolean;
  private readonly types = new Map<string, TypeState>();
  private readonly rejectedListeners: ((typeUrl: string, error: unknown, versionInfo: string) => void)[] = [];
  private readonly stats: StatsStore;
  private readonly connectedState: Gauge;
  private readonly rateLimitEnforced: Counter;
  private readonly pendingRequests: Gauge;
  private readonly backoff: JitteredBackoff;
  private readonly limiter?: TokenBucket;
  private readonly queue: (DiscoveryRequest | DeltaDiscoveryRequest)[] = [];
  private queueTimer?: NodeJS.Timeout;
  private readonly node: Record<string, unknown>;
  private readonly nodeOnFirstMessageOnly: boolean;
  private grpcClient?: grpc.Client;
  private stream?: AdsStream;
  private nodeSent = false;
  private reconnectTimer?: NodeJS.Timeout;
  private started = false;
  private closed = false;
  private connected = false;
  /** Counts streams so events of a finished one are ignored. */
  private generation = 0;
  /** The response being handled (responses are handled one after the other). */
  private inbox: Promise<void> = Promise.resolve();
  /** The worker thread for large responses (undefined: everything inline). */
  private readonly offload?: XdsOffload;
  private readonly offloadEagerly: boolean;

  constructor(private readonly options: AdsClientOptions) {
    const dyn = options.dynamicResources;
    const ads = dyn.ads_config;
    if (!ads) throw new ConfigError('dynamic_resources.ads_config', 'required: Skiff follows a control plane over ADS only');
    const apiType = ads.api_type ?? 'GRPC';
    if (apiType !== 'GRPC' && apiType !== 'DELTA_GRPC') {
      throw new UnsupportedConfigError('dynamic_resources.ads_config.api_type', `api_type ${apiType} (GRPC or DELTA_GRPC)`);
    }
    this.delta = apiType === 'DELTA_GRPC';
    const services = ads.grpc_services ?? [];
    if (services.length !== 1) throw new ConfigError('dynamic_resources.ads_config.grpc_services', `exactly one gRPC service expected, got ${services.length}`);
    const svc = services[0]!;
    if (!svc.envoy_grpc && !svc.google_grpc) throw new ConfigError('dynamic_resources.ads_config.grpc_services[0]', 'envoy_grpc or google_grpc required');
    if (svc.envoy_grpc && !options.resolveCluster) {
      throw new ConfigError('dynamic_resources.ads_config.grpc_services[0].envoy_grpc', 'a cluster resolver is needed for envoy_grpc');
    }
    for (const key of Object.keys(dyn)) {
      if (key !== 'ads_config' && key !== 'lds_config' && key !== 'cds_config') {
        throw new UnsupportedConfigError(`dynamic_resources.${key}`, 'field');
      }
    }
    this.stats = options.stats ?? new DefaultStatsStore();
    this.connectedState = this.stats.gauge('control_plane.connected_state');
    this.rateLimitEnforced = this.stats.counter('control_plane.rate_limit_enforced');
    this.pendingRequests = this.stats.gauge('control_plane.pending_requests');
    this.backoff = new JitteredBackoff(options.backoff);
    if (ads.rate_limit_settings) {
      // Envoy's defaults: 100 tokens, 10 per second.
      this.limiter = new TokenBucket(ads.rate_limit_settings.max_tokens?.value ?? 100, ads.rate_limit_settings.fill_rate?.value ?? 10,
        options.now ?? (() => performance.now()));
    }
    // The xDS worker is opt-in (an `offload` option, or SKIFF_XDS_OFFLOAD_MIN_BYTES): on a 2-core machine its
    // decoding competes with the main thread for a core and its heap stays resident, so the scale bench measured
    // it slower (push -> applied 1.7-2.0 s vs 1.3-1.7 s inline) and 30-40 MiB heavier; with spare cores it takes
    // 20-30 % of the decode work off the thread that serves traffic.
    const offload = options.offload ?? false;
    const minBytes = envOffloadMinBytes() ?? (offload === false ? Infinity : offload.minBytes);
    if (Number.isFinite(minBytes ?? 0)) this.offload = new XdsOffload({ ...(offload || {}), minBytes });
    this.offloadEagerly = offload !== false && (offload.startEagerly ?? process.env.SKIFF_XDS_OFFLOAD_START === 'eager');
    this.nodeOnFirstMessageOnly = ads.set_node_on_first_message_only ?? false;
    this.node = this.nodeMessage(options.node);
    for (const [field, typeUrl] of [['lds_config', TYPE_URL.listener], ['cds_config', TYPE_URL.cluster]] as const) {
      const source = dyn[field];
      if (!source) continue;
      for (const key of Object.keys(source)) {
        if (key !== 'ads' && key !== 'initial_fetch_timeout' && key !== 'resource_api_version') {
          throw new UnsupportedConfigError(`dynamic_resources.${field}.${key}`, 'config source (only ads: {})');
        }
      }
      if (!source.ads) throw new ConfigError(`dynamic_resources.${field}`, 'ads: {} required');
      const state = this.state(typeUrl);
      state.wildcard = true;
      state.initialFetchTimeoutMs = durationMs(source.initial_fetch_timeout) ?? DEFAULT_INITIAL_FETCH_TIMEOUT_MS;
    }
  }

  /**
   * Registers a listener told of every NACKed response (its type, the error and the version it carried), for
   * /config_dump's error_state and per-resource stats. It must not throw.
   */
  onRejected(listener: (typeUrl: string, error: unknown, versionInfo: string) => void): void {
    this.rejectedListeners.push(listener);
  }

  /** Registers the one handler of a type. It gets every accepted change of that type; throwing NACKs it. */
  onUpdate(typeUrl: string, handler: UpdateHandler, options: UpdateOptions = {}): void {
    const state = this.state(typeUrl);
    if (state.handler) throw new SkiffError('SKIFF_XDS_HANDLER_EXISTS', `a handler for ${typeUrl} is already registered`, 'internal');
    state.handler = handler;
    state.prepare = options.prepare;
    state.preparer = options.preparer;
  }

  /**
   * Sets the names followed for a type (RDS, EDS; '*' = wildcard, as LDS and CDS are by default). Names
   * no longer followed are forgotten without an update event (the caller dropped them).
   */
  subscribe(typeUrl: string, names: readonly string[] | '*', options: SubscribeOptions = {}): void {
    const state = this.state(typeUrl);
    if (options.initialFetchTimeoutMs !== undefined) state.initialFetchTimeoutMs = options.initialFetchTimeoutMs;
    const next = names === '*' ? new Set<string>() : new Set(names);
    const wildcard = names === '*';
    const added = [...next].filter((n) => !state.names.has(n));
    const dropped = [...state.names].filter((n) => !next.has(n));
    const changed = wildcard !== state.wildcard || added.length > 0 || dropped.length > 0;
    state.wildcard = wildcard;
    state.names = next;
    if (!wildcard) for (const n of dropped) state.resources.delete(n);
    for (const n of added) { state.pendingSubscribe.add(n); state.pendingUnsubscribe.delete(n); }
    for (const n of dropped) { state.pendingUnsubscribe.add(n); state.pendingSubscribe.delete(n); }
    if (changed && this.started && this.interested(state)) this.armInitialFetch(state);
    if (!changed || !this.stream || !this.connectedOrOpening()) return;
    if (!state.requested) this.requestType(state);
    else if (this.delta) this.sendDelta(state, {});
    else this.sendSotw(state, {});
  }

  /** Opens the stream (and reconnects it until close()). */
  start(): void {
    if (this.started) return;
    this.started = true;
    if (this.offloadEagerly) this.offload?.start();
    for (const state of this.types.values()) if (this.interested(state)) this.armInitialFetch(state);
    this.connect();
  }

  /** Stops everything: the stream, timers, the gRPC channel. Accepted resources stay readable. */
  close(): void {
    this.closed = true;
    this.generation++;
    clearTimeout(this.reconnectTimer);
    clearTimeout(this.queueTimer);
    this.queue.length = 0;
    this.pendingRequests.set(0);
    for (const state of this.types.values()) clearTimeout(state.initialFetch?.timer);
    this.dropStream();
    this.offload?.close();
    this.setConnected(false);
  }

  /** Whether the xDS worker thread is running (tests). */
  offloadRunning(): boolean {
    return this.offload?.running() ?? false;
  }

  /** Settles with the first outcome of a type's initial fetch: accepted, rejected, or initial_fetch_timeout. */
  initialFetch(typeUrl: string): Promise<InitialFetchOutcome> {
    const state = this.state(typeUrl);
    return this.ensureInitialFetch(state).promise;
  }

  /** The last accepted resources of a type (kept while disconnected). */
  resources(typeUrl: string): ReadonlyMap<string, XdsResource> {
    return this.state(typeUrl).resources;
  }

  /** The last accepted version_info / system_version_info of a type ('' before any). */
  versionInfo(typeUrl: string): string {
    return this.state(typeUrl).versionInfo;
  }

  isConnected(): boolean {
    return this.connected;
  }

  // ---- state ----

  private state(typeUrl: string): TypeState {
    let s = this.types.get(typeUrl);
    if (s) return s;
    if (!RESOURCE_TYPE_URLS.includes(typeUrl)) throw new SkiffError('SKIFF_XDS_UNKNOWN_TYPE', `unknown xDS type URL ${typeUrl}`, 'internal');
    const prefix = this.options.statPrefixes?.[typeUrl] ?? DEFAULT_STAT_PREFIXES[typeUrl]!;
    const scope = this.options.stats ?? this.stats;
    s = {
      typeUrl, wildcard: false, names: new Set(), resources: new Map(), versionInfo: '', nonce: '', requested: false,
      pendingSubscribe: new Set(), pendingUnsubscribe: new Set(),
      initialFetchTimeoutMs: DEFAULT_INITIAL_FETCH_TIMEOUT_MS,
      stats: {
        updateAttempt: scope.counter(prefix + 'update_attempt'),
        updateSuccess: scope.counter(prefix + 'update_success'),
        updateRejected: scope.counter(prefix + 'update_rejected'),
        updateFailure: scope.counter(prefix + 'update_failure'),
        initFetchTimeout: scope.counter(prefix + 'init_fetch_timeout'),
        version: scope.gauge(prefix + 'version'),
        updateTime: scope.gauge(prefix + 'update_time'),
      },
    };
    this.types.set(typeUrl, s);
    return s;
  }

  private interested(state: TypeState): boolean {
    return state.wildcard || state.names.size > 0;
  }

  private ensureInitialFetch(state: TypeState): NonNullable<TypeState['initialFetch']> {
    if (!state.initialFetch) {
      let resolve!: (o: InitialFetchOutcome) => void;
      const promise = new Promise<InitialFetchOutcome>((r) => { resolve = r; });
      state.initialFetch = { settled: false, promise, resolve };
    }
    return state.initialFetch;
  }

  private armInitialFetch(state: TypeState): void {
    const fetch = this.ensureInitialFetch(state);
    if (fetch.settled || fetch.timer || state.initialFetchTimeoutMs <= 0) return;
    fetch.timer = setTimeout(() => {
      state.stats.initFetchTimeout.inc();
      log.warn(`${state.typeUrl}: initial_fetch_timeout (${state.initialFetchTimeoutMs} ms) passed without a response`);
      this.settleInitialFetch(state, 'timeout');
    }, state.initialFetchTimeoutMs);
    fetch.timer.unref?.();
  }

  private settleInitialFetch(state: TypeState, outcome: InitialFetchOutcome): void {
    const fetch = this.ensureInitialFetch(state);
    if (fetch.settled) return;
    fetch.settled = true;
    clearTimeout(fetch.timer);
    fetch.resolve(outcome);
  }

  // ---- connection ----

  private target(): string | undefined {
    const svc = this.options.dynamicResources.ads_config!.grpc_services![0]!;
    if (svc.google_grpc) return svc.google_grpc.target_uri;
    return this.options.resolveCluster!(svc.envoy_grpc!.cluster_name);
  }

  private connectedOrOpening(): boolean {
    return this.stream !== undefined && !this.closed;
  }

  private connect(): void {
    if (this.closed) return;
    const target = this.target();
    if (!target) {
      log.warn('xDS server address not known yet; retrying');
      this.streamFailed(this.generation);
      return;
    }
    const generation = ++this.generation;
    // A fresh channel per attempt: grpc-js's own subchannel backoff would otherwise stack on ours.
    this.grpcClient = new grpc.Client(target, grpc.credentials.createInsecure(), {
      'grpc.keepalive_time_ms': 30_000,
      'grpc.max_receive_message_length': 256 * 1024 * 1024,
    });
    const method = this.delta ? ADS_SERVICE.DeltaAggregatedResources : ADS_SERVICE.StreamAggregatedResources;
    const stream = this.grpcClient.makeBidiStreamRequest(
      this.options.methods ? (this.delta ? this.options.methods.delta : this.options.methods.sotw) : method.path,
      method.requestSerialize as (m: DiscoveryRequest | DeltaDiscoveryRequest) => Buffer,
      rawBytes,
    ) as AdsStream;
    this.stream = stream;
    this.nodeSent = false;
    for (const state of this.types.values()) {
      state.requested = false;
      state.nonce = '';
      state.pendingSubscribe.clear();
      state.pendingUnsubscribe.clear();
    }
    stream.on('metadata', () => { if (generation === this.generation) this.setConnected(true); });
    stream.on('data', (raw: Buffer) => {
      if (generation !== this.generation) return;
      let envelope: SotwEnvelope | DeltaEnvelope;
      try {
        envelope = this.delta ? readDeltaResponse(raw) : readSotwResponse(raw);
      } catch (err) {
        // As grpc-js does with a message it cannot parse: the stream is dropped (and opened again).
        log.warn(`ADS stream to ${target}: ${err instanceof EnvelopeError ? err.message : describeError(err)}`);
        this.streamFailed(generation);
        return;
      }
      this.setConnected(true);
      this.backoff.reset();
      // A large response goes to the worker thread at once (it may decode while an earlier one is applied here).
      const job = this.dispatch(envelope, raw);
      // One response at a time, in order: a large one is decoded and applied in slices (see Slicer), and the
      // next waits for it.
      this.inbox = this.inbox
        .then(() => (this.delta ? this.onDeltaResponse(envelope as DeltaEnvelope, raw, job, generation) : this.onSotwResponse(envelope as SotwEnvelope, raw, job, generation)))
        .catch((err: unknown) => log.error(`xDS response handling failed: ${describeError(err)}`));
    });
    stream.on('error', (err: grpc.ServiceError) => {
      if (generation !== this.generation) return;
      log.warn(`ADS stream to ${target} failed: ${err.code} ${err.details || err.message}`);
      this.streamFailed(generation);
    });
    stream.on('end', () => {
      if (generation !== this.generation) return;
      log.info(`ADS stream to ${target} ended by the server`);
      this.streamFailed(generation);
    });
    // Envoy asks for clusters first (CDS, then EDS), then listeners (LDS, then RDS).
    for (const typeUrl of RESOURCE_TYPE_URLS) {
      const state = this.types.get(typeUrl);
      if (state && this.interested(state)) this.requestType(state);
    }
  }

  private setConnected(up: boolean): void {
    this.connected = up;
    this.connectedState.set(up ? 1 : 0);
  }

  private dropStream(): void {
    const stream = this.stream;
    const client = this.grpcClient;
    this.stream = undefined;
    this.grpcClient = undefined;
    if (stream) {
      stream.removeAllListeners('data');
      stream.on('error', () => { /* cancelled by us */ });
      stream.cancel();
    }
    client?.close();
  }

  private streamFailed(generation: number): void {
    if (this.closed || generation !== this.generation) return;
    this.generation++;
    this.dropStream();
    // What the worker has not decoded yet of this stream's responses is not wanted any more.
    this.offload?.cancelAll();
    this.setConnected(false);
    this.queue.length = 0;
    this.pendingRequests.set(0);
    clearTimeout(this.queueTimer);
    this.queueTimer = undefined;
    for (const state of this.types.values()) if (this.interested(state)) state.stats.updateFailure.inc();
    const delay = this.backoff.next();
    log.debug(`reconnecting to the xDS server in ${delay} ms`);
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = setTimeout(() => this.connect(), delay);
  }

  // ---- requests ----

  private nodeMessage(node: NodeConfig): Record<string, unknown> {
    const { metadata, ...rest } = node;
    const out: Record<string, unknown> = { user_agent_name: 'skiff', ...rest };
    if (metadata) out.metadata = jsonToStruct(metadata);
    return out;
  }

  private withNode<T extends { node?: Record<string, unknown> }>(msg: T): T {
    if (!this.nodeSent || !this.nodeOnFirstMessageOnly) msg.node = this.node;
    this.nodeSent = true;
    return msg;
  }

  private requestType(state: TypeState): void {
    state.requested = true;
    if (this.started) this.armInitialFetch(state);
    if (this.delta) {
      const initial: Record<string, string> = {};
      for (const [name, r] of state.resources) initial[name] = r.version;
      state.pendingSubscribe.clear();
      state.pendingUnsubscribe.clear();
      // An empty first subscribe list is the (legacy) wildcard every delta server understands.
      this.send(this.withNode<DeltaDiscoveryRequest>({
        type_url: state.typeUrl,
        resource_names_subscribe: state.wildcard ? [] : [...state.names],
        initial_resource_versions: initial,
      }));
    } else {
      this.sendSotw(state, {});
    }
  }

  private sendSotw(state: TypeState, extra: { version?: string; error?: string }): void {
    const msg: DiscoveryRequest = {
      version_info: extra.version ?? state.versionInfo,
      resource_names: state.wildcard ? [] : [...state.names],
      type_url: state.typeUrl,
      response_nonce: state.nonce,
    };
    if (extra.error !== undefined) msg.error_detail = { code: INVALID_ARGUMENT, message: extra.error };
    this.send(this.withNode(msg));
  }

  private sendDelta(state: TypeState, extra: { nonce?: string; error?: string }): void {
    const msg: DeltaDiscoveryRequest = {
      type_url: state.typeUrl,
      resource_names_subscribe: [...state.pendingSubscribe],
      resource_names_unsubscribe: [...state.pendingUnsubscribe],
    };
    state.pendingSubscribe.clear();
    state.pendingUnsubscribe.clear();
    if (extra.nonce !== undefined) msg.response_nonce = extra.nonce;
    if (extra.error !== undefined) msg.error_detail = { code: INVALID_ARGUMENT, message: extra.error };
    this.send(this.withNode(msg));
  }

  private send(msg: DiscoveryRequest | DeltaDiscoveryRequest): void {
    if (!this.stream) return;
    if (this.limiter && (this.queue.length > 0 || !this.limiter.take())) {
      this.rateLimitEnforced.inc();
      this.queue.push(msg);
      this.pendingRequests.set(this.queue.length);
      this.scheduleQueue();
      return;
    }
    this.stream.write(msg);
  }

  /** Drains rate-limited requests in order as tokens refill (bounded by the queue's length). */
  private scheduleQueue(): void {
    if (this.queueTimer || !this.limiter) return;
    this.queueTimer = setTimeout(() => {
      this.queueTimer = undefined;
      while (this.queue.length > 0 && this.stream && this.limiter!.take()) this.stream.write(this.queue.shift()!);
      this.pendingRequests.set(this.queue.length);
      if (this.queue.length > 0) this.scheduleQueue();
    }, this.limiter.msUntilToken());
  }

  // ---- responses ----

  /**
   * Sends a large response's resources to the worker thread as soon as it arrives (undefined: decoded inline).
   * State of the world: resources whose bytes equal the held ones are left out (the handler reuses those), judged
   * against what is held now; a resource that changes status before its turn is decoded inline then.
   */
  private dispatch(env: SotwEnvelope | DeltaEnvelope, raw: Buffer): OffloadJob | undefined {
    if (this.offload === undefined || !this.offload.wants(raw.length)) return undefined;
    const state = this.unknownType(env.typeUrl);
    if (state === undefined) return undefined;
    const typeUrl = state.typeUrl;
    const refs: readonly (ResourceRef | undefined)[] = 'removed' in env ? env.resources.map((d) => d.resource) : env.resources;
    const items = new Uint32Array(refs.length * 3);
    let n = 0;
    const held = 'removed' in env ? undefined : state.resources;
    for (let i = 0; i < refs.length; i++) {
      const ref = refs[i];
      if (ref === undefined || ref.typeUrl !== typeUrl) continue; // rejected before any decoding
      if (held !== undefined && held.size > 0) {
        const value = raw.subarray(ref.start, ref.end);
        const name = peekName(value);
        const before = name === undefined ? undefined : held.get(name);
        if (before !== undefined && sameBytes(before.bytes, value)) continue;
      }
      items[n++] = i;
      items[n++] = ref.start;
      items[n++] = ref.end;
    }
    if (n === 0) return undefined;
    return this.offload.submit(typeUrl, raw, items.slice(0, n), this.options.validate !== false, state.prepare ? state.preparer : undefined);
  }

  /**
   * The resource at `index`: from the worker's result when it has one (waiting for it if it is on its way), else
   * decoded and checked here. Returns undefined for a resource of a named subscription that was not asked for
   * (Envoy ignores those) and `STALE` when the stream broke while waiting. Throws a ConfigError naming the resource
   * and the field.
   */
  private async resourceAt(state: TypeState, raw: Buffer, ref: ResourceRef, index: number, version: string,
    job: OffloadJob, generation: number, slicer: Slicer): Promise<StoredResource | undefined | typeof STALE> {
    await job.wait(index);
    slicer.restart();
    if (!this.current(generation)) return STALE;
    return this.resourceNow(state, raw, ref, index, version, job);
  }

  /** Whether the resource at `index` is on its way from the worker (the caller awaits resourceAt then). */
  private awaited(job: OffloadJob | undefined, index: number): job is OffloadJob {
    return job !== undefined && job.sent(index) && job.get(index) === undefined && !job.done;
  }

  /** resourceAt when nothing is to be waited for (most resources: no promise per resource). */
  private resourceNow(state: TypeState, raw: Buffer, ref: ResourceRef, index: number, version: string, job: OffloadJob | undefined): StoredResource | undefined {
    const entry = job?.get(index);
    if (entry !== undefined) return this.fromWorker(state, entry, raw.subarray(ref.start, ref.end), version, job!.prepared);
    // Not sent to the worker (or it failed before it got here): decoded here.
    return this.decodeOne(state, raw.subarray(ref.start, ref.end), index, version);
  }

  /** A resource the worker decoded and checked: the same rules as decodeOne, from its result. */
  private fromWorker(state: TypeState, entry: ResultEntry, bytes: Uint8Array, version: string, prepared: boolean): StoredResource | undefined {
    if (entry.decodeFailed || entry.name === undefined) throw unpackError(entry.error ?? { kind: 'error', message: 'resource not decoded' });
    const name = entry.name;
    if (!state.wildcard && !state.names.has(name)) {
      log.debug(`${SHORT_NAMES[state.typeUrl]} ${JSON.stringify(name)} was not subscribed; ignored`);
      return undefined;
    }
    if (entry.error !== undefined) throw unpackError(entry.error);
    const path = resourcePath(state.typeUrl, name);
    for (const w of entry.warnings ?? []) log.warn(`${path}: ${w}`);
    // The decoded tree stayed on the worker: reading `resource` decodes these bytes again (only handlers that need it do).
    const stored = new StoredResource(name, version, undefined, Buffer.from(bytes), state.typeUrl);
    if (state.prepare) stored.prepared = prepared ? entry.prepared : state.prepare(stored);
    return stored;
  }

  /**
   * Decodes and validates one resource of a response (its packed bytes) here; throws a ConfigError naming it and
   * the field. Returns undefined for a resource of a named subscription that was not asked for.
   */
  private decodeOne(state: TypeState, bytes: Uint8Array, index: number, version: string): StoredResource | undefined {
    const typeUrl = state.typeUrl;
    const { decoded, name } = decodeNamed(typeUrl, bytes, index);
    if (!state.wildcard && !state.names.has(name)) {
      log.debug(`${SHORT_NAMES[typeUrl]} ${JSON.stringify(name)} was not subscribed; ignored`);
      return undefined;
    }
    const path = resourcePath(typeUrl, name);
    for (const w of checkDecoded(decoded, path, this.options.validate !== false)) log.warn(`${path}: ${w}`);
    // A copy, not a view: a view would pin the whole response buffer for as long as this one resource lives.
    // Kept for both modes: it tells a changed resource from a repeated one, and /config_dump's JSON comes from it.
    // Buffer.from copies small resources into Node's shared 8 KiB pool: no ArrayBuffer of its own per resource.
    const stored = new StoredResource(name, version, decoded.value, bytes.length > 0 ? Buffer.from(bytes) : EMPTY, typeUrl);
    if (state.prepare) {
      // What the handler needs, made now, so the decoded tree dies young (not kept until the whole response is in).
      stored.prepared = state.prepare(stored);
      stored.release();
    }
    return stored;
  }

  /** The type-URL check every resource passes before it is decoded. */
  private checkRef(state: TypeState, ref: ResourceRef | undefined, index: number): ResourceRef {
    if (ref === undefined) throw new ConfigError(`resources[${index}]`, 'missing resource');
    if (ref.typeUrl !== state.typeUrl) throw new ConfigError(`resources[${index}]`, `type URL ${ref.typeUrl} in a response for ${state.typeUrl}`);
    return ref;
  }

  /** Runs the handler on the whole change, then commits it; throws (nothing committed) if anything fails. */
  private async apply(state: TypeState, update: XdsUpdate, next: Map<string, StoredResource>): Promise<void> {
    await state.handler?.(update);
    // Names dropped by subscribe() while the handler ran are not kept.
    if (!state.wildcard) for (const name of [...next.keys()]) if (!state.names.has(name)) next.delete(name);
    state.resources = next;
    for (const r of update.added.values()) (r as StoredResource).release();
    state.versionInfo = update.versionInfo;
    state.stats.updateSuccess.inc();
    state.stats.version.set(versionHash(update.versionInfo));
    state.stats.updateTime.set(Date.now());
    this.settleInitialFetch(state, 'accepted');
  }

  private reject(state: TypeState, err: unknown, versionInfo = ''): string {
    const message = describeError(err);
    for (const l of this.rejectedListeners) l(state.typeUrl, err, versionInfo);
    state.stats.updateRejected.inc();
    log.warn(`${state.typeUrl}: rejected: ${message}`);
    this.settleInitialFetch(state, 'rejected');
    return message;
  }

  private unknownType(typeUrl: string | undefined): TypeState | undefined {
    if (typeUrl && RESOURCE_TYPE_URLS.includes(typeUrl)) return this.state(typeUrl);
    return undefined;
  }

  /** Whether a response of stream `generation` may still change anything (its stream is the current one). */
  private current(generation: number): boolean {
    return generation === this.generation && !this.closed;
  }

  private async onSotwResponse(res: SotwEnvelope, raw: Buffer, job: OffloadJob | undefined, generation: number): Promise<void> {
    if (!this.current(generation)) return;
    const typeUrl = res.typeUrl;
    const nonce = res.nonce;
    const version = res.versionInfo;
    const state = this.unknownType(typeUrl);
    if (!state) {
      // Not one of ours: NACK naming it (Envoy does the same for a type it has no watch for).
      log.warn(`NACK: unknown type URL ${typeUrl}`);
      this.send(this.withNode<DiscoveryRequest>({
        type_url: typeUrl, response_nonce: nonce, version_info: '',
        error_detail: { code: INVALID_ARGUMENT, message: `unknown type URL ${typeUrl}` },
      }));
      return;
    }
    state.nonce = nonce;
    state.stats.updateAttempt.inc();
    const slicer = new Slicer();
    try {
      const next = new Map<string, StoredResource>();
      const added = new Map<string, XdsResource>();
      const list = res.resources;
      for (let i = 0; i < list.length; i++) {
        const ref = this.checkRef(state, list[i], i);
        const value = raw.subarray(ref.start, ref.end);
        // A resource repeated byte for byte (state of the world resends everything) is not decoded again.
        const name = state.resources.size > 0 ? peekName(value) : undefined;
        const before = name === undefined ? undefined : state.resources.get(name);
        let r: StoredResource | undefined | typeof STALE;
        if (before !== undefined && sameBytes(before.bytes, value)) {
          r = before.version === version ? before : before.withVersion(version);
        } else if (this.awaited(job, i)) {
          r = await this.resourceAt(state, raw, ref, i, version, job, generation, slicer);
          if (r === STALE) return; // the stream broke mid-response: nothing of it was applied
        } else {
          r = this.resourceNow(state, raw, ref, i, version, job);
        }
        if (r) {
          if (next.has(r.name)) throw new ConfigError(`${SHORT_NAMES[typeUrl]} ${JSON.stringify(r.name)}`, 'duplicate resource name in one response');
          next.set(r.name, r);
          const prev = r.name === name ? before : state.resources.get(r.name);
          if (prev === undefined || !sameBytes(prev.bytes, r.bytes)) added.set(r.name, r);
        }
        if (slicer.due()) {
          await slicer.yield();
          if (!this.current(generation)) return; // the stream broke mid-response: nothing of it was applied
        }
      }
      const removed: string[] = [];
      if (state.wildcard) {
        // State of the world: a wildcard response is the whole set, so what it lacks is gone.
        for (const name of state.resources.keys()) if (!next.has(name)) removed.push(name);
      } else {
        // Named: a response need not repeat every name; keep the ones still followed and not in it.
        for (const [name, r] of state.resources) if (!next.has(name) && state.names.has(name)) next.set(name, r);
      }
      const decoded = performance.now();
      await this.apply(state, { typeUrl, added, removed, versionInfo: version }, next);
      slicer.report(`${SHORT_NAMES[typeUrl]} version ${version}: ${list.length} resources (${added.size} new or changed, ${removed.length} removed)`, decoded, job);
      if (this.current(generation)) this.sendSotw(state, { version });
    } catch (err) {
      const message = this.reject(state, err, version);
      if (this.current(generation)) this.sendSotw(state, { error: message });
    }
  }

  private async onDeltaResponse(res: DeltaEnvelope, raw: Buffer, job: OffloadJob | undefined, generation: number): Promise<void> {
    if (!this.current(generation)) return;
    const typeUrl = res.typeUrl;
    const nonce = res.nonce;
    const state = this.unknownType(typeUrl);
    if (!state) {
      log.warn(`NACK: unknown type URL ${typeUrl}`);
      this.send(this.withNode<DeltaDiscoveryRequest>({
        type_url: typeUrl, response_nonce: nonce,
        error_detail: { code: INVALID_ARGUMENT, message: `unknown type URL ${typeUrl}` },
      }));
      return;
    }
    state.nonce = nonce;
    state.stats.updateAttempt.inc();
    const slicer = new Slicer();
    try {
      const next = new Map(state.resources);
      const added = new Map<string, XdsResource>();
      const seen = new Set<string>();
      const list = res.resources;
      for (let i = 0; i < list.length; i++) {
        const item = list[i]!;
        const ref = this.checkRef(state, item.resource, i);
        const r = this.awaited(job, i) ? await this.resourceAt(state, raw, ref, i, item.version, job, generation, slicer)
          : this.resourceNow(state, raw, ref, i, item.version, job);
        if (r === STALE) return; // the stream broke mid-response: nothing of it was applied
        if (r) {
          if (item.name && item.name !== r.name) {
            throw new ConfigError(`${SHORT_NAMES[typeUrl]} ${JSON.stringify(r.name)}`, `delivered under the name ${JSON.stringify(item.name)}`);
          }
          if (seen.has(r.name)) throw new ConfigError(`${SHORT_NAMES[typeUrl]} ${JSON.stringify(r.name)}`, 'duplicate resource name in one response');
          seen.add(r.name);
          next.set(r.name, r);
          added.set(r.name, r);
        }
        if (slicer.due()) {
          await slicer.yield();
          if (!this.current(generation)) return; // the stream broke mid-response: nothing of it was applied
        }
      }
      const removed: string[] = [];
      for (const name of res.removed) {
        if (seen.has(name)) throw new ConfigError(`${SHORT_NAMES[typeUrl]} ${JSON.stringify(name)}`, 'both updated and removed in one response');
        if (next.delete(name)) removed.push(name);
      }
      const decoded = performance.now();
      await this.apply(state, { typeUrl, added, removed, versionInfo: res.systemVersionInfo }, next);
      slicer.report(`${SHORT_NAMES[typeUrl]} delta ${res.systemVersionInfo}: ${added.size} new or changed, ${removed.length} removed`, decoded, job);
      if (this.current(generation)) this.sendDelta(state, { nonce });
    } catch (err) {
      const message = this.reject(state, err, res.systemVersionInfo);
      if (this.current(generation)) this.sendDelta(state, { nonce, error: message });
    }
  }
}

/** What resourceAt returns when the stream broke while it waited for the worker. */
const STALE = Symbol('stale');

/**
 * Cuts a long loop into slices of 1-4 ms (adaptive, see sliceMs) so the event loop keeps serving traffic while a
 * large response is decoded and applied (issue 3: traffic p99 during a push within 2x idle).
 */
export class Slicer {
  /** The first slice's length; later ones adapt between MIN_SLICE_MS and MAX_SLICE_MS. */
  static readonly SLICE_MS = 2;
  static readonly MIN_SLICE_MS = 1;
  static readonly MAX_SLICE_MS = 4;
  /** A yield that took this long before control came back means requests were waiting (their callbacks ran). */
  static readonly BUSY_GAP_MS = 1;
  /** A response that took longer than this (decode to applied) is logged at info with its timings. */
  static readonly REPORT_MS = 100;
  private readonly began = performance.now();
  private start = this.began;
  /** Yields taken so far (for tests and logs). */
  yields = 0;

  /**
   * This slice's length (ms): halved after a yield during which the event loop had I/O to run (requests are
   * waiting: give them the thread sooner), grown by half a ms after one where it had none (fewer yields).
   */
  private sliceMs = Slicer.SLICE_MS;

  due(): boolean {
    return performance.now() - this.start >= this.sliceMs;
  }

  /** The current slice length in ms (tests, logs). */
  get slice(): number {
    return this.sliceMs;
  }

  /** Logs a long response's timings: `decodedAt` splits decode+validate from apply; `job`: what the worker did. */
  report(what: string, decodedAt: number, job?: OffloadJob): void {
    const end = performance.now();
    if (end - this.began < Slicer.REPORT_MS) return;
    const worker = job === undefined ? '' : job.failure ? ` (worker failed: ${job.failure.message}; decoded here)`
      : ` (decoded and checked on the xDS worker: ${Math.round(job.workerMs)} ms of its time)`;
    log.info(`${what}: decoded in ${Math.round(decodedAt - this.began)} ms${worker}, applied in ${Math.round(end - decodedAt)} ms, `
      + `${this.yields} yields to traffic (longest slice ${Math.round(this.longestSlice)} ms, longest wait ${Math.round(this.longestGap)} ms)`);
  }

  /** Starts a new slice after the caller waited (for the worker) rather than worked. */
  restart(): void {
    this.start = performance.now();
  }

  /** Lets pending I/O and timers run, then starts a new slice. */
  async yield(): Promise<void> {
    this.yields++;
    const left = performance.now();
    this.longestSlice = Math.max(this.longestSlice, left - this.start);
    await new Promise<void>((resolve) => setImmediate(resolve));
    this.start = performance.now();
    const gap = this.start - left;
    this.longestGap = Math.max(this.longestGap, gap);
    this.sliceMs = gap >= Slicer.BUSY_GAP_MS ? Math.max(Slicer.MIN_SLICE_MS, this.sliceMs / 2) : Math.min(Slicer.MAX_SLICE_MS, this.sliceMs + 0.5);
  }

  /** Longest slice of this work, and longest time the event loop took before handing back (ms). */
  private longestSlice = 0;
  private longestGap = 0;
}
