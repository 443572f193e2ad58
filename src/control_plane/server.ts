/**
 * `skiff control-plane`: a file-backed xDS server. Loads every resource file of a directory into a snapshot,
 * serves it over ADS (state of the world and delta) with @grpc/grpc-js, watches the directory and pushes each new
 * snapshot to every connected stream, and answers /healthz on its own HTTP port.
 *
 * A load is all or nothing: one bad file (or a duplicate name) rejects the new snapshot, the last good one keeps
 * being served, and the problem is logged and shown on /healthz.
 */
import { Server as GrpcServer, ServerCredentials, type ServerDuplexStream } from '@grpc/grpc-js';
import { statSync } from 'node:fs';
import { hostname } from 'node:os';
import { SkiffError } from '../common/errors.js';
import { logger, type Logger } from '../common/logger.js';
import { DeltaStream } from './delta_stream.js';
import { HealthServer, type HealthReport } from './health.js';
import { adsServiceDefinition, sdsServiceDefinition, type DeltaDiscoveryRequest, type DeltaDiscoveryResponse, type DiscoveryRequest, type DiscoveryResponse } from './protocol.js';
import { listResourceFiles, readResourceFile, type FileResource } from './resource_files.js';
import { SnapshotSequence } from './snapshot.js';
import { short, SotwStream } from './sotw_stream.js';
import type { StreamEvents } from './stream_events.js';
import { SERVED_TYPES, type LoadProblem, type Snapshot } from './types.js';
import { DEFAULT_WATCHER_OPTIONS, DirectoryWatcher, type WatcherOptions } from './watcher.js';

export interface ControlPlaneOptions {
  dir: string;
  /** gRPC port; 0 picks a free one. */
  port: number;
  address?: string;
  /** /healthz port: undefined = the gRPC port + 1 (or a free port when `port` is 0); 0 = a free port. */
  healthPort?: number;
  watcher?: WatcherOptions;
  /** control_plane.identifier in every response. */
  identifier?: string;
}

export interface LoadResult {
  /** True when the files gave a snapshot with new content (it was pushed). */
  changed: boolean;
  version: string | undefined;
  problems: LoadProblem[];
}

export interface ControlPlaneCounters {
  loads: number;
  loadFailures: number;
  responses: number;
  acks: number;
  nacks: number;
  streamsOpened: number;
}

/** Everything that decides whether a rescan must reload: file names, sizes, modification times. */
function directorySignature(files: readonly string[]): string {
  return files.map((f) => {
    try { const s = statSync(f); return `${f}:${s.size}:${s.mtimeMs}`; } catch { return `${f}:gone`; }
  }).join('|');
}

export class ControlPlaneServer {
  readonly log: Logger = logger('control_plane');
  readonly counters: ControlPlaneCounters = { loads: 0, loadFailures: 0, responses: 0, acks: 0, nacks: 0, streamsOpened: 0 };
  /** Latest NACKs, newest last (at most 20), for /healthz. */
  readonly recentNacks: { node: string; type: string; message: string; at: string }[] = [];
  /** Last version each node ACKed per type (short name), for /healthz: a bench or a script sees what is applied. */
  readonly acked = new Map<string, Record<string, string>>();
  private readonly sequence = new SnapshotSequence();
  private readonly streams = new Set<SotwStream | DeltaStream>();
  private readonly calls = new Set<ServerDuplexStream<unknown, unknown>>();
  private readonly health: HealthServer;
  private readonly identifier: string;
  private grpc: GrpcServer | undefined;
  private watcher: DirectoryWatcher | undefined;
  private problems: LoadProblem[] = [];
  private signature = '';
  private lastPushAt = 0;
  private listeners: ((s: Snapshot) => void)[] = [];
  grpcPort = 0;
  healthPort = 0;

  constructor(private readonly options: ControlPlaneOptions) {
    this.identifier = options.identifier ?? `skiff-control-plane@${hostname()}`;
    this.health = new HealthServer(() => this.healthReport());
  }

  snapshot(): Snapshot | undefined {
    return this.sequence.latest();
  }

  /** Problems of the latest load (empty when it succeeded). */
  loadProblems(): readonly LoadProblem[] {
    return this.problems;
  }

  /** Called after every new snapshot has been pushed (tests and the CLI's log use it). */
  onSnapshot(listener: (s: Snapshot) => void): void {
    this.listeners.push(listener);
  }

  connectedStreams(): number {
    return this.streams.size;
  }

  /** Reads the directory now; pushes when the content changed. Never throws for bad files. */
  reload(): LoadResult {
    this.counters.loads += 1;
    const started = performance.now();
    const problems: LoadProblem[] = [];
    const resources: FileResource[] = [];
    let files: string[] = [];
    try {
      files = listResourceFiles(this.options.dir);
    } catch (e) {
      problems.push({ file: this.options.dir, message: (e as Error).message, code: (e as SkiffError).code ?? 'SKIFF_CP_DIR_UNREADABLE' });
    }
    this.signature = directorySignature(files);
    for (const file of files) {
      try {
        resources.push(...readResourceFile(file));
      } catch (e) {
        problems.push({ file, message: (e as Error).message, code: e instanceof SkiffError ? e.code : 'SKIFF_CONFIG_INVALID' });
      }
    }
    const decoded = performance.now();
    let changed = false;
    if (problems.length === 0) {
      try {
        changed = this.sequence.next(resources).changed;
      } catch (e) {
        problems.push({ file: this.options.dir, message: (e as Error).message, code: e instanceof SkiffError ? e.code : 'SKIFF_CONFIG_INVALID' });
      }
    }
    const encoded = performance.now();
    this.problems = problems;
    const current = this.sequence.latest();
    if (problems.length > 0) {
      this.counters.loadFailures += 1;
      for (const p of problems) this.log.error(`${p.message} (${p.code}); still serving version ${current?.version ?? '(none)'}`);
      return { changed: false, version: current?.version, problems };
    }
    for (const r of resources) for (const w of r.warnings) this.log.debug(`${r.path}: ${w}`);
    if (changed && current) {
      this.log.info(`snapshot version ${current.version}: ${SERVED_TYPES.map((t) => `${current.resources.get(t)!.size} ${short(t)}`).join(', ')} from ${files.length} files `
        + `(read+decode ${Math.round(decoded - started)} ms, encode ${Math.round(encoded - decoded)} ms)`);
      this.pushAll(current);
    }
    return { changed, version: current?.version, problems };
  }

  private pushAll(snapshot: Snapshot): void {
    this.lastPushAt = Date.now();
    for (const stream of this.streams) {
      try { stream.push(); } catch (e) { this.log.error(`push to node '${stream.nodeId}' failed: ${(e as Error).message}`); }
    }
    for (const l of this.listeners) l(snapshot);
  }

  private onDirectoryEvent(reason: 'watch' | 'rescan'): void {
    if (reason === 'rescan') {
      let files: string[];
      try { files = listResourceFiles(this.options.dir); } catch { files = []; }
      if (directorySignature(files) === this.signature) return;
    }
    this.reload();
  }

  private readonly events: StreamEvents = {
    onResponse: () => { this.counters.responses += 1; },
    onAck: (node, type, version) => {
      this.counters.acks += 1;
      let byType = this.acked.get(node);
      if (byType === undefined) {
        // Bounded: one entry per node id; a fleet larger than this shows its first nodes only.
        if (this.acked.size >= 1000) return;
        byType = {};
        this.acked.set(node, byType);
      }
      byType[short(type)] = version;
    },
    onNack: (node, type, _nonce, message) => {
      this.counters.nacks += 1;
      this.recentNacks.push({ node, type: short(type), message, at: new Date().toISOString() });
      if (this.recentNacks.length > 20) this.recentNacks.shift();
    },
  };

  private attach<Req>(call: ServerDuplexStream<Req, unknown>, stream: SotwStream | DeltaStream, handle: (r: Req) => void): void {
    this.counters.streamsOpened += 1;
    this.streams.add(stream);
    this.calls.add(call as ServerDuplexStream<unknown, unknown>);
    const detach = (): void => {
      this.streams.delete(stream);
      this.calls.delete(call as ServerDuplexStream<unknown, unknown>);
    };
    call.on('data', (req: Req) => {
      try {
        handle(req);
      } catch (e) {
        // A malformed request must not take the server down: log it and end that stream only.
        this.log.error(`stream from node '${stream.nodeId}': ${(e as Error).message}`);
        detach();
        call.destroy(e as Error);
      }
    });
    call.on('end', () => { detach(); call.end(); });
    call.on('error', detach);
    call.on('close', detach);
  }

  async start(): Promise<{ grpcPort: number; healthPort: number }> {
    const address = this.options.address ?? '127.0.0.1';
    const first = this.reload();
    if (first.problems.length > 0) this.log.warn('no snapshot yet: streams wait until the files load');
    const grpc = new GrpcServer({ 'grpc.max_receive_message_length': 16 * 1024 * 1024, 'grpc.max_send_message_length': 256 * 1024 * 1024 });
    const current = (): Snapshot | undefined => this.sequence.latest();
    const sotw = (call: ServerDuplexStream<DiscoveryRequest, DiscoveryResponse>): void => {
      const stream = new SotwStream(call, current, this.events, this.log, this.identifier);
      this.attach(call, stream, (r) => stream.handleRequest(r));
    };
    const delta = (call: ServerDuplexStream<DeltaDiscoveryRequest, DeltaDiscoveryResponse>): void => {
      const stream = new DeltaStream(call, current, this.events, this.log, this.identifier);
      this.attach(call, stream, (r) => stream.handleRequest(r));
    };
    grpc.addService(adsServiceDefinition(), { StreamAggregatedResources: sotw, DeltaAggregatedResources: delta });
    // Secrets also over SDS's own service, as istio-agent serves them to a sidecar (sds_config.api_config_source).
    grpc.addService(sdsServiceDefinition(), { StreamSecrets: sotw, DeltaSecrets: delta });
    this.grpc = grpc;
    const host = address.includes(':') ? `[${address}]` : address;
    this.grpcPort = await new Promise<number>((resolve, reject) => {
      grpc.bindAsync(`${host}:${this.options.port}`, ServerCredentials.createInsecure(), (err, port) => (err ? reject(err) : resolve(port)));
    });
    const healthPort = this.options.healthPort ?? (this.options.port === 0 ? 0 : this.options.port + 1);
    this.healthPort = await this.health.listen(healthPort, address);
    this.watcher = new DirectoryWatcher(this.options.dir, (reason) => this.onDirectoryEvent(reason), this.log, this.options.watcher ?? DEFAULT_WATCHER_OPTIONS);
    this.watcher.start();
    this.log.info(`serving ADS on ${host}:${this.grpcPort}, /healthz on ${host}:${this.healthPort}, watching ${this.options.dir}`);
    return { grpcPort: this.grpcPort, healthPort: this.healthPort };
  }

  async stop(): Promise<void> {
    this.watcher?.close();
    this.watcher = undefined;
    for (const call of this.calls) call.end();
    this.calls.clear();
    this.streams.clear();
    const grpc = this.grpc;
    this.grpc = undefined;
    if (grpc) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => { grpc.forceShutdown(); resolve(); }, 1000);
        grpc.tryShutdown(() => { clearTimeout(timer); resolve(); });
      });
    }
    await this.health.close();
  }

  healthReport(): HealthReport {
    const s = this.sequence.latest();
    const body: Record<string, unknown> = {
      status: s ? 'SERVING' : 'NOT_SERVING',
      version: s?.version ?? null,
      loaded_at: s?.loadedAt.toISOString() ?? null,
      last_push_at: this.lastPushAt ? new Date(this.lastPushAt).toISOString() : null,
      resources: s ? Object.fromEntries(SERVED_TYPES.map((t) => [short(t), s.resources.get(t)!.size])) : {},
      connected_streams: this.streams.size,
      counters: this.counters,
      recent_nacks: this.recentNacks,
      acked: Object.fromEntries(this.acked),
    };
    if (this.problems.length > 0) {
      // Still 200 when an older snapshot is served: the problem is a detail, not an outage.
      body.ready_detail = { latest_load_failed: true, problems: this.problems };
    }
    return { ready: s !== undefined, body };
  }
}
