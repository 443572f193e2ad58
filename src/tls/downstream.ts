/**
 * envoy.transport_sockets.tls with a DownstreamTlsContext: terminates TLS for a filter chain. The handshake
 * runs on a TLSSocket over the accepted socket (or over a replay of the bytes listener filters read); the
 * client certificate, when one is requested (validation_context.trusted_ca) or required
 * (require_client_certificate), is verified against the trusted CA and then matched against
 * match_typed_subject_alt_names. Any failure closes that connection only and is counted under the
 * listener's `ssl.` stats. Main thread only.
 */
import type { Socket } from 'node:net';
import tls from 'node:tls';
import { ConfigError, UnsupportedConfigError } from '../common/errors.js';
import type { Logger } from '../common/logger.js';
import type { Any } from '../types/envoy.js';
import type { AcceptOutcome, DownstreamTransport } from '../listener/transport.js';
import type { TlsStats } from '../listener/listener_stats.js';
import { ReloadableTlsContext, type CommonTlsContextConfig } from './context.js';
import { parseSubjectAltName } from './san_matcher.js';
import { replaySocket } from './replay_socket.js';
import { verifyError } from './verify.js';

/** A handshake that takes longer is a failed connection (Envoy bounds it with transport_socket_connect_timeout). */
const HANDSHAKE_TIMEOUT_MS = 10_000;

interface DownstreamTlsContextConfig { common_tls_context?: CommonTlsContextConfig; require_client_certificate?: { value?: boolean }; [k: string]: unknown }

class DownstreamTls implements DownstreamTransport {
  constructor(private readonly ctx: ReloadableTlsContext, private readonly requireClientCert: boolean) {}

  accept(socket: Socket, peeked: Buffer, stats: TlsStats, done: (outcome: AcceptOutcome) => void): void {
    const ctx = this.ctx;
    // An SDS secret that did not come while the listener warmed (timeout, rejected): no certificate to offer.
    if (!ctx.ready) { stats.connection_error.inc(); done({ ok: false, reason: 'TLS secrets not delivered yet (SDS)' }); return; }
    // Bytes already read are replayed through the stream interface; otherwise TLS takes the socket's handle
    // directly (faster), which also works on a socket listener filters paused without reading anything.
    const replay = peeked.length > 0;
    const raw = replay ? replaySocket(socket, peeked) : socket;
    if (replay) socket.resume();
    const requestCert = ctx.hasTrustedCa;
    const t = new tls.TLSSocket(raw, {
      isServer: true, secureContext: ctx.current, requestCert, rejectUnauthorized: false,
      ...(ctx.alpn.length > 0 ? { ALPNProtocols: ctx.alpn } : {}),
    });
    let finished = false;
    const fail = (reason: string): void => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      t.destroy();
      done({ ok: false, reason });
    };
    const onError = (e: Error): void => { stats.connection_error.inc(); fail(e.message); };
    const onClose = (): void => { stats.connection_error.inc(); fail('closed during the handshake'); };
    const timer = setTimeout(() => { stats.connection_error.inc(); fail('handshake timeout'); }, HANDSHAKE_TIMEOUT_MS);
    t.once('error', onError);
    t.once('close', onClose);
    // Whatever closes the TLS side closes the accepted socket too (the listener tracks that one).
    t.once('close', () => socket.destroy());
    t.once('secure', () => {
      if (finished) return;
      t.off('error', onError);
      t.off('close', onClose);
      let peerSans: string[] = [];
      if (requestCert) {
        const cert = t.getPeerCertificate();
        const presented = cert !== null && cert !== undefined && Object.keys(cert).length > 0;
        if (!presented) {
          if (this.requireClientCert) { stats.fail_verify_no_cert.inc(); fail('no client certificate'); return; }
          stats.no_certificate.inc();
        } else {
          const err = verifyError(t);
          if (err !== undefined) { stats.fail_verify_error.inc(); fail(`client certificate: ${err}`); return; }
          const sans = parseSubjectAltName(cert.subjectaltname);
          if (ctx.sanCheck !== undefined && !ctx.sanCheck(sans)) { stats.fail_verify_san.inc(); fail('client certificate SANs do not match'); return; }
          peerSans = [...sans.URI, ...sans.DNS];
        }
      }
      finished = true;
      clearTimeout(timer);
      stats.handshake.inc();
      // Errors after the handshake belong to whoever serves the connection; until it listens they only close it.
      t.on('error', () => {});
      const servername = (t as tls.TLSSocket & { servername?: string | false }).servername;
      done({ ok: true, conn: { socket: t, serverName: typeof servername === 'string' ? servername.toLowerCase() : '', alpn: t.alpnProtocol || '', peerSans } });
    });
  }

  dispose(): void { this.ctx.dispose(); }
}

/** Reads a DownstreamTlsContext (`path` names its typed_config). */
export function buildDownstreamTls(typedConfig: Any, path: string, log: Logger | undefined): DownstreamTransport {
  const c = typedConfig as unknown as DownstreamTlsContextConfig;
  for (const key of Object.keys(c)) {
    if (key !== '@type' && key !== 'common_tls_context' && key !== 'require_client_certificate') throw new UnsupportedConfigError(`${path}.${key}`, 'field');
  }
  const ctx = new ReloadableTlsContext(c.common_tls_context ?? {}, `${path}.common_tls_context`,
    { side: 'server', defaultMin: 'TLSv1.2', defaultMax: 'TLSv1.3' }, log);
  const require = c.require_client_certificate?.value === true;
  // With an SDS validation context the CA comes later; it is checked once it is there.
  if (require && ctx.ready && !ctx.hasTrustedCa) {
    ctx.dispose();
    throw new ConfigError(`${path}.require_client_certificate`, 'needs common_tls_context.validation_context.trusted_ca to verify the client certificate');
  }
  return new DownstreamTls(ctx, require);
}
