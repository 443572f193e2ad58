// The x-protocol filter over RDS: it names its route config, waits for it, and follows updates in place.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as net from 'node:net';
import { once } from 'node:events';
import { StatsStore } from '../../../src/common/stats.js';
import { mainInstance } from '../../../src/wasm/runtime.js';
import { compileRouteTable, InlineRouteResolver } from '../../../src/router/index.js';
import { createClusterManager } from '../../../src/upstream/cluster_manager.js';
import type { RouteConfiguration } from '../../../src/types/envoy.js';
import { xprotocolFilterFactory, type XProtocolFilter } from '../../../src/xprotocol/filter.js';
import { XPROTOCOL_TYPE_URL } from '../../../src/xprotocol/config.js';
import { boltClient, startBoltServer } from '../../helpers/rpc_peers.js';
import { staticCluster } from './harness.js';

const routesTo = (cluster: string) => ({ name: 'rpc', virtual_hosts: [{ name: 'all', domains: ['*'], routes: [{ match: { prefix: '/' }, route: { cluster } }] }] }) as unknown as RouteConfiguration;

test('rds: no connection is served before the table arrives; an update switches clusters', async () => {
  const a = await startBoltServer([{ interfaceName: 'com.skiff.S', methods: { who: () => 'a' } }]);
  const b = await startBoltServer([{ interfaceName: 'com.skiff.S', methods: { who: () => 'b' } }]);
  const stats = new StatsStore();
  const wasm = mainInstance();
  const cm = createClusterManager([staticCluster('a', [a.port]), staticCluster('b', [b.port])], { stats, connect: () => { throw new Error('raw only'); } });
  const filter = xprotocolFilterFactory.create({
    '@type': XPROTOCOL_TYPE_URL, stat_prefix: 'rpc', protocol: 'bolt', rds: { route_config_name: 'rpc_routes', config_source: { ads: {} } },
  }, 'f', { wasm, stats, clusters: cm, listenerName: 't', resolverFor: (t) => new InlineRouteResolver(t) }) as XProtocolFilter;
  assert.deepEqual(filter.rdsNames, ['rpc_routes']);
  const server = net.createServer({ pauseOnConnect: true }, (socket) => {
    filter.onConnection({ socket, initialData: new Uint8Array(0), info: { remoteAddress: '', remotePort: 0, localAddress: '', localPort: 0, transportProtocol: 'raw_buffer', serverName: '', alpn: '', peerSans: [] } });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as net.AddressInfo).port;
  try {
    // Before the table: the connection is closed at once.
    const early = net.connect({ port, host: '127.0.0.1' });
    early.on('error', () => {});
    await once(early, 'close');
    filter.setRouteTable('rpc_routes', compileRouteTable(routesTo('a'), wasm));
    const client = boltClient(port);
    try {
      assert.equal(await client.invoke('com.skiff.S', 'who', []), 'a');
      filter.setRouteTable('other_name', compileRouteTable(routesTo('b'), wasm));
      assert.equal(await client.invoke('com.skiff.S', 'who', []), 'a', 'a table of another name changes nothing');
      filter.setRouteTable('rpc_routes', compileRouteTable(routesTo('b'), wasm));
      assert.equal(await client.invoke('com.skiff.S', 'who', []), 'b', 'the same connection follows the update');
    } finally {
      await client.close();
    }
  } finally {
    filter.dispose();
    cm.close();
    await new Promise<void>((r) => server.close(() => r()));
    await a.close();
    await b.close();
  }
});
