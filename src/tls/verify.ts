/**
 * Whether the peer's certificate chain verified against the trusted CA. Node computes this for sockets a
 * tls.Server accepts (`authorized`), not for a TLSSocket built over an already-accepted socket, so it is read
 * the way Node reads it, from the TLS handle's verify result. test/unit/tls checks it against good, bad and
 * foreign-CA certificates so a Node change cannot go unnoticed.
 */
import type tls from 'node:tls';

interface TlsHandle { verifyError?(): (Error & { code?: string }) | null }

/** undefined when verified, else the verify error's code or message. */
export function verifyError(socket: tls.TLSSocket): string | undefined {
  const handle = (socket as unknown as { _handle?: TlsHandle | null })._handle;
  if (handle === undefined || handle === null || typeof handle.verifyError !== 'function') return 'cannot read the verify result';
  const err = handle.verifyError();
  return err === null || err === undefined ? undefined : (err.code ?? err.message);
}
