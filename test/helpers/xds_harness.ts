/**
 * For the xDS suites (test/integration/xds*.test.ts, test/conformance/istio*.test.ts): `skiff control-plane`
 * as a real process over a directory of resource files, a Skiff bootstrap that follows it, small resource
 * builders, node:http upstreams and stat / config_dump readers. Every process and server has a stop().
 */
import http from 'node:http';
import { once } from 'node:events';
import { spawn, type ChildProcess } from 'node:child_process';
import { renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SKIFF_BIN } from './skiff.js';
import { SLOW_PATIENCE_MS, START_PATIENCE_MS } from './wait.js';

export const HCM = 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager';
export const ROUTER = 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router';
export const T = {
  listener: 'type.googleapis.com/envoy.config.listener.v3.Listener',
  route: 'type.googleapis.com/envoy.config.route.v3.RouteConfiguration',
  cluster: 'type.googleapis.com/envoy.config.cluster.v3.Cluster',
  cla: 'type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment',
} as const;

export type Json = Record<string, unknown>;

/** Atomic write (temp + rename), so the control plane never reads half a file. */
export function writeJson(dir: string, name: string, content: unknown): void {
  const tmp = join(dir, `.${name}.tmp`);
  writeFileSync(tmp, JSON.stringify(content));
  renameSync(tmp, join(dir, name));
}

/** A listener on 127.0.0.1:0 whose connection manager follows route `rds` over ADS. */
export function rdsListener(name: string, rds: string, httpFilters: unknown[] = []): Json {
  return {
    '@type': T.listener, name, address: { socket_address: { address: '127.0.0.1', port_value: 0 } },
    filter_chains: [{ filters: [{ name: 'envoy.filters.network.http_connection_manager', typed_config: {
      '@type': HCM, stat_prefix: name, rds: { route_config_name: rds, config_source: { ads: {}, resource_api_version: 'V3' } },
      http_filters: [...httpFilters, { name: 'envoy.filters.http.router', typed_config: { '@type': ROUTER } }],
    } }] }],
  };
}

export function routeTo(name: string, cluster: string, extraRoute: Json = {}): Json {
  return {
    '@type': T.route, name,
    virtual_hosts: [{ name: 'all', domains: ['*'], routes: [{ match: { prefix: '/' }, route: { cluster, ...extraRoute } }] }],
  };
}

export function edsCluster(name: string, extra: Json = {}): Json {
  return {
    '@type': T.cluster, name, type: 'EDS', connect_timeout: '0.5s',
    eds_cluster_config: { eds_config: { ads: {}, resource_api_version: 'V3' } }, ...extra,
  };
}

export function assignment(name: string, ...ports: number[]): Json {
  return {
    '@type': T.cla, cluster_name: name,
    endpoints: [{ lb_endpoints: ports.map((port) => ({ endpoint: { address: { socket_address: { address: '127.0.0.1', port_value: port } } } })) }],
  };
}

/** A bootstrap following the control plane on `cpPort` over ADS (SotW `GRPC` or `DELTA_GRPC`). */
export function xdsBootstrap(id: string, cpPort: number, apiType: 'GRPC' | 'DELTA_GRPC'): Json {
  return {
    node: { id, cluster: 'it' },
    admin: { address: { socket_address: { address: '127.0.0.1', port_value: 0 } } },
    dynamic_resources: {
      ads_config: { api_type: apiType, transport_api_version: 'V3', grpc_services: [{ envoy_grpc: { cluster_name: 'xds_cluster' } }] },
      lds_config: { ads: {}, resource_api_version: 'V3' },
      cds_config: { ads: {}, resource_api_version: 'V3' },
    },
    static_resources: { clusters: [{
      name: 'xds_cluster', type: 'STATIC', connect_timeout: '1s',
      load_assignment: { cluster_name: 'xds_cluster', endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: '127.0.0.1', port_value: cpPort } } } }] }] },
    }] },
  };
}

export interface Upstream { port: number; requests: number; close(): Promise<void> }

/** A node:http upstream answering `body` (and counting requests). */
export async function upstream(body: string): Promise<Upstream> {
  const u = { port: 0, requests: 0, close: async () => {} };
  const server = http.createServer((_req, res) => { u.requests++; res.end(body); });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  u.port = (server.address() as { port: number }).port;
  u.close = () => { server.closeAllConnections(); return new Promise((r) => server.close(() => r())); };
  return u;
}

export interface ControlPlane { grpcPort: number; healthPort: number; stderr(): string; stop(): Promise<void> }

/** `skiff control-plane --dir DIR --port N`, waiting (bounded) for its "listening" line. */
export async function startControlPlane(dir: string, port = 0): Promise<ControlPlane> {
  const proc: ChildProcess = spawn(process.execPath, [SKIFF_BIN, 'control-plane', '--dir', dir, '--port', String(port), '--health-port', '0', '--rescan-ms', '500'],
    { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  proc.stderr!.on('data', (c: Buffer) => { err += c.toString(); });
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  const stop = async (): Promise<void> => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
    const t = setTimeout(() => proc.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(t);
  };
  const ports = await new Promise<{ grpc: number; health: number }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`control plane did not start:\n${err}`)), START_PATIENCE_MS);
    proc.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /control-plane listening grpc=(\d+) health=(\d+)/.exec(out);
      if (m) { clearTimeout(timer); resolve({ grpc: Number(m[1]), health: Number(m[2]) }); }
    });
    void exited.then(() => { clearTimeout(timer); reject(new Error(`control plane exited:\n${err}`)); });
  }).catch(async (e: unknown) => { await stop(); throw e; });
  return { grpcPort: ports.grpc, healthPort: ports.health, stderr: () => err, stop };
}

/** The control plane's /healthz: the NACKs it saw lately. */
export async function recentNacks(cp: ControlPlane): Promise<{ type: string; message: string }[]> {
  const h = (await (await fetch(`http://127.0.0.1:${cp.healthPort}/healthz`)).json()) as { recent_nacks: { type: string; message: string }[] };
  return h.recent_nacks;
}

/** One stat's value from Skiff's admin /stats (undefined when it does not exist). */
export async function stat(adminUrl: string, name: string): Promise<number | undefined> {
  const r = await fetch(`${adminUrl}/stats?format=json&filter=${encodeURIComponent(`^${name.replaceAll('.', '\\.')}$`)}`);
  const body = (await r.json()) as { stats: { name: string; value: number }[] };
  return body.stats.find((s) => s.name === name)?.value;
}

/** The section of Skiff's /config_dump whose @type ends with `suffix` (e.g. 'RoutesConfigDump'). */
export async function dumpSection(adminUrl: string, suffix: string, query = ''): Promise<Json> {
  const dump = (await (await fetch(`${adminUrl}/config_dump${query}`)).json()) as { configs: Json[] };
  const found = dump.configs.find((c) => String(c['@type']).endsWith(suffix));
  if (!found) throw new Error(`no ${suffix} in /config_dump${query}`);
  return found;
}

/** GET through Skiff on `port` with a Host header; "status body". */
export async function getVia(port: number, path = '/', host = 'example.com'): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, headers: { host }, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => { body += c; });
      res.on('end', () => resolve(`${res.statusCode} ${body}`));
    });
    req.setTimeout(SLOW_PATIENCE_MS, () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}
