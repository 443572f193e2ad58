// SOFARPC Bolt through the real skiff process: a listener whose filter chain is skiff.filters.network.xprotocol,
// routing two services to two clusters, stats on /stats, and an unknown protocol refused at start-up.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startSkiff } from '../helpers/skiff.js';
import { boltClient, startBoltServer } from '../helpers/rpc_peers.js';
import { staticCluster } from '../unit/tcp_proxy/harness.js';

const XPROTOCOL = 'type.googleapis.com/skiff.filters.network.xprotocol.v1.XProtocol';

function rpcListener(name: string, config: Record<string, unknown>) {
  return {
    name, address: { socket_address: { address: '127.0.0.1', port_value: 0 } },
    filter_chains: [{ filters: [{ name: 'skiff.filters.network.xprotocol', typed_config: { '@type': XPROTOCOL, ...config } }] }],
  };
}

function stat(text: string, name: string): number {
  const m = new RegExp(`^${name.replace(/\./g, '\\.')}: (\\d+)$`, 'm').exec(text);
  return m === null ? NaN : Number(m[1]);
}

test('skiff routes Bolt calls by service to two clusters, configured as skiff.filters.network.xprotocol', async () => {
  const users = await startBoltServer([{ interfaceName: 'com.skiff.Users', methods: { get: (id) => `user ${String(id)}` } }]);
  const orders = await startBoltServer([{ interfaceName: 'com.skiff.Orders', methods: { get: (id) => `order ${String(id)}` } }]);
  const skiff = await startSkiff({
    config: {
      admin: { address: { socket_address: { address: '127.0.0.1', port_value: 0 } } },
      static_resources: {
        listeners: [rpcListener('rpc', {
          stat_prefix: 'rpc', protocol: 'bolt', request_timeout: { seconds: 5 },
          route_config: {
            name: 'rpc', virtual_hosts: [
              { name: 'users', domains: ['com.skiff.Users'], routes: [{ match: { prefix: '/' }, route: { cluster: 'users' } }] },
              { name: 'orders', domains: ['com.skiff.Orders'], routes: [{ match: { prefix: '/', headers: [{ name: 'x-protocol-method', string_match: { exact: 'get' } }] }, route: { cluster: 'orders' } }] },
            ],
          },
        })],
        clusters: [staticCluster('users', [users.port]), staticCluster('orders', [orders.port])],
      },
    },
  }).catch(async (e: unknown) => { await users.close(); await orders.close(); throw e; });
  const client = boltClient(skiff.port('rpc'));
  try {
    assert.equal(await client.invoke('com.skiff.Users', 'get', [1]), 'user 1');
    assert.equal(await client.invoke('com.skiff.Orders', 'get', [2]), 'order 2');
    const results = await Promise.all(Array.from({ length: 100 }, (_, i) => client.invoke('com.skiff.Users', 'get', [i])));
    results.forEach((r, i) => assert.equal(r, `user ${i}`));
    const text = await (await fetch(`${skiff.adminUrl}/stats`)).text();
    assert.equal(stat(text, 'xprotocol.rpc.downstream_rq_total'), 102);
    assert.equal(stat(text, 'cluster.users.upstream_rq_total'), 101);
    assert.equal(stat(text, 'cluster.orders.upstream_rq_total'), 1);
  } finally {
    await client.close();
    assert.equal(await skiff.stop(), 0);
    await users.close();
    await orders.close();
  }
});

test('an unknown x-protocol name is refused at start-up, named by its path', async () => {
  await assert.rejects(startSkiff({
    config: {
      admin: { address: { socket_address: { address: '127.0.0.1', port_value: 0 } } },
      static_resources: { listeners: [rpcListener('rpc', { stat_prefix: 'rpc', protocol: 'thrift', route_config: { name: 'r' } })], clusters: [] },
    },
  }), /protocol.*thrift|thrift/);
});

test('a 4 MiB Bolt call and its 4 MiB answer go through the skiff process (frames above one slab)', async () => {
  const echo = await startBoltServer([{ interfaceName: 'com.skiff.Big', methods: { echo: (s) => `${String(s)}.` } }]);
  const skiff = await startSkiff({
    config: {
      admin: { address: { socket_address: { address: '127.0.0.1', port_value: 0 } } },
      static_resources: {
        listeners: [rpcListener('rpc', {
          stat_prefix: 'rpc', protocol: 'bolt', request_timeout: { seconds: 20 },
          route_config: { name: 'rpc', virtual_hosts: [{ name: 'big', domains: ['*'], routes: [{ match: { prefix: '/' }, route: { cluster: 'big' } }] }] },
        })],
        clusters: [staticCluster('big', [echo.port])],
      },
    },
  }).catch(async (e: unknown) => { await echo.close(); throw e; });
  const client = boltClient(skiff.port('rpc'));
  try {
    const arg = 'q'.repeat(4 * 1024 * 1024);
    const reply = await client.invoke('com.skiff.Big', 'echo', [arg], { timeoutMs: 20_000 }) as string;
    assert.equal(reply.length, arg.length + 1);
    assert.ok(reply.endsWith('q.'));
    assert.equal(await client.invoke('com.skiff.Big', 'echo', ['small']), 'small.');
    const text = await (await fetch(`${skiff.adminUrl}/stats`)).text();
    assert.equal(stat(text, 'xprotocol.rpc.downstream_cx_protocol_error'), 0);
  } finally {
    await client.close();
    assert.equal(await skiff.stop(), 0);
    await echo.close();
  }
});
