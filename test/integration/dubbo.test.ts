// Dubbo through the real skiff process, configured with Envoy's envoy.filters.network.dubbo_proxy: dubbo2.js
// DirectlyDubbo -> skiff -> sofa-rpc-node with dubbo-remoting; routes by interface, method and version; errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startSkiff } from '../helpers/skiff.js';
import { dubboClient, startDubboServer } from '../helpers/rpc_peers.js';
import { staticCluster } from '../unit/tcp_proxy/harness.js';

const DUBBO_PROXY = 'type.googleapis.com/envoy.extensions.filters.network.dubbo_proxy.v3.DubboProxy';

test('skiff serves Envoy dubbo_proxy config: interface, method and version routes; no route is a Dubbo error', async () => {
  const stable = await startDubboServer([{ interfaceName: 'com.skiff.Greeter', methods: { hello: (n) => `hello ${String(n)}`, bye: () => 'bye' } }]);
  const canary = await startDubboServer([{ interfaceName: 'com.skiff.Greeter', version: '2.0', methods: { hello: (n) => `canary hello ${String(n)}` } }]);
  const servers = [stable, canary];
  const skiff = await startSkiff({
    config: {
      admin: { address: { socket_address: { address: '127.0.0.1', port_value: 0 } } },
      static_resources: {
        listeners: [{
          name: 'dubbo', address: { socket_address: { address: '127.0.0.1', port_value: 0 } },
          filter_chains: [{ filters: [{ name: 'envoy.filters.network.dubbo_proxy', typed_config: {
            '@type': DUBBO_PROXY, stat_prefix: 'dubbo',
            multiple_route_config: { name: 'greeter', route_config: [
              { name: 'canary', interface: 'com.skiff.Greeter', version: '2.0', routes: [{ match: { method: { name: { exact: 'hello' } } }, route: { cluster: 'canary' } }] },
              { name: 'stable', interface: 'com.skiff.Greeter', routes: [{ match: {}, route: { cluster: 'stable' } }] },
            ] },
            dubbo_filters: [{ name: 'envoy.filters.dubbo.router' }],
          } }] }],
        }],
        clusters: [staticCluster('stable', [stable.port]), staticCluster('canary', [canary.port])],
      },
    },
  }).catch(async (e: unknown) => { for (const s of servers) await s.close(); throw e; });
  const client = dubboClient(skiff.port('dubbo'), 20);
  try {
    assert.equal(await client.invoke('com.skiff.Greeter', 'hello', ['ann']), 'hello ann');
    assert.equal(await client.invoke('com.skiff.Greeter', 'bye', []), 'bye');
    assert.equal(await client.invoke('com.skiff.Greeter', 'hello', ['bob'], { version: '2.0' }), 'canary hello bob');
    await assert.rejects(client.invoke('com.skiff.Nobody', 'x', []), /no route/);
    // A 1 MiB argument (a frame above one 256 KiB slab) routed by version from its head, and its 1 MiB answer.
    const big = 'm'.repeat(1024 * 1024);
    assert.equal(await client.invoke('com.skiff.Greeter', 'hello', [big], { version: '2.0' }), `canary hello ${big}`);
    const text = await (await fetch(`${skiff.adminUrl}/stats`)).text();
    assert.match(text, /^xprotocol\.dubbo\.downstream_rq_total: 5$/m);
    assert.match(text, /^cluster\.canary\.upstream_rq_total: 2$/m);
  } finally {
    client.close();
    assert.equal(await skiff.stop(), 0);
    await stable.close();
    await canary.close();
  }
});
