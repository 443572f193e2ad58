/**
 * The x-protocol filter without a listener: a net.Server hands every accepted socket to the filter, over the
 * main thread's wasm instance, a real cluster manager and the inline route resolver. Not a test file itself.
 */
import * as net from 'node:net';
import { once } from 'node:events';
import type { Cluster as EnvoyCluster, RouteConfiguration } from '../../../src/types/envoy.js';
import type { NetworkFilterContext } from '../../../src/types/network.js';
import { StatsStore } from '../../../src/common/stats.js';
import { mainInstance } from '../../../src/wasm/runtime.js';
import { InlineRouteResolver } from '../../../src/router/index.js';
import { createClusterManager, type ClusterManagerImpl } from '../../../src/upstream/cluster_manager.js';
import { xprotocolFilterFactory, type XProtocolFilter } from '../../../src/xprotocol/filter.js';
import { XPROTOCOL_TYPE_URL } from '../../../src/xprotocol/config.js';

export { staticCluster } from '../tcp_proxy/harness.js';

export interface XProxyUnderTest {
  readonly port: number;
  readonly stats: StatsStore;
  readonly filter: XProtocolFilter;
  readonly clusters: ClusterManagerImpl;
  counter(name: string): number;
  gauge(name: string): number;
  close(): Promise<void>;
}

/** Routes every service to `cluster` unless `routes` is given. */
export function allTo(cluster: string): RouteConfiguration {
  return { name: 'rpc', virtual_hosts: [{ name: 'all', domains: ['*'], routes: [{ match: { prefix: '/' }, route: { cluster } }] }] } as RouteConfiguration;
}

/** `alpn`: what the listener's protocol_inspector named (ConnectionInfo.alpn) for every connection. */
export async function startXProxy(config: Record<string, unknown>, clusters: EnvoyCluster[], alpn = ''): Promise<XProxyUnderTest> {
  const stats = new StatsStore();
  const wasm = mainInstance();
  const cm = createClusterManager(clusters, { stats, connect: () => { throw new Error('x-protocol pools open raw connections only'); } });
  await cm.ready();
  const ctx: NetworkFilterContext = {
    wasm, stats, clusters: cm, listenerName: 'test',
    resolverFor: (table) => new InlineRouteResolver(table),
  };
  const filter = xprotocolFilterFactory.create({ '@type': XPROTOCOL_TYPE_URL, stat_prefix: 'rpc', protocol: 'bolt', ...config }, 'xprotocol', ctx) as XProtocolFilter;
  const sockets = new Set<net.Socket>();
  const server = net.createServer({ pauseOnConnect: true }, (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    filter.onConnection({
      socket, initialData: new Uint8Array(0),
      info: { remoteAddress: '127.0.0.1', remotePort: 0, localAddress: '127.0.0.1', localPort: 0, transportProtocol: 'raw_buffer', serverName: '', alpn, peerSans: [] },
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as net.AddressInfo).port, stats, filter, clusters: cm,
    counter: (name) => stats.counter(name).value,
    gauge: (name) => stats.gauge(name).value,
    close: async () => {
      filter.dispose();
      for (const s of sockets) s.destroy();
      cm.close();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
