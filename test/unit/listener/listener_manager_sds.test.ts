// Listeners warming on SDS secrets: a static listener whose certificate has not arrived is not bound, and
// whenSecretsWarm() (what the server's init waits for) resolves once it has and the listener is bound.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { StatsStore } from '../../../src/common/stats.js';
import { mainInstance } from '../../../src/wasm/runtime.js';
import { ListenerManager } from '../../../src/listener/listener_manager.js';
import { InlineRouteResolver } from '../../../src/router/index.js';
import { secretStore } from '../../../src/tls/sds.js';
import type { Listener } from '../../../src/types/envoy.js';
import { createTestCa, type TestCa } from '../../helpers/certs.js';

const HCM = 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager';
const DOWNSTREAM_TLS = 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext';

let ca: TestCa;
before(() => { ca = createTestCa(); secretStore().clear(); });
after(() => { ca.cleanup(); secretStore().clear(); });

function tlsListener(name: string, secret: string): Listener {
  return ({
    name, address: { socket_address: { address: '127.0.0.1', port_value: 0 } },
    filter_chains: [{
      filters: [{ name: 'envoy.filters.network.http_connection_manager', typed_config: { '@type': HCM, stat_prefix: name, route_config: { virtual_hosts: [] } } }],
      transport_socket: { name: 'envoy.transport_sockets.tls', typed_config: {
        '@type': DOWNSTREAM_TLS,
        common_tls_context: { tls_certificate_sds_secret_configs: [{ name: secret, sds_config: { ads: {}, initial_fetch_timeout: { seconds: 0 } } }] },
      } },
    }],
  }) as unknown as Listener;
}

function manager(listeners: Listener[]): { lm: ListenerManager; stats: StatsStore } {
  const stats = new StatsStore();
  const clusters = { get: () => undefined, all: () => [], close: () => {} };
  return { lm: new ListenerManager(listeners, { wasm: mainInstance(), stats, clusters, resolverFor: (t) => new InlineRouteResolver(t) }), stats };
}

test('a static listener waiting for its certificate is not bound until it arrives; whenSecretsWarm resolves once it is bound', async (t) => {
  const { lm, stats } = manager([tlsListener('edge', 'edge-cert')]);
  t.after(() => lm.close());
  await lm.start();
  assert.deepEqual(lm.addresses(), []);
  assert.equal(stats.gauge('listener_manager.total_listeners_warming').value, 1);
  let settled = false;
  const wait = lm.whenSecretsWarm().then(() => { settled = true; });
  await new Promise((r) => setImmediate(r));
  assert.equal(settled, false);
  const leaf = ca.issue('edge', 'edge.example.com', ['DNS:edge.example.com']);
  secretStore().set({ name: 'edge-cert', tls_certificate: { certificate_chain: { inline_string: leaf.cert }, private_key: { inline_string: leaf.key } } });
  await wait;
  assert.equal(lm.addresses().length, 1, 'bound by the time the wait ends');
  assert.equal(stats.gauge('listener_manager.total_listeners_warming').value, 0);
  assert.equal(stats.gauge('listener_manager.total_listeners_active').value, 1);
});

test('closing the manager ends a wait for secrets that never come', async () => {
  const { lm } = manager([tlsListener('never', 'never-cert')]);
  await lm.start();
  const wait = lm.whenSecretsWarm();
  lm.close();
  await wait;
  assert.deepEqual(lm.addresses(), [], 'nothing was bound');
});
