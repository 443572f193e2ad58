// Envoy dubbo_proxy params_match through the real skiff process: calls of one method routed by their first
// argument (exact string, then an integer range over its string form) to two providers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startSkiff } from '../helpers/skiff.js';
import { dubboClient, startDubboServer } from '../helpers/rpc_peers.js';
import { staticCluster } from '../unit/tcp_proxy/harness.js';

const DUBBO_PROXY = 'type.googleapis.com/envoy.extensions.filters.network.dubbo_proxy.v3.DubboProxy';

test('dubbo_proxy params_match routes one method to two providers by its first argument', async () => {
  const gold = await startDubboServer([{ interfaceName: 'com.skiff.Accounts', methods: { tier: (n) => `gold ${String(n)}` } }]);
  const basic = await startDubboServer([{ interfaceName: 'com.skiff.Accounts', methods: { tier: (n) => `basic ${String(n)}` } }]);
  const servers = [gold, basic];
  const skiff = await startSkiff({
    config: {
      admin: { address: { socket_address: { address: '127.0.0.1', port_value: 0 } } },
      static_resources: {
        listeners: [{
          name: 'dubbo', address: { socket_address: { address: '127.0.0.1', port_value: 0 } },
          filter_chains: [{ filters: [{ name: 'envoy.filters.network.dubbo_proxy', typed_config: {
            '@type': DUBBO_PROXY, stat_prefix: 'dubbo',
            route_config: [{ name: 'accounts', interface: 'com.skiff.Accounts', routes: [
              { match: { method: { name: { exact: 'tier' }, params_match: { 0: { exact_match: 'ada' } } } }, route: { cluster: 'gold' } },
              { match: { method: { name: { exact: 'tier' }, params_match: { 0: { range_match: { start: '100', end: '200' } } } } }, route: { cluster: 'gold' } },
              { match: { method: { name: { exact: 'tier' } } }, route: { cluster: 'basic' } },
            ] }],
          } }] }],
        }],
        clusters: [staticCluster('gold', [gold.port]), staticCluster('basic', [basic.port])],
      },
    },
  }).catch(async (e: unknown) => { for (const s of servers) await s.close(); throw e; });
  const client = dubboClient(skiff.port('dubbo'), 20);
  try {
    assert.equal(await client.invoke('com.skiff.Accounts', 'tier', ['ada']), 'gold ada');
    assert.equal(await client.invoke('com.skiff.Accounts', 'tier', ['bob']), 'basic bob');
    assert.equal(await client.invoke('com.skiff.Accounts', 'tier', ['150']), 'gold 150');
    assert.equal(await client.invoke('com.skiff.Accounts', 'tier', ['200']), 'basic 200', 'range end is exclusive');
    assert.equal(await client.invoke('com.skiff.Accounts', 'tier', ['adam']), 'basic adam');
    const text = await (await fetch(`${skiff.adminUrl}/stats`)).text();
    assert.match(text, /^cluster\.gold\.upstream_rq_total: 2$/m);
    assert.match(text, /^cluster\.basic\.upstream_rq_total: 3$/m);
  } finally {
    client.close();
    assert.equal(await skiff.stop(), 0);
    await gold.close();
    await basic.close();
  }
});
