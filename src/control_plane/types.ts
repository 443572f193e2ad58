/**
 * The shapes shared by the control plane's parts: the four resource types it serves, one resource as it goes on
 * the wire, and a snapshot (every resource of every type at one version).
 */

export const LISTENER_TYPE = 'type.googleapis.com/envoy.config.listener.v3.Listener';
export const ROUTE_TYPE = 'type.googleapis.com/envoy.config.route.v3.RouteConfiguration';
export const CLUSTER_TYPE = 'type.googleapis.com/envoy.config.cluster.v3.Cluster';
export const ENDPOINT_TYPE = 'type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment';
export const SECRET_TYPE = 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret';

/** The types served, in Envoy's push order (CDS before EDS, LDS before RDS; secrets, asked for by name, last). */
export const SERVED_TYPES: readonly string[] = [CLUSTER_TYPE, ENDPOINT_TYPE, LISTENER_TYPE, ROUTE_TYPE, SECRET_TYPE];

/** LDS and CDS are subscribed by wildcard; RDS and EDS by name (as Envoy and gRPC clients do). */
export function isWildcardType(typeUrl: string): boolean {
  return typeUrl === LISTENER_TYPE || typeUrl === CLUSTER_TYPE;
}

/** One resource ready to send: its name, a content version, and the packed google.protobuf.Any. */
export interface ServedResource {
  name: string;
  typeUrl: string;
  /** Content hash: unchanged bytes keep the same version across snapshots (delta sends only what changed). */
  version: string;
  /** google.protobuf.Any as protobufjs takes it: {type_url, value}. */
  any: { type_url: string; value: Uint8Array };
  /** Which file it came from (for logs and /healthz). */
  source: string;
}

export interface Snapshot {
  /** Increases by one each time the served content changes ("1", "2", ...). */
  version: string;
  /** typeUrl -> name -> resource. Every served type has a (possibly empty) map. */
  resources: ReadonlyMap<string, ReadonlyMap<string, ServedResource>>;
  loadedAt: Date;
}

/** A file that could not be used: the file, the field path inside it, and why. */
export interface LoadProblem {
  file: string;
  message: string;
  code: string;
}
