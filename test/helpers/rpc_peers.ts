/**
 * Real RPC peers for the x-protocol tests, in-process: a SOFARPC (Bolt) server and client from sofa-rpc-node,
 * and (Dubbo) a sofa-rpc-node server speaking dubbo-remoting with a dubbo2.js client. Every start has a close;
 * tests close what they start.
 */
import { createRequire } from 'node:module';
import { once } from 'node:events';
import type * as net from 'node:net';
import { PATIENCE_MS } from './wait.js';

const require = createRequire(import.meta.url);

/** A logger that keeps quiet (sofa-rpc-node requires one). */
export const quietLogger = {
  info() {}, warn() {}, error() {}, debug() {},
};

export type Handler = (...args: unknown[]) => unknown;

export interface ServiceSpec {
  interfaceName: string;
  version?: string;
  group?: string;
  methods: Record<string, Handler>;
}

export interface RpcServerHandle {
  readonly port: number;
  /** Calls served, per method name. */
  readonly calls: Map<string, number>;
  /** Connections accepted so far. */
  readonly connections: number;
  close(): Promise<void>;
}

interface SofaRpcServer {
  addService(info: { interfaceName: string; version?: string; group?: string }, methods: Record<string, Handler>): void;
  start(): Promise<void>;
  close(): Promise<void>;
  publishPort: number;
  _servers: net.Server[];
  ready(): Promise<void>;
}

/** A sofa-rpc-node server on 127.0.0.1 (port 0 unless given: a restart reuses the port). */
export async function startBoltServer(services: ServiceSpec[], port = 0, protocol?: unknown): Promise<RpcServerHandle> {
  const { RpcServer } = require('sofa-rpc-node').server as { RpcServer: new (o: object) => SofaRpcServer };
  const server = new RpcServer({
    logger: quietLogger, port, ...(protocol !== undefined ? { protocol } : {}),
    killTimeout: 1000, serverGracefulIgnoreCode: [],
  });
  const calls = new Map<string, number>();
  for (const s of services) {
    const wrapped: Record<string, Handler> = {};
    for (const [name, fn] of Object.entries(s.methods)) {
      wrapped[name] = async (...args: unknown[]) => { calls.set(name, (calls.get(name) ?? 0) + 1); return fn(...args); };
    }
    // Only set keys: an undefined version would override the server's default ('1.0').
    server.addService({ interfaceName: s.interfaceName, ...(s.version !== undefined ? { version: s.version } : {}), ...(s.group !== undefined ? { group: s.group } : {}) }, wrapped);
  }
  await server.start();
  await server.ready();
  const netServer = server._servers[0];
  if (!netServer.listening) await once(netServer, 'listening');
  let connections = 0;
  const sockets = new Set<net.Socket>();
  netServer.on('connection', (s: net.Socket) => { connections++; sockets.add(s); s.once('close', () => sockets.delete(s)); });
  return {
    port: (netServer.address() as net.AddressInfo).port,
    calls,
    get connections() { return connections; },
    close: async () => {
      for (const s of sockets) s.destroy();
      await Promise.race([server.close(), new Promise((r) => setTimeout(r, 2000))]);
    },
  };
}

export interface BoltClientHandle {
  invoke(interfaceName: string, method: string, args: unknown[], opts?: { version?: string; timeoutMs?: number }): Promise<unknown>;
  close(): Promise<void>;
}

interface SofaRpcClient {
  createConsumer(o: object): { ready(): Promise<void>; invoke(method: string, args: unknown[], opts?: object): Promise<unknown> };
  close(): Promise<void>;
  ready(): Promise<void>;
}

/** A sofa-rpc-node client that talks to 127.0.0.1:`port` directly (no registry). */
export function boltClient(port: number): BoltClientHandle {
  const { RpcClient } = require('sofa-rpc-node').client as { RpcClient: new (o: object) => SofaRpcClient };
  // retryFaultInterval: the client's health loop sleeps this long before it notices close() (default 30 s).
  const client = new RpcClient({ logger: quietLogger, allowMock: false, retryFaultInterval: 200 });
  const consumers = new Map<string, ReturnType<SofaRpcClient['createConsumer']>>();
  return {
    async invoke(interfaceName, method, args, opts = {}) {
      const key = `${interfaceName}:${opts.version ?? '1.0'}`;
      let c = consumers.get(key);
      if (c === undefined) {
        c = client.createConsumer({ interfaceName, version: opts.version ?? '1.0', serverHost: `127.0.0.1:${port}` });
        consumers.set(key, c);
        await c.ready();
      }
      return c.invoke(method, args, { responseTimeout: opts.timeoutMs ?? PATIENCE_MS });
    },
    close: async () => { await client.close(); },
  };
}

/** A Dubbo provider: sofa-rpc-node's server speaking dubbo-remoting. */
export function startDubboServer(services: ServiceSpec[], port = 0): Promise<RpcServerHandle> {
  return startBoltServer(services, port, require('dubbo-remoting'));
}

export interface DubboClientHandle {
  /** Calls `method` of `iface` with string arguments; resolves the result or rejects with the client's error. */
  invoke(iface: string, method: string, args: string[], opts?: { version?: string; group?: string }): Promise<unknown>;
  close(): void;
}

interface DubboWorker { _retry: number; _socket?: net.Socket; _heartBeatTimer?: NodeJS.Timeout }

/** A dubbo2.js DirectlyDubbo consumer of 127.0.0.1:`port`; `timeoutS` is its own invoke timeout. */
export function dubboClient(port: number, timeoutS = PATIENCE_MS / 1000): DubboClientHandle {
  const { DirectlyDubbo } = require('dubbo2.js') as { DirectlyDubbo: { from(o: object): { proxyService(o: object): Record<string, (...a: unknown[]) => Promise<{ res: unknown; err: Error | null }>>; _socketWorker: DubboWorker } } };
  const java = require('js-to-java') as { String(s: string): unknown };
  const dubbo = DirectlyDubbo.from({ dubboAddress: `127.0.0.1:${port}`, dubboVersion: '2.0.2', dubboInvokeTimeout: timeoutS });
  return {
    async invoke(iface, method, args, opts = {}) {
      const svc = dubbo.proxyService({
        dubboInterface: iface, version: opts.version ?? '1.0', group: opts.group,
        methods: { [method]: (...a: string[]) => a.map((s) => java.String(s)) },
      });
      const { res, err } = await svc[method](...args);
      if (err !== null && err !== undefined) throw err;
      return res;
    },
    close() {
      // dubbo2.js has no close: stop its reconnects and heartbeats, then drop the socket.
      const w = dubbo._socketWorker;
      w._retry = 0;
      if (w._heartBeatTimer !== undefined) clearInterval(w._heartBeatTimer);
      w._socket?.destroy();
    },
  };
}
