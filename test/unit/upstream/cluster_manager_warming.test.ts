// Clusters warming on SDS secrets: held by the manager (get) but not served (serving().get) until their TLS
// contexts are warm; an update that warms leaves the cluster it replaces serving until then.
import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import type { Cluster as EnvoyCluster } from '../../../src/types/envoy.js';
import { StatsStore } from '../../../src/common/stats.js';
import { createClusterManager } from '../../../src/upstream/cluster_manager.js';
import { secretStore } from '../../../src/tls/sds.js';
import { createTestCa, type TestCa } from '../../helpers/certs.js';
import { testConnectionFactory } from './helpers.js';

const UPSTREAM_TLS = 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext';

let ca: TestCa;
before(() => { ca = createTestCa(); });
after(() => { ca.cleanup(); secretStore().clear(); });
beforeEach(() => secretStore().clear());

/** A STATIC cluster whose upstream TLS trusts the CA in SDS secret `secret` (over ADS, waiting for ever). */
function tlsCluster(name: string, secret: string, connectSeconds = 1): EnvoyCluster {
  return {
    name, type: 'STATIC', connect_timeout: { seconds: connectSeconds },
    load_assignment: { cluster_name: name, endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: '127.0.0.1', port_value: 9 } } } }] }] },
    transport_socket: { name: 'envoy.transport_sockets.tls', typed_config: {
      '@type': UPSTREAM_TLS,
      common_tls_context: { validation_context_sds_secret_config: { name: secret, sds_config: { ads: {}, initial_fetch_timeout: { seconds: 0 } } } },
    } },
  } as EnvoyCluster;
}

const setCa = (name: string): void => secretStore().set({ name, validation_context: { trusted_ca: { inline_string: ca.cert } } });

test('a new cluster waiting for a secret is held but not served until it arrives; whenSecretsWarm and onSecretsWarmed follow', async () => {
  const cm = createClusterManager([], { stats: new StatsStore(), connect: testConnectionFactory });
  try {
    let warmed = 0;
    cm.onSecretsWarmed(() => { warmed++; });
    cm.addOrUpdateCluster(tlsCluster('secure', 'root'));
    assert.ok(cm.get('secure'), 'config, EDS and admin still see it');
    assert.equal(cm.serving().get('secure'), undefined, 'requests do not: cluster not found');
    assert.equal(cm.secretsWarming('secure'), true);
    let settled = false;
    const wait = cm.whenSecretsWarm().then(() => { settled = true; });
    await new Promise((r) => setImmediate(r));
    assert.equal(settled, false);
    setCa('root');
    await wait;
    assert.equal(cm.serving().get('secure'), cm.get('secure'));
    assert.equal(cm.secretsWarming('secure'), false);
    assert.equal(warmed, 1);
    assert.deepEqual(cm.serving().all().map((c) => c.name), ['secure']);
  } finally {
    cm.close();
  }
});

test('an update waiting for a new secret leaves the serving cluster in place, also across a second warming update', () => {
  const cm = createClusterManager([], { stats: new StatsStore(), connect: testConnectionFactory });
  try {
    setCa('root');
    cm.addOrUpdateCluster(tlsCluster('secure', 'root'));
    const first = cm.get('secure')!;
    assert.equal(cm.serving().get('secure'), first);

    cm.addOrUpdateCluster(tlsCluster('secure', 'root-2'));
    const second = cm.get('secure')!;
    assert.notEqual(second, first);
    assert.equal(cm.serving().get('secure'), first, 'the predecessor serves while the update warms');

    cm.addOrUpdateCluster(tlsCluster('secure', 'root-3', 2));
    const third = cm.get('secure')!;
    assert.equal(cm.serving().get('secure'), first, 'still the last warm one');

    setCa('root-2');
    assert.equal(cm.serving().get('secure'), first, 'the replaced update warming does not matter any more');
    setCa('root-3');
    assert.equal(cm.serving().get('secure'), third);
    assert.equal(cm.secretsWarming('secure'), false);
  } finally {
    cm.close();
  }
});

test('a static cluster waits too; removing a warming cluster ends the wait', async () => {
  const cm = createClusterManager([tlsCluster('static_secure', 'never')], { stats: new StatsStore(), connect: testConnectionFactory });
  try {
    assert.equal(cm.serving().get('static_secure'), undefined);
    const wait = cm.whenSecretsWarm();
    assert.equal(cm.removeCluster('static_secure'), true);
    await wait;
    assert.equal(cm.serving().get('static_secure'), undefined);
  } finally {
    cm.close();
  }
});
