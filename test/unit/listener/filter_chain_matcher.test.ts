// filter_chain_matcher: matcher trees (exact, prefix, IP ranges), matcher lists with predicates, nested
// matchers and on_no_match, every network input, and Istio's golden main_internal matcher.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { FilterChainMatcherSelector, type MatcherConfig } from '../../../src/listener/filter_chain_matcher.js';
import type { ConnectionFacts } from '../../../src/listener/filter_chain_match.js';
import { ConfigError, UnsupportedConfigError } from '../../../src/common/errors.js';
import { FilterStateStore, stringObject } from '../../../src/common/filter_state.js';

const IN = 'type.googleapis.com/envoy.extensions.matching.common_inputs.network.v3.';
const input = (type: string, extra: Record<string, unknown> = {}) => ({ name: type, typed_config: { '@type': `${IN}${type}`, ...extra } });
const action = (chain: string) => ({ action: { name: chain, typed_config: { '@type': 'type.googleapis.com/google.protobuf.StringValue', value: chain } } });

function facts(over: Partial<ConnectionFacts> = {}): ConnectionFacts {
  return {
    localAddress: '10.0.0.1', localPort: 8080, remoteAddress: '192.168.1.7', remotePort: 40000,
    transportProtocol: 'raw_buffer', serverName: '', applicationProtocols: [], ...over,
  };
}

const CHAINS = ['a', 'b', 'c', 'd', 'fallback'];
function selector(m: MatcherConfig, chains = CHAINS): FilterChainMatcherSelector<string> {
  return new FilterChainMatcherSelector(m, new Map(chains.map((c) => [c, c])), 'listeners[0]');
}

test('matcher_tree exact_match_map by destination port, on_no_match otherwise', () => {
  const s = selector({
    matcher_tree: { input: input('DestinationPortInput'), exact_match_map: { map: { 8080: action('a'), 9090: action('b') } } },
    on_no_match: action('fallback'),
  });
  assert.equal(s.select(facts()), 'a');
  assert.equal(s.select(facts({ localPort: 9090 })), 'b');
  assert.equal(s.select(facts({ localPort: 1 })), 'fallback');
  assert.equal(s.size, CHAINS.length);
});

test('server_name exact map nested under a transport_protocol map; no SNI falls to the inner on_no_match', () => {
  const s = selector({
    matcher_tree: {
      input: input('TransportProtocolInput'),
      exact_match_map: { map: { tls: { matcher: {
        matcher_tree: { input: input('ServerNameInput'), exact_match_map: { map: { 'a.example.com': action('a') } } },
        on_no_match: action('b'),
      } } } },
    },
  });
  assert.equal(s.select(facts({ transportProtocol: 'tls', serverName: 'a.example.com' })), 'a');
  assert.equal(s.select(facts({ transportProtocol: 'tls', serverName: 'z.example.com' })), 'b');
  assert.equal(s.select(facts({ transportProtocol: 'tls' })), 'b');
  assert.equal(s.select(facts()), undefined, 'raw_buffer: no match, no on_no_match (the default chain)');
});

test('prefix_match_map tries the longest prefix first and falls back to shorter ones when a nested matcher finds nothing', () => {
  const s = selector({
    matcher_tree: {
      input: input('ServerNameInput'),
      prefix_match_map: { map: {
        api: action('a'),
        'api.v2': { matcher: { matcher_tree: { input: input('DestinationPortInput'), exact_match_map: { map: { 443: action('b') } } } } },
      } },
    },
  });
  assert.equal(s.select(facts({ serverName: 'api.v2.example', localPort: 443 })), 'b');
  assert.equal(s.select(facts({ serverName: 'api.v2.example', localPort: 80 })), 'a', 'the nested matcher found nothing: the shorter prefix');
  assert.equal(s.select(facts({ serverName: 'web' })), undefined);
});

test('IPMatcher custom_match: most specific range first, exclusive stops the fallback', () => {
  const ip = (ranges: [string, number][], onMatch: unknown, exclusive = false) => ({
    ranges: ranges.map(([address_prefix, prefix_len]) => ({ address_prefix, prefix_len })), on_match: onMatch, exclusive,
  });
  const m = (exclusive: boolean): MatcherConfig => ({
    matcher_tree: {
      input: input('SourceIPInput'),
      custom_match: { name: 'ip', typed_config: { '@type': 'type.googleapis.com/xds.type.matcher.v3.IPMatcher', range_matchers: [
        ip([['192.168.0.0', 16]], action('a')),
        ip([['192.168.1.0', 24], ['10.9.0.0', 16]], { matcher: { matcher_tree: { input: input('DestinationPortInput'), exact_match_map: { map: { 1: action('b') } } } } }, exclusive),
      ] } },
    },
  });
  const s = selector(m(false));
  assert.equal(s.select(facts({ localPort: 1 })), 'b');
  assert.equal(s.select(facts()), 'a', 'the /24 nested matcher found nothing: the /16');
  assert.equal(s.select(facts({ remoteAddress: '::ffff:192.168.3.3' })), 'a', 'IPv4-mapped IPv6 is IPv4');
  assert.equal(s.select(facts({ remoteAddress: '172.16.0.1' })), undefined);
  assert.equal(selector(m(true)).select(facts()), undefined, 'exclusive: no fallback to the /16');
});

test('matcher_list: first predicate that holds, with or/and/not and string matchers', () => {
  const single = (type: string, value_match: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({ single_predicate: { input: input(type, extra), value_match } });
  const s = selector({
    matcher_list: { matchers: [
      { predicate: { and_matcher: { predicate: [single('SourcePortInput', { exact: '40000' }), { not_matcher: single('ServerNameInput', { suffix: '.internal' }) }] } }, on_match: action('a') },
      { predicate: { or_matcher: { predicate: [single('ServerNameInput', { prefix: 'API.', ignore_case: true }), single('DestinationIPInput', { safe_regex: { regex: '10\\.1\\.\\d+\\.\\d+' } })] } }, on_match: action('b') },
      { predicate: single('ApplicationProtocolInput', { contains: "'h2'" }), on_match: action('c') },
      { predicate: single('SourceTypeInput', { exact: 'local' }), on_match: action('d') },
      { predicate: single('FilterStateInput', { exact: 'yes' }, { key: 'io.example.flag' }), on_match: action('fallback') },
    ] },
  });
  assert.equal(s.select(facts()), 'a');
  assert.equal(s.select(facts({ serverName: 'x.internal' })), undefined, 'not_matcher vetoes the first; nothing else holds');
  assert.equal(s.select(facts({ remotePort: 1, serverName: 'api.example' })), 'b');
  assert.equal(s.select(facts({ remotePort: 1, localAddress: '10.1.2.3' })), 'b');
  assert.equal(s.select(facts({ remotePort: 1, localAddress: '10.1.2.3.4' })), undefined, 'regexes match the whole value');
  assert.equal(s.select(facts({ remotePort: 1, applicationProtocols: ['h2', 'http/1.1'] })), 'c');
  assert.equal(s.select(facts({ remotePort: 1, remoteAddress: '127.0.0.1' })), 'd');
  assert.equal(s.select(facts({ remotePort: 1, remoteAddress: '10.0.0.1' })), 'd', 'same IP as the local address is local');
  const state = new FilterStateStore();
  state.set('io.example.flag', stringObject('yes'));
  assert.equal(s.select(facts({ remotePort: 1, filterState: state })), 'fallback');
});

test('direct_source_ip, source_ip and destination_ip inputs read the addresses', () => {
  for (const [type, want] of [['DirectSourceIPInput', '192.168.1.7'], ['SourceIPInput', '192.168.1.7'], ['DestinationIPInput', '10.0.0.1']] as const) {
    const s = selector({ matcher_tree: { input: input(type), exact_match_map: { map: { [want]: action('a') } } } });
    assert.equal(s.select(facts()), 'a', type);
  }
});

test('an action naming no chain is no match; config errors name the field', () => {
  assert.equal(selector({ on_no_match: action('nowhere') }).select(facts()), undefined);
  assert.throws(() => selector({ matcher_tree: { input: input('NoSuchInput'), exact_match_map: { map: {} } } }),
    (e: unknown) => e instanceof UnsupportedConfigError && /filter_chain_matcher\.matcher_tree\.input\.typed_config/.test(e.message));
  assert.throws(() => selector({ matcher_tree: { input: input('DestinationPortInput'), exact_match_map: { map: { 1: { action: { name: 'x', typed_config: { '@type': 'type.googleapis.com/other' } } } } } } }),
    /exact_match_map\.map\["1"\]\.action\.typed_config/);
  assert.throws(() => selector({}), ConfigError);
  assert.throws(() => selector({ matcher_list: { matchers: [{ predicate: { or_matcher: { predicate: [] } }, on_match: action('a') }] } }), /at least two/);
  assert.throws(() => selector({ matcher_tree: { input: input('FilterStateInput'), exact_match_map: { map: {} } } }), /typed_config\.key/);
});

test("Istio's golden main_internal matcher picks the chain of each VIP and port, and direct-http / direct-tcp by ALPN", () => {
  const file = fileURLToPath(new URL('../../../../../shared/conformance/istio-golden/istioctl/pkg/writer/compare/testdata/configdump.json', import.meta.url));
  const dump = JSON.parse(readFileSync(file, 'utf8')) as { configs: { dynamic_listeners?: { active_state: { listener: Record<string, unknown> } }[] }[] };
  const listener = dump.configs.flatMap((c) => c.dynamic_listeners ?? []).map((l) => l.active_state.listener).find((l) => l.name === 'main_internal')!;
  // The dump keeps one of the listener's chains; the two direct chains are added here by name.
  const names = [...(listener.filter_chains as { name: string }[]).map((c) => c.name), 'direct-http', 'direct-tcp'];
  const s = new FilterChainMatcherSelector(listener.filter_chain_matcher as MatcherConfig, new Map(names.map((n) => [n, n])), 'main_internal');
  assert.equal(s.select(facts({ localAddress: '10.96.1.201', localPort: 9080 })), 'inbound-vip|9080||details.default.svc.cluster.local-http');
  assert.equal(s.select(facts({ localAddress: '10.96.1.201', localPort: 80 })), undefined);
  assert.equal(s.select(facts({ localAddress: '10.98.193.58', localPort: 9080 })), undefined, 'the ratings chain is not in the dump');
  assert.equal(s.select(facts({ localAddress: '192.168.229.93', localPort: 9080, applicationProtocols: ['http/1.1'] })), 'direct-http');
  assert.equal(s.select(facts({ localAddress: '192.168.229.93', localPort: 9080 })), 'direct-tcp');
});
