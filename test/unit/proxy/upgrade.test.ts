// HTTP upgrades and CONNECT in config and routing: the HCM's and the route's upgrade_configs (Envoy's
// enable/override table), connect_matcher (CONNECT only, and path matchers never take a CONNECT),
// http2 allow_connect, and Istio's connect_terminate connection manager read as a whole.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ConfigError, UnsupportedConfigError } from '../../../src/common/errors.js';
import { connectionManagerConfig } from '../../../src/proxy/config.js';
import { upgradeDecision, requestUpgradeType } from '../../../src/proxy/upgrade.js';
import type { HttpConnectionManager, Route } from '../../../src/types/envoy.js';
import { writeHeadRecord } from '../../helpers/head-record.js';
import { compile, routed, match, wasm, to } from '../router/support.js';
import { hcmConfig } from './fakes.js';

const GOLDEN = fileURLToPath(new URL('../../../../../shared/conformance/istio-golden/istioctl/pkg/writer/compare/testdata/configdump.json', import.meta.url));

function head(method: string, headers: [string, string][] = [], path = '/') {
  return writeHeadRecord(wasm, { method, host: 'example.com', path, headers }).head;
}

/** A HEAD view whose `upgrade` flag is set, as the HTTP/1 parser sets it for `Connection: upgrade` + `Upgrade`. */
function upgradeHead(value: string) {
  const h = head('GET', [['connection', 'upgrade'], ['upgrade', value]]);
  return new Proxy(h, { get: (t, p) => (p === 'upgrade' ? true : Reflect.get(t, p, t)) });
}

function routeWith(upgrade_configs?: unknown[]) {
  const table = compile({ virtual_hosts: [{ name: 'v', domains: ['*'], routes: [
    { name: 'r', match: { prefix: '/' }, route: { cluster: 'c', ...(upgrade_configs ? { upgrade_configs } : {}) } } as Route,
  ] }] });
  return match(table, { path: '/' })!;
}

test('HCM upgrade_configs: types lowercased, enabled defaults to true, custom filter chains and unknown fields refused', () => {
  const c = hcmConfig({ upgrade_configs: [{ upgrade_type: 'WebSocket' }, { upgrade_type: 'CONNECT', enabled: { value: false } }, { upgrade_type: 'foo', filters: [] }] });
  assert.deepEqual([...c.upgrades!], [['websocket', true], ['connect', false], ['foo', true]]);
  assert.equal(hcmConfig().upgrades!.size, 0);
  assert.throws(() => hcmConfig({ upgrade_configs: [{ upgrade_type: 'websocket', filters: [{ name: 'x' }] }] }),
    (e: unknown) => e instanceof UnsupportedConfigError && /upgrade_configs\[0\]\.filters/.test(e.message));
  assert.throws(() => hcmConfig({ upgrade_configs: [{ upgrade_type: 'a' }, { upgrade_type: 'A' }] }),
    (e: unknown) => e instanceof ConfigError && /upgrade_configs\[1\]\.upgrade_type/.test(e.message));
  assert.throws(() => hcmConfig({ upgrade_configs: [{}] }), /upgrade_configs\[0\]\.upgrade_type/);
  assert.throws(() => hcmConfig({ upgrade_configs: [{ upgrade_type: 'a', surprise: 1 }] }), /upgrade_configs\[0\]\.surprise/);
});

test('http2 allow_connect is read; stream_idle_timeout 0s disables the idle timeout; server_name is kept', () => {
  const c = hcmConfig({ http2_protocol_options: { allow_connect: true, max_concurrent_streams: 100 }, stream_idle_timeout: { seconds: 0 }, server_name: 'istio-envoy' });
  assert.equal(c.http2Options.allowConnect, true);
  assert.equal(c.http2Options.maxConcurrentStreams, 100);
  assert.equal(c.streamIdleTimeoutMs, 0);
  assert.equal(c.serverName, 'istio-envoy');
  assert.throws(() => hcmConfig({ http2_protocol_options: { allow_connect: 3 } }), /allow_connect/);
});

test('route upgrade_configs: enabled override, connect_config terminates CONNECT, its unimplemented fields refused', () => {
  const r = routeWith([{ upgrade_type: 'websocket', enabled: { value: false } }, { upgrade_type: 'CONNECT', connect_config: {} }]);
  assert.deepEqual(r.upgrades!.get('websocket'), { enabled: false, terminateConnect: false });
  assert.deepEqual(r.upgrades!.get('connect'), { enabled: true, terminateConnect: true });
  assert.equal(routeWith().upgrades, undefined);
  assert.throws(() => routeWith([{ upgrade_type: 'CONNECT', connect_config: { proxy_protocol_config: {} } }]),
    (e: unknown) => e instanceof UnsupportedConfigError && /connect_config\.proxy_protocol_config/.test(e.message));
  assert.throws(() => routeWith([{ upgrade_type: 'CONNECT', connect_config: { allow_post: true } }]), /connect_config\.allow_post/);
  assert.doesNotThrow(() => routeWith([{ upgrade_type: 'CONNECT', connect_config: { allow_post: false } }]));
  assert.throws(() => routeWith([{ upgrade_type: 'websocket', connect_config: {} }]), /only for upgrade_type CONNECT/);
});

test('an upgrade is enabled by Envoy\'s table: the route\'s setting wins, else the connection manager\'s', () => {
  const ws = upgradeHead('WebSocket');
  const hcmOn = new Map([['websocket', true]]);
  const hcmOff = new Map([['websocket', false]]);
  const none = new Map<string, boolean>();
  const routeDefault = routeWith();
  const routeOn = routeWith([{ upgrade_type: 'websocket' }]);
  const routeOff = routeWith([{ upgrade_type: 'websocket', enabled: false }]);
  assert.deepEqual(upgradeDecision(ws, hcmOn, routeDefault), { kind: 'upgrade', type: 'websocket', value: 'WebSocket' });
  assert.equal(upgradeDecision(ws, hcmOn, routeOff).kind, 'forbidden');
  assert.equal(upgradeDecision(ws, hcmOff, routeOn).kind, 'upgrade');
  assert.equal(upgradeDecision(ws, hcmOff, routeDefault).kind, 'forbidden');
  assert.equal(upgradeDecision(ws, none, routeOn).kind, 'upgrade');
  assert.equal(upgradeDecision(ws, none, routeDefault).kind, 'forbidden');
  // Not upgrades: a plain request, and h2c (served as HTTP/1.1 with its upgrade headers stripped).
  assert.equal(upgradeDecision(head('GET'), none, routeDefault).kind, 'none');
  assert.equal(requestUpgradeType(upgradeHead('h2c')), undefined);

  const connect = head('CONNECT', [], '');
  assert.equal(requestUpgradeType(connect), 'connect');
  assert.equal(upgradeDecision(connect, none, routeDefault).kind, 'forbidden');
  assert.equal(upgradeDecision(connect, new Map([['connect', true]]), routeDefault).kind, 'proxy-connect');
  const terminating = routeWith([{ upgrade_type: 'CONNECT', connect_config: {} }]);
  assert.equal(upgradeDecision(connect, none, terminating).kind, 'terminate-connect');
  assert.equal(upgradeDecision(connect, new Map([['connect', false]]), terminating).kind, 'terminate-connect');
});

test('connect_matcher matches CONNECT only, and prefix, path and regex routes never match a CONNECT', () => {
  const t = compile({ virtual_hosts: [{ name: 'v', domains: ['*'], routes: [
    to('tunnel', { connect_matcher: {} }),
    to('any', { prefix: '' }),
  ] }] });
  assert.equal(routed(t, { method: 'CONNECT', path: '', host: 'svc.test:443' }), 'tunnel');
  assert.equal(routed(t, { method: 'GET', path: '/' }), 'any');
  const pathOnly = compile({ virtual_hosts: [{ name: 'v', domains: ['*'], routes: [
    to('prefix', { prefix: '' }), to('regex', { safe_regex: { regex: '.*' } }), to('path', { path: '' }),
  ] }] });
  // Repeated: the second answer comes from the route cache, which must not mix CONNECT with other methods.
  for (let i = 0; i < 2; i++) {
    assert.equal(routed(pathOnly, { method: 'CONNECT', path: '', host: 'svc.test:443' }), null);
    assert.equal(routed(pathOnly, { method: 'GET', path: '', host: 'svc.test:443' }), 'prefix');
  }
  assert.throws(() => compile({ virtual_hosts: [{ name: 'v', domains: ['*'], routes: [to('x', { connect_matcher: {}, prefix: '/' } as never)] }] }),
    /exactly one of/);
});

test('Istio\'s connect_terminate connection manager (without XFCC and set_filter_state) is read, and routes CONNECT to its tunnel', () => {
  const dump = JSON.parse(readFileSync(GOLDEN, 'utf8')) as { configs: { dynamic_listeners?: { name: string; active_state: { listener: Record<string, never> } }[] }[] };
  const listener = dump.configs.flatMap((c) => c.dynamic_listeners ?? []).find((l) => l.name === 'connect_terminate')!.active_state.listener as unknown as {
    filter_chains: { filters: { typed_config: Record<string, unknown> }[] }[];
  };
  const hcm = { ...listener.filter_chains[0].filters[0].typed_config };
  // Brought by other branches (istiomisc): not this test's subject.
  delete hcm.forward_client_cert_details;
  delete hcm.set_current_client_cert_details;
  hcm.http_filters = (hcm.http_filters as { name: string }[]).filter((f) => f.name === 'envoy.filters.http.router');
  hcm.stream_idle_timeout = { seconds: 0 }; // as decoded from "0s"
  const c = connectionManagerConfig(hcm as unknown as HttpConnectionManager, 'connect_terminate');
  assert.equal(c.streamIdleTimeoutMs, 0);
  assert.equal(c.serverName, 'istio-envoy');
  assert.equal(c.http2Options.allowConnect, true);
  assert.deepEqual([...c.upgrades!], [['connect', true]]);
  const table = compile(c.routeConfig!);
  const entry = match(table, { method: 'CONNECT', path: '', host: '10.0.0.7:9080' });
  assert.ok(entry);
  assert.deepEqual(entry.action, { kind: 'cluster', cluster: 'main_internal' });
  const connectHead = writeHeadRecord(wasm, { method: 'CONNECT', host: '10.0.0.7:9080', path: '' }).head;
  assert.equal(upgradeDecision(connectHead, c.upgrades!, entry).kind, 'terminate-connect');
  assert.equal(match(table, { method: 'GET', path: '/' }), null);
});
