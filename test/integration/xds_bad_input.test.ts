// Bad input from a control plane, against a real Skiff process, SotW and delta:
// - through `skiff control-plane`: resources Skiff cannot run (an unsupported field in a route, a listener, a
//   cluster) are NACKed naming the resource and field, the last good config keeps serving, /config_dump shows
//   each one's error_state and the NACK stats count them; fixed files are ACKed and the error_state goes; an
//   update of a serving EDS cluster whose new endpoints never come warms while the old cluster serves; Istio's
//   no-op HTTP filters are accepted and warned about once per process;
// - through a scripted ADS server (what skiff control-plane never sends): an unknown type URL, duplicate names,
//   undecodable bytes, each NACKed while traffic flows; a stream reset in the middle of a push (CDS sent, its
//   EDS never) leaves nothing half-applied, and the next stream's push applies whole.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSkiff, type RunningSkiff } from '../helpers/skiff.js';
import { waitForValue as waitFor, SLOW_PATIENCE_MS, START_PATIENCE_MS } from '../helpers/wait.js';
import {
  assignment, dumpSection, edsCluster, getVia, rdsListener, recentNacks, routeTo, startControlPlane, stat, T, upstream, writeJson,
  xdsBootstrap, type Json,
} from '../helpers/xds_harness.js';
import { AdsPeer, type DeltaStream, type SotwStream } from '../unit/xds/ads_peer.js';
import { packResource } from '../../src/xds/any_json.js';
import type { AnyMessage } from '../../src/xds/protocol.js';

const API_TYPES = ['GRPC', 'DELTA_GRPC'] as const;

async function serves(port: number, want: string, what: string, ms = SLOW_PATIENCE_MS): Promise<void> {
  await waitFor(async () => ((await getVia(port, '/').catch(() => '')) === want ? true : undefined), what, ms);
}

for (const apiType of API_TYPES) {
  test(`${apiType}: skiff control-plane pushes what Skiff cannot run: NACKed by name, last good serving, error_state shown`, async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'skiff-xds-bad-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const a = await upstream('a');
    const b = await upstream('b');
    t.after(async () => { await a.close(); await b.close(); });
    const istioStats = { name: 'istio.stats', typed_config: { '@type': 'type.googleapis.com/udpa.type.v1.TypedStruct', type_url: 'type.googleapis.com/stats.PluginConfig', value: {} } };
    const goodListener = rdsListener('ingress', 'local_route', [istioStats]);
    // Istio's stats filter in front of the connection manager too, as a network filter (the listener registry's no-op).
    (goodListener.filter_chains as { filters: unknown[] }[])[0]!.filters.unshift(istioStats);
    writeJson(dir, 'lds.json', [goodListener]);
    writeJson(dir, 'rds.json', [routeTo('local_route', 'a')]);
    writeJson(dir, 'cds.json', [edsCluster('a')]);
    writeJson(dir, 'eds.json', [assignment('a', a.port)]);
    const cp = await startControlPlane(dir);
    t.after(() => cp.stop());
    const skiff = await startSkiff({ config: xdsBootstrap(`bad-${apiType}`, cp.grpcPort, apiType) });
    t.after(async () => { await skiff.stop(); });
    const port = skiff.port('ingress');
    assert.equal(await getVia(port), '200 a');

    const nackNaming = (re: RegExp, what: string) => waitFor(async () => (await recentNacks(cp)).find((n) => re.test(n.message)), what);

    // A route table with a field Skiff does not implement.
    writeJson(dir, 'rds.json', [routeTo('local_route', 'b', { idle_timeout: '1s' })]);
    const routeNack = await nackNaming(/RouteConfiguration "local_route"\..*idle_timeout/, 'the route NACK');
    assert.match(routeNack.message, /unsupported field/);
    assert.equal(await getVia(port), '200 a', 'the last good route table serves');
    const routes = (await dumpSection(skiff.adminUrl, 'RoutesConfigDump')).dynamic_route_configs as Json[];
    assert.match(String((routes[0]!.error_state as Json).details), /idle_timeout/);
    assert.ok(Date.parse(String((routes[0]!.error_state as Json).last_update_attempt)) > 0);
    assert.ok((await stat(skiff.adminUrl, 'http.ingress.rds.local_route.update_rejected'))! >= 1);

    // A listener with a field Skiff does not implement: the active one stays, error_state beside it.
    writeJson(dir, 'lds.json', [{ ...goodListener, tcp_backlog_size: 5 }]);
    await nackNaming(/Listener "ingress"\.tcp_backlog_size/, 'the listener NACK');
    const listeners = (await dumpSection(skiff.adminUrl, 'ListenersConfigDump')).dynamic_listeners as Json[];
    const ingress = listeners.find((l) => l.name === 'ingress')!;
    assert.ok(ingress.active_state, 'the last good listener is still active');
    assert.match(String((ingress.error_state as Json).details), /tcp_backlog_size: unsupported field/);
    assert.ok((await stat(skiff.adminUrl, 'listener_manager.lds.update_rejected'))! >= 1);
    assert.equal(await getVia(port), '200 a');

    // A cluster with a field Skiff does not implement.
    writeJson(dir, 'cds.json', [edsCluster('a', { outlier_detection: {} })]);
    await nackNaming(/Cluster "a"\.outlier_detection/, 'the cluster NACK');
    assert.ok((await stat(skiff.adminUrl, 'cluster_manager.cds.update_rejected'))! >= 1);
    assert.equal(await getVia(port), '200 a');

    // Fixed: ACKed, and the error states are gone.
    writeJson(dir, 'cds.json', [edsCluster('a')]);
    writeJson(dir, 'lds.json', [goodListener]);
    writeJson(dir, 'rds.json', [routeTo('local_route', 'a')]);
    await waitFor(async () => {
      const l = ((await dumpSection(skiff.adminUrl, 'ListenersConfigDump')).dynamic_listeners as Json[]).find((x) => x.name === 'ingress');
      const r = ((await dumpSection(skiff.adminUrl, 'RoutesConfigDump')).dynamic_route_configs as Json[])[0];
      return l && l.error_state === undefined && r && r.error_state === undefined ? true : undefined;
    }, 'the error states to clear');

    // An update of cluster a to a new EDS name whose endpoints never come: it warms, the old cluster serves.
    writeJson(dir, 'cds.json', [edsCluster('a', { eds_cluster_config: { eds_config: { ads: {}, resource_api_version: 'V3' }, service_name: 'a-v2' } })]);
    const clusters = await waitFor(async () => {
      const c = await dumpSection(skiff.adminUrl, 'ClustersConfigDump');
      return (c.dynamic_warming_clusters as Json[]).length === 1 ? c : undefined;
    }, 'the warming update');
    assert.deepEqual((clusters.dynamic_active_clusters as Json[]).map((c) => (c.cluster as Json).eds_cluster_config), [{ eds_config: { ads: {}, resource_api_version: 'V3' } }]);
    assert.equal((((clusters.dynamic_warming_clusters as Json[])[0]!.cluster as Json).eds_cluster_config as Json).service_name, 'a-v2');
    assert.equal(await stat(skiff.adminUrl, 'cluster_manager.warming_clusters'), 1);
    for (let i = 0; i < 3; i++) assert.equal(await getVia(port), '200 a', 'the old cluster serves while the update warms');
    // Its endpoints come: swapped in.
    writeJson(dir, 'eds.json', [assignment('a', a.port), assignment('a-v2', b.port)]);
    await serves(port, '200 b', 'the warmed update');
    assert.equal(await stat(skiff.adminUrl, 'cluster_manager.warming_clusters'), 0);

    // /config_dump?resource=&mask= as Envoy's admin answers them.
    const only = (await (await fetch(`${skiff.adminUrl}/config_dump?resource=dynamic_active_clusters&mask=cluster`)).json()) as { configs: Json[] };
    assert.deepEqual(only.configs.map((c) => [c['@type'], Object.keys(c).sort().join(','), (c.cluster as Json).name]),
      [['type.googleapis.com/envoy.admin.v3.ClustersConfigDump.DynamicCluster', '@type,cluster', 'a']]);
    assert.equal((await fetch(`${skiff.adminUrl}/config_dump?resource=nonsense`)).status, 400);

    // Istio's no-op filter: one warning line for the process, however many pushes carried it.
    assert.equal(skiff.stderr().split('\n').filter((l) => /extension istio\.stats accepted as a no-op/.test(l)).length, 1, skiff.stderr());
    assert.equal(skiff.stderr().split('\n').filter((l) => /network filter istio\.stats accepted as a no-op/.test(l)).length, 1, skiff.stderr());
  });
}

// ---- a scripted ADS server: what skiff control-plane never sends ----

type Resource = Json & { '@type': string };
const TYPES = [T.cluster, T.cla, T.listener, T.route] as const;

/** Answers a real Skiff's subscriptions from `state` (whole sets per type), records NACKs; SotW or delta. */
class ScriptedServer {
  readonly nacks: { type: string; message: string }[] = [];
  private nonce = 0;
  private sotw: SotwStream | undefined;
  private delta: DeltaStream | undefined;
  private readonly sentDelta = new Map<string, Set<string>>();
  private closed = false;
  constructor(readonly peer: AdsPeer, readonly apiType: 'GRPC' | 'DELTA_GRPC', public state: Map<string, Resource[]>) {}

  /** Serves the next stream Skiff opens, until it ends (bounded by the test's own timeouts). */
  async serveNextStream(): Promise<void> {
    if (this.apiType === 'GRPC') {
      const s = await this.peer.sotw.take(START_PATIENCE_MS, 'a SotW stream');
      this.sotw = s;
      void this.loopSotw(s);
    } else {
      const s = await this.peer.delta.take(START_PATIENCE_MS, 'a delta stream');
      this.delta = s;
      this.sentDelta.clear();
      void this.loopDelta(s);
    }
  }

  private async loopSotw(s: SotwStream): Promise<void> {
    const names = new Map<string, string>();
    while (!s.ended && !this.closed) {
      // Short waits, so the loop ends soon after close() (no timer keeps the test process alive).
      const req = await s.next(250).catch(() => undefined);
      if (!req) continue;
      if (req.error_detail) this.nacks.push({ type: req.type_url, message: req.error_detail.message });
      const key = JSON.stringify(req.resource_names ?? []);
      // Answers subscriptions (a first request, or changed names) of the four types only; ACKs and NACKs get nothing.
      if (!TYPES.includes(req.type_url as typeof TYPES[number])) continue;
      if (!req.response_nonce || names.get(req.type_url) !== key) { names.set(req.type_url, key); this.push(req.type_url); }
    }
  }

  private async loopDelta(s: DeltaStream): Promise<void> {
    while (!s.ended && !this.closed) {
      // Short waits, so the loop ends soon after close() (no timer keeps the test process alive).
      const req = await s.next(250).catch(() => undefined);
      if (!req) continue;
      if (req.error_detail) this.nacks.push({ type: req.type_url, message: req.error_detail.message });
      if (!TYPES.includes(req.type_url as typeof TYPES[number])) continue;
      if (!req.response_nonce || (req.resource_names_subscribe ?? []).length > 0) this.push(req.type_url);
    }
  }

  /** Sends the whole current set of a type (SotW) or what changed of it (delta). */
  push(typeUrl: string, raw?: AnyMessage[], rawName = 'a'): void {
    const nonce = `n${++this.nonce}`;
    const resources = this.state.get(typeUrl) ?? [];
    if (this.apiType === 'GRPC') {
      this.sotw?.send({ type_url: typeUrl, version_info: `v${this.nonce}`, nonce, resources: raw ?? resources.map((r) => packResource(r)) });
      return;
    }
    const nameOf = (r: Resource): string => String(r.name ?? r.cluster_name);
    const sent = this.sentDelta.get(typeUrl) ?? new Set<string>();
    const removed = [...sent].filter((n) => !resources.some((r) => nameOf(r) === n));
    this.sentDelta.set(typeUrl, new Set(resources.map(nameOf)));
    this.delta?.send({
      type_url: typeUrl, nonce, system_version_info: `v${this.nonce}`, removed_resources: removed,
      resources: raw !== undefined ? raw.map((any) => ({ name: rawName, version: `v${this.nonce}`, resource: any }))
        : resources.map((r) => ({ name: nameOf(r), version: `v${this.nonce}`, resource: packResource(r) })),
    });
  }

  /** Stops answering (the loops end within 250 ms). */
  close(): void {
    this.closed = true;
  }

  /** Ends the current stream with an error, as a control plane that drops the client. */
  reset(): void {
    (this.apiType === 'GRPC' ? this.sotw : this.delta)?.fail();
  }
}

async function waitNack(server: ScriptedServer, re: RegExp, what: string): Promise<{ type: string; message: string }> {
  return waitFor(() => server.nacks.find((n) => re.test(n.message)), what);
}

for (const apiType of API_TYPES) {
  test(`${apiType}: unknown type URL, duplicate names, undecodable bytes NACKed; a stream reset mid-push applies nothing of it`, async (t) => {
    const a = await upstream('a');
    const b = await upstream('b');
    t.after(async () => { await a.close(); await b.close(); });
    const peer = await AdsPeer.start();
    t.after(() => peer.stop());
    const state = new Map<string, Resource[]>([
      [T.cluster, [edsCluster('a') as Resource]],
      [T.cla, [assignment('a', a.port) as Resource]],
      [T.listener, [rdsListener('ingress', 'local_route') as Resource]],
      [T.route, [routeTo('local_route', 'a') as Resource]],
    ]);
    const server = new ScriptedServer(peer, apiType, state);
    t.after(() => server.close());
    const first = server.serveNextStream();
    let skiff: RunningSkiff | undefined;
    t.after(async () => { await skiff?.stop(); });
    [skiff] = await Promise.all([startSkiff({ config: xdsBootstrap(`scripted-${apiType}`, peer.port, apiType) }), first]);
    const port = skiff.port('ingress');
    assert.equal(await getVia(port), '200 a');

    // An unknown type URL (Secret is followed since SDS; runtime discovery is not).
    const runtime = 'type.googleapis.com/envoy.service.runtime.v3.Runtime';
    server.push(runtime, []);
    await waitNack(server, /unknown type URL .*Runtime/, 'the unknown type NACK');
    // Duplicate names in one response (SotW: the same cluster twice; delta: the same name twice).
    server.push(T.cluster, [packResource(edsCluster('a')), packResource(edsCluster('a', { connect_timeout: '2s' }))]);
    await waitNack(server, /Cluster "a".*duplicate/, 'the duplicate-name NACK');
    // A malformed value in a well-typed field.
    server.push(T.cluster, [packResource(edsCluster('a', { connect_timeout: '-1s' }))]);
    await waitNack(server, /Cluster "a"\.connect_timeout/, 'the malformed-duration NACK');
    // Bytes that are no Cluster.
    server.push(T.cluster, [{ type_url: T.cluster, value: Buffer.from([0x0a, 0xff, 0x01]) }]);
    await waitNack(server, /resources\[0\]/, 'the undecodable-bytes NACK');
    assert.equal(await getVia(port), '200 a', 'traffic flows through every NACK');
    assert.ok((await stat(skiff.adminUrl, 'cluster_manager.cds.update_rejected'))! >= 2);

    // A push cut in the middle: CDS moves cluster a to EDS name a-v2, the stream resets before its EDS.
    const moved = edsCluster('a', { eds_cluster_config: { eds_config: { ads: {}, resource_api_version: 'V3' }, service_name: 'a-v2' } }) as Resource;
    state.set(T.cluster, [moved]);
    server.push(T.cluster);
    await waitFor(async () => ((await stat(skiff.adminUrl, 'cluster_manager.warming_clusters')) === 1 ? true : undefined), 'the update to warm');
    server.reset();
    // Skiff reconnects on its own; the new stream is queued and answered only from here on.
    for (let i = 0; i < 3; i++) assert.equal(await getVia(port), '200 a', 'nothing half-applied: the old cluster serves');
    // The next stream carries the whole push: the cluster and its endpoints. Applied whole.
    state.set(T.cla, [assignment('a', a.port) as Resource, assignment('a-v2', b.port) as Resource]);
    const second = server.serveNextStream();
    await second;
    await serves(port, '200 b', 'the whole push on the new stream', 10_000);
    assert.equal(await stat(skiff.adminUrl, 'control_plane.connected_state'), 1);
    const eps = (await dumpSection(skiff.adminUrl, 'EndpointsConfigDump')).dynamic_endpoint_configs as Json[];
    assert.ok(eps.some((e) => (e.endpoint_config as Json).cluster_name === 'a-v2'));
  });
}
