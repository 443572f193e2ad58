/**
 * A cluster's transport_socket_matches: per host, the first entry whose `match` is contained in the host's
 * `envoy.transport_socket_match` metadata (the endpoint's, else its locality's) gives the transport socket; no
 * entry matching falls back to the cluster's transport_socket. An empty `match` matches every host. This is how
 * Istio speaks mTLS to endpoints labelled `tlsMode: istio` and plain text to the rest.
 */
import { isDeepStrictEqual } from 'node:util';
import { ConfigError } from '../common/errors.js';
import type { Logger } from '../common/logger.js';
import type { Any } from '../types/envoy.js';
import { upstreamTransport, type UpstreamTls } from './transport.js';

/** The filter_metadata key Envoy reads endpoint labels for transport socket matching from. */
export const TRANSPORT_SOCKET_MATCH_KEY = 'envoy.transport_socket_match';

interface TransportSocketMatchConfig { name?: string; match?: Record<string, unknown>; transport_socket?: { name?: string; typed_config?: Any } }

interface Entry { readonly name: string; readonly match: Record<string, unknown>; readonly tls: UpstreamTls | undefined }

/** The labels of an endpoint (or of its locality) that transport_socket_matches compare against. */
export function transportMatchLabels(metadata: unknown): Record<string, unknown> | undefined {
  const fm = (metadata as { filter_metadata?: Record<string, unknown> } | undefined)?.filter_metadata;
  const labels = fm?.[TRANSPORT_SOCKET_MATCH_KEY];
  return labels !== null && typeof labels === 'object' && !Array.isArray(labels) ? labels as Record<string, unknown> : undefined;
}

export class TransportSocketMatcher {
  private constructor(private readonly entries: readonly Entry[], private readonly fallback: UpstreamTls | undefined) {}

  /** Builds every entry's transport (a failure disposes those already built). `path` names the cluster. */
  static build(matches: readonly TransportSocketMatchConfig[] | undefined, fallback: UpstreamTls | undefined, path: string, log?: Logger): TransportSocketMatcher {
    const entries: Entry[] = [];
    try {
      (matches ?? []).forEach((m, i) => {
        const at = `${path}.transport_socket_matches[${i}]`;
        if (typeof m.name !== 'string' || m.name === '') throw new ConfigError(`${at}.name`, 'required');
        if (m.transport_socket === undefined) throw new ConfigError(`${at}.transport_socket`, 'required');
        entries.push({ name: m.name, match: m.match ?? {}, tls: upstreamTransport(m.transport_socket, `${at}.transport_socket`, log) });
      });
    } catch (e) {
      for (const entry of entries) entry.tls?.dispose();
      throw e;
    }
    return new TransportSocketMatcher(entries, fallback);
  }

  get empty(): boolean { return this.entries.length === 0; }

  /** The transport for a host with these labels (undefined: plain TCP). */
  select(labels: Record<string, unknown> | undefined): UpstreamTls | undefined {
    for (const e of this.entries) {
      let all = true;
      for (const [k, v] of Object.entries(e.match)) {
        if (labels === undefined || !isDeepStrictEqual(labels[k], v)) { all = false; break; }
      }
      if (all) return e.tls;
    }
    return this.fallback;
  }

  /** Disposes the entries' transports (the fallback belongs to the cluster). */
  dispose(): void {
    for (const e of this.entries) e.tls?.dispose();
  }
}
