/**
 * envoy.transport_sockets.tls with an UpstreamTlsContext: how a cluster's connections speak TLS to its hosts.
 * `sni` is sent as the server name; the server certificate is verified only when
 * validation_context.trusted_ca is set (as in Envoy), then matched against match_typed_subject_alt_names
 * (instead of a hostname check, which Envoy does not do either); tls_certificates give the client
 * certificate for mTLS; alpn_protocols are offered. Certificate files are reloaded when they change.
 */
import net from 'node:net';
import tls from 'node:tls';
import { SkiffError, UnsupportedConfigError } from '../common/errors.js';
import type { Logger } from '../common/logger.js';
import type { Any } from '../types/envoy.js';
import { ReloadableTlsContext, type CommonTlsContextConfig } from './context.js';
import { parseSubjectAltName } from './san_matcher.js';

interface UpstreamTlsContextConfig { sni?: string; common_tls_context?: CommonTlsContextConfig; [k: string]: unknown }

export class UpstreamTls {
  constructor(readonly sni: string, private readonly ctx: ReloadableTlsContext) {}

  /**
   * Opens a TLS connection to host:port; it emits 'secureConnect' once verified, 'error' when refused.
   * `alpn`: the protocols to offer instead of the context's alpn_protocols (auto_config offers h2 and http/1.1).
   */
  connect(address: string, port: number, alpn?: readonly string[]): tls.TLSSocket {
    const ctx = this.ctx;
    if (!ctx.ready) {
      // An SDS secret that did not come while the cluster warmed: the connect fails (as a refused handshake
      // would), the pool counts it.
      const socket = new net.Socket() as tls.TLSSocket;
      process.nextTick(() => socket.destroy(new SkiffError('SKIFF_UPSTREAM_TLS_NOT_READY', 'upstream TLS secrets not delivered yet (SDS)', 'upstream', true)));
      return socket;
    }
    const verify = ctx.hasTrustedCa;
    const offer = alpn ?? ctx.alpn;
    const socket = tls.connect({
      host: address, port,
      secureContext: ctx.current,
      ...(this.sni !== '' ? { servername: this.sni } : {}),
      ...(offer.length > 0 ? { ALPNProtocols: [...offer] } : {}),
      rejectUnauthorized: verify,
      checkServerIdentity: (_host, cert) => {
        if (!verify || ctx.sanCheck === undefined) return undefined;
        if (ctx.sanCheck(parseSubjectAltName(cert.subjectaltname))) return undefined;
        return new SkiffError('SKIFF_UPSTREAM_TLS_SAN', `upstream certificate SANs (${cert.subjectaltname ?? 'none'}) do not match`, 'upstream');
      },
    });
    socket.setNoDelay(true);
    return socket;
  }

  /** The context's alpn_protocols (empty when none are configured). */
  get alpn(): readonly string[] { return this.ctx.alpn; }

  dispose(): void { this.ctx.dispose(); }
}

/** Reads a cluster's UpstreamTlsContext (`path` names its typed_config). */
export function buildUpstreamTls(typedConfig: Any, path: string, log: Logger | undefined): UpstreamTls {
  const c = typedConfig as unknown as UpstreamTlsContextConfig;
  for (const key of Object.keys(c)) {
    if (key !== '@type' && key !== 'sni' && key !== 'common_tls_context') throw new UnsupportedConfigError(`${path}.${key}`, 'field');
  }
  const ctx = new ReloadableTlsContext(c.common_tls_context ?? {}, `${path}.common_tls_context`,
    { side: 'client', defaultMin: 'TLSv1.2', defaultMax: 'TLSv1.3' }, log);
  return new UpstreamTls(c.sni ?? '', ctx);
}
