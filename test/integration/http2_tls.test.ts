// HTTP/2 over TLS: the listener negotiates h2 by ALPN (DownstreamTlsContext alpn_protocols) and the HTTP
// connection manager (codec_type AUTO) serves it with the HTTP/2 codec; curl --http2 and Node's http2 client
// over https; an HTTP/1.1 client on the same listener still gets HTTP/1.1. Upstream, a cluster with
// explicit http2 and an UpstreamTlsContext offering h2 reaches Node's secure http2 server.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import https from 'node:https';
import net from 'node:net';
import { once } from 'node:events';
import { execFile } from 'node:child_process';
import { startSkiff, type RunningSkiff } from '../helpers/skiff.js';
import { DOWNSTREAM_TLS, HCM, UPSTREAM_TLS, adminAnyPort, explicitHttp2, loadAssignment, routerFilter } from '../helpers/envoy_config.js';
import { createTestCa, type TestCa } from '../helpers/certs.js';


let ca: TestCa;
let upstream: http2.Http2SecureServer;
let skiff: RunningSkiff;

before(async () => {
  ca = createTestCa();
  const edge = ca.issue('edge', 'edge.example.com', ['DNS:edge.example.com']);
  const backend = ca.issue('backend', 'backend', ['DNS:backend.internal']);
  upstream = http2.createSecureServer({ cert: backend.cert, key: backend.key, allowHTTP1: false });
  upstream.on('stream', (stream, headers) => {
    stream.on('error', () => undefined);
    stream.respond({ ':status': 200, 'x-upstream-alpn': String((stream.session?.socket as unknown as { alpnProtocol?: string })?.alpnProtocol), 'x-upstream-scheme': String(headers[':scheme']) });
    stream.end(`h2 backend ${String(headers[':path'])}`);
  });
  upstream.listen(0, '127.0.0.1');
  await once(upstream, 'listening');
  const upPort = (upstream.address() as net.AddressInfo).port;
  skiff = await startSkiff({
    config: {
      admin: adminAnyPort(),
      static_resources: {
        listeners: [{
          name: 'edge', address: { socket_address: { address: '127.0.0.1', port_value: 0 } },
          filter_chains: [{
            transport_socket: { name: 'envoy.transport_sockets.tls', typed_config: {
              '@type': DOWNSTREAM_TLS,
              common_tls_context: {
                tls_certificates: [{ certificate_chain: { filename: edge.certPath }, private_key: { filename: edge.keyPath } }],
                alpn_protocols: ['h2', 'http/1.1'],
              },
            } },
            filters: [{
              name: 'envoy.filters.network.http_connection_manager',
              typed_config: {
                '@type': HCM, stat_prefix: 'edge', codec_type: 'AUTO',
                route_config: { virtual_hosts: [{ name: 'all', domains: ['*'], routes: [
                  { match: { prefix: '/direct' }, direct_response: { status: 200, body: { inline_string: 'direct' } } },
                  { match: { prefix: '/' }, route: { cluster: 'h2tls' } },
                ] }] },
                http_filters: [routerFilter()],
              },
            }],
          }],
        }],
        clusters: [{
          name: 'h2tls', type: 'STATIC', connect_timeout: '2s',
          typed_extension_protocol_options: explicitHttp2(),
          transport_socket: { name: 'envoy.transport_sockets.tls', typed_config: {
            '@type': UPSTREAM_TLS, sni: 'backend.internal',
            common_tls_context: { alpn_protocols: ['h2'], validation_context: { trusted_ca: { filename: ca.certPath } } },
          } },
          load_assignment: loadAssignment('h2tls', upPort),
        }],
      },
    },
  });
});

after(async () => {
  await skiff?.stop();
  upstream?.close();
  ca?.cleanup();
});

function run(cmd: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: 20_000 }, (err, stdout, stderr) => resolve({ code: err ? 1 : 0, stdout, stderr }));
  });
}

test('curl --http2 negotiates h2 by ALPN; the h2 request goes upstream over h2 on TLS', async () => {
  const url = `https://edge.example.com:${skiff.port('edge')}/x`;
  const r = await run('curl', ['-sS', '--http2', '--cacert', ca.certPath, '--resolve', `edge.example.com:${skiff.port('edge')}:127.0.0.1`,
    '-D', '-', '-w', '\n%{http_version}', url]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^HTTP\/2 200/m);
  assert.match(r.stdout, /x-upstream-alpn: h2/);
  assert.match(r.stdout, /x-upstream-scheme: https/);
  assert.match(r.stdout, /h2 backend \/x\n2$/);
});

test('Node http2 over https, and an HTTP/1.1 client on the same TLS listener', async () => {
  const session = http2.connect(`https://127.0.0.1:${skiff.port('edge')}`, { ca: ca.cert, servername: 'edge.example.com' });
  try {
    const body = await new Promise<string>((resolve, reject) => {
      const req = session.request({ ':path': '/direct' });
      let b = '';
      req.setEncoding('utf8');
      req.on('data', (c: string) => { b += c; });
      req.on('end', () => resolve(b));
      req.on('error', reject);
    });
    assert.equal(body, 'direct');
  } finally { session.close(); }
  const h1 = await new Promise<{ version: string; body: string }>((resolve, reject) => {
    https.get({ host: '127.0.0.1', port: skiff.port('edge'), path: '/direct', ca: ca.cert, servername: 'edge.example.com', agent: false }, (res) => {
      let b = '';
      res.on('data', (c: Buffer) => { b += c.toString(); });
      res.on('end', () => resolve({ version: res.httpVersion, body: b }));
    }).on('error', reject);
  });
  assert.deepEqual(h1, { version: '1.1', body: 'direct' });
});
