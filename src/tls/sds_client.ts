/**
 * Follows SDS servers of their own (sds_config.api_config_source: Istio's `sds-grpc` cluster to istio-agent):
 * one xDS client per distinct source, on Envoy's SecretDiscoveryService (StreamSecrets, or DeltaSecrets for
 * DELTA_GRPC), subscribing the secret names TLS contexts ask for and handing accepted secrets to the store.
 * A bad secret is NACKed and the last good one stays. The envoy_grpc cluster is resolved among the bootstrap's
 * static clusters: its first socket_address, or its pipe (a unix socket, as istio-agent listens on).
 */
import type { Logger } from '../common/logger.js';
import { StatsStore } from '../common/stats.js';
import type { Cluster } from '../types/envoy.js';
import { AdsClient } from '../xds/ads_client.js';
import { SDS_METHOD_PATHS, TYPE_URL } from '../xds/protocol.js';
import type { ApiConfigSourceConfig, NodeConfig } from '../xds/types.js';
import { applySecretUpdate, secretStore, type SecretConfig, type SecretSource } from './sds.js';

export interface SdsClientsDeps {
  node: NodeConfig;
  staticClusters: readonly Cluster[];
  log: Logger;
}

interface PipeAddress { pipe?: { path?: string } }

/** "host:port" or "unix:/path" of a static cluster's first endpoint. */
export function staticClusterTarget(c: Cluster | undefined): string | undefined {
  for (const group of c?.load_assignment?.endpoints ?? []) {
    for (const ep of group.lb_endpoints ?? []) {
      const address = ep.endpoint?.address as (PipeAddress & { socket_address?: { address?: string; port_value?: number } }) | undefined;
      const sa = address?.socket_address;
      if (sa?.address && sa.port_value) return `${sa.address.includes(':') ? `[${sa.address}]` : sa.address}:${sa.port_value}`;
      if (address?.pipe?.path) return `unix:${address.pipe.path}`;
    }
  }
  return undefined;
}

export class SdsClients {
  private readonly clients = new Map<SecretSource, AdsClient>();
  /** The SDS clients' own stats (control_plane.* would otherwise mix with the ADS stream's). */
  private readonly stats = new StatsStore();
  private closed = false;

  constructor(private readonly deps: SdsClientsDeps) {
    const store = secretStore();
    store.onDemand('grpc', (source, names) => this.follow(source, names));
    for (const s of store.sources()) this.follow(s, store.namesFrom(s));
  }

  private follow(source: SecretSource, names: string[]): void {
    if (this.closed || !source.startsWith('grpc:')) return;
    let client = this.clients.get(source);
    if (client === undefined) {
      if (names.length === 0) return;
      const api = JSON.parse(source.slice('grpc:'.length)) as ApiConfigSourceConfig;
      const byName = new Map(this.deps.staticClusters.map((c) => [c.name, c]));
      try {
        client = new AdsClient({
          dynamicResources: { ads_config: api }, node: this.deps.node, stats: this.stats, methods: SDS_METHOD_PATHS,
          resolveCluster: (name) => staticClusterTarget(byName.get(name)),
        });
      } catch (err) {
        this.deps.log.warn(`SDS source ${source.slice(5)}: ${(err as Error).message}; its secrets never arrive`);
        return;
      }
      client.onUpdate(TYPE_URL.secret, (u) => {
        applySecretUpdate([...u.added].map(([name, r]) => [name, bodyOf(r.resource), r.version]), u.removed);
      });
      this.clients.set(source, client);
      client.subscribe(TYPE_URL.secret, names);
      client.start();
      return;
    }
    client.subscribe(TYPE_URL.secret, names);
  }

  close(): void {
    this.closed = true;
    secretStore().onDemand('grpc', undefined);
    for (const c of this.clients.values()) c.close();
    this.clients.clear();
  }
}

function bodyOf(resource: Record<string, unknown>): SecretConfig {
  const { '@type': _type, ...rest } = resource;
  return rest as SecretConfig;
}
