/** The stable error codes of src/upstream (never renamed once published). */
import { SkiffError } from '../common/errors.js';

export const UPSTREAM_OVERFLOW = 'SKIFF_UPSTREAM_OVERFLOW';
export const UPSTREAM_CONNECT_TIMEOUT = 'SKIFF_UPSTREAM_CONNECT_TIMEOUT';
export const UPSTREAM_CONNECT_FAILURE = 'SKIFF_UPSTREAM_CONNECT_FAILURE';
/** The host's pool is draining (host removed or cluster closing): try another host. */
export const UPSTREAM_POOL_DRAINED = 'SKIFF_UPSTREAM_POOL_DRAINED';
/** The pool was closed while the request waited for a connection. */
export const UPSTREAM_POOL_CLOSED = 'SKIFF_UPSTREAM_POOL_CLOSED';

export function overflowError(cluster: string, what: string): SkiffError {
  return new SkiffError(UPSTREAM_OVERFLOW, `cluster ${cluster}: ${what} circuit breaker open`, 'upstream', false);
}

export function connectTimeoutError(cluster: string, hostKey: string, ms: number): SkiffError {
  return new SkiffError(UPSTREAM_CONNECT_TIMEOUT, `cluster ${cluster}: connect to ${hostKey} timed out after ${ms} ms`, 'upstream', true);
}

export function connectFailureError(cluster: string, hostKey: string, cause: unknown): SkiffError {
  const reason = (cause as { code?: string } | null)?.code ?? String(cause);
  return new SkiffError(UPSTREAM_CONNECT_FAILURE, `cluster ${cluster}: connect to ${hostKey} failed: ${reason}`, 'upstream', true, { cause });
}
