export { ControlPlaneServer, type ControlPlaneOptions, type LoadResult, type ControlPlaneCounters } from './server.js';
export { adsServiceDefinition, codecFor, ADS_SERVICE, type DiscoveryRequest, type DiscoveryResponse, type DeltaDiscoveryRequest, type DeltaDiscoveryResponse } from './protocol.js';
export { parseResourceText, readResourceFile, listResourceFiles, typeFromFileName, type FileResource } from './resource_files.js';
export { SnapshotSequence, packResources, encodeResource } from './snapshot.js';
export { LISTENER_TYPE, ROUTE_TYPE, CLUSTER_TYPE, ENDPOINT_TYPE, SERVED_TYPES, type Snapshot, type ServedResource, type LoadProblem } from './types.js';
