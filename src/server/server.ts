/**
 * The composition root: builds every part from a loaded bootstrap and owns the process lifecycle
 * (start, drain on SIGTERM/SIGINT, stop). Nothing else wires modules together.
 */
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { StatsStore } from '../common/stats.js';
import { logger, setLogLevel, type LogLevel } from '../common/logger.js';
import { mainInstance } from '../wasm/runtime.js';
import type { LoadedBootstrap } from '../config/bootstrap.js';
import { buildConfigDump } from '../config/config_dump.js';
import { releaseEnvoyRoot } from '../config/protos.js';
import { createClusterManager } from '../upstream/cluster_manager.js';
import { createClientConnection } from '../stream/http1/client.js';
import { ListenerManager } from '../listener/listener_manager.js';
import { registerBuiltinExtensions } from './extensions.js';
import { loadStaticSecrets, secretStore, type SecretConfig } from '../tls/sds.js';
import { SdsClients } from '../tls/sds_client.js';
import { secretsConfigDump } from '../tls/sds_dump.js';
import { InlineRouteResolver } from '../router/index.js';
import { createWorkerPool, type WorkerPool } from '../workers/pool.js';
import { PooledRouteResolver } from '../workers/pooled_route_resolver.js';
import { startAdmin } from '../admin/admin.js';
import type { ClusterManagerImpl } from '../upstream/cluster_manager.js';
import type { DynamicResourcesConfig, NodeConfig } from '../xds/types.js';
// xds_config (and with it @grpc/grpc-js) is imported only when the bootstrap asks for a control plane.
import type { XdsConfig } from './xds_config.js';
import type { RouteResolver, RouteTable } from '../types/router.js';

const log = logger('server');
const pkg = createRequire(import.meta.url)('../../../package.json') as { version: string };
export const VERSION: string = pkg.version;
export const DEFAULT_WORKER_IDLE_TIMEOUT_MS = 30_000;

export interface ServerOptions {
  loaded: LoadedBootstrap;
  concurrency: number;
  drainTimeMs: number;
  offloadMinBatch: number;
  /** With workers: how long an idle worker lives before it exits (they start on demand). Default 30 000 ms. */
  workerIdleTimeoutMs?: number;
  /** With workers: how many start up front and never exit for idleness (0..concurrency). Default 0. */
  workerMinThreads?: number;
  adminAddressPath?: string;
  commandLine: string[];
}

type State = 'INITIALIZING' | 'LIVE' | 'DRAINING';

export class Server {
  private state: State = 'INITIALIZING';
  private readonly startedAt = Date.now();
  private readonly loadedAt = new Date();
  private readonly stats = new StatsStore();
  private pool?: WorkerPool;
  private clusters?: ClusterManagerImpl;
  private xds?: XdsConfig;
  private sds?: SdsClients;
  private listeners?: ListenerManager;
  private admin?: { port: number; close(): Promise<void> };
  private stopping?: Promise<void>;
  private healthcheckFailed = false;

  constructor(private readonly opts: ServerOptions) {}

  async start(): Promise<void> {
    const { bootstrap } = this.opts.loaded;
    const wasm = mainInstance();
    if (this.opts.concurrency > 0) {
      // The pool follows the load: no worker runs until a turn's route batch reaches --offload-min-batch, at most
      // --concurrency run, and one idle for the idle timeout exits (an idle worker holds ~10 MiB resident).
      const live = this.stats.gauge('server.worker_threads');
      this.pool = await createWorkerPool({
        threads: this.opts.concurrency, memory: wasm.memory,
        minThreads: Math.min(this.opts.workerMinThreads ?? 0, this.opts.concurrency),
        idleTimeoutMs: this.opts.workerIdleTimeoutMs ?? DEFAULT_WORKER_IDLE_TIMEOUT_MS,
        onLiveThreadsChange: (n) => live.set(n),
      });
    }
    const pool = this.pool;
    const resolverFor = (table: RouteTable): RouteResolver =>
      pool ? new PooledRouteResolver(table, pool, { minBatch: this.opts.offloadMinBatch }) : new InlineRouteResolver(table);
    // Before any TLS context is built: static SDS secrets (src/tls/sds.ts).
    loadStaticSecrets((bootstrap.static_resources as { secrets?: SecretConfig[] } | undefined)?.secrets);
    this.sds = new SdsClients({ node: (bootstrap.node ?? {}) as NodeConfig, staticClusters: bootstrap.static_resources?.clusters ?? [], log: logger('sds') });
    const clusters = createClusterManager(bootstrap.static_resources?.clusters ?? [], {
      stats: this.stats, connect: (socket) => createClientConnection(wasm, socket), log: logger('upstream'),
    });
    this.clusters = clusters;
    await clusters.ready();
    registerBuiltinExtensions();
    this.listeners = new ListenerManager(bootstrap.static_resources?.listeners ?? [], {
      // Requests see only clusters that are not warming on SDS secrets (src/upstream/cluster_manager.ts).
      wasm, stats: this.stats, clusters: clusters.serving(), resolverFor, log: logger('listener'), drainTimeMs: this.opts.drainTimeMs,
    });
    await this.listeners.start();
    const adminAddr = bootstrap.admin?.address?.socket_address;
    if (adminAddr) {
      this.admin = await startAdmin(adminAddr.address || '127.0.0.1', adminAddr.port_value ?? 0, this.adminDeps());
      if (this.opts.adminAddressPath) writeFileSync(this.opts.adminAddressPath, `${adminAddr.address || '127.0.0.1'}:${this.admin.port}`);
      log.info(`admin listening on ${adminAddr.address || '127.0.0.1'}:${this.admin.port}`);
    }
    const dynamicResources = (bootstrap as { dynamic_resources?: DynamicResourcesConfig }).dynamic_resources;
    if (dynamicResources?.ads_config !== undefined) {
      const { XdsConfig } = await import('./xds_config.js');
      this.xds = new XdsConfig({
        dynamicResources, node: (bootstrap.node ?? {}) as NodeConfig, staticClusters: bootstrap.static_resources?.clusters ?? [],
        clusters, listeners: this.listeners, wasm, stats: this.stats, log: logger('xds'),
      });
      // As Envoy's init manager: the first CDS and LDS answers (or their initial_fetch_timeout) before LIVE.
      await this.xds.start();
      await this.listeners.whenWarm(this.xds.routeInitialFetchTimeoutMs());
    }
    // Envoy's init also waits for the SDS secrets listeners and clusters (static or not) name: each wait ends
    // with its initial_fetch_timeout (0s: for ever, /ready answering 503 meanwhile, as Istio expects).
    const awaited = secretStore().awaited();
    if (awaited.length > 0) log.info(`waiting for SDS secrets ${awaited.join(', ')} before reporting ready`);
    await Promise.all([this.listeners.whenSecretsWarm(), clusters.whenSecretsWarm()]);
    if (this.stopping !== undefined) return;
    for (const l of this.listeners.addresses()) log.info(`listener ${l.name} on ${l.address}:${l.port}`);
    // With a static bootstrap nothing more will be decoded, and /config_dump is built from the already-decoded
    // JSON: the Envoy proto Root (~6 MiB of live heap) can go. An xDS-fed server decodes every update with it.
    if (this.xds === undefined) releaseEnvoyRoot();
    this.state = 'LIVE';
  }

  /** Stops accepting, lets in-flight requests finish (bounded by the drain time), then closes everything. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.state = 'DRAINING';
      this.xds?.close();
      this.sds?.close();
      this.listeners?.stopAccepting();
      await this.listeners?.drain(this.opts.drainTimeMs);
      this.listeners?.close();
      this.clusters?.close();
      await this.pool?.destroy();
      await this.admin?.close();
    })();
    return this.stopping;
  }

  private adminDeps() {
    return {
      stats: this.stats,
      clusters: () => this.clusters!,
      listeners: () => this.listeners?.addresses() ?? [],
      configDump: () => withSecrets(buildConfigDump(this.opts.loaded, this.loadedAt, this.xds?.dump())),
      serverInfo: () => ({
        version: VERSION, state: this.state, uptimeSeconds: Math.floor((Date.now() - this.startedAt) / 1000),
        commandLine: this.opts.commandLine, concurrency: this.opts.concurrency,
      }),
      isReady: () => this.state === 'LIVE' && !this.healthcheckFailed,
      quit: () => { void this.stop().then(() => process.exit(0)); },
      drainListeners: () => { this.listeners?.stopAccepting(); },
      setLogLevel: (level: string) => { try { setLogLevel(level as LogLevel); return true; } catch { return false; } },
      healthcheckFail: (fail: boolean) => { this.healthcheckFailed = fail; },
    };
  }
}

/** Envoy's SecretsConfigDump goes last when any secret is held or awaited. */
function withSecrets(dump: ReturnType<typeof buildConfigDump>): ReturnType<typeof buildConfigDump> {
  const store = secretStore();
  if (store.entries().length > 0 || store.awaited().length > 0) dump.configs.push(secretsConfigDump(store));
  return dump;
}
