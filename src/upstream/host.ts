/**
 * A host of a cluster: one resolved address and port, with the per-host counters the admin /clusters page
 * shows (Envoy's names). Identity is `address:port`: a DNS refresh that yields the same pair keeps the same
 * UpstreamHost object, and with it its pool and counters.
 */
import type { Host, HostStats } from '../types/upstream.js';

export class UpstreamHost implements Host, HostStats {
  /** Requests in flight: maintained by this host's connection pool (acquired .. released or closed). */
  activeRequests = 0;
  healthy = true;
  /** The endpoint's `envoy.transport_socket_match` labels (transport_socket_matches pick its TLS by them). */
  transportLabels: Record<string, unknown> | undefined = undefined;
  /** An internal listener endpoint (envoy_internal_address); its address is `envoy://<listener>/<endpoint_id>`. */
  internal: Host['internal'] = undefined;
  // The counters are fields of the host itself (50 000 endpoints need no 50 000 extra stats objects).
  cx_total = 0;
  cx_active = 0;
  cx_connect_fail = 0;
  rq_total = 0;
  rq_error = 0;
  rq_success = 0;
  rq_timeout = 0;
  get stats(): HostStats { return this; }
  /** `address:port` (IPv6 addresses in brackets), the host's identity and its ring-hash / Maglev key. */
  readonly key: string;

  constructor(
    readonly address: string,
    readonly port: number,
    /** Writable here (readonly to everyone else): a DNS refresh may change an endpoint's weight in place. */
    public weight: number,
    /** The name the host was resolved from (STRICT_DNS), or its address. */
    readonly hostname: string,
  ) {
    // join() yields one flat string; a template literal this long is a rope of 2-3 objects, per host.
    this.key = address.startsWith('envoy://') ? address
      : address.includes(':') ? ['[', address, ']:', port].join('') : [address, port].join(':');
  }
}

/** Counters for hosts that keep none (test doubles): written to, never read. */
const UNCOUNTED: HostStats = { cx_total: 0, cx_active: 0, cx_connect_fail: 0, rq_total: 0, rq_error: 0, rq_success: 0, rq_timeout: 0 };

/** A host's counters, or a shared sink for hosts that keep none. */
export function hostStatsOf(host: Host): HostStats {
  return host.stats ?? UNCOUNTED;
}

/** `address:port`, IPv6 addresses in brackets (as UpstreamHost.key, for hosts of any kind). */
export function hostKeyOf(host: Host): string {
  if (host.internal !== undefined) return host.address;
  return host.address.includes(':') ? `[${host.address}]:${host.port}` : `${host.address}:${host.port}`;
}

/**
 * Records the outcome of a request on a host, for the proxy: 5xx responses (and resets, passed as 0) count as
 * `rq_error`, the rest as `rq_success`. Hosts not created by src/upstream (test doubles) are ignored.
 */
export function recordHostResponse(host: Host, status: number): void {
  const s = host.stats;
  if (s === undefined) return;
  if (status === 0 || status >= 500) s.rq_error++;
  else s.rq_success++;
}

/**
 * Records that a request to `host` timed out. Only `rq_timeout`: the try's outcome is recorded once, by
 * recordHostResponse (0 for a try that got no response).
 */
export function recordHostTimeout(host: Host): void {
  if (host.stats !== undefined) host.stats.rq_timeout++;
}
