/**
 * The time limits a route puts on one request beyond its timeout (what istiod sets on every route):
 * - `grpc-timeout` honoured when the route asks for it (`max_stream_duration.grpc_timeout_header_max`, or the
 *   deprecated `max_grpc_timeout`): the header's value, capped at the maximum (0: no cap), less the offset,
 *   replaces the route timeout, as Envoy does;
 * - `max_stream_duration`: the upstream stream's whole life (from routing to the end of the response).
 */
import type { HeaderList } from '../types/http.js';
import type { RouteEntry } from '../types/router.js';

const GRPC_TIMEOUT_RE = /^(\d{1,8})([HMSmun])$/;
const UNIT_MS: Record<string, number> = { H: 3_600_000, M: 60_000, S: 1000, m: 1, u: 1e-3, n: 1e-6 };

/** A `grpc-timeout` header value (gRPC over HTTP/2 spec: up to 8 digits and a unit) in ms; undefined when malformed. */
export function parseGrpcTimeout(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const m = GRPC_TIMEOUT_RE.exec(value.trim());
  if (!m) return undefined;
  return Number(m[1]) * UNIT_MS[m[2]!]!;
}

/** The timeout (ms, 0: none) for this request on this route: the route's, or the gRPC header's when the route honours it. */
export function effectiveTimeoutMs(route: RouteEntry, headers: HeaderList): number {
  const max = route.grpcTimeoutHeaderMaxMs;
  if (max === undefined) return route.timeoutMs;
  const asked = parseGrpcTimeout(headers.get('grpc-timeout'));
  // No (or an unreadable) header: the route timeout stands, as in Envoy.
  if (asked === undefined) return route.timeoutMs;
  let ms = asked === 0 ? max : max > 0 ? Math.min(asked, max) : asked;
  const offset = route.grpcTimeoutOffsetMs ?? 0;
  if (offset > 0 && ms > offset) ms -= offset;
  return Math.ceil(ms);
}
