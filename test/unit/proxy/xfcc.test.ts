// x-forwarded-client-cert: the element Envoy builds from a peer certificate (By, Hash, Cert, Chain, Subject,
// URI, DNS), RFC 2253 subjects, and what each forward_client_cert_details mode does to the header.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, X509Certificate } from 'node:crypto';
import tls from 'node:tls';
import { createTestCa } from '../../helpers/certs.js';
import {
  applyXfcc, clientCertElement, peerCertificateFacts, rfc2253, xfccConfig, XFCC_HEADER,
  type DownstreamClientCert, type PeerCertificateFacts, type XfccConfig,
} from '../../../src/proxy/xfcc.js';
import { HeaderEdits } from '../../../src/proxy/header_mutation.js';
import { ConfigError, UnsupportedConfigError } from '../../../src/common/errors.js';
import { headerList } from './fakes.js';

const FACTS: PeerCertificateFacts = {
  sha256: 'ab'.repeat(32), subject: 'CN=client,O=Acme\\, Inc.', pem: '-----BEGIN CERTIFICATE-----\nMIIB+/=\n-----END CERTIFICATE-----\n',
  chainPem: 'CHAIN', uriSans: ['spiffe://cluster.local/ns/a/sa/client'], dnsSans: ['client.a', 'c.a'], localUriSans: ['spiffe://cluster.local/ns/b/sa/server'],
};
const ALL = { cert: true, chain: true, subject: true, uri: true, dns: true };
const NONE = { cert: false, chain: false, subject: false, uri: false, dns: false };

test('the element: By, Hash, then Cert, Chain, Subject, URI, DNS as configured, with Envoy quoting and URL-encoded PEM', () => {
  assert.equal(clientCertElement(FACTS, NONE), `By=spiffe://cluster.local/ns/b/sa/server;Hash=${'ab'.repeat(32)}`);
  assert.equal(clientCertElement(FACTS, { ...NONE, subject: true, uri: true, dns: true }),
    `By=spiffe://cluster.local/ns/b/sa/server;Hash=${'ab'.repeat(32)};Subject="CN=client,O=Acme\\\\, Inc.";`
    + 'URI=spiffe://cluster.local/ns/a/sa/client;DNS=client.a;DNS=c.a');
  const all = clientCertElement(FACTS, ALL);
  assert.match(all, /;Cert="-----BEGIN%20CERTIFICATE-----%0AMIIB%2B%2F%3D%0A-----END%20CERTIFICATE-----%0A";Chain="CHAIN";Subject=/);
  assert.equal(clientCertElement({ ...FACTS, uriSans: [], localUriSans: [] }, { ...NONE, uri: true }), `Hash=${'ab'.repeat(32)};URI=`, 'URI= stays when there is none');
  assert.equal(clientCertElement({ ...FACTS, dnsSans: ['a;b'] }, { ...NONE, dns: true }).endsWith(';DNS="a;b"'), true);
});

test('rfc2253: most specific RDN first, special characters escaped', () => {
  assert.equal(rfc2253('C=US\nST=CA\nO=Acme, Inc.\nCN=client'), 'CN=client,O=Acme\\, Inc.,ST=CA,C=US');
  assert.equal(rfc2253('CN=#x '), 'CN=\\#x\\ ');
});

test('the HCM fields: defaults, subject as a BoolValue, unknown modes and fields refused', () => {
  assert.deepEqual(xfccConfig({}, 'hcm'), { mode: 'SANITIZE', details: NONE });
  assert.deepEqual(xfccConfig({ forward_client_cert_details: 'APPEND_FORWARD', set_current_client_cert_details: { subject: { value: true }, uri: true } }, 'hcm'),
    { mode: 'APPEND_FORWARD', details: { ...NONE, subject: true, uri: true } });
  assert.throws(() => xfccConfig({ forward_client_cert_details: 'SOMETIMES' }, 'hcm'), (e: unknown) => e instanceof ConfigError && /hcm\.forward_client_cert_details/.test(e.message));
  assert.throws(() => xfccConfig({ set_current_client_cert_details: { color: true } }, 'hcm'), UnsupportedConfigError);
});

function fakeCert(presented: boolean): DownstreamClientCert {
  return { presented, elementFor: () => 'Hash=h;URI=spiffe://x' } as unknown as DownstreamClientCert;
}

function xfccAfter(mode: XfccConfig['mode'], received: string[], cert: DownstreamClientCert | undefined): string | undefined | 'removed' {
  const headers = headerList(received.map((v) => [XFCC_HEADER, v] as [string, string]));
  const edits = new HeaderEdits(headers);
  applyXfcc(edits, headers, { mode, details: { ...NONE, uri: true } }, cert);
  if (edits.remove.includes(XFCC_HEADER) && !edits.has(XFCC_HEADER)) return 'removed';
  return edits.get(XFCC_HEADER);
}

test('each forward_client_cert_details mode, with and without a client certificate', () => {
  const mtls = fakeCert(true);
  const tlsOnly = fakeCert(false);
  assert.equal(xfccAfter('SANITIZE', ['By=a'], mtls), 'removed');
  assert.equal(xfccAfter('SANITIZE', [], mtls), undefined);
  assert.equal(xfccAfter('FORWARD_ONLY', ['By=a'], mtls), 'By=a');
  assert.equal(xfccAfter('FORWARD_ONLY', ['By=a'], tlsOnly), 'removed');
  assert.equal(xfccAfter('FORWARD_ONLY', ['By=a'], undefined), 'removed');
  assert.equal(xfccAfter('APPEND_FORWARD', ['By=a', 'By=b'], mtls), 'By=a,By=b,Hash=h;URI=spiffe://x');
  assert.equal(xfccAfter('APPEND_FORWARD', [], mtls), 'Hash=h;URI=spiffe://x');
  assert.equal(xfccAfter('APPEND_FORWARD', ['By=a'], undefined), 'removed');
  assert.equal(xfccAfter('SANITIZE_SET', ['By=a'], mtls), 'Hash=h;URI=spiffe://x');
  assert.equal(xfccAfter('SANITIZE_SET', ['By=a'], tlsOnly), 'removed');
  assert.equal(xfccAfter('ALWAYS_FORWARD_ONLY', ['By=a'], undefined), 'By=a');
});

test('peerCertificateFacts reads a real mTLS connection: hash of the DER, subject, SANs, our own URI SAN', async (t) => {
  const ca = createTestCa();
  t.after(() => ca.cleanup());
  const server = ca.issue('server', 'server', ['URI:spiffe://cluster.local/ns/b/sa/server', 'DNS:server.b']);
  const client = ca.issue('client', 'client', ['URI:spiffe://cluster.local/ns/a/sa/client', 'DNS:client.a'], 'client');
  const facts = new Promise<PeerCertificateFacts | undefined>((resolve) => {
    const srv = tls.createServer({ cert: server.cert, key: server.key, ca: ca.cert, requestCert: true, rejectUnauthorized: true }, (s) => {
      resolve(peerCertificateFacts(s));
      s.end();
    });
    t.after(() => srv.close());
    srv.listen(0, '127.0.0.1', () => {
      const c = tls.connect({ host: '127.0.0.1', port: (srv.address() as { port: number }).port, ca: ca.cert, cert: client.cert, key: client.key, servername: 'server.b' });
      c.on('error', () => {});
      c.resume();
      t.after(() => c.destroy());
    });
  });
  const f = await facts;
  assert.ok(f !== undefined);
  const der = new X509Certificate(client.cert).raw;
  assert.equal(f.sha256, createHash('sha256').update(der).digest('hex'));
  assert.equal(f.subject, 'CN=client');
  assert.deepEqual(f.uriSans, ['spiffe://cluster.local/ns/a/sa/client']);
  assert.deepEqual(f.dnsSans, ['client.a']);
  assert.deepEqual(f.localUriSans, ['spiffe://cluster.local/ns/b/sa/server']);
  assert.equal(f.pem.trim(), client.cert.trim());
  assert.equal(f.chainPem.trim(), client.cert.trim(), 'a self-signed root is not part of the chain');
});
