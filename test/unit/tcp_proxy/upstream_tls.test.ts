// tcp_proxy to a cluster with an UpstreamTlsContext: bytes reach a Node TLS echo server whose certificate the
// cluster's CA validates; a server whose certificate does not match the SAN is a connect failure (counted),
// and the downstream connection is closed.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import * as net from 'node:net';
import * as tls from 'node:tls';
import { once } from 'node:events';
import { createTestCa } from '../../helpers/certs.js';
import { waitFor, PATIENCE_MS } from '../../helpers/wait.js';
import { exchange, startProxy, staticCluster } from './harness.js';

const UPSTREAM_TLS = 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext';
const ca = createTestCa();
const server = ca.issue('server', 'backend.internal', ['DNS:backend.internal']);
after(() => ca.cleanup());

async function startTlsEcho(): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<tls.TLSSocket>();
  const srv = tls.createServer({ cert: server.cert, key: server.key }, (s) => {
    sockets.add(s);
    s.on('error', () => {});
    s.once('close', () => sockets.delete(s));
    s.pipe(s);
  });
  srv.on('tlsClientError', () => {});
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  return {
    port: (srv.address() as net.AddressInfo).port,
    close: async () => { for (const s of sockets) s.destroy(); await new Promise<void>((r) => srv.close(() => r())); },
  };
}

function tlsCluster(port: number, san: string) {
  return staticCluster('secure', [port], {
    transport_socket: {
      name: 'envoy.transport_sockets.tls',
      typed_config: {
        '@type': UPSTREAM_TLS, sni: 'backend.internal',
        common_tls_context: { validation_context: { trusted_ca: { filename: ca.certPath }, match_typed_subject_alt_names: [{ san_type: 'DNS', matcher: { exact: san } }] } },
      },
    },
  } as never);
}

test('tcp_proxy speaks TLS to a cluster with an UpstreamTlsContext', async () => {
  const echo = await startTlsEcho();
  const proxy = await startProxy({ cluster: 'secure' }, [tlsCluster(echo.port, 'backend.internal')]);
  try {
    const c = net.connect({ port: proxy.port, host: '127.0.0.1' });
    await once(c, 'connect');
    assert.equal(await exchange(c, 'over tls', 8), 'over tls');
    const big = 'y'.repeat(100_000);
    assert.equal((await exchange(c, big, big.length)).length, big.length);
    c.destroy();
    await waitFor(() => proxy.filter.activeSessions === 0, PATIENCE_MS, 'session end');
    assert.equal(proxy.counter('cluster.secure.upstream_cx_total'), 1);
    assert.equal(proxy.counter('cluster.secure.upstream_cx_connect_fail'), 0);
  } finally {
    await proxy.close();
    await echo.close();
  }
});

test('a certificate the cluster does not accept is a connect failure and closes the downstream connection', async () => {
  const echo = await startTlsEcho();
  const proxy = await startProxy({ cluster: 'secure' }, [tlsCluster(echo.port, 'someone.else')]);
  try {
    const c = net.connect({ port: proxy.port, host: '127.0.0.1' });
    c.on('error', () => {});
    await once(c, 'connect');
    c.write('never delivered');
    // A reset is a fine way to close it too: wait for 'close' itself (events.once would reject on 'error').
    await Promise.race([new Promise((r) => c.once('close', r)), new Promise((_, rej) => setTimeout(() => rej(new Error('not closed')), 5000))]);
    assert.equal(proxy.counter('cluster.secure.upstream_cx_connect_fail'), 1);
  } finally {
    await proxy.close();
    await echo.close();
  }
});
