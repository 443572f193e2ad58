/**
 * One DeltaAggregatedResources (incremental) stream. Per type it keeps the subscription (wildcard and/or names)
 * and the version of each resource the client holds (from initial_resource_versions on a reconnect, then from
 * what was sent); each response carries only resources whose version differs and the names the client holds
 * that no longer exist (removed_resources). A NACK is logged and the rejected versions are not resent: the next
 * content change sends again.
 */
import type { ServerDuplexStream } from '@grpc/grpc-js';
import type { Logger } from '../common/logger.js';
import type { DeltaDiscoveryRequest, DeltaDiscoveryResponse, DeltaResource } from './protocol.js';
import { short } from './sotw_stream.js';
import type { StreamEvents } from './stream_events.js';
import { isWildcardType, SERVED_TYPES, type Snapshot } from './types.js';

interface DeltaTypeState {
  wildcard: boolean;
  names: Set<string>;
  /** name -> version the client holds. */
  held: Map<string, string>;
  sentNonce?: string;
}

export class DeltaStream {
  private readonly types = new Map<string, DeltaTypeState>();
  private nonceCounter = 0;
  nodeId = '';

  constructor(
    private readonly call: ServerDuplexStream<DeltaDiscoveryRequest, DeltaDiscoveryResponse>,
    private readonly snapshot: () => Snapshot | undefined,
    private readonly events: StreamEvents,
    private readonly log: Logger,
    private readonly identifier: string,
  ) {}

  handleRequest(req: DeltaDiscoveryRequest): void {
    if (req.node?.id) this.nodeId = req.node.id;
    const typeUrl = req.type_url;
    if (!SERVED_TYPES.includes(typeUrl)) {
      this.log.warn(`node '${this.nodeId}': delta request for unserved type ${typeUrl} ignored`);
      return;
    }
    const subscribe = req.resource_names_subscribe ?? [];
    const unsubscribe = req.resource_names_unsubscribe ?? [];
    let state = this.types.get(typeUrl);
    const firstRequest = state === undefined;
    if (!state) {
      // The first request of a type: LDS/CDS with no names is the (legacy) wildcard; what the client already
      // holds from a previous stream is in initial_resource_versions.
      state = {
        wildcard: subscribe.includes('*') || (subscribe.length === 0 && isWildcardType(typeUrl)),
        names: new Set(), held: new Map(Object.entries(req.initial_resource_versions ?? {})),
      };
      this.types.set(typeUrl, state);
    } else if (subscribe.includes('*')) {
      state.wildcard = true;
    }
    for (const n of subscribe) if (n !== '*') state.names.add(n);
    for (const n of unsubscribe) {
      if (n === '*') { state.wildcard = false; continue; }
      state.names.delete(n);
      state.held.delete(n);
    }
    if (unsubscribe.includes('*')) {
      for (const n of [...state.held.keys()]) if (!state.names.has(n)) state.held.delete(n);
    }
    if (req.response_nonce !== '' && req.response_nonce === state.sentNonce) {
      if (req.error_detail && (req.error_detail.message || req.error_detail.code)) {
        this.events.onNack(this.nodeId, typeUrl, req.response_nonce, req.error_detail.message ?? '');
        this.log.warn(`node '${this.nodeId}' NACKed delta ${short(typeUrl)} (nonce ${req.response_nonce}): ${req.error_detail.message ?? ''}`);
      } else {
        this.events.onAck(this.nodeId, typeUrl, this.snapshot()?.version ?? '');
      }
    }
    this.respond(typeUrl, state, firstRequest);
  }

  push(): void {
    for (const [typeUrl, state] of this.types) this.respond(typeUrl, state, false);
  }

  /**
   * Sends what differs from what the client holds. The first request of a type is always answered, even with
   * nothing in it (as Envoy's control planes do): without it a client on an empty directory cannot tell
   * "nothing exists" from "not answered yet" and waits out its initial_fetch_timeout.
   */
  private respond(typeUrl: string, state: DeltaTypeState, firstRequest: boolean): void {
    const snapshot = this.snapshot();
    if (!snapshot) return;
    const all = snapshot.resources.get(typeUrl)!;
    const resources: DeltaResource[] = [];
    const removed: string[] = [];
    const consider = (name: string): void => {
      const r = all.get(name);
      if (r && state.held.get(name) !== r.version) {
        resources.push({ name, version: r.version, resource: r.any });
        state.held.set(name, r.version);
      }
    };
    if (state.wildcard) for (const name of all.keys()) consider(name);
    else for (const name of state.names) consider(name);
    for (const name of [...state.held.keys()]) {
      if (!all.has(name)) {
        removed.push(name);
        state.held.delete(name);
      }
    }
    if (resources.length === 0 && removed.length === 0 && !firstRequest) return;
    this.nonceCounter += 1;
    state.sentNonce = String(this.nonceCounter);
    this.call.write({
      system_version_info: snapshot.version, resources, type_url: typeUrl, removed_resources: removed.sort(),
      nonce: state.sentNonce, control_plane: { identifier: this.identifier },
    });
    this.events.onResponse(this.nodeId, typeUrl, snapshot.version, resources.length);
  }
}
