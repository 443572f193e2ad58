/**
 * x-forwarded-client-cert (XFCC), as Envoy's HTTP connection manager sets it:
 *   forward_client_cert_details
 *     SANITIZE (default)    the header is removed;
 *     FORWARD_ONLY          kept as received on mTLS connections, removed on others;
 *     APPEND_FORWARD        on mTLS connections this hop's element is appended (`,`-separated), else removed;
 *     SANITIZE_SET          on mTLS connections replaced by this hop's element, else removed;
 *     ALWAYS_FORWARD_ONLY   kept as received, always.
 *   set_current_client_cert_details picks what the element holds besides By (the URI SANs of Skiff's own
 *   certificate) and Hash (SHA-256 of the peer certificate's DER, hex): Cert and Chain (URL-encoded PEM),
 *   Subject (RFC 2253, always present, may be empty), URI (every URI SAN, `URI=` when none), DNS (every
 *   DNS SAN), in that order, `;`-joined: By=spiffe://a;Hash=…;Subject="CN=x";URI=spiffe://b;DNS=b.example
 * "mTLS connection" means the downstream presented a certificate on a TLS chain.
 */
import { createHash, type X509Certificate } from 'node:crypto';
import type { TLSSocket } from 'node:tls';
import { ConfigError, UnsupportedConfigError } from '../common/errors.js';
import type { HeaderList } from '../types/http.js';
import { parseSubjectAltName } from '../tls/san_matcher.js';
import type { HeaderEdits } from './header_mutation.js';

export const XFCC_HEADER = 'x-forwarded-client-cert';

export type ForwardClientCertMode = 'SANITIZE' | 'FORWARD_ONLY' | 'APPEND_FORWARD' | 'SANITIZE_SET' | 'ALWAYS_FORWARD_ONLY';
const MODES: readonly ForwardClientCertMode[] = ['SANITIZE', 'FORWARD_ONLY', 'APPEND_FORWARD', 'SANITIZE_SET', 'ALWAYS_FORWARD_ONLY'];

export interface ClientCertDetailsConfig {
  readonly cert: boolean;
  readonly chain: boolean;
  readonly subject: boolean;
  readonly uri: boolean;
  readonly dns: boolean;
}

export interface XfccConfig {
  readonly mode: ForwardClientCertMode;
  readonly details: ClientCertDetailsConfig;
}

interface HcmXfccFields {
  forward_client_cert_details?: string;
  set_current_client_cert_details?: { subject?: { value?: boolean } | boolean; cert?: boolean; chain?: boolean; dns?: boolean; uri?: boolean; [k: string]: unknown };
}

const DETAIL_FIELDS = new Set(['subject', 'cert', 'chain', 'dns', 'uri']);

/** The HCM's XFCC settings (`path` names its typed_config); SANITIZE with nothing set by default. */
export function xfccConfig(hcm: HcmXfccFields, path: string): XfccConfig {
  const mode = (hcm.forward_client_cert_details ?? 'SANITIZE') as ForwardClientCertMode;
  if (!MODES.includes(mode)) throw new ConfigError(`${path}.forward_client_cert_details`, `unknown value ${String(mode)}`);
  const d = hcm.set_current_client_cert_details ?? {};
  for (const key of Object.keys(d)) if (!DETAIL_FIELDS.has(key)) throw new UnsupportedConfigError(`${path}.set_current_client_cert_details.${key}`, 'field');
  const subject = typeof d.subject === 'boolean' ? d.subject : d.subject?.value ?? false;
  return { mode, details: { cert: d.cert === true, chain: d.chain === true, subject, uri: d.uri === true, dns: d.dns === true } };
}

/** What XFCC needs from a downstream mTLS connection (a TLS socket whose peer presented a certificate). */
export interface PeerCertificateFacts {
  /** SHA-256 of the peer certificate's DER, lower-case hex. */
  readonly sha256: string;
  /** RFC 2253 form (most specific RDN first, `,`-separated). */
  readonly subject: string;
  readonly pem: string;
  /** The peer's certificate and the intermediates it was verified with, PEM (self-signed roots left out). */
  readonly chainPem: string;
  readonly uriSans: readonly string[];
  readonly dnsSans: readonly string[];
  /** URI SANs of the certificate Skiff presented (XFCC's By). */
  readonly localUriSans: readonly string[];
}

/** RFC 4514 §2.4 escaping of an attribute value. */
function escapeRdnValue(v: string): string {
  let out = v.replace(/[\\,+"<>;=]/g, (c) => `\\${c}`);
  if (out.startsWith('#') || out.startsWith(' ')) out = `\\${out}`;
  if (out.endsWith(' ') && out.length > 1) out = `${out.slice(0, -1)}\\ `;
  return out;
}

/** Node's subject text (one `TYPE=value` per line, least specific first) in RFC 2253 order. */
export function rfc2253(nodeSubject: string): string {
  return nodeSubject.split('\n').filter((l) => l !== '').reverse().map((line) => {
    const eq = line.indexOf('=');
    return eq < 0 ? escapeRdnValue(line) : `${line.slice(0, eq)}=${escapeRdnValue(line.slice(eq + 1))}`;
  }).join(',');
}

/** The facts of a TLS socket's peer certificate; undefined when it presented none. */
export function peerCertificateFacts(socket: TLSSocket): PeerCertificateFacts | undefined {
  const peer = socket.getPeerX509Certificate();
  if (peer === undefined) return undefined;
  const sans = parseSubjectAltName(peer.subjectAltName);
  const local = socket.getX509Certificate();
  const chain: X509Certificate[] = [peer];
  // Bounded walk up the verified chain: intermediates only (a root is not what the peer presented).
  let detailed = socket.getPeerCertificate(true) as { issuerCertificate?: unknown; raw?: Buffer };
  for (let i = 0; i < 8; i++) {
    const issuer = detailed.issuerCertificate as typeof detailed | undefined;
    if (issuer === undefined || issuer === detailed || issuer.raw === undefined) break;
    const cert = new (peer.constructor as new (raw: Buffer) => X509Certificate)(issuer.raw);
    if (cert.subject === cert.issuer) break;
    chain.push(cert);
    detailed = issuer;
  }
  return {
    sha256: createHash('sha256').update(peer.raw).digest('hex'),
    subject: rfc2253(peer.subject),
    pem: peer.toString(),
    chainPem: chain.map((c) => c.toString()).join(''),
    uriSans: sans.URI,
    dnsSans: sans.DNS,
    localUriSans: local === undefined ? [] : parseSubjectAltName(local.subjectAltName).URI,
  };
}

/** Escapes `"` and `\` for a value that is always quoted (Subject). */
function quoted(v: string): string {
  return `"${v.replace(/["\\]/g, (c) => `\\${c}`)}"`;
}

/** A value quoted as XFCC requires when it holds `,` `;` `=` or `"` (quotes inside escaped). */
function maybeQuoted(v: string): string {
  return /[,;="]/.test(v) ? quoted(v) : v;
}

/** This hop's XFCC element for a peer certificate. */
export function clientCertElement(facts: PeerCertificateFacts, d: ClientCertDetailsConfig): string {
  const parts: string[] = [];
  for (const uri of facts.localUriSans) parts.push(`By=${maybeQuoted(uri)}`);
  parts.push(`Hash=${facts.sha256}`);
  if (d.cert) parts.push(`Cert="${encodeURIComponent(facts.pem)}"`);
  if (d.chain) parts.push(`Chain="${encodeURIComponent(facts.chainPem)}"`);
  if (d.subject) parts.push(`Subject=${quoted(facts.subject)}`);
  if (d.uri) {
    if (facts.uriSans.length === 0) parts.push('URI=');
    for (const uri of facts.uriSans) parts.push(`URI=${maybeQuoted(uri)}`);
  }
  if (d.dns) for (const dns of facts.dnsSans) parts.push(`DNS=${maybeQuoted(dns)}`);
  return parts.join(';');
}

/** A downstream connection's client certificate as the requests on it see it: read once, on first use. */
export class DownstreamClientCert {
  private facts: PeerCertificateFacts | null | undefined;
  private element: string | undefined;

  constructor(private readonly socket: TLSSocket) {}

  private read(): PeerCertificateFacts | null {
    if (this.facts === undefined) {
      // A certificate Node cannot read (or a socket already torn down) counts as none: never a crash.
      try { this.facts = peerCertificateFacts(this.socket) ?? null; } catch { this.facts = null; }
    }
    return this.facts;
  }

  /** Whether the peer presented a certificate (an mTLS connection). */
  get presented(): boolean { return this.read() !== null; }

  /** URI SANs of the peer's certificate and of Skiff's own (set_filter_state's %DOWNSTREAM_*_URI_SAN%). */
  get peerUriSans(): readonly string[] { return this.read()?.uriSans ?? []; }
  get localUriSans(): readonly string[] {
    const f = this.read();
    if (f !== null) return f.localUriSans;
    try {
      const local = this.socket.getX509Certificate();
      return local === undefined ? [] : parseSubjectAltName(local.subjectAltName).URI;
    } catch {
      return [];
    }
  }

  /** This hop's XFCC element (same for every request of the connection). */
  elementFor(d: ClientCertDetailsConfig): string {
    const f = this.read();
    if (f === null) return '';
    this.element ??= clientCertElement(f, d);
    return this.element;
  }
}

const DEFAULT_CONFIG: XfccConfig = { mode: 'SANITIZE', details: { cert: false, chain: false, subject: false, uri: false, dns: false } };

/**
 * The XFCC edit of one request: `cert` is the connection's client certificate (undefined on plain-text
 * chains). Costs one header lookup in the default mode.
 */
export function applyXfcc(edits: HeaderEdits, headers: HeaderList, cfg: XfccConfig = DEFAULT_CONFIG, cert?: DownstreamClientCert): void {
  const mode = cfg.mode;
  if (mode === 'ALWAYS_FORWARD_ONLY') return;
  const mtls = mode !== 'SANITIZE' && cert !== undefined && cert.presented;
  if (!mtls) {
    if (headers.has(XFCC_HEADER)) edits.drop(XFCC_HEADER);
    return;
  }
  if (mode === 'FORWARD_ONLY') return;
  const element = cert.elementFor(cfg.details);
  if (mode === 'APPEND_FORWARD') {
    const existing = headers.getAll(XFCC_HEADER).join(',');
    edits.set(XFCC_HEADER, existing === '' ? element : `${existing},${element}`);
  } else {
    edits.set(XFCC_HEADER, element);
  }
}
