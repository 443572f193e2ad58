/**
 * Test harness for the tcp_proxy filter without a listener: a net.Server (half-open allowed, as Skiff's
 * listeners hand sockets over) passes every accepted socket to the filter, over a real cluster manager.
 * Not a test file itself.
 */
import * as net from 'node:net';
import { once } from 'node:events';
import { PATIENCE_MS } from '../../helpers/wait.js';
import type { Cluster as EnvoyCluster } from '../../../src/types/envoy.js';
import type { NetworkFilterContext } from '../../../src/types/network.js';
import type { WasmInstance } from '../../../src/wasm/module.js';
import { StatsStore } from '../../../src/common/stats.js';
import { createClusterManager, type ClusterManagerImpl } from '../../../src/upstream/cluster_manager.js';
import { TcpProxyFilter } from '../../../src/tcp_proxy/filter.js';
import { tcpProxyConfig, TCP_PROXY_TYPE_URL } from '../../../src/tcp_proxy/config.js';

export function endpoint(port: number) {
  return { endpoint: { address: { socket_address: { address: '127.0.0.1', port_value: port } } } };
}

export function staticCluster(name: string, ports: number[], extra: Partial<EnvoyCluster> = {}): EnvoyCluster {
  return { name, type: 'STATIC', connect_timeout: { seconds: 1 }, load_assignment: { cluster_name: name, endpoints: [{ lb_endpoints: ports.map(endpoint) }] }, ...extra };
}

export interface ProxyUnderTest {
  readonly port: number;
  readonly stats: StatsStore;
  readonly filter: TcpProxyFilter;
  readonly clusters: ClusterManagerImpl;
  counter(name: string): number;
  close(): Promise<void>;
}

export async function startProxy(config: Record<string, unknown>, clusters: EnvoyCluster[], random: () => number = Math.random): Promise<ProxyUnderTest> {
  const stats = new StatsStore();
  const cm = createClusterManager(clusters, { stats, connect: () => { throw new Error('tcp_proxy opens raw connections only'); } });
  await cm.ready();
  const ctx: NetworkFilterContext = {
    wasm: undefined as unknown as WasmInstance, stats, clusters: cm, listenerName: 'test',
    resolverFor: () => { throw new Error('no routes in tcp_proxy'); },
  };
  const filter = new TcpProxyFilter(tcpProxyConfig({ '@type': TCP_PROXY_TYPE_URL, stat_prefix: 'tp', ...config }, 'tcp_proxy'), ctx, random);
  const server = net.createServer({ allowHalfOpen: true, pauseOnConnect: true }, (socket) => {
    filter.onConnection({
      socket, initialData: new Uint8Array(0),
      info: { remoteAddress: socket.remoteAddress ?? '', remotePort: socket.remotePort ?? 0, localAddress: '127.0.0.1', localPort: 0, transportProtocol: 'raw_buffer', serverName: '', alpn: '', peerSans: [] },
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as net.AddressInfo).port, stats, filter, clusters: cm,
    counter: (name) => stats.counter(name).value,
    close: async () => {
      filter.dispose();
      cm.close();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/** A TCP server run by `onSocket`; `close()` destroys every connection it accepted. */
export async function startServer(onSocket: (s: net.Socket) => void, opts: net.ServerOpts = { allowHalfOpen: true }): Promise<{ port: number; connections: number; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  let connections = 0;
  const server = net.createServer(opts, (s) => {
    connections++;
    sockets.add(s);
    s.on('error', () => {});
    s.once('close', () => sockets.delete(s));
    onSocket(s);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as net.AddressInfo).port,
    get connections() { return connections; },
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/** An echo server, optionally prefixing every reply with `tag`. */
export function startEcho(tag = ''): ReturnType<typeof startServer> {
  return startServer((s) => s.on('data', (d: Buffer) => s.write(tag === '' ? d : Buffer.concat([Buffer.from(tag), d]))), {});
}

/** Connects, writes `data`, half-closes, and collects everything until the proxy closes (bounded). */
export function roundTrip(port: number, data: string | Buffer, timeoutMs = PATIENCE_MS): Promise<{ reply: string; closedBy: 'end' | 'error' }> {
  return new Promise((resolve, reject) => {
    const c = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true });
    const chunks: Buffer[] = [];
    let closedBy: 'end' | 'error' = 'end';
    const t = setTimeout(() => { c.destroy(); reject(new Error('roundTrip timed out')); }, timeoutMs);
    c.on('data', (d: Buffer) => chunks.push(d));
    c.on('error', () => { closedBy = 'error'; });
    c.on('connect', () => { c.end(data); });
    c.on('close', () => { clearTimeout(t); resolve({ reply: Buffer.concat(chunks).toString(), closedBy }); });
  });
}

/** Writes `data` and waits for `expect` bytes back (the connection stays open); rejects if it closes first. */
export async function exchange(c: net.Socket, data: string, expectBytes: number, timeoutMs = PATIENCE_MS): Promise<string> {
  const chunks: Buffer[] = [];
  let n = 0;
  const done = new Promise<void>((resolve, reject) => {
    const stop = (): void => { clearTimeout(t); c.off('data', on); c.off('close', onClose); };
    const t = setTimeout(() => { stop(); reject(new Error(`exchange timed out after ${n} bytes`)); }, timeoutMs);
    const on = (d: Buffer): void => { chunks.push(d); n += d.length; if (n >= expectBytes) { stop(); resolve(); } };
    const onClose = (): void => { stop(); reject(new Error(`connection closed after ${n} bytes`)); };
    c.on('data', on);
    c.on('close', onClose);
  });
  c.write(data);
  await done;
  return Buffer.concat(chunks).toString();
}
