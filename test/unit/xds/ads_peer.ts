/**
 * A scripted ADS server for tests: a real @grpc/grpc-js server on 127.0.0.1 (port 0 or a given port) that
 * records each stream's requests and sends what the test tells it to. Every wait is bounded.
 */
import * as grpc from '@grpc/grpc-js';
import { PATIENCE_MS } from '../../helpers/wait.js';
import { packResource } from '../../../src/xds/any_json.js';
import {
  ADS_SERVICE, type DeltaDiscoveryRequest, type DeltaDiscoveryResponse, type DiscoveryRequest, type DiscoveryResponse,
} from '../../../src/xds/protocol.js';

/** A FIFO whose take() waits at most `ms`. */
export class Inbox<T> {
  private readonly items: T[] = [];
  private readonly waiters: ((v: T) => void)[] = [];

  push(v: T): void {
    const w = this.waiters.shift();
    if (w) w(v); else this.items.push(v);
  }

  take(ms = PATIENCE_MS, what = 'item'): Promise<T> {
    const ready = this.items.shift();
    if (ready !== undefined) return Promise.resolve(ready);
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        const i = this.waiters.indexOf(done);
        if (i >= 0) this.waiters.splice(i, 1);
        reject(new Error(`no ${what} within ${ms} ms`));
      }, ms);
      const done = (v: T): void => { clearTimeout(timer); resolve(v); };
      this.waiters.push(done);
    });
  }

  get size(): number { return this.items.length; }
}

export class PeerStream<Req, Res> {
  readonly requests = new Inbox<Req>();
  ended = false;
  constructor(readonly call: grpc.ServerDuplexStream<Req, Res>) {
    call.on('data', (r: Req) => this.requests.push(r));
    call.on('end', () => { this.ended = true; });
    call.on('error', () => { this.ended = true; });
    call.on('cancelled', () => { this.ended = true; });
  }

  next(ms = PATIENCE_MS): Promise<Req> { return this.requests.take(ms, 'request'); }
  send(res: Res): void { this.call.write(res); }
  /** Ends the stream with an error status, as a control plane that drops a client does. */
  fail(): void { this.call.emit('error', { code: grpc.status.UNAVAILABLE, details: 'peer reset' }); }
}

export type SotwStream = PeerStream<DiscoveryRequest, DiscoveryResponse>;
export type DeltaStream = PeerStream<DeltaDiscoveryRequest, DeltaDiscoveryResponse>;

export class AdsPeer {
  readonly sotw = new Inbox<SotwStream>();
  readonly delta = new Inbox<DeltaStream>();
  private constructor(readonly server: grpc.Server, readonly port: number) {}

  static async start(port = 0): Promise<AdsPeer> {
    const server = new grpc.Server();
    let peer: AdsPeer | undefined;
    const pending: (() => void)[] = [];
    const later = (f: () => void): void => { if (peer) f(); else pending.push(f); };
    server.addService(ADS_SERVICE as unknown as grpc.ServiceDefinition, {
      StreamAggregatedResources: (call: grpc.ServerDuplexStream<DiscoveryRequest, DiscoveryResponse>) => {
        const s = new PeerStream(call);
        later(() => peer!.sotw.push(s));
      },
      DeltaAggregatedResources: (call: grpc.ServerDuplexStream<DeltaDiscoveryRequest, DeltaDiscoveryResponse>) => {
        const s = new PeerStream(call);
        later(() => peer!.delta.push(s));
      },
    });
    const bound = await new Promise<number>((resolve, reject) => {
      server.bindAsync(`127.0.0.1:${port}`, grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p)));
    });
    peer = new AdsPeer(server, bound);
    for (const f of pending) f();
    return peer;
  }

  get target(): string { return `127.0.0.1:${this.port}`; }

  /** Drops every stream and the listening socket at once. */
  stop(): void { this.server.forceShutdown(); }
}

export const CLUSTER = 'type.googleapis.com/envoy.config.cluster.v3.Cluster';
export const LISTENER = 'type.googleapis.com/envoy.config.listener.v3.Listener';
export const ROUTE = 'type.googleapis.com/envoy.config.route.v3.RouteConfiguration';
export const ENDPOINT = 'type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment';

export function cluster(name: string, port = 8080, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    '@type': CLUSTER, name, type: 'STATIC', connect_timeout: '0.25s', lb_policy: 'ROUND_ROBIN',
    load_assignment: { cluster_name: name, endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: '127.0.0.1', port_value: port } } } }] }] },
    ...extra,
  };
}

export function routeConfig(name: string, clusterName: string): Record<string, unknown> {
  return {
    '@type': ROUTE, name,
    virtual_hosts: [{ name: 'all', domains: ['*'], routes: [{ match: { prefix: '/' }, route: { cluster: clusterName } }] }],
  };
}

export function loadAssignment(clusterName: string, ports: number[]): Record<string, unknown> {
  return {
    '@type': ENDPOINT, cluster_name: clusterName,
    endpoints: [{ lb_endpoints: ports.map((p) => ({ endpoint: { address: { socket_address: { address: '127.0.0.1', port_value: p } } } })) }],
  };
}

export function sotwResponse(typeUrl: string, version: string, nonce: string, resources: Record<string, unknown>[]): DiscoveryResponse {
  return { type_url: typeUrl, version_info: version, nonce, resources: resources.map((r) => packResource(r)) };
}

export function deltaResponse(typeUrl: string, nonce: string, resources: [string, Record<string, unknown>][], removed: string[] = [],
  systemVersion = ''): DeltaDiscoveryResponse {
  return {
    type_url: typeUrl, nonce, system_version_info: systemVersion, removed_resources: removed,
    resources: resources.map(([version, r]) => ({ name: String(r.name ?? r.cluster_name), version, resource: packResource(r) })),
  };
}

/** Polls `cond` every 10 ms until it holds or `ms` passes. */
export async function until(cond: () => boolean, ms = PATIENCE_MS, what = 'condition'): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`${what} not met within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
