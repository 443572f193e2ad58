// set_filter_state: rules compiled from Envoy's FilterStateValue (factories, read_only, shared_with_upstream,
// skip_if_empty), the HTTP filter filling a request's stream state over the connection's, the network filter
// filling the connection's, and Istio's connect_authority filter from the golden dump.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { PassThrough } from 'node:stream';
import {
  applyFilterStateRules, compileFilterStateRules, filterStateEntry, networkSetFilterStateFactory, ORIGINAL_DST_LOCAL_IP, ORIGINAL_DST_REMOTE_IP,
} from '../../../src/proxy/set_filter_state.js';
import { FilterStateStore, stringObject } from '../../../src/common/filter_state.js';
import { ConfigError, UnsupportedConfigError } from '../../../src/common/errors.js';
import { ActiveRequest } from '../../../src/proxy/active_request.js';
import { ConnectionManagerStats } from '../../../src/proxy/stats.js';
import { StatsStore } from '../../../src/common/stats.js';
import type { ConnectionInfo, NetworkFilterContext } from '../../../src/types/network.js';
import { clusterManager, FakeStream, FixedResolver, hcmConfig, requestHead } from './fakes.js';

const fmt = (text: string) => ({ text_format_source: { inline_string: text } });
const CONN = { remoteAddress: '10.1.2.3', remotePort: 5555, localAddress: '10.0.0.1', localPort: 15008 };

test('rules: string and address factories, invalid addresses skipped, skip_if_empty, read_only set once', () => {
  const rules = compileFilterStateRules([
    { object_key: ORIGINAL_DST_LOCAL_IP, format_string: fmt('%REQ(:AUTHORITY)%'), shared_with_upstream: 'ONCE' },
    { object_key: ORIGINAL_DST_REMOTE_IP, format_string: fmt('%DOWNSTREAM_REMOTE_ADDRESS%') },
    { object_key: 'io.istio.peer_principal', factory_key: 'envoy.string', format_string: fmt('%DOWNSTREAM_PEER_URI_SAN%'), read_only: true },
    { object_key: 'io.example.empty', factory_key: 'envoy.string', format_string: fmt('%REQ(x-absent)%'), skip_if_empty: true },
  ], 'cfg');
  const state = new FilterStateStore();
  const request = { method: 'CONNECT', path: '', host: '10.96.1.201:9080', headers: { size: 0, name: () => '', value: () => '', get: () => undefined, getAll: () => [], has: () => false } };
  const set = applyFilterStateRules(rules, state, filterStateEntry({ ...CONN, peerUriSans: ['spiffe://cluster.local/ns/a/sa/b'] }, request));
  assert.equal(set, 3);
  assert.deepEqual(state.get(ORIGINAL_DST_LOCAL_IP), { value: '10.96.1.201:9080', factoryKey: ORIGINAL_DST_LOCAL_IP, readOnly: false, sharedWithUpstream: 'ONCE' });
  assert.equal(state.get(ORIGINAL_DST_REMOTE_IP)?.value, '10.1.2.3:5555');
  assert.equal(state.get('io.istio.peer_principal')?.value, 'spiffe://cluster.local/ns/a/sa/b');
  assert.equal(state.get('io.example.empty'), undefined, 'skip_if_empty');
  // A second pass: the read-only principal keeps its value; a host that is not an address is skipped.
  const again = applyFilterStateRules(rules, state, filterStateEntry({ ...CONN, peerUriSans: ['spiffe://other'] }, { ...request, host: 'not-an-address' }));
  assert.equal(again, 1, 'only remote_ip is set again');
  assert.equal(state.get('io.istio.peer_principal')?.value, 'spiffe://cluster.local/ns/a/sa/b');
  assert.equal(state.get(ORIGINAL_DST_LOCAL_IP)?.value, '10.96.1.201:9080');
});

test('rules: config errors name the field', () => {
  assert.throws(() => compileFilterStateRules([{ object_key: 'io.unknown', format_string: fmt('x') }], 'cfg'),
    (e: unknown) => e instanceof UnsupportedConfigError && /cfg\[0\]\.object_key/.test(e.message));
  assert.throws(() => compileFilterStateRules([{ object_key: 'k', factory_key: 'nope', format_string: fmt('x') }], 'cfg'), /cfg\[0\]\.factory_key/);
  assert.throws(() => compileFilterStateRules([{ factory_key: 'envoy.string', format_string: fmt('x') }], 'cfg'), ConfigError);
  assert.throws(() => compileFilterStateRules([{ object_key: 'k', factory_key: 'envoy.string', format_string: fmt('%NOPE%') }], 'cfg'), /cfg\[0\]\.format_string/);
  assert.throws(() => compileFilterStateRules([{ object_key: 'k', factory_key: 'envoy.string', format_string: fmt('x'), shared_with_upstream: 'ALWAYS' }], 'cfg'), /shared_with_upstream/);
});

test('the store: stream state reads through to the connection; ONCE objects go one hop, TRANSITIVE ones keep going', () => {
  const conn = new FilterStateStore();
  conn.set('c', stringObject('from-connection', { readOnly: true }));
  const stream = new FilterStateStore(conn);
  assert.equal(stream.get('c')?.value, 'from-connection');
  assert.equal(stream.set('c', stringObject('x')), false, 'read-only in the parent');
  stream.set('once', stringObject('1', { sharedWithUpstream: 'ONCE' }));
  stream.set('always', stringObject('2', { sharedWithUpstream: 'TRANSITIVE' }));
  stream.set('local', stringObject('3'));
  const hop1 = stream.sharedWithUpstream();
  assert.deepEqual([...hop1.keys()].sort(), ['always', 'once']);
  assert.equal(hop1.get('once')?.sharedWithUpstream, 'NONE');
  assert.deepEqual([...hop1.sharedWithUpstream().keys()], ['always']);
});

test("Istio's connect_authority filter (golden connect_terminate) compiles and runs on a request", () => {
  const file = fileURLToPath(new URL('../../../../../shared/conformance/istio-golden/istioctl/pkg/writer/compare/testdata/configdump.json', import.meta.url));
  const text = readFileSync(file, 'utf8');
  const dump = JSON.parse(text) as { configs: { dynamic_listeners?: { active_state: { listener: { name: string; filter_chains: { filters: { typed_config: { http_filters: { name: string; typed_config: { on_request_headers: never } }[] } }[] }[] } } }[] }[] };
  const l = dump.configs.flatMap((c) => c.dynamic_listeners ?? []).map((x) => x.active_state.listener).find((x) => x.name === 'connect_terminate')!;
  const filter = l.filter_chains[0]!.filters[0]!.typed_config.http_filters.find((f) => f.name === 'connect_authority')!;
  const cfg = hcmConfig({ http_filters: [filter, { name: 'envoy.filters.http.router', typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router' } }] });
  assert.equal(cfg.requestFilterState?.length, 4);
  const connState = new FilterStateStore();
  connState.set('from.network.filter', stringObject('yes'));
  const stream = new FakeStream(requestHead({ method: 'CONNECT', host: '10.96.1.201:9080' }));
  const req = new ActiveRequest(stream, cfg, new ConnectionManagerStats(new StatsStore(), 'ingress'), {
    clusters: clusterManager([]), resolver: new FixedResolver(null), hashKey: () => 0n, draining: () => false, connectionFilterState: connState,
  }, () => {});
  req.start();
  const state = req.filterState!;
  assert.equal(state.get(ORIGINAL_DST_LOCAL_IP)?.value, '10.96.1.201:9080');
  assert.equal(state.get(ORIGINAL_DST_LOCAL_IP)?.sharedWithUpstream, 'ONCE');
  assert.equal(state.get(ORIGINAL_DST_REMOTE_IP)?.value, '10.1.2.3:5555');
  assert.equal(state.get('io.istio.peer_principal')?.value, '-', 'no client certificate: the formatter prints "-"');
  assert.equal(state.get('from.network.filter')?.value, 'yes', 'the connection state shows through');
  assert.deepEqual([...state.keys()].sort(), [ORIGINAL_DST_LOCAL_IP, ORIGINAL_DST_REMOTE_IP, 'io.istio.local_principal', 'io.istio.peer_principal'].sort());
});

test('the network filter fills the connection state on each new connection', () => {
  const step = networkSetFilterStateFactory.create({
    '@type': 'type.googleapis.com/envoy.extensions.filters.network.set_filter_state.v3.Config',
    on_new_connection: [{ object_key: 'io.example.peer', factory_key: 'envoy.string', format_string: fmt('%DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT%'), shared_with_upstream: 'TRANSITIVE' }],
  } as never, 'filters[0]', {} as NetworkFilterContext);
  const info: ConnectionInfo = { ...CONN, transportProtocol: 'raw_buffer', serverName: '', alpn: '', peerSans: [] };
  const out = step({ socket: new PassThrough(), info, initialData: new Uint8Array(0) });
  assert.equal(out.filterState?.get('io.example.peer')?.value, '10.1.2.3');
  assert.equal(out.info, info);
  assert.throws(() => networkSetFilterStateFactory.create({ '@type': 'x', on_new_connection: [], extra: 1 } as never, 'filters[0]', {} as NetworkFilterContext), /filters\[0\]\.typed_config\.extra/);
});
