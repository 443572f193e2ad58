import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ControlPlaneServer } from '../../../src/control_plane/server.js';
import { setLogLevel } from '../../../src/common/logger.js';
import {
  CLUSTER_TYPE, ENDPOINT_TYPE, LISTENER_TYPE, NODE, ROUTE_TYPE, adsClient, apiListener, edsCluster, loadAssignment,
  routeConfig, tempDir, unpack, writeResourceFile,
} from './helpers.js';
import { PATIENCE_MS } from '../../helpers/wait.js';

setLogLevel('off');

async function withServer(fn: (s: ControlPlaneServer, dir: string) => Promise<void>): Promise<void> {
  const { dir, cleanup } = tempDir();
  writeResourceFile(dir, 'cds.yaml', [edsCluster('c1'), edsCluster('c2')]);
  writeResourceFile(dir, 'eds.json', [loadAssignment('c1', 1001), loadAssignment('c2', 1002)]);
  writeResourceFile(dir, 'lds.yaml', { resources: [apiListener('svc', 'r1')] });
  writeResourceFile(dir, 'rds.yaml', routeConfig('r1', 'svc', 'c1'));
  const server = new ControlPlaneServer({ dir, port: 0, healthPort: 0, watcher: { debounceMs: 20, rescanMs: 200 } });
  try {
    await server.start();
    await fn(server, dir);
  } finally {
    await server.stop();
    cleanup();
  }
}

test('SotW: wildcard CDS/LDS, named EDS/RDS, version_info and nonce, ACK does not resend', async () => {
  await withServer(async (server) => {
    const client = adsClient(server.grpcPort);
    const s = client.sotw();
    try {
      s.send({ node: NODE, type_url: CLUSTER_TYPE, resource_names: [] });
      const cds = await s.next();
      assert.equal(cds.type_url, CLUSTER_TYPE);
      assert.equal(cds.version_info, '1');
      assert.notEqual(cds.nonce, '');
      assert.deepEqual(cds.resources.map((a) => unpack(a).name).sort(), ['c1', 'c2']);
      s.send({ node: NODE, type_url: CLUSTER_TYPE, version_info: cds.version_info, response_nonce: cds.nonce });
      s.send({ node: NODE, type_url: ENDPOINT_TYPE, resource_names: ['c2'] });
      const eds = await s.next();
      assert.equal(eds.type_url, ENDPOINT_TYPE);
      assert.deepEqual(eds.resources.map((a) => unpack(a).cluster_name), ['c2']);
      s.send({ node: NODE, type_url: ENDPOINT_TYPE, resource_names: ['c2'], version_info: eds.version_info, response_nonce: eds.nonce });
      // Subscribing to one more name sends the new selection.
      s.send({ node: NODE, type_url: ENDPOINT_TYPE, resource_names: ['c1', 'c2'], version_info: eds.version_info, response_nonce: eds.nonce });
      const eds2 = await s.next();
      assert.deepEqual(eds2.resources.map((a) => unpack(a).cluster_name), ['c1', 'c2']);
      assert.notEqual(eds2.nonce, eds.nonce);
      s.send({ node: NODE, type_url: ENDPOINT_TYPE, resource_names: ['c1', 'c2'], version_info: eds2.version_info, response_nonce: eds2.nonce });
      s.send({ node: NODE, type_url: LISTENER_TYPE });
      const lds = await s.next();
      assert.deepEqual(lds.resources.map((a) => unpack(a).name), ['svc']);
      s.send({ node: NODE, type_url: LISTENER_TYPE, version_info: lds.version_info, response_nonce: lds.nonce });
      s.send({ node: NODE, type_url: ROUTE_TYPE, resource_names: ['r1'] });
      const rds = await s.next();
      assert.deepEqual(rds.resources.map((a) => unpack(a).name), ['r1']);
      s.send({ node: NODE, type_url: ROUTE_TYPE, resource_names: ['r1'], version_info: rds.version_info, response_nonce: rds.nonce });
      assert.ok(await s.quiet(300), 'ACKs must not be answered');
      // The subscription change also ACKs the first EDS response: six in all.
      assert.equal(server.counters.acks, 6);
    } finally {
      s.close();
      client.close();
    }
  });
});

test('SotW: a file change is pushed, only to the types it changes; NACK is not answered with the same version', async (t) => {
  await withServer(async (server, dir) => {
    const client = adsClient(server.grpcPort);
    const s = client.sotw();
    try {
      s.send({ node: NODE, type_url: CLUSTER_TYPE });
      const cds = await s.next();
      s.send({ node: NODE, type_url: CLUSTER_TYPE, version_info: cds.version_info, response_nonce: cds.nonce });
      s.send({ node: NODE, type_url: ENDPOINT_TYPE, resource_names: ['c1'] });
      const eds = await s.next();
      s.send({ node: NODE, type_url: ENDPOINT_TYPE, resource_names: ['c1'], version_info: eds.version_info, response_nonce: eds.nonce });
      const started = performance.now();
      writeResourceFile(dir, 'eds.json', [loadAssignment('c1', 2001), loadAssignment('c2', 1002)]);
      const pushed = await s.next(PATIENCE_MS);
      const latencyMs = performance.now() - started;
      assert.equal(pushed.type_url, ENDPOINT_TYPE);
      assert.equal(pushed.version_info, '2');
      const cla = unpack(pushed.resources[0]) as { endpoints: { lb_endpoints: { endpoint: { address: { socket_address: { port_value: number } } } }[] }[] };
      assert.equal(cla.endpoints[0].lb_endpoints[0].endpoint.address.socket_address.port_value, 2001);
      t.diagnostic(`push took ${latencyMs.toFixed(1)} ms`); // reported, not asserted: CI's machine may be slow and busy
      // The client rejects it: logged, counted, and not resent.
      s.send({ node: NODE, type_url: ENDPOINT_TYPE, resource_names: ['c1'], version_info: eds.version_info, response_nonce: pushed.nonce,
        error_detail: { code: 3, message: 'endpoint rejected' } });
      assert.ok(await s.quiet(500), 'a NACKed version must not be resent');
      assert.equal(server.counters.nacks, 1);
      assert.equal(server.recentNacks[0].message, 'endpoint rejected');
      // A stale nonce is ignored.
      s.send({ node: NODE, type_url: ENDPOINT_TYPE, resource_names: ['c2'], response_nonce: 'old' });
      assert.ok(await s.quiet(200));
      // New content is sent again after the NACK.
      writeResourceFile(dir, 'eds.json', [loadAssignment('c1', 3001), loadAssignment('c2', 1002)]);
      const fixed = await s.next(PATIENCE_MS);
      assert.equal(fixed.version_info, '3');
    } finally {
      s.close();
      client.close();
    }
  });
});

test('SotW: a bad file keeps the last good snapshot, and /healthz names the file and field', async () => {
  await withServer(async (server, dir) => {
    const client = adsClient(server.grpcPort);
    const s = client.sotw();
    try {
      const health = async (): Promise<{ status: number; body: Record<string, unknown> }> => {
        const res = await fetch(`http://127.0.0.1:${server.healthPort}/healthz`, { signal: AbortSignal.timeout(2000) });
        return { status: res.status, body: await res.json() as Record<string, unknown> };
      };
      const ok = await health();
      assert.equal(ok.status, 200);
      assert.equal(ok.body.version, '1');
      assert.equal(ok.body.ready_detail, undefined);
      writeFileSync(join(dir, 'cds.yaml'), `- '@type': ${CLUSTER_TYPE}\n  name: c1\n  connect_timeout: later\n`);
      const result = server.reload();
      assert.equal(result.changed, false);
      assert.equal(result.version, '1');
      assert.match(result.problems[0].message, /cds\.yaml\[0\]\.connect_timeout/);
      const degraded = await health();
      assert.equal(degraded.status, 200);
      const detail = degraded.body.ready_detail as { problems: { file: string; message: string }[] };
      assert.match(detail.problems[0].message, /cds\.yaml\[0\]\.connect_timeout/);
      s.send({ node: NODE, type_url: CLUSTER_TYPE });
      const cds = await s.next();
      assert.equal(cds.version_info, '1');
      assert.deepEqual(cds.resources.map((a) => unpack(a).name).sort(), ['c1', 'c2']);
      // A duplicate name across files is refused the same way.
      writeResourceFile(dir, 'cds.yaml', [edsCluster('c1')]);
      writeResourceFile(dir, 'more-cds.yaml', [edsCluster('c1')]);
      assert.match(server.reload().problems[0].message, /duplicate Cluster name 'c1'/);
    } finally {
      s.close();
      client.close();
    }
  });
});

test('/healthz is 503 until a snapshot loads', async () => {
  const { dir, cleanup } = tempDir();
  writeFileSync(join(dir, 'bad.json'), '{');
  const server = new ControlPlaneServer({ dir, port: 0, healthPort: 0, watcher: { debounceMs: 20, rescanMs: 0 } });
  try {
    await server.start();
    const res = await fetch(`http://127.0.0.1:${server.healthPort}/healthz`, { signal: AbortSignal.timeout(2000) });
    assert.equal(res.status, 503);
    const body = await res.json() as { status: string; ready_detail: { problems: { file: string }[] } };
    assert.equal(body.status, 'NOT_SERVING');
    assert.equal(body.ready_detail.problems[0].file, join(dir, 'bad.json'));
    writeResourceFile(dir, 'bad.json', [edsCluster('x')]);
    assert.equal(server.reload().version, '1');
    const after = await fetch(`http://127.0.0.1:${server.healthPort}/healthz`, { signal: AbortSignal.timeout(2000) });
    assert.equal(after.status, 200);
    await after.body?.cancel();
  } finally {
    await server.stop();
    cleanup();
  }
});
