/**
 * gRPC statuses for local replies, as Envoy answers a gRPC request it cannot proxy: the HTTP status Skiff
 * would have sent becomes a gRPC status (gRPC's http-grpc-status-mapping, Envoy's
 * `Grpc::Utility::httpToGrpcStatus`), carried in a trailers-only response (HTTP 200, `content-type:
 * application/grpc`, `grpc-status`, `grpc-message`), since gRPC clients read only grpc-status.
 */
import type { HeaderList } from '../types/http.js';

/** The gRPC status codes (grpc/doc/statuscodes.md). */
export const GrpcStatus = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  OUT_OF_RANGE: 11,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  DATA_LOSS: 15,
  UNAUTHENTICATED: 16,
} as const;

export type GrpcStatusCode = (typeof GrpcStatus)[keyof typeof GrpcStatus];

/**
 * The gRPC status of a local reply with HTTP status `http`, Envoy's table: 400 -> INTERNAL, 401 ->
 * UNAUTHENTICATED, 403 -> PERMISSION_DENIED, 404 -> UNIMPLEMENTED, 429/502/503/504 -> UNAVAILABLE, anything
 * else UNKNOWN. (Envoy sends UNAVAILABLE for an upstream timeout too; a filter that means another status,
 * e.g. a rate limiter's RESOURCE_EXHAUSTED, passes it explicitly.)
 */
export function httpToGrpcStatus(http: number): GrpcStatusCode {
  switch (http) {
    case 400: return GrpcStatus.INTERNAL;
    case 401: return GrpcStatus.UNAUTHENTICATED;
    case 403: return GrpcStatus.PERMISSION_DENIED;
    case 404: return GrpcStatus.UNIMPLEMENTED;
    case 429:
    case 502:
    case 503:
    case 504: return GrpcStatus.UNAVAILABLE;
    default: return GrpcStatus.UNKNOWN;
  }
}

const GRPC_CONTENT_TYPE = 'application/grpc';

/**
 * A gRPC request by its content-type: `application/grpc` exactly or followed by `+` (a codec, e.g. `+proto`)
 * or `;` (parameters), as Envoy's `hasGrpcContentType`. `application/grpc-web` is not gRPC: it has its own
 * framing of statuses.
 */
export function isGrpcContentType(contentType: string | undefined): boolean {
  if (contentType === undefined || !contentType.startsWith(GRPC_CONTENT_TYPE)) return false;
  if (contentType.length === GRPC_CONTENT_TYPE.length) return true;
  const next = contentType.charCodeAt(GRPC_CONTENT_TYPE.length);
  return next === 0x2b /* + */ || next === 0x3b /* ; */;
}

export function isGrpcRequest(headers: HeaderList): boolean {
  return isGrpcContentType(headers.get('content-type'));
}

/**
 * `grpc-message` as the gRPC spec encodes it: UTF-8 bytes, with '%' and every byte outside printable ASCII
 * (0x20-0x7e) written as %XX, so any text fits in a header value.
 */
export function encodeGrpcMessage(text: string): string {
  let plain = true;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x20 || c > 0x7e || c === 0x25) { plain = false; break; }
  }
  if (plain) return text;
  let out = '';
  for (const b of Buffer.from(text, 'utf8')) {
    out += b < 0x20 || b > 0x7e || b === 0x25 ? `%${b.toString(16).toUpperCase().padStart(2, '0')}` : String.fromCharCode(b);
  }
  return out;
}
