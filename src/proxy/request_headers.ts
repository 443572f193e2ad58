/**
 * The headers the connection manager sets on a request before it goes upstream, as Envoy's
 * ConnectionManagerUtility::mutateRequestHeaders and the router do: x-forwarded-for, x-forwarded-proto,
 * x-request-id, x-envoy-expected-rq-timeout-ms, the route's header mutations, path and host rewrites.
 * Hop-by-hop headers are dropped by the codec, not here.
 */
import type { HeaderList, RequestHead } from '../types/http.js';
import type { RouteEntry } from '../types/router.js';
import type { ConnectionManagerConfig } from './config.js';
import { applyHeaderMutation, HeaderEdits } from './header_mutation.js';
import { newRequestId } from './request_id.js';
import { applyXfcc, type DownstreamClientCert } from './xfcc.js';

/** What the connection manager adds before routing (these headers are visible to route matching in Envoy; here they only go upstream). */
export interface DownstreamHeaderEdits {
  readonly edits: HeaderEdits;
  /** The request id the request carries upstream. */
  readonly requestId: string | undefined;
}

/** The addresses of one x-forwarded-for value, in order. */
function xffEntries(xff: string): string[] {
  return xff.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
}

/** Headers an external client may not set (Envoy strips them from external requests at the edge). */
const ENVOY_INTERNAL_HEADERS = [
  'x-envoy-decorator-operation', 'x-envoy-downstream-service-cluster', 'x-envoy-downstream-service-node',
  'x-envoy-expected-rq-timeout-ms', 'x-envoy-external-address', 'x-envoy-force-trace', 'x-envoy-internal',
  'x-envoy-ip-tags', 'x-envoy-max-retries', 'x-envoy-retry-grpc-on', 'x-envoy-retry-on',
  'x-envoy-upstream-alt-stat-name', 'x-envoy-upstream-rq-per-try-timeout-ms', 'x-envoy-upstream-rq-timeout-alt-response',
  'x-envoy-upstream-rq-timeout-ms', 'x-envoy-hedge-on-per-try-timeout',
] as const;

/** RFC 1918, loopback and IPv6 unique-local addresses: what Envoy calls internal. */
export function isInternalAddress(address: string): boolean {
  const a = address.startsWith('::ffff:') ? address.slice(7) : address;
  const m = /^(\d{1,3})\.(\d{1,3})\.\d{1,3}\.\d{1,3}$/.exec(a);
  if (m) {
    const o1 = Number(m[1]);
    const o2 = Number(m[2]);
    return o1 === 10 || o1 === 127 || (o1 === 172 && o2 >= 16 && o2 <= 31) || (o1 === 192 && o2 === 168);
  }
  const lower = a.toLowerCase();
  return lower === '::1' || /^f[cd][0-9a-f]{2}:/.test(lower);
}

/**
 * Edge headers as Envoy's ConnectionManagerUtility sets them. With use_remote_address the peer address is
 * appended to x-forwarded-for and x-forwarded-proto is overwritten with the real scheme; the request is
 * internal when the peer is an internal address and no x-forwarded-for came with it (then
 * `x-envoy-internal: true`), else external: Envoy's internal x-envoy-* headers are stripped,
 * x-envoy-external-address is set and x-request-id is regenerated. Without use_remote_address
 * x-forwarded-proto is only set when absent. x-request-id is generated (uuid v4) when absent and
 * generate_request_id is on.
 */
export function downstreamHeaderEdits(head: RequestHead, remoteAddress: string, cfg: ConnectionManagerConfig,
  clientCert?: DownstreamClientCert): DownstreamHeaderEdits {
  const edits = new HeaderEdits(head.headers);
  applyXfcc(edits, head.headers, cfg.xfcc, clientCert);
  let external = false;
  if (cfg.useRemoteAddress) {
    const existing = head.headers.getAll('x-forwarded-for').flatMap(xffEntries);
    const internal = existing.length === 0 && isInternalAddress(remoteAddress);
    existing.push(remoteAddress);
    edits.set('x-forwarded-for', existing.join(', '));
    edits.set('x-forwarded-proto', 'http');
    if (internal) {
      edits.set('x-envoy-internal', 'true');
    } else {
      external = true;
      for (const h of ENVOY_INTERNAL_HEADERS) if (head.headers.has(h)) edits.drop(h);
      edits.set('x-envoy-external-address', remoteAddress);
    }
  } else if (!head.headers.has('x-forwarded-proto')) {
    edits.set('x-forwarded-proto', 'http');
  }
  let requestId = external ? undefined : head.headers.get('x-request-id');
  if ((requestId === undefined || requestId === '') && cfg.generateRequestId) {
    requestId = newRequestId();
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
  const entries = headers.getAll('x-forwarded-for').flatMap(xffEntries);
  const idx = entries.length - 1 - cfg.xffNumTrustedHops;
  return idx >= 0 ? entries[idx]! : remoteAddress;
}

/** The path after prefix_rewrite: the matched prefix replaced, the query kept. */
export function rewritePath(path: string, route: RouteEntry): string | undefined {
  if (route.prefixRewrite === undefined) return undefined;
  if (route.regexMatch) {
    const q = path.indexOf('?');
    return route.prefixRewrite + (q < 0 ? '' : path.slice(q));
  }
  if (route.matchPrefix === undefined) return undefined;
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
  const edits = base.copy();
  applyHeaderMutation(edits, route.requestHeaders);
  if (route.hostRewrite !== undefined) edits.set('host', route.hostRewrite);
  if (expectedTimeoutMs > 0) edits.set('x-envoy-expected-rq-timeout-ms', timeoutText(expectedTimeoutMs));
  else edits.drop('x-envoy-expected-rq-timeout-ms');
  edits.drop('expect');
  // The path is read (a string made from the head) only when the route rewrites it.
  const path = route.prefixRewrite === undefined ? undefined : rewritePath(head.path, route);
  return { path, remove: edits.remove, add: edits.add };
}

/** The decimal text of route timeouts: a few distinct values, each made once (bounded, see TIMEOUT_TEXTS_MAX). */
const timeoutTexts = new Map<number, string>();
const TIMEOUT_TEXTS_MAX = 256;

function timeoutText(ms: number): string {
  let t = timeoutTexts.get(ms);
  if (t === undefined) {
    t = String(ms);
    if (timeoutTexts.size < TIMEOUT_TEXTS_MAX) timeoutTexts.set(ms, t);
  }
  return t;
}
