import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FilterChainSelector, type ConnectionFacts, type FilterChainMatchConfig } from '../../../src/listener/filter_chain_match.js';

function facts(over: Partial<ConnectionFacts> = {}): ConnectionFacts {
  return {
    localAddress: '127.0.0.1', localPort: 8080, remoteAddress: '10.1.2.3', remotePort: 40000,
    transportProtocol: 'raw_buffer', serverName: '', applicationProtocols: [], ...over,
  };
}

function selector(matches: (FilterChainMatchConfig | undefined)[]): FilterChainSelector<number> {
  return new FilterChainSelector(matches.map((match, i) => ({ match, path: `chains[${i}]`, value: i })));
}

test('server_names: exact beats the longest wildcard, which beats a shorter one and the catch-all', () => {
  const s = selector([undefined, { server_names: ['*.example.com'] }, { server_names: ['*.a.example.com'] }, { server_names: ['www.example.com'] }]);
  assert.equal(s.select(facts({ serverName: 'www.example.com' })), 3);
  assert.equal(s.select(facts({ serverName: 'x.a.example.com' })), 2);
  assert.equal(s.select(facts({ serverName: 'deep.x.example.com' })), 1);
  assert.equal(s.select(facts({ serverName: 'example.com' })), 0, 'the wildcard needs a label before the suffix');
  assert.equal(s.select(facts({ serverName: '' })), 0);
});

test('destination_port narrows first and there is no backtracking to the port-less chains', () => {
  const s = selector([{ server_names: ['a.com'] }, { destination_port: { value: 8080 }, transport_protocol: 'tls' }]);
  // Port 8080 picks chain 1 at step 1; its transport_protocol then does not match: no chain at all (Envoy's rule).
  assert.equal(s.select(facts({ serverName: 'a.com' })), undefined);
  assert.equal(s.select(facts({ serverName: 'a.com', transportProtocol: 'tls' })), 1);
  assert.equal(s.select(facts({ serverName: 'a.com', localPort: 9090 })), 0);
});

test('prefix ranges: the longest matching prefix wins, for destination and source, IPv4 and IPv6', () => {
  const s = selector([
    { source_prefix_ranges: [{ address_prefix: '10.0.0.0', prefix_len: { value: 8 } }] },
    { source_prefix_ranges: [{ address_prefix: '10.1.0.0', prefix_len: { value: 16 } }] },
    { source_prefix_ranges: [{ address_prefix: 'fd00::', prefix_len: { value: 8 } }] },
    {},
  ]);
  assert.equal(s.select(facts({ remoteAddress: '10.1.9.9' })), 1);
  assert.equal(s.select(facts({ remoteAddress: '::ffff:10.2.0.1' })), 0);
  assert.equal(s.select(facts({ remoteAddress: 'fd12::1' })), 2);
  assert.equal(s.select(facts({ remoteAddress: '192.168.0.1' })), 3);
  const d = selector([{ prefix_ranges: [{ address_prefix: '127.0.0.0', prefix_len: { value: 8 } }] }, { prefix_ranges: [{ address_prefix: '127.0.0.2', prefix_len: { value: 32 } }] }]);
  assert.equal(d.select(facts({ localAddress: '127.0.0.2' })), 1);
  assert.equal(d.select(facts({ localAddress: '127.0.0.1' })), 0);
  assert.equal(d.select(facts({ localAddress: '10.0.0.1' })), undefined);
});

test('transport protocol, ALPN, source type and source ports', () => {
  const s = selector([{ transport_protocol: 'tls' }, { transport_protocol: 'tls', application_protocols: ['h2'] }, { transport_protocol: 'raw_buffer' }]);
  assert.equal(s.select(facts({ transportProtocol: 'tls', applicationProtocols: ['h2', 'http/1.1'] })), 1);
  assert.equal(s.select(facts({ transportProtocol: 'tls', applicationProtocols: ['http/1.1'] })), 0);
  assert.equal(s.select(facts()), 2);
  const t = selector([{ source_type: 'SAME_IP_OR_LOOPBACK' }, { source_type: 'EXTERNAL', source_ports: [40000] }]);
  assert.equal(t.select(facts({ remoteAddress: '127.0.0.1' })), 0);
  assert.equal(t.select(facts()), 1);
  assert.equal(t.select(facts({ remotePort: 40001 })), undefined);
});

test('bad matches are refused by field path; two chains with the same match are refused', () => {
  assert.throws(() => selector([{ server_names: ['a.*.com'] }]), { message: /chains\[0\]\.filter_chain_match\.server_names\[0\]/ });
  assert.throws(() => selector([{ prefix_ranges: [{ address_prefix: 'nope', prefix_len: { value: 8 } }] }]), { message: /prefix_ranges\[0\]\.address_prefix/ });
  assert.throws(() => selector([{ prefix_ranges: [{ address_prefix: '10.0.0.0', prefix_len: { value: 33 } }] }]), { message: /prefix_len/ });
  assert.throws(() => selector([{ server_names: ['a.com'] }, { server_names: ['A.com'] }]), { message: /chains\[1\]\.filter_chain_match: the same match as chains\[0\]/ });
  assert.throws(() => selector([{ address_suffix: '1' } as FilterChainMatchConfig]), { code: 'SKIFF_CONFIG_UNSUPPORTED', message: /address_suffix/ });
});
