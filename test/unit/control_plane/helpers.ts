// Test helpers for the control plane: resource fixtures written to a temp dir, and a real grpc-js ADS client
// whose responses are queued and awaited with a bound.
import { PATIENCE_MS } from '../../helpers/wait.js';
import { credentials, makeGenericClientConstructor, type ClientDuplexStream } from '@grpc/grpc-js';
import { mkdtempSync, rmSync, writeFileSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { adsServiceDefinition, type DeltaDiscoveryRequest, type DeltaDiscoveryResponse, type DiscoveryRequest, type DiscoveryResponse } from '../../../src/control_plane/protocol.js';
import { resolveTypeUrl } from '../../../src/config/protos.js';
import { CLUSTER_TYPE, ENDPOINT_TYPE, LISTENER_TYPE, ROUTE_TYPE } from '../../../src/control_plane/types.js';

export { CLUSTER_TYPE, ENDPOINT_TYPE, LISTENER_TYPE, ROUTE_TYPE };

export function tempDir(): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'skiff-cp-'));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Writes atomically (temp file + rename), as deploy tools do, so a half-written file is never read. */
export function writeResourceFile(dir: string, name: string, content: unknown): void {
  const text = name.endsWith('.json') ? JSON.stringify(content) : stringify(content);
  const tmp = join(dir, `.${name}.tmp`);
  writeFileSync(tmp, text);
  renameSync(tmp, join(dir, name));
}

export function apiListener(name: string, routeConfigName: string): Record<string, unknown> {
  return {
    '@type': LISTENER_TYPE, name,
    api_listener: { api_listener: {
      '@type': 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager',
      stat_prefix: name,
      rds: { route_config_name: routeConfigName, config_source: { ads: {}, resource_api_version: 'V3' } },
      http_filters: [{ name: 'envoy.filters.http.router', typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router' } }],
    } },
  };
}

export function routeConfig(name: string, domain: string, cluster: string): Record<string, unknown> {
  return {
    '@type': ROUTE_TYPE, name,
    virtual_hosts: [{ name: 'vh', domains: [domain], routes: [{ match: { prefix: '' }, route: { cluster } }] }],
  };
}

export function edsCluster(name: string): Record<string, unknown> {
  return {
    '@type': CLUSTER_TYPE, name, type: 'EDS', connect_timeout: '1s', lb_policy: 'ROUND_ROBIN',
    eds_cluster_config: { eds_config: { ads: {}, resource_api_version: 'V3' } },
  };
}

export function loadAssignment(cluster: string, port: number, address = '127.0.0.1'): Record<string, unknown> {
  return {
    '@type': ENDPOINT_TYPE, cluster_name: cluster,
    // gRPC clients require a locality with a weight on every LocalityLbEndpoints (unweighted ones are dropped).
    endpoints: [{ locality: { region: 'local', zone: 'a' }, load_balancing_weight: 1, lb_endpoints: [{ endpoint: { address: { socket_address: { address, port_value: port } } } }] }],
  };
}

/** Decodes an Any from a response back to a plain object (to check what was served). */
export function unpack(any: { type_url: string; value: Uint8Array }): Record<string, unknown> {
  const type = resolveTypeUrl(any.type_url)!;
  return type.toObject(type.decode(any.value), { enums: String, longs: Number }) as Record<string, unknown>;
}

const AdsClient = makeGenericClientConstructor(adsServiceDefinition() as never, 'AggregatedDiscoveryService');

/** A stream with a queue of received messages; `next()` waits up to `timeoutMs` for one. */
export class QueuedStream<Req, Res> {
  readonly received: Res[] = [];
  private waiters: (() => void)[] = [];
  ended = false;
  constructor(readonly call: ClientDuplexStream<Req, Res>) {
    call.on('data', (m: Res) => { this.received.push(m); this.wake(); });
    call.on('error', () => { this.ended = true; this.wake(); });
    call.on('end', () => { this.ended = true; this.wake(); });
  }
  private wake(): void { const w = this.waiters; this.waiters = []; for (const f of w) f(); }
  send(req: Partial<Req>): void { this.call.write(req as Req); }
  async next(timeoutMs = PATIENCE_MS): Promise<Res> {
    const deadline = Date.now() + timeoutMs;
    while (this.received.length === 0) {
      if (this.ended) throw new Error('stream ended');
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no response within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => { const t = setTimeout(resolve, left); this.waiters.push(() => { clearTimeout(t); resolve(); }); });
    }
    return this.received.shift()!;
  }
  /** Asserts nothing arrives for `ms`. */
  async quiet(ms: number): Promise<boolean> {
    await new Promise((r) => setTimeout(r, ms));
    return this.received.length === 0;
  }
  close(): void { this.call.end(); this.call.cancel(); }
}

export interface AdsTestClient {
  sotw(): QueuedStream<DiscoveryRequest, DiscoveryResponse>;
  delta(): QueuedStream<DeltaDiscoveryRequest, DeltaDiscoveryResponse>;
  close(): void;
}

export function adsClient(port: number): AdsTestClient {
  const client = new AdsClient(`127.0.0.1:${port}`, credentials.createInsecure()) as unknown as {
    StreamAggregatedResources(): ClientDuplexStream<DiscoveryRequest, DiscoveryResponse>;
    DeltaAggregatedResources(): ClientDuplexStream<DeltaDiscoveryRequest, DeltaDiscoveryResponse>;
    close(): void;
  };
  return {
    sotw: () => new QueuedStream(client.StreamAggregatedResources()),
    delta: () => new QueuedStream(client.DeltaAggregatedResources()),
    close: () => client.close(),
  };
}

export const NODE = { id: 'test-node', cluster: 'test' };
