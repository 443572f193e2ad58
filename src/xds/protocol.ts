/**
 * The wire side of xDS: Envoy's discovery messages (DiscoveryRequest/Response, DeltaDiscoveryRequest/Response)
 * and the AggregatedDiscoveryService methods, loaded with protobufjs from @grpc/grpc-js-xds/deps (never copied).
 * Messages cross this module as protobufjs object form (snake_case keys, Any as {type_url, value: bytes});
 * `ADS_SERVICE` is a grpc-js service definition usable by a client (makeBidiStreamRequest) and a server (addService).
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import protobuf from 'protobufjs';
import { PROTO_INCLUDE_DIRS } from '../config/protos.js';

export const TYPE_URL = {
  listener: 'type.googleapis.com/envoy.config.listener.v3.Listener',
  route: 'type.googleapis.com/envoy.config.route.v3.RouteConfiguration',
  cluster: 'type.googleapis.com/envoy.config.cluster.v3.Cluster',
  endpoint: 'type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment',
  secret: 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret',
} as const;

/** The resource types Skiff follows, in the order Envoy requests them on a new stream (CDS, EDS, LDS, RDS, then SDS). */
export const RESOURCE_TYPE_URLS: readonly string[] = [TYPE_URL.cluster, TYPE_URL.endpoint, TYPE_URL.listener, TYPE_URL.route, TYPE_URL.secret];

export const ADS_SERVICE_NAME = 'envoy.service.discovery.v3.AggregatedDiscoveryService';
export const SOTW_METHOD_PATH = `/${ADS_SERVICE_NAME}/StreamAggregatedResources`;
export const DELTA_METHOD_PATH = `/${ADS_SERVICE_NAME}/DeltaAggregatedResources`;
/** SecretDiscoveryService: the same messages, for a secret server of its own (sds_config.api_config_source). */
export const SDS_METHOD_PATHS = { sotw: '/envoy.service.secret.v3.SecretDiscoveryService/StreamSecrets', delta: '/envoy.service.secret.v3.SecretDiscoveryService/DeltaSecrets' } as const;

export interface AnyMessage { type_url: string; value: Uint8Array }
export interface RpcStatus { code: number; message: string }

export interface DiscoveryRequest {
  version_info?: string;
  node?: Record<string, unknown>;
  resource_names?: string[];
  type_url: string;
  response_nonce?: string;
  error_detail?: RpcStatus;
}

export interface DiscoveryResponse {
  version_info?: string;
  resources?: AnyMessage[];
  type_url?: string;
  nonce?: string;
}

export interface DeltaDiscoveryRequest {
  node?: Record<string, unknown>;
  type_url: string;
  resource_names_subscribe?: string[];
  resource_names_unsubscribe?: string[];
  initial_resource_versions?: Record<string, string>;
  response_nonce?: string;
  error_detail?: RpcStatus;
}

export interface DeltaResource { name?: string; version?: string; resource?: AnyMessage; aliases?: string[] }

export interface DeltaDiscoveryResponse {
  system_version_info?: string;
  resources?: DeltaResource[];
  type_url?: string;
  removed_resources?: string[];
  nonce?: string;
}

const require = createRequire(import.meta.url);
const protobufjsDir = dirname(require.resolve('protobufjs/package.json'));

let root: protobuf.Root | undefined;

/** A Root of its own (the config Root stays what src/config loaded), built on first use. */
export function discoveryRoot(): protobuf.Root {
  if (root) return root;
  const r = new protobuf.Root();
  r.resolvePath = (_origin, target) => {
    for (const dir of [...PROTO_INCLUDE_DIRS, protobufjsDir]) {
      const candidate = join(dir, target);
      if (existsSync(candidate)) return candidate;
    }
    return target;
  };
  r.loadSync('envoy/service/discovery/v3/ads.proto', { keepCase: true });
  r.resolveAll();
  root = r;
  return r;
}

function codec<T>(fullName: string): { encode(msg: T): Buffer; decode(buf: Buffer): T } {
  let type: protobuf.Type | undefined;
  const t = (): protobuf.Type => (type ??= discoveryRoot().lookupType(fullName));
  return {
    encode: (msg) => Buffer.from(t().encode(t().fromObject(msg as Record<string, unknown>)).finish()),
    // Plain objects (no prototype defaults): absent strings read as undefined, callers default them.
    decode: (buf) => t().toObject(t().decode(buf), { defaults: false, arrays: true, objects: true, longs: String }) as T,
  };
}

export const discoveryRequest = codec<DiscoveryRequest>('envoy.service.discovery.v3.DiscoveryRequest');
export const discoveryResponse = codec<DiscoveryResponse>('envoy.service.discovery.v3.DiscoveryResponse');
export const deltaDiscoveryRequest = codec<DeltaDiscoveryRequest>('envoy.service.discovery.v3.DeltaDiscoveryRequest');
export const deltaDiscoveryResponse = codec<DeltaDiscoveryResponse>('envoy.service.discovery.v3.DeltaDiscoveryResponse');

/** grpc-js ServiceDefinition of the AggregatedDiscoveryService (both bidi streams). */
export const ADS_SERVICE = {
  StreamAggregatedResources: {
    path: SOTW_METHOD_PATH,
    requestStream: true,
    responseStream: true,
    requestSerialize: discoveryRequest.encode,
    requestDeserialize: discoveryRequest.decode,
    responseSerialize: discoveryResponse.encode,
    responseDeserialize: discoveryResponse.decode,
  },
  DeltaAggregatedResources: {
    path: DELTA_METHOD_PATH,
    requestStream: true,
    responseStream: true,
    requestSerialize: deltaDiscoveryRequest.encode,
    requestDeserialize: deltaDiscoveryRequest.decode,
    responseSerialize: deltaDiscoveryResponse.encode,
    responseDeserialize: deltaDiscoveryResponse.decode,
  },
} as const;
