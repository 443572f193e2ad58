/**
 * The headers the connection manager sets on a request before it goes upstream, as Envoy's
 * ConnectionManagerUtility::mutateRequestHeaders and the router do: x-forwarded-for, x-forwarded-proto,
 * x-request-id, x-envoy-expected-rq-timeout-ms, the route's header mutations, path and host rewrites.
 * Hop-by-hop headers are dropped by the codec, not here.
 */
import { randomUUID } from 'node:crypto';
import type { HeaderList, RequestHead } from '../types/http.js';
import type { RouteEntry } from '../types/router.js';
import type { ConnectionManagerConfig } from './config.js';
import { applyHeaderMutation, HeaderEdits } from './header_mutation.js';

/** What the connection manager adds before routing (these headers are visible to route matching in Envoy; here they only go upstream). */
export interface DownstreamHeaderEdits {
  readonly edits: HeaderEdits;
  /** The request id the request carries upstream. */
  readonly requestId: string | undefined;
}

/** Trims one address out of an x-forwarded-for value; `''` when absent. */
function lastXffEntries(xff: string): string[] {
  return xff.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
}

/**
 * Edge headers: with use_remote_address the peer address is appended to x-forwarded-for and
 * x-forwarded-proto is overwritten with the real scheme; otherwise x-forwarded-proto is only set when
 * absent. x-request-id is generated (uuid v4) when absent and generate_request_id is on.
 */
export function downstreamHeaderEdits(head: RequestHead, remoteAddress: string, cfg: ConnectionManagerConfig): DownstreamHeaderEdits {
  const edits = new HeaderEdits(head.headers);
  if (cfg.useRemoteAddress) {
    const existing = head.headers.getAll('x-forwarded-for').flatMap(lastXffEntries);
    existing.push(remoteAddress);
    edits.set('x-forwarded-for', existing.join(', '));
    edits.set('x-forwarded-proto', 'http');
  } else if (!head.headers.has('x-forwarded-proto')) {
    edits.set('x-forwarded-proto', 'http');
  }
  let requestId = head.headers.get('x-request-id');
  if ((requestId === undefined || requestId === '') && cfg.generateRequestId) {
    requestId = randomUUID();
    edits.set('x-request-id', requestId);
  }
  return { edits, requestId };
}

/**
 * The downstream client's address as Envoy derives it: the peer with use_remote_address, else the
 * x-forwarded-for entry `xff_num_trusted_hops` from the right.
 */
export function originalClientAddress(headers: HeaderList, remoteAddress: string, cfg: ConnectionManagerConfig): string {
  if (cfg.useRemoteAddress && cfg.xffNumTrustedHops === 0) return remoteAddress;
  const entries = headers.getAll('x-forwarded-for').flatMap(lastXffEntries);
  const idx = entries.length - 1 - cfg.xffNumTrustedHops;
  return idx >= 0 ? entries[idx]! : remoteAddress;
}

/** The path after prefix_rewrite: the matched prefix replaced, the query kept. */
export function rewritePath(path: string, route: RouteEntry): string | undefined {
  if (route.prefixRewrite === undefined || route.matchPrefix === undefined) return undefined;
  const prefix = route.matchPrefix;
  if (!path.toLowerCase().startsWith(prefix.toLowerCase())) return undefined;
  return route.prefixRewrite + path.slice(prefix.length);
}

/** The full rewrite of a request head for one upstream try. */
export interface UpstreamHeadPlan {
  readonly path: string | undefined;
  readonly remove: readonly string[];
  readonly add: readonly (readonly [string, string])[];
}

/**
 * Route-level edits on top of the downstream ones: the route's request header mutations, the host
 * rewrite, x-envoy-expected-rq-timeout-ms (the per-try timeout when set, else the route timeout),
 * and `expect` removed because Skiff answers 100-continue itself.
 */
export function upstreamHeadPlan(head: RequestHead, base: HeaderEdits, route: RouteEntry, expectedTimeoutMs: number): UpstreamHeadPlan {
  const edits = new HeaderEdits(head.headers);
  for (const r of base.remove) edits.drop(r);
  for (const [n, v] of base.add) edits.append(n, v);
  applyHeaderMutation(edits, route.requestHeaders);
  if (route.hostRewrite !== undefined) edits.set('host', route.hostRewrite);
  if (expectedTimeoutMs > 0) edits.set('x-envoy-expected-rq-timeout-ms', String(expectedTimeoutMs));
  else edits.drop('x-envoy-expected-rq-timeout-ms');
  edits.drop('expect');
  return { path: rewritePath(head.path, route), remove: edits.remove, add: edits.add };
}
