// x-forwarded-client-cert through a real listener: an mTLS client's certificate reaches the upstream as
// Envoy's XFCC element (APPEND_FORWARD after what the client sent, SANITIZE_SET alone), and the default
// SANITIZE strips what a plain-text client sends.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, X509Certificate } from 'node:crypto';
import https from 'node:https';
import { createTestCa, type TestCa, type CertFiles } from '../helpers/certs.js';
import { allDomains, closeAll, httpUpstream, listener, request, startProxy, staticCluster, type Proxy, type Upstream } from './proxy_harness.js';
import type { Listener } from '../../src/types/envoy.js';

const TLS = 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext';

let ca: TestCa;
let client: CertFiles;
let proxy: Proxy;
let upstream: Upstream;

function mtls(l: Listener, server: CertFiles): Listener {
  const chain = l.filter_chains![0]! as Record<string, unknown>;
  chain.transport_socket = { name: 'envoy.transport_sockets.tls', typed_config: {
    '@type': TLS, require_client_certificate: { value: true },
    common_tls_context: {
      tls_certificates: [{ certificate_chain: { inline_string: server.cert }, private_key: { inline_string: server.key } }],
      validation_context: { trusted_ca: { inline_string: ca.cert } },
    },
  } };
  return l;
}

before(async () => {
  ca = createTestCa();
  const server = ca.issue('server', 'server', ['URI:spiffe://cluster.local/ns/mesh/sa/gateway', 'DNS:gateway.mesh']);
  client = ca.issue('client', 'client', ['URI:spiffe://cluster.local/ns/app/sa/client', 'DNS:client.app'], 'client');
  upstream = await httpUpstream((req, res) => res.end(String(req.headers['x-forwarded-client-cert'] ?? '(none)')));
  const routes = allDomains([{ match: { prefix: '/' }, route: { cluster: 'app' } }]);
  const details = { subject: { value: true }, uri: true, dns: true };
  proxy = await startProxy([
    mtls(listener('append', routes, { forward_client_cert_details: 'APPEND_FORWARD', set_current_client_cert_details: details }), server),
    mtls(listener('set', routes, { forward_client_cert_details: 'SANITIZE_SET', set_current_client_cert_details: { uri: true } }), server),
    listener('plain', routes),
  ], [staticCluster('app', [upstream.port])]);
});

after(async () => {
  await closeAll(proxy, upstream);
  ca.cleanup();
});

function getMtls(port: number, xfcc?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = https.request({
      host: '127.0.0.1', port, path: '/', ca: ca.cert, cert: client.cert, key: client.key, servername: 'gateway.mesh', agent: false,
      headers: xfcc === undefined ? {} : { 'x-forwarded-client-cert': xfcc },
    }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => { body += c; });
      res.on('end', () => resolve(`${res.statusCode} ${body}`));
    });
    req.setTimeout(10_000, () => req.destroy(new Error('timed out')));
    req.on('error', reject);
    req.end();
  });
}

test('APPEND_FORWARD appends By, Hash, Subject, URI and DNS of the client certificate to what the client sent', async () => {
  const hash = createHash('sha256').update(new X509Certificate(client.cert).raw).digest('hex');
  const element = `By=spiffe://cluster.local/ns/mesh/sa/gateway;Hash=${hash};Subject="CN=client";URI=spiffe://cluster.local/ns/app/sa/client;DNS=client.app`;
  assert.equal(await getMtls(proxy.port('append')), `200 ${element}`);
  assert.equal(await getMtls(proxy.port('append'), 'By=spiffe://upstream;Hash=00'), `200 By=spiffe://upstream;Hash=00,${element}`);
});

test('SANITIZE_SET replaces what the client sent; the default SANITIZE removes it', async () => {
  const hash = createHash('sha256').update(new X509Certificate(client.cert).raw).digest('hex');
  assert.equal(await getMtls(proxy.port('set'), 'By=forged'), `200 By=spiffe://cluster.local/ns/mesh/sa/gateway;Hash=${hash};URI=spiffe://cluster.local/ns/app/sa/client`);
  const plain = await request(proxy.port('plain'), { path: '/', headers: { 'x-forwarded-client-cert': 'By=forged' } });
  assert.equal(plain.body, '(none)');
});
