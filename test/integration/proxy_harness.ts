/**
 * In-process proxy for integration tests: a ListenerManager and a ClusterManager over the real stream
 * codec, real node:http / node:net upstreams on 127.0.0.1 port 0, and clients over real sockets.
 * SKIFF_TEST_CONCURRENCY=2 builds route resolvers from a real worker pool (PooledRouteResolver), so
 * the suites run both inline and offloaded. Everything started here is stopped by `close()`.
 */
import http from 'node:http';
import net from 'node:net';
import { once } from 'node:events';
import { SLOW_PATIENCE_MS, waitFor as waitUntil } from '../helpers/wait.js';
import { StatsStore } from '../../src/common/stats.js';
import { mainInstance } from '../../src/wasm/runtime.js';
import { createClusterManager } from '../../src/upstream/cluster_manager.js';
import { createClientConnection } from '../../src/stream/http1/client.js';
import { ListenerManager } from '../../src/listener/listener_manager.js';
import { InlineRouteResolver } from '../../src/router/index.js';
import { createWorkerPool } from '../../src/workers/pool.js';
import { PooledRouteResolver } from '../../src/workers/pooled_route_resolver.js';
import type { WorkerPool } from '../../src/workers/types.js';
import type { Cluster, Listener, Route, RouteConfiguration } from '../../src/types/envoy.js';
import type { RouteResolver, RouteTable } from '../../src/types/router.js';
import type { ClusterManager } from '../../src/types/upstream.js';

export const HCM_TYPE = 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager';

export function concurrency(): number { return Number(process.env.SKIFF_TEST_CONCURRENCY ?? '0'); }

export function listener(name: string, routeConfig: RouteConfiguration, hcm: Record<string, unknown> = {}): Listener {
  return {
    name,
    address: { socket_address: { address: '127.0.0.1', port_value: 0 } },
    filter_chains: [{ filters: [{
      name: 'envoy.filters.network.http_connection_manager',
      typed_config: { '@type': HCM_TYPE, stat_prefix: name, route_config: routeConfig, ...hcm },
    }] }],
  };
}

export function staticCluster(name: string, ports: number[], extra: Partial<Cluster> = {}): Cluster {
  return {
    name, type: 'STATIC', connect_timeout: { seconds: 1 },
    load_assignment: { cluster_name: name, endpoints: [{ lb_endpoints: ports.map((p) => ({ endpoint: { address: { socket_address: { address: '127.0.0.1', port_value: p } } } })) }] },
    ...extra,
  };
}

/** One virtual host matching every domain. */
export function allDomains(routes: Route[], extra: Record<string, unknown> = {}): RouteConfiguration {
  return { virtual_hosts: [{ name: 'all', domains: ['*'], routes, ...extra }] };
}

export interface Proxy {
  readonly stats: StatsStore;
  readonly listeners: ListenerManager;
  readonly clusters: ClusterManager;
  port(name?: string): number;
  counter(name: string): number;
  gauge(name: string): number;
  close(): Promise<void>;
}

let sharedPool: Promise<WorkerPool> | undefined;

/** One worker pool per test process (workers take ~100 ms to start); destroyed by `closeSharedPool`. */
function workerPool(): Promise<WorkerPool> {
  sharedPool ??= createWorkerPool({ threads: 2, memory: mainInstance().memory });
  return sharedPool;
}

export async function closeSharedPool(): Promise<void> {
  const p = sharedPool;
  sharedPool = undefined;
  if (p) await (await p).destroy();
}

/** A suite's teardown: closes each in order (the proxy first, then its upstreams), then the shared worker pool. */
export async function closeAll(...closables: { close(): Promise<void> }[]): Promise<void> {
  for (const c of closables) await c.close();
  await closeSharedPool();
}

export async function startProxy(listeners: Listener[], clusters: Cluster[]): Promise<Proxy> {
  const wasm = mainInstance();
  const stats = new StatsStore();
  const pool = concurrency() > 0 ? await workerPool() : undefined;
  // minBatch 1 so every match really goes through a worker in the offloaded run.
  const resolverFor = (table: RouteTable): RouteResolver =>
    pool ? new PooledRouteResolver(table, pool, { minBatch: 1 }) : new InlineRouteResolver(table);
  const cm = createClusterManager(clusters, { stats, connect: (socket) => createClientConnection(wasm, socket) });
  await cm.ready();
  const lm = new ListenerManager(listeners, { wasm, stats, clusters: cm, resolverFor });
  await lm.start();
  return {
    stats, listeners: lm, clusters: cm,
    port: (name) => {
      const all = lm.addresses();
      const l = name === undefined ? all[0] : all.find((a) => a.name === name);
      if (!l) throw new Error(`no listener ${name}`);
      return l.port;
    },
    counter: (n) => stats.counter(n).value,
    gauge: (n) => stats.gauge(n).value,
    close: async () => { lm.close(); cm.close(); },
  };
}

// ---- upstreams ----

export interface Upstream {
  readonly port: number;
  readonly server: http.Server;
  /** Requests seen, in order. */
  readonly seen: { method: string; url: string; headers: http.IncomingHttpHeaders; body: Buffer }[];
  close(): Promise<void>;
}

export type UpstreamHandler = (req: http.IncomingMessage, res: http.ServerResponse, body: Buffer) => void;

/** A node:http upstream that reads each body whole (test bodies are small) and records the request. */
export async function httpUpstream(handler: UpstreamHandler = (_q, s) => s.end('ok')): Promise<Upstream> {
  const seen: Upstream['seen'] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      seen.push({ method: req.method!, url: req.url!, headers: req.headers, body });
      handler(req, res, body);
    });
  });
  return listen(server, seen);
}

export async function listen(server: http.Server, seen: Upstream['seen'] = []): Promise<Upstream> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as net.AddressInfo).port;
  return {
    port, server, seen,
    close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
}

/** A raw TCP upstream: `onConnection` decides what bytes go back. */
export async function rawUpstream(onConnection: (socket: net.Socket, received: () => string) => void): Promise<{ port: number; connections: number; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const state = { connections: 0 };
  const server = net.createServer((socket) => {
    state.connections++;
    sockets.add(socket);
    let data = '';
    socket.on('data', (c: Buffer) => { data += c.toString('latin1'); });
    socket.on('error', () => {});
    socket.on('close', () => sockets.delete(socket));
    onConnection(socket, () => data);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as net.AddressInfo).port,
    get connections() { return state.connections; },
    close: () => new Promise<void>((r) => { for (const s of sockets) s.destroy(); server.close(() => r()); }),
  };
}


// ---- clients ----

export interface Reply { status: number; headers: http.IncomingHttpHeaders; body: string }

export function request(port: number, opts: { method?: string; path?: string; headers?: http.OutgoingHttpHeaders; body?: string | Buffer; agent?: http.Agent | false } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request({
      host: '127.0.0.1', port, method: opts.method ?? 'GET', path: opts.path ?? '/', headers: opts.headers, agent: opts.agent ?? false,
    }, (res) => {
      let body = '';
      res.setEncoding('latin1');
      res.on('data', (c: string) => { body += c; });
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.setTimeout(SLOW_PATIENCE_MS, () => req.destroy(new Error('client timeout')));
    req.end(opts.body);
  });
}

/**
 * Writes raw bytes and collects everything the proxy sends back until it closes the connection,
 * `untilIncludes` appears `count` times, or `timeoutMs` passes (a bound for a broken run: callers wait for a
 * close or for `untilIncludes`).
 */
export function rawExchange(port: number, bytes: string | Buffer, opts: { untilIncludes?: string; count?: number; timeoutMs?: number } = {}): Promise<string> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    let data = '';
    const finish = (): void => { clearTimeout(timer); socket.destroy(); resolve(data); };
    const timer = setTimeout(finish, opts.timeoutMs ?? SLOW_PATIENCE_MS);
    socket.on('data', (c: Buffer) => {
      data += c.toString('latin1');
      if (opts.untilIncludes !== undefined && data.split(opts.untilIncludes).length - 1 >= (opts.count ?? 1)) finish();
    });
    socket.on('error', finish);
    socket.on('close', finish);
    socket.write(bytes);
  });
}

export function statusLines(raw: string): number[] {
  return [...raw.matchAll(/HTTP\/1\.[01] (\d{3})/g)].map((m) => Number(m[1]));
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls `cond` every 5 ms; throws after `timeoutMs`. (The integration tests' argument order.) */
export function waitFor(cond: () => boolean, what: string, timeoutMs = SLOW_PATIENCE_MS): Promise<void> {
  return waitUntil(cond, timeoutMs, what);
}

/** `p`, or a rejection naming `what` after `timeoutMs`. */
export function within<T>(p: Promise<T>, what: string, timeoutMs = SLOW_PATIENCE_MS): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), timeoutMs); });
  return Promise.race([p, limit]).finally(() => clearTimeout(timer));
}
