/**
 * One StreamAggregatedResources (state of the world) stream. Per type it remembers the client's subscription and
 * what was last sent; it responds to a first request, to a subscription change and to a new snapshot, but only
 * when what the client would get differs from what it has (so ACKs and NACKs never cause a resend loop).
 *
 * Subscriptions: an empty resource_names for LDS/CDS, or '*' for any type, is the wildcard; RDS/EDS are named.
 * A request whose response_nonce is not the last one sent for its type is stale and ignored (as the xDS protocol
 * says), except that it still cannot change the subscription.
 */
import type { ServerDuplexStream } from '@grpc/grpc-js';
import type { Logger } from '../common/logger.js';
import type { DiscoveryRequest, DiscoveryResponse } from './protocol.js';
import { isWildcardType, SERVED_TYPES, type ServedResource, type Snapshot } from './types.js';
import type { StreamEvents } from './stream_events.js';

interface TypeState {
  wildcard: boolean;
  names: Set<string>;
  /** Fingerprint (name@version list) of the last response; undefined before the first. */
  sentKey?: string;
  sentNonce?: string;
  sentVersion?: string;
  ackedVersion?: string;
  /** Fingerprint the client rejected: not sent again until the content changes. */
  nackedKey?: string;
}

export class SotwStream {
  private readonly types = new Map<string, TypeState>();
  private nonceCounter = 0;
  nodeId = '';

  constructor(
    private readonly call: ServerDuplexStream<DiscoveryRequest, DiscoveryResponse>,
    private readonly snapshot: () => Snapshot | undefined,
    private readonly events: StreamEvents,
    private readonly log: Logger,
    private readonly identifier: string,
  ) {}

  handleRequest(req: DiscoveryRequest): void {
    if (req.node?.id) this.nodeId = req.node.id;
    const typeUrl = req.type_url;
    if (!SERVED_TYPES.includes(typeUrl)) {
      this.log.warn(`node '${this.nodeId}': request for unserved type ${typeUrl} ignored`);
      return;
    }
    let state = this.types.get(typeUrl);
    const names = req.resource_names ?? [];
    if (state && req.response_nonce !== '' && req.response_nonce !== state.sentNonce) {
      this.log.debug(`node '${this.nodeId}' ${short(typeUrl)}: stale nonce ${req.response_nonce} (last sent ${state.sentNonce}) ignored`);
      return;
    }
    const wildcard = names.includes('*') || (names.length === 0 && isWildcardType(typeUrl));
    const subscribed = new Set(names.filter((n) => n !== '*'));
    const isNew = !state || req.response_nonce === '';
    if (!state) {
      state = { wildcard, names: subscribed };
      this.types.set(typeUrl, state);
    }
    state.wildcard = wildcard;
    state.names = subscribed;

    if (req.response_nonce !== '' && req.response_nonce === state.sentNonce) {
      if (req.error_detail && (req.error_detail.message || req.error_detail.code)) {
        state.nackedKey = state.sentKey;
        this.events.onNack(this.nodeId, typeUrl, req.response_nonce, req.error_detail.message ?? '');
        this.log.warn(`node '${this.nodeId}' NACKed ${short(typeUrl)} version ${state.sentVersion} (nonce ${req.response_nonce}): ${req.error_detail.message ?? ''}`);
      } else {
        state.ackedVersion = req.version_info;
        this.events.onAck(this.nodeId, typeUrl, req.version_info);
      }
    }
    // A first request (or a reconnect, which also has no nonce) always gets an answer for wildcard types;
    // after that only a changed subscription or content does.
    this.respond(typeUrl, state, isNew);
  }

  /** A new snapshot: every subscribed type whose content changed for this client gets a response. */
  push(): void {
    for (const [typeUrl, state] of this.types) this.respond(typeUrl, state, false);
  }

  private respond(typeUrl: string, state: TypeState, firstRequest: boolean): void {
    const snapshot = this.snapshot();
    if (!snapshot) return;
    const selected = select(snapshot.resources.get(typeUrl)!, state);
    const key = selected.map((r) => `${r.name}@${r.version}`).join(',');
    const force = firstRequest && (state.wildcard || selected.length > 0);
    // An unchanged selection is not resent even when the subscription changed (the client has it all), and a
    // selection the client rejected waits for new content.
    if (!force && (key === state.sentKey || key === state.nackedKey)) return;
    this.nonceCounter += 1;
    const nonce = String(this.nonceCounter);
    state.sentKey = key;
    state.sentNonce = nonce;
    state.sentVersion = snapshot.version;
    const response: DiscoveryResponse = {
      version_info: snapshot.version, resources: selected.map((r) => r.any), type_url: typeUrl, nonce,
      control_plane: { identifier: this.identifier },
    };
    this.call.write(response);
    this.events.onResponse(this.nodeId, typeUrl, snapshot.version, selected.length);
  }
}

function select(all: ReadonlyMap<string, ServedResource>, state: TypeState): ServedResource[] {
  if (state.wildcard) return [...all.values()];
  const out: ServedResource[] = [];
  for (const name of [...state.names].sort()) {
    const r = all.get(name);
    if (r) out.push(r);
  }
  return out;
}

export function short(typeUrl: string): string {
  return typeUrl.slice(typeUrl.lastIndexOf('.') + 1);
}
