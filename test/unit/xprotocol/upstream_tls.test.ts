// Bolt to a cluster with an UpstreamTlsContext: the multiplexed pool's connections are TLS (raw_connect through
// openSocket), validated against the test CA; a certificate the cluster refuses is a connect failure, answered
// to the caller with an error reply in Bolt's format.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createTestCa } from '../../helpers/certs.js';
import { boltClient } from '../../helpers/rpc_peers.js';
import { boltUpstream } from './bolt_upstream.js';
import { allTo, startXProxy, staticCluster } from './harness.js';

const UPSTREAM_TLS = 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext';
const ca = createTestCa();
const cert = ca.issue('server', 'rpc.internal', ['DNS:rpc.internal']);
after(() => ca.cleanup());

function tlsCluster(port: number, san: string) {
  return staticCluster('rpc', [port], {
    transport_socket: {
      name: 'envoy.transport_sockets.tls',
      typed_config: {
        '@type': UPSTREAM_TLS, sni: 'rpc.internal',
        common_tls_context: { validation_context: { trusted_ca: { filename: ca.certPath }, match_typed_subject_alt_names: [{ san_type: 'DNS', matcher: { exact: san } }] } },
      },
    },
  } as never);
}

test('Bolt calls reach a TLS upstream over the multiplexed pool', async () => {
  const up = await boltUpstream('secure', () => 'ok', { cert: cert.cert, key: cert.key });
  const proxy = await startXProxy({ route_config: allTo('rpc') }, [tlsCluster(up.port, 'rpc.internal')]);
  const client = boltClient(proxy.port);
  try {
    const results = await Promise.all(Array.from({ length: 20 }, () => client.invoke('com.skiff.Echo', 'echo', [])));
    assert.deepEqual(new Set(results), new Set(['secure']));
    assert.equal(up.requests, 20);
    assert.equal(proxy.counter('cluster.rpc.upstream_cx_connect_fail'), 0);
  } finally {
    await client.close();
    await proxy.close();
    await up.close();
  }
});

test('a TLS upstream whose certificate the cluster refuses: connect failure and an error reply', async () => {
  const up = await boltUpstream('secure', () => 'ok', { cert: cert.cert, key: cert.key });
  const proxy = await startXProxy({ route_config: allTo('rpc') }, [tlsCluster(up.port, 'other.internal')]);
  const client = boltClient(proxy.port);
  try {
    await assert.rejects(client.invoke('com.skiff.Echo', 'echo', []));
    assert.equal(up.requests, 0);
    assert.ok(proxy.counter('cluster.rpc.upstream_cx_connect_fail') >= 1);
    assert.ok(proxy.counter('xprotocol.rpc.downstream_rq_local_reply') >= 1);
  } finally {
    await client.close();
    await proxy.close();
    await up.close();
  }
});
