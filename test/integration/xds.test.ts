// Skiff following `skiff control-plane`, both as real processes on 127.0.0.1, with real node:http upstreams:
// LDS -> listener with RDS, RDS -> route to an EDS cluster, EDS -> endpoints. File edits are followed within a
// second, a bad file is NACKed (Skiff keeps serving, the control plane's /healthz shows the NACK), and Skiff keeps
// serving while the control plane is down and follows it again after a restart. SotW and delta.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { waitForValue as waitFor, getStatusAndBody as get, START_PATIENCE_MS } from '../helpers/wait.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSkiff } from '../helpers/skiff.js';
import { T, assignment, edsCluster as harnessEdsCluster, rdsListener, startControlPlane, stat, upstream, writeJson, xdsBootstrap } from '../helpers/xds_harness.js';

const listener = (): unknown => rdsListener('ingress', 'local_route');

const routes = (cluster: string, regex?: string): unknown => ({
  '@type': T.route, name: 'local_route',
  virtual_hosts: [{ name: 'all', domains: ['*'], routes: [
    ...(regex === undefined ? [] : [{ match: { safe_regex: { regex } }, route: { cluster } }]),
    { match: { prefix: '/' }, route: { cluster } },
  ] }],
});

const edsCluster = (name: string): unknown => harnessEdsCluster(name, { connect_timeout: '1s' });

const until = (port: number, want: string) => async (): Promise<true | undefined> => ((await get(port)) === want ? true : undefined);

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

    const skiff = await startSkiff({ config: xdsBootstrap(`skiff-${apiType}`, cp.grpcPort, apiType) });
    t.after(async () => { await skiff.stop(); });
    const port = skiff.port('ingress');
    assert.equal(await get(port), '200 a');

    // Route to the other cluster: followed (how fast is reported, not asserted: CI's machine may be slow and busy).
    let started = Date.now();
    writeJson(dir, 'rds.json', [routes('b')]);
    await waitFor(until(port, '200 b1'), 'the route edit');
    t.diagnostic(`route edit to applied: ${Date.now() - started} ms`);

    // Endpoints changed: followed.
    started = Date.now();
    writeJson(dir, 'eds.json', [assignment('a', a.port), assignment('b', b2.port)]);
    await waitFor(until(port, '200 b2'), 'the endpoint edit');
    t.diagnostic(`endpoint edit to applied: ${Date.now() - started} ms`);

    // A route table Skiff cannot compile: NACKed; the last good table keeps serving; /healthz shows the NACK.
    writeJson(dir, 'rds.json', [routes('a', '(')]);
    const nack = await waitFor(async () => {
      const h = (await (await fetch(`http://127.0.0.1:${cp.healthPort}/healthz`)).json()) as { recent_nacks: { type: string; message: string }[] };
      return h.recent_nacks.find((n) => /local_route/.test(n.message));
    }, 'the NACK on /healthz');
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
    await waitFor(async () => ((await stat(skiff.adminUrl, 'control_plane.connected_state')) === 0 ? true : undefined), 'the disconnect');
    assert.equal(await get(port), '200 b2');
    cp = await startControlPlane(dir, cp.grpcPort);
    await waitFor(until(port, '200 a'), 'the edit after the restart', START_PATIENCE_MS);
    assert.equal(await stat(skiff.adminUrl, 'control_plane.connected_state'), 1);
    assert.ok((await stat(skiff.adminUrl, 'cluster_manager.cds.update_success'))! >= 1);
  });
}
