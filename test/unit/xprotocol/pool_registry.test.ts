// Upstream pools shared and retired: two xprotocol filters (two listeners) over one cluster manager share one
// multiplexed connection per host; a cluster replaced over CDS (addOrUpdateCluster) or removed gets its pools
// drained and closed (the upstream sees its connection close, the registry forgets the pool); disposing the
// last filter closes what is left.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as net from 'node:net';
import { once } from 'node:events';
import { boltClient } from '../../helpers/rpc_peers.js';
import { waitFor } from '../../helpers/wait.js';
import { StatsStore } from '../../../src/common/stats.js';
import { mainInstance } from '../../../src/wasm/runtime.js';
import { InlineRouteResolver } from '../../../src/router/index.js';
import { createClusterManager } from '../../../src/upstream/cluster_manager.js';
import type { NetworkFilterContext } from '../../../src/types/network.js';
import { xprotocolFilterFactory, type XProtocolFilter } from '../../../src/xprotocol/filter.js';
import { XPROTOCOL_TYPE_URL } from '../../../src/xprotocol/config.js';
import { muxPools } from '../../../src/xprotocol/pool_registry.js';
import { boltUpstream } from './bolt_upstream.js';
import { allTo, staticCluster } from './harness.js';

/** A net.Server handing its sockets to `filter`. */
async function serve(filter: XProtocolFilter): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer({ pauseOnConnect: true }, (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    filter.onConnection({
      socket, initialData: new Uint8Array(0),
      info: { remoteAddress: '127.0.0.1', remotePort: 0, localAddress: '127.0.0.1', localPort: 0, transportProtocol: 'raw_buffer', serverName: '', alpn: '', peerSans: [] },
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as net.AddressInfo).port,
    close: async () => { for (const s of sockets) s.destroy(); await new Promise<void>((r) => server.close(() => r())); },
  };
}

test('two listeners share one upstream connection; a cluster replaced over CDS has its pool drained and closed', async () => {
  const up = await boltUpstream('up');
  const stats = new StatsStore();
  const cm = createClusterManager([staticCluster('rpc', [up.port])], { stats, connect: () => { throw new Error('raw only'); } });
  await cm.ready();
  const ctx: NetworkFilterContext = { wasm: mainInstance(), stats, clusters: cm, listenerName: 't', resolverFor: (t) => new InlineRouteResolver(t) };
  const make = (prefix: string) => xprotocolFilterFactory.create({ '@type': XPROTOCOL_TYPE_URL, stat_prefix: prefix, protocol: 'bolt', route_config: allTo('rpc'), connections_per_host: 1 }, 'x', ctx) as XProtocolFilter;
  const fa = make('a');
  const fb = make('b');
  const la = await serve(fa);
  const lb = await serve(fb);
  const ca = boltClient(la.port);
  const cb = boltClient(lb.port);
  const before = muxPools.size;
  try {
    assert.equal(await ca.invoke('com.skiff.Echo', 'echo', []), 'up');
    assert.equal(await cb.invoke('com.skiff.Echo', 'echo', []), 'up');
    assert.equal(up.accepted, 1, 'both listeners went over one upstream connection');
    assert.equal(muxPools.size, before + 1);

    // CDS replaces the cluster (another connect timeout): the old pool drains and closes, the new one connects.
    const old = cm.get('rpc')!;
    assert.equal(cm.addOrUpdateCluster(staticCluster('rpc', [up.port], { connect_timeout: { seconds: 2 } } as never)), 'updated');
    assert.notEqual(cm.get('rpc'), old);
    assert.equal(await ca.invoke('com.skiff.Echo', 'echo', []), 'up');
    assert.equal(up.accepted, 2, 'the new cluster has its own connection');
    await waitFor(() => up.open === 1, 5000, 'the retired pool closed its connection');
    await waitFor(() => muxPools.retiringCount === 0 && muxPools.size === before + 1, 5000, 'the registry forgot the old pool');

    // Removed: its pool goes too.
    assert.equal(cm.removeCluster('rpc'), true);
    await waitFor(() => up.open === 0, 5000, 'the removed cluster closed its connection');
    await waitFor(() => muxPools.size === before, 5000, 'no pool left');
  } finally {
    await ca.close();
    await cb.close();
    fa.dispose();
    fb.dispose();
    await la.close();
    await lb.close();
    cm.close();
    await up.close();
  }
});

test('disposing the last filter that uses a pool closes it; a pool still used by another filter stays', async () => {
  const up = await boltUpstream('up');
  const stats = new StatsStore();
  const cm = createClusterManager([staticCluster('rpc', [up.port])], { stats, connect: () => { throw new Error('raw only'); } });
  await cm.ready();
  const ctx: NetworkFilterContext = { wasm: mainInstance(), stats, clusters: cm, listenerName: 't', resolverFor: (t) => new InlineRouteResolver(t) };
  const make = (prefix: string) => xprotocolFilterFactory.create({ '@type': XPROTOCOL_TYPE_URL, stat_prefix: prefix, protocol: 'bolt', route_config: allTo('rpc'), connections_per_host: 1 }, 'x', ctx) as XProtocolFilter;
  const fa = make('a');
  const fb = make('b');
  const la = await serve(fa);
  const lb = await serve(fb);
  const ca = boltClient(la.port);
  const cb = boltClient(lb.port);
  try {
    assert.equal(await ca.invoke('com.skiff.Echo', 'echo', []), 'up');
    assert.equal(await cb.invoke('com.skiff.Echo', 'echo', []), 'up');
    fa.dispose();
    assert.equal(await cb.invoke('com.skiff.Echo', 'echo', []), 'up', 'the other filter keeps the shared pool');
    assert.equal(up.open, 1);
    assert.equal(up.accepted, 1);
    fb.dispose();
    await waitFor(() => up.open === 0, 5000, 'the last user closed the pool');
  } finally {
    await ca.close();
    await cb.close();
    fa.dispose();
    fb.dispose();
    await la.close();
    await lb.close();
    cm.close();
    await up.close();
  }
});
