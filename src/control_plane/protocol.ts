/**
 * The AggregatedDiscoveryService as a @grpc/grpc-js service definition, with messages (de)serialized by protobufjs
 * from Envoy's discovery protos in @grpc/grpc-js-xds/deps (never copied). Messages are plain objects with
 * snake_case fields; Any is {type_url, value}.
 */
import type { ServiceDefinition } from '@grpc/grpc-js';
import type protobuf from 'protobufjs';
import { discoveryRoot } from '../xds/protocol.js';

export const ADS_SERVICE = 'envoy.service.discovery.v3.AggregatedDiscoveryService';

export interface AnyMessage { type_url: string; value: Uint8Array }
export interface NodeMessage { id?: string; cluster?: string; [k: string]: unknown }
export interface StatusMessage { code?: number; message?: string }

export interface DiscoveryRequest {
  version_info: string;
  node?: NodeMessage;
  resource_names: string[];
  type_url: string;
  response_nonce: string;
  error_detail?: StatusMessage;
}
export interface DiscoveryResponse {
  version_info: string;
  resources: AnyMessage[];
  type_url: string;
  nonce: string;
  control_plane?: { identifier: string };
}
export interface DeltaDiscoveryRequest {
  node?: NodeMessage;
  type_url: string;
  resource_names_subscribe: string[];
  resource_names_unsubscribe: string[];
  initial_resource_versions: Record<string, string>;
  response_nonce: string;
  error_detail?: StatusMessage;
}
export interface DeltaResource { name: string; version: string; resource?: AnyMessage }
export interface DeltaDiscoveryResponse {
  system_version_info: string;
  resources: DeltaResource[];
  type_url: string;
  removed_resources: string[];
  nonce: string;
  control_plane?: { identifier: string };
}

const TO_OBJECT: protobuf.IConversionOptions = { defaults: true, arrays: true, objects: true, longs: Number, enums: String, bytes: Buffer as unknown as StringConstructor };

/** Serializer/deserializer pair for one message type. */
export function codecFor<T>(fullName: string): { encode: (m: T) => Buffer; decode: (b: Buffer) => T } {
  const type = discoveryRoot().lookupType(fullName);
  return {
    encode: (m) => Buffer.from(type.encode(type.fromObject(m as object)).finish()),
    decode: (b) => type.toObject(type.decode(b), TO_OBJECT) as T,
  };
}

/** Envoy's SecretDiscoveryService: the same streams as ADS under other method names (an SDS server of its own). */
export const SDS_SERVICE = 'envoy.service.secret.v3.SecretDiscoveryService';

/** The service definition for grpc-js (server.addService, makeGenericClientConstructor). */
export function adsServiceDefinition(): ServiceDefinition {
  return discoveryServiceDefinition(ADS_SERVICE, 'StreamAggregatedResources', 'DeltaAggregatedResources');
}

/** SDS's service definition: `StreamSecrets` (state of the world) and `DeltaSecrets`, served from the same snapshot. */
export function sdsServiceDefinition(): ServiceDefinition {
  return discoveryServiceDefinition(SDS_SERVICE, 'StreamSecrets', 'DeltaSecrets');
}

function discoveryServiceDefinition(service: string, sotwName: string, deltaName: string): ServiceDefinition {
  const req = codecFor<DiscoveryRequest>('envoy.service.discovery.v3.DiscoveryRequest');
  const res = codecFor<DiscoveryResponse>('envoy.service.discovery.v3.DiscoveryResponse');
  const dreq = codecFor<DeltaDiscoveryRequest>('envoy.service.discovery.v3.DeltaDiscoveryRequest');
  const dres = codecFor<DeltaDiscoveryResponse>('envoy.service.discovery.v3.DeltaDiscoveryResponse');
  const method = (name: string, q: typeof req | typeof dreq, s: typeof res | typeof dres) => ({
    path: `/${service}/${name}`, requestStream: true, responseStream: true, originalName: name,
    requestSerialize: q.encode, requestDeserialize: q.decode, responseSerialize: s.encode, responseDeserialize: s.decode,
  });
  return {
    [sotwName]: method(sotwName, req, res),
    [deltaName]: method(deltaName, dreq, dres),
  } as unknown as ServiceDefinition;
}
