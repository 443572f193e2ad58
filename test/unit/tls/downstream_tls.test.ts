import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import tls from 'node:tls';
import { once } from 'node:events';
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { StatsStore } from '../../../src/common/stats.js';
import { mainInstance } from '../../../src/wasm/runtime.js';
import { ListenerManager } from '../../../src/listener/listener_manager.js';
import { InlineRouteResolver } from '../../../src/router/index.js';
import type { Listener } from '../../../src/types/envoy.js';
import { createTestCa, type TestCa, type CertFiles } from '../../helpers/certs.js';
import { echoFilter, registerEchoFilter } from '../../helpers/echo_filter.js';
import { PATIENCE_MS, waitFor } from '../../helpers/wait.js';

const HCM = 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager';
const TLS = 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext';
const SPIFFE_Y = 'spiffe://cluster.local/ns/x/sa/y';

let ca: TestCa;
let otherCa: TestCa;
let certA: CertFiles;
let certB: CertFiles;
let clientY: CertFiles;
let clientZ: CertFiles;
let foreignClient: CertFiles;

before(() => {
  ca = createTestCa();
  otherCa = createTestCa('Other CA');
  certA = ca.issue('a', 'a.example.com', ['DNS:a.example.com']);
  certB = ca.issue('b', 'b.example.com', ['DNS:b.example.com', 'DNS:*.b.example.com']);
  clientY = ca.issue('cy', 'y', [`URI:${SPIFFE_Y}`], 'client');
  clientZ = ca.issue('cz', 'z', ['URI:spiffe://cluster.local/ns/x/sa/z'], 'client');
  foreignClient = otherCa.issue('fy', 'y', [`URI:${SPIFFE_Y}`], 'client');
});
after(() => { ca.cleanup(); otherCa.cleanup(); });

function hcm(body: string): Record<string, unknown> {
  return {
    name: 'envoy.filters.network.http_connection_manager',
    typed_config: { '@type': HCM, stat_prefix: body, route_config: { virtual_hosts: [{ name: 'v', domains: ['*'], routes: [
      { match: { prefix: '/' }, direct_response: { status: 200, body: { inline_string: body } } },
    ] }] } },
  };
}

function tlsSocket(cert: CertFiles, extra: Record<string, unknown> = {}, common: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name: 'envoy.transport_sockets.tls',
    typed_config: {
      '@type': TLS,
      common_tls_context: { tls_certificates: [{ certificate_chain: { filename: cert.certPath }, private_key: { filename: cert.keyPath } }], ...common },
      ...extra,
    },
  };
}

async function start(l: Record<string, unknown>): Promise<{ lm: ListenerManager; stats: StatsStore; port: number; prefix: string }> {
  const stats = new StatsStore();
  const clusters = { get: () => undefined, all: () => [], close: () => {} };
  const lm = new ListenerManager([{ name: 'l', address: { socket_address: { address: '127.0.0.1', port_value: 0 } }, ...l } as Listener],
    { wasm: mainInstance(), stats, clusters, resolverFor: (t) => new InlineRouteResolver(t) });
  await lm.start();
  const port = lm.addresses()[0]!.port;
  return { lm, stats, port, prefix: `listener.127.0.0.1_${port}.` };
}

interface Reply { ok: boolean; body: string; peerCn: string; alpn: string; error: string }

/** One HTTPS GET over a fresh TLS connection; ok false when the handshake or the connection failed. */
async function httpsGet(port: number, opts: tls.ConnectionOptions): Promise<Reply> {
  const s = tls.connect({ host: '127.0.0.1', port, ca: ca.cert, ...opts });
  let data = '';
  let error = '';
  s.on('data', (c: Buffer) => { data += c.toString('latin1'); });
  s.on('error', (e) => { error = e.message; });
  let peerCn = '';
  let alpn = '';
  s.once('secureConnect', () => {
    peerCn = String(s.getPeerCertificate().subject?.CN ?? '');
    alpn = s.alpnProtocol || '';
    s.write('GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
  });
  const timer = setTimeout(() => s.destroy(), PATIENCE_MS);
  // Not events.once: it rejects on 'error', and a refused handshake is an outcome here.
  await new Promise((r) => s.once('close', r));
  clearTimeout(timer);
  const ok = data.startsWith('HTTP/1.1 200');
  return { ok, body: ok ? data.slice(data.indexOf('\r\n\r\n') + 4) : '', peerCn, alpn, error };
}

test('two TLS chains chosen by SNI serve their own certificate and routes; ALPN and a plain chain on the same port', async (t) => {
  const { lm, port } = await start({
    listener_filters: [{ name: 'envoy.filters.listener.tls_inspector' }],
    filter_chains: [
      { filter_chain_match: { server_names: ['a.example.com'] }, transport_socket: tlsSocket(certA, {}, { alpn_protocols: ['http/1.1'] }), filters: [hcm('chain-a')] },
      { filter_chain_match: { server_names: ['*.b.example.com', 'b.example.com'] }, transport_socket: tlsSocket(certB), filters: [hcm('chain-b')] },
      { filter_chain_match: { transport_protocol: 'raw_buffer' }, filters: [hcm('plain')] },
    ],
  });
  t.after(() => lm.close());
  const a = await httpsGet(port, { servername: 'a.example.com', ALPNProtocols: ['http/1.1'] });
  assert.deepEqual([a.ok, a.body, a.peerCn, a.alpn], [true, 'chain-a', 'a.example.com', 'http/1.1']);
  const b = await httpsGet(port, { servername: 'api.b.example.com' });
  assert.deepEqual([b.ok, b.body, b.peerCn], [true, 'chain-b', 'b.example.com']);
  // Plain text on the same port goes to the raw_buffer chain, its bytes intact.
  const s = net.connect(port, '127.0.0.1');
  let plain = '';
  s.on('data', (c: Buffer) => { plain += c.toString('latin1'); });
  s.write('GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
  await once(s, 'close');
  assert.match(plain, /^HTTP\/1\.1 200 OK[\s\S]*plain$/);
  // An SNI no chain names: no match (the plain chain wants raw_buffer).
  const c = await httpsGet(port, { servername: 'c.example.com' });
  assert.equal(c.ok, false);
});

test('mTLS: a client certificate whose SAN matches is served; wrong SAN, no certificate and a foreign CA are refused and counted', async (t) => {
  const { lm, stats, port, prefix } = await start({
    filter_chains: [{
      transport_socket: tlsSocket(certA, { require_client_certificate: { value: true } }, {
        validation_context: { trusted_ca: { filename: ca.certPath }, match_typed_subject_alt_names: [{ san_type: 'URI', matcher: { exact: SPIFFE_Y } }] },
      }),
      filters: [hcm('mtls')],
    }],
  });
  t.after(() => lm.close());
  // A connection that is open and served keeps working while others fail.
  const good = await httpsGet(port, { servername: 'a.example.com', cert: clientY.cert, key: clientY.key });
  assert.deepEqual([good.ok, good.body], [true, 'mtls']);
  assert.equal((await httpsGet(port, { servername: 'a.example.com', cert: clientZ.cert, key: clientZ.key })).ok, false);
  assert.equal((await httpsGet(port, { servername: 'a.example.com' })).ok, false);
  assert.equal((await httpsGet(port, { servername: 'a.example.com', cert: foreignClient.cert, key: foreignClient.key })).ok, false);
  const again = await httpsGet(port, { servername: 'a.example.com', cert: clientY.cert, key: clientY.key });
  assert.equal(again.ok, true);
  assert.equal(stats.counter(`${prefix}ssl.fail_verify_san`).value, 1);
  assert.equal(stats.counter(`${prefix}ssl.fail_verify_no_cert`).value, 1);
  assert.equal(stats.counter(`${prefix}ssl.fail_verify_error`).value, 1);
  assert.equal(stats.counter(`${prefix}ssl.handshake`).value, 2);
  // Every connection, served or refused, is gone from the listener's books once closed.
  await waitFor(() => stats.gauge(`${prefix}downstream_cx_active`).value === 0, PATIENCE_MS, 'every connection off the books');
  assert.equal(stats.counter(`${prefix}downstream_cx_destroy`).value, 5);
});

test('a failed handshake closes that connection only and counts ssl.connection_error', async (t) => {
  const { lm, stats, port, prefix } = await start({ filter_chains: [{ transport_socket: tlsSocket(certA), filters: [hcm('tls')] }] });
  t.after(() => lm.close());
  const held = tls.connect({ host: '127.0.0.1', port, ca: ca.cert, servername: 'a.example.com' });
  await once(held, 'secureConnect');
  t.after(() => held.destroy());
  const s = net.connect(port, '127.0.0.1');
  s.on('error', () => {});
  s.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
  await once(s, 'close');
  // A client that does not trust the server aborts its own handshake.
  const distrust = await httpsGet(port, { servername: 'a.example.com', ca: otherCa.cert });
  assert.equal(distrust.ok, false);
  let reply = '';
  held.on('data', (c: Buffer) => { reply += c.toString('latin1'); });
  held.write('GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
  await once(held, 'close');
  assert.match(reply, /200 OK[\s\S]*tls$/);
  assert.ok(stats.counter(`${prefix}ssl.connection_error`).value >= 2);
});

test('certificate files are reloaded when they change; new handshakes get the new certificate', async (t) => {
  const live: CertFiles = { ...certA, certPath: join(ca.dir, 'live.crt'), keyPath: join(ca.dir, 'live.key') };
  copyFileSync(certA.certPath, live.certPath);
  copyFileSync(certA.keyPath, live.keyPath);
  const { lm, port } = await start({ filter_chains: [{ transport_socket: tlsSocket(live), filters: [hcm('reload')] }] });
  t.after(() => lm.close());
  const first = await httpsGet(port, { servername: 'a.example.com', checkServerIdentity: () => undefined });
  assert.equal(first.peerCn, 'a.example.com');
  copyFileSync(certB.keyPath, live.keyPath);
  copyFileSync(certB.certPath, live.certPath);
  let seen = '';
  const deadline = Date.now() + PATIENCE_MS;
  for (let i = 0; i < 500 && seen !== 'b.example.com' && Date.now() < deadline; i++) {
    await new Promise((r) => setTimeout(r, 100));
    seen = (await httpsGet(port, { servername: 'a.example.com', checkServerIdentity: () => undefined })).peerCn;
  }
  assert.equal(seen, 'b.example.com');
});

test('TLS config errors name the field', async () => {
  const build = (transport: Record<string, unknown>): unknown => new ListenerManager([{
    name: 'l', address: { socket_address: { address: '127.0.0.1', port_value: 0 } }, filter_chains: [{ transport_socket: transport, filters: [hcm('x')] }],
  } as unknown as Listener], { wasm: mainInstance(), stats: new StatsStore(), clusters: { get: () => undefined, all: () => [], close: () => {} }, resolverFor: (t) => new InlineRouteResolver(t) });
  assert.throws(() => build(tlsSocket({ ...certA, certPath: '/nonexistent/x.crt' })), { message: /transport_socket\.typed_config\.common_tls_context\.tls_certificates\[0\]\.certificate_chain\.filename: cannot read/ });
  assert.throws(() => build(tlsSocket(certA, { require_client_certificate: { value: true } })), { message: /require_client_certificate: needs/ });
  assert.throws(() => build(tlsSocket(certA, { require_sni: { value: true } })), { code: 'SKIFF_CONFIG_UNSUPPORTED', message: /typed_config\.require_sni/ });
  assert.throws(() => build(tlsSocket(certA, {}, { tls_params: { cipher_suites: ['NOT-A-CIPHER'] } })), { message: /tls_params\.cipher_suites/ });
  assert.throws(() => build(tlsSocket(certA, {}, { validation_context: { trusted_ca: { filename: ca.certPath }, match_typed_subject_alt_names: [{ san_type: 'OTHER_NAME', matcher: { exact: 'x' } }] } })),
    { message: /match_typed_subject_alt_names\[0\]\.san_type/ });
});

test('the terminal filter sees SNI, negotiated ALPN and the verified peer SANs of a TLS connection, no raw bytes', async (t) => {
  registerEchoFilter();
  const { lm, port } = await start({
    listener_filters: [{ name: 'envoy.filters.listener.tls_inspector' }],
    filter_chains: [{
      filter_chain_match: { server_names: ['a.example.com'] },
      transport_socket: tlsSocket(certA, {}, { alpn_protocols: ['h2', 'http/1.1'], validation_context: { trusted_ca: { filename: ca.certPath } } }),
      filters: [echoFilter],
    }],
  });
  t.after(() => lm.close());
  const s = tls.connect({ host: '127.0.0.1', port, ca: ca.cert, servername: 'A.example.com', ALPNProtocols: ['h2'], cert: clientY.cert, key: clientY.key });
  let data = '';
  s.on('data', (c: Buffer) => { data += c.toString('latin1'); });
  s.on('error', () => {});
  await new Promise((r) => s.once('close', r));
  const info = JSON.parse(data) as Record<string, unknown>;
  assert.deepEqual([info.transportProtocol, info.serverName, info.alpn, info.peerSans, info.initialData],
    ['tls', 'a.example.com', 'h2', [SPIFFE_Y], '']);
});

test('a client silent past listener_filters_timeout (continue) still completes its TLS handshake', async (t) => {
  const { lm, port } = await start({
    listener_filters: [{ name: 'envoy.filters.listener.tls_inspector' }], listener_filters_timeout: { nanos: 100_000_000 },
    continue_on_listener_filters_timeout: true,
    filter_chains: [{ transport_socket: tlsSocket(certA), filters: [hcm('late-tls')] }],
  });
  t.after(() => lm.close());
  const plain = net.connect(port, '127.0.0.1');
  await once(plain, 'connect');
  await new Promise((r) => setTimeout(r, 250));
  const s = tls.connect({ socket: plain, ca: ca.cert, servername: 'a.example.com' });
  let data = '';
  s.on('data', (c: Buffer) => { data += c.toString('latin1'); });
  s.on('error', () => {});
  s.once('secureConnect', () => s.write('GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'));
  const timer = setTimeout(() => s.destroy(), PATIENCE_MS);
  await new Promise((r) => s.once('close', r));
  clearTimeout(timer);
  assert.match(data, /^HTTP\/1\.1 200 OK[\s\S]*late-tls$/);
});
