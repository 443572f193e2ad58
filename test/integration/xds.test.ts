// Skiff following `skiff control-plane`, both as real processes on 127.0.0.1, with real node:http upstreams:
// LDS -> listener with RDS, RDS -> route to an EDS cluster, EDS -> endpoints. File edits are followed within a
// second, a bad file is NACKed (Skiff keeps serving, the control plane's /healthz shows the NACK), and Skiff keeps
// serving while the control plane is down and follows it again after a restart. SotW and delta.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { waitForValue as waitFor, getStatusAndBody as get } from '../helpers/wait.js';
import http from 'node:http';
import { once } from 'node:events';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SKIFF_BIN, startSkiff } from '../helpers/skiff.js';

const HCM = 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager';
const ROUTER = 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router';
const T = {
  listener: 'type.googleapis.com/envoy.config.listener.v3.Listener',
  route: 'type.googleapis.com/envoy.config.route.v3.RouteConfiguration',
  cluster: 'type.googleapis.com/envoy.config.cluster.v3.Cluster',
  cla: 'type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment',
};

/** Atomic write (temp + rename), so the control plane never reads half a file. */
function writeJson(dir: string, name: string, content: unknown): void {
  const tmp = join(dir, `.${name}.tmp`);
  writeFileSync(tmp, JSON.stringify(content));
  renameSync(tmp, join(dir, name));
}

const listener = (): unknown => ({
  '@type': T.listener, name: 'ingress', address: { socket_address: { address: '127.0.0.1', port_value: 0 } },
  filter_chains: [{ filters: [{ name: 'envoy.filters.network.http_connection_manager', typed_config: {
    '@type': HCM, stat_prefix: 'ingress', rds: { route_config_name: 'local_route', config_source: { ads: {}, resource_api_version: 'V3' } },
    http_filters: [{ name: 'envoy.filters.http.router', typed_config: { '@type': ROUTER } }],
  } }] }],
});

const routes = (cluster: string, regex?: string): unknown => ({
  '@type': T.route, name: 'local_route',
  virtual_hosts: [{ name: 'all', domains: ['*'], routes: [
    ...(regex === undefined ? [] : [{ match: { safe_regex: { regex } }, route: { cluster } }]),
    { match: { prefix: '/' }, route: { cluster } },
  ] }],
});

const edsCluster = (name: string): unknown => ({
  '@type': T.cluster, name, type: 'EDS', connect_timeout: '1s',
  eds_cluster_config: { eds_config: { ads: {}, resource_api_version: 'V3' } },
});

const assignment = (name: string, port: number): unknown => ({
  '@type': T.cla, cluster_name: name,
  endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: '127.0.0.1', port_value: port } } } }] }],
});

interface Upstream { port: number; close(): Promise<void> }

async function upstream(body: string): Promise<Upstream> {
  const server = http.createServer((_req, res) => { res.end(body); });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { port: (server.address() as { port: number }).port, close: () => { server.closeAllConnections(); return new Promise((r) => server.close(() => r())); } };
}

interface ControlPlane { grpcPort: number; healthPort: number; stop(): Promise<void> }

/** `skiff control-plane --dir DIR --port N`, waiting (bounded) for its "listening" line. */
async function startControlPlane(dir: string, port = 0): Promise<ControlPlane> {
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
    const timer = setTimeout(() => reject(new Error(`control plane did not start:\n${err}`)), 15_000);
    proc.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /control-plane listening grpc=(\d+) health=(\d+)/.exec(out);
      if (m) { clearTimeout(timer); resolve({ grpc: Number(m[1]), health: Number(m[2]) }); }
    });
    void exited.then(() => { clearTimeout(timer); reject(new Error(`control plane exited:\n${err}`)); });
  }).catch(async (e: unknown) => { await stop(); throw e; });
  return { grpcPort: ports.grpc, healthPort: ports.health, stop };
}

const until = (port: number, want: string) => async (): Promise<true | undefined> => ((await get(port)) === want ? true : undefined);

async function stat(adminUrl: string, name: string): Promise<number | undefined> {
  const r = await fetch(`${adminUrl}/stats?format=json&filter=${encodeURIComponent(`^${name.replaceAll('.', '\\.')}$`)}`);
  const body = (await r.json()) as { stats: { name: string; value: number }[] };
  return body.stats.find((s) => s.name === name)?.value;
}

for (const apiType of ['GRPC', 'DELTA_GRPC'] as const) {
  test(`${apiType}: Skiff follows skiff control-plane (LDS, RDS, CDS, EDS): edits, NACK, restart`, async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'skiff-xds-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const a = await upstream('a');
    const b1 = await upstream('b1');
    const b2 = await upstream('b2');
    t.after(async () => { await a.close(); await b1.close(); await b2.close(); });
    writeJson(dir, 'lds.json', [listener()]);
    writeJson(dir, 'rds.json', [routes('a')]);
    writeJson(dir, 'cds.json', [edsCluster('a'), edsCluster('b')]);
    writeJson(dir, 'eds.json', [assignment('a', a.port), assignment('b', b1.port)]);
    let cp = await startControlPlane(dir);
    t.after(() => cp.stop());

    const skiff = await startSkiff({
      config: {
        node: { id: `skiff-${apiType}`, cluster: 'it' },
        admin: { address: { socket_address: { address: '127.0.0.1', port_value: 0 } } },
        dynamic_resources: {
          ads_config: { api_type: apiType, transport_api_version: 'V3', grpc_services: [{ envoy_grpc: { cluster_name: 'xds_cluster' } }] },
          lds_config: { ads: {}, resource_api_version: 'V3' },
          cds_config: { ads: {}, resource_api_version: 'V3' },
        },
        static_resources: { clusters: [{
          name: 'xds_cluster', type: 'STATIC', connect_timeout: '1s',
          load_assignment: { cluster_name: 'xds_cluster', endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: '127.0.0.1', port_value: cp.grpcPort } } } }] }] },
        }] },
      },
    });
    t.after(async () => { await skiff.stop(); });
    const port = skiff.port('ingress');
    assert.equal(await get(port), '200 a');

    // Route to the other cluster: followed within a second.
    let started = Date.now();
    writeJson(dir, 'rds.json', [routes('b')]);
    await waitFor(until(port, '200 b1'), 'the route edit', 1000);
    t.diagnostic(`route edit to applied: ${Date.now() - started} ms`);

    // Endpoints changed: followed within a second.
    started = Date.now();
    writeJson(dir, 'eds.json', [assignment('a', a.port), assignment('b', b2.port)]);
    await waitFor(until(port, '200 b2'), 'the endpoint edit', 1000);
    t.diagnostic(`endpoint edit to applied: ${Date.now() - started} ms`);

    // A route table Skiff cannot compile: NACKed; the last good table keeps serving; /healthz shows the NACK.
    writeJson(dir, 'rds.json', [routes('a', '(')]);
    const nack = await waitFor(async () => {
      const h = (await (await fetch(`http://127.0.0.1:${cp.healthPort}/healthz`)).json()) as { recent_nacks: { type: string; message: string }[] };
      return h.recent_nacks.find((n) => /local_route/.test(n.message));
    }, 'the NACK on /healthz', 3000);
    assert.match(nack.message, /safe_regex/);
    assert.equal(await get(port), '200 b2');
    assert.ok((await stat(skiff.adminUrl, 'control_plane.connected_state')) === 1);

    // /config_dump: dynamic sections with versions.
    const dump = (await (await fetch(`${skiff.adminUrl}/config_dump`)).json()) as { configs: Record<string, unknown>[] };
    const section = (suffix: string): Record<string, unknown> => dump.configs.find((c) => String(c['@type']).endsWith(suffix))!;
    const dynListeners = section('ListenersConfigDump').dynamic_listeners as { name: string; active_state: { version_info: string } }[];
    assert.deepEqual(dynListeners.map((l) => l.name), ['ingress']);
    assert.ok(dynListeners[0]!.active_state.version_info.length > 0);
    assert.deepEqual((section('ClustersConfigDump').dynamic_active_clusters as { cluster: { name: string } }[]).map((c) => c.cluster.name).sort(), ['a', 'b']);
    assert.deepEqual((section('RoutesConfigDump').dynamic_route_configs as { route_config: { name: string } }[]).map((r) => r.route_config.name), ['local_route']);
    assert.deepEqual((section('EndpointsConfigDump').dynamic_endpoint_configs as { endpoint_config: { cluster_name: string } }[])
      .map((e) => e.endpoint_config.cluster_name).sort(), ['a', 'b']);

    // Control plane down: Skiff keeps serving. Restarted on its port: Skiff reconnects and follows a new edit.
    await cp.stop();
    // Edited while the control plane is down (an edit just before the stop could still be pushed): the restarted one serves it.
    writeJson(dir, 'rds.json', [routes('a')]);
    await waitFor(async () => ((await stat(skiff.adminUrl, 'control_plane.connected_state')) === 0 ? true : undefined), 'the disconnect', 5000);
    assert.equal(await get(port), '200 b2');
    cp = await startControlPlane(dir, cp.grpcPort);
    await waitFor(until(port, '200 a'), 'the edit after the restart', 20_000);
    assert.equal(await stat(skiff.adminUrl, 'control_plane.connected_state'), 1);
    assert.ok((await stat(skiff.adminUrl, 'cluster_manager.cds.update_success'))! >= 1);
  });
}
