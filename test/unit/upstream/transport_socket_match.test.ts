import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TransportSocketMatcher, transportMatchLabels } from '../../../src/upstream/transport_socket_match.js';

const RAW = { name: 'envoy.transport_sockets.raw_buffer', typed_config: { '@type': 'type.googleapis.com/envoy.extensions.transport_sockets.raw_buffer.v3.RawBuffer' } };
const TLS = { name: 'envoy.transport_sockets.tls', typed_config: { '@type': 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext', sni: 'mesh' } };

test('transport_socket_matches: first entry contained in the labels wins; none matching falls back to the cluster', () => {
  const m = TransportSocketMatcher.build([
    { name: 'tlsMode-istio', match: { tlsMode: 'istio' }, transport_socket: TLS },
    { name: 'v2-plain', match: { version: 'v2', tlsMode: 'disabled' }, transport_socket: RAW },
  ], undefined, 'cluster');
  try {
    assert.equal(m.select({ tlsMode: 'istio', other: 'x' })?.sni, 'mesh');
    assert.equal(m.select({ version: 'v2', tlsMode: 'disabled' }), undefined);
    assert.equal(m.select({ version: 'v2' }), undefined, 'only part of a match: the fallback (plain)');
    assert.equal(m.select(undefined), undefined);
    assert.equal(m.empty, false);
  } finally {
    m.dispose();
  }
  const empty = TransportSocketMatcher.build([{ name: 'all', match: {}, transport_socket: TLS }], undefined, 'c');
  assert.equal(empty.select(undefined)?.sni, 'mesh', 'an empty match matches every host');
  empty.dispose();
  assert.throws(() => TransportSocketMatcher.build([{ match: {}, transport_socket: RAW }], undefined, 'c'), /c\.transport_socket_matches\[0\]\.name/);
});

test('transportMatchLabels: only the envoy.transport_socket_match filter metadata', () => {
  assert.deepEqual(transportMatchLabels({ filter_metadata: { 'envoy.transport_socket_match': { tlsMode: 'istio' }, istio: { workload: 'w' } } }), { tlsMode: 'istio' });
  assert.equal(transportMatchLabels({ filter_metadata: { istio: {} } }), undefined);
  assert.equal(transportMatchLabels(undefined), undefined);
  assert.equal(transportMatchLabels({ filter_metadata: { 'envoy.transport_socket_match': 'x' } }), undefined);
});
