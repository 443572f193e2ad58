/**
 * The transport socket envoy.transport_sockets.internal_upstream (InternalUpstreamTransport) of a cluster whose
 * endpoints are internal listeners: it names the metadata that travels with each connection
 * (`passthrough_metadata`: a namespace of the host's or the cluster's filter_metadata), which the internal
 * listener's connection gets as dynamic metadata (Istio passes `envoy.filters.listener.original_dst` this way:
 * the original destination the internal listener's original_dst filter restores). The inner transport socket
 * must be raw_buffer: TLS over an internal connection is not implemented.
 */
import { ConfigError, UnsupportedConfigError } from '../common/errors.js';
import type { Any } from '../types/envoy.js';

export const INTERNAL_UPSTREAM_TYPE_URL = 'type.googleapis.com/envoy.extensions.transport_sockets.internal_upstream.v3.InternalUpstreamTransport';
export const INTERNAL_UPSTREAM_NAME = 'envoy.transport_sockets.internal_upstream';
const RAW_BUFFER_TYPE_URL = 'type.googleapis.com/envoy.extensions.transport_sockets.raw_buffer.v3.RawBuffer';

export interface PassthroughEntry { readonly kind: 'host' | 'cluster'; readonly name: string }

export interface InternalUpstream { readonly passthrough: readonly PassthroughEntry[] }

interface TransportSocketConfig { name?: string; typed_config?: Any }

/** True for an internal_upstream transport socket config. */
export function isInternalUpstream(ts: TransportSocketConfig | undefined): boolean {
  if (ts === undefined) return false;
  const url = ts.typed_config?.['@type'];
  return url === INTERNAL_UPSTREAM_TYPE_URL || (url === undefined && (ts.name === INTERNAL_UPSTREAM_NAME || ts.name === 'internal_upstream'));
}

/** Reads an InternalUpstreamTransport; `path` names the transport_socket field. */
export function internalUpstreamOf(ts: TransportSocketConfig, path: string): InternalUpstream {
  const tc = (ts.typed_config ?? {}) as { passthrough_metadata?: { kind?: Record<string, unknown>; name?: string }[]; transport_socket?: TransportSocketConfig };
  for (const key of Object.keys(tc)) {
    if (key !== '@type' && key !== 'passthrough_metadata' && key !== 'transport_socket') throw new UnsupportedConfigError(`${path}.typed_config.${key}`, 'field');
  }
  const inner = tc.transport_socket;
  if (inner !== undefined) {
    const url = inner.typed_config?.['@type'];
    const raw = url === RAW_BUFFER_TYPE_URL || (url === undefined && (inner.name === 'envoy.transport_sockets.raw_buffer' || inner.name === 'raw_buffer'));
    if (!raw) throw new UnsupportedConfigError(`${path}.typed_config.transport_socket`, `transport socket ${inner.name ?? url ?? ''} inside internal_upstream (raw_buffer only)`);
  }
  const passthrough = (tc.passthrough_metadata ?? []).map((m, i): PassthroughEntry => {
    const at = `${path}.typed_config.passthrough_metadata[${i}]`;
    if (typeof m.name !== 'string' || m.name === '') throw new ConfigError(`${at}.name`, 'required');
    const kinds = Object.keys(m.kind ?? {});
    if (kinds.length !== 1 || (kinds[0] !== 'host' && kinds[0] !== 'cluster')) {
      throw new UnsupportedConfigError(`${at}.kind`, `metadata kind ${kinds.join(',') || '(none)'} (host or cluster)`);
    }
    return { kind: kinds[0] as 'host' | 'cluster', name: m.name };
  });
  return { passthrough };
}

type FilterMetadata = Record<string, unknown> | undefined;

function filterMetadataOf(metadata: unknown): FilterMetadata {
  const fm = (metadata as { filter_metadata?: unknown } | undefined)?.filter_metadata;
  return fm !== null && typeof fm === 'object' && !Array.isArray(fm) ? fm as Record<string, unknown> : undefined;
}

/**
 * The metadata one connection to a host carries: for each passthrough entry, that namespace of the host's
 * (endpoint's) or the cluster's filter_metadata, when present. Undefined when there is none.
 */
export function passthroughMetadata(upstream: InternalUpstream | undefined, hostMetadata: unknown, clusterMetadata: unknown): Map<string, Record<string, unknown>> | undefined {
  if (upstream === undefined || upstream.passthrough.length === 0) return undefined;
  const host = filterMetadataOf(hostMetadata);
  const cluster = filterMetadataOf(clusterMetadata);
  const out = new Map<string, Record<string, unknown>>();
  for (const p of upstream.passthrough) {
    const v = (p.kind === 'host' ? host : cluster)?.[p.name];
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) out.set(p.name, v as Record<string, unknown>);
  }
  return out.size > 0 ? out : undefined;
}
