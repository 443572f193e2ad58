import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { ControlPlaneServer } from '../../../src/control_plane/server.js';
import { setLogLevel } from '../../../src/common/logger.js';
import { CLUSTER_TYPE, ENDPOINT_TYPE, NODE, adsClient, edsCluster, loadAssignment, tempDir, unpack, writeResourceFile } from './helpers.js';
import { PATIENCE_MS } from '../../helpers/wait.js';

setLogLevel('off');

test('delta: wildcard CDS, named EDS, per-resource versions, removal, subscribe/unsubscribe, reconnect', async () => {
  const { dir, cleanup } = tempDir();
  writeResourceFile(dir, 'c1.yaml', edsCluster('c1'));
  writeResourceFile(dir, 'c2.yaml', edsCluster('c2'));
  writeResourceFile(dir, 'eds.yaml', [loadAssignment('c1', 1001), loadAssignment('c2', 1002)]);
  const server = new ControlPlaneServer({ dir, port: 0, healthPort: 0, watcher: { debounceMs: 20, rescanMs: 200 } });
  await server.start();
  const client = adsClient(server.grpcPort);
  const s = client.delta();
  let s2: ReturnType<typeof client.delta> | undefined;
  try {
    s.send({ node: NODE, type_url: CLUSTER_TYPE });
    const cds = await s.next();
    assert.equal(cds.type_url, CLUSTER_TYPE);
    assert.deepEqual(cds.resources.map((r) => r.name).sort(), ['c1', 'c2']);
    assert.equal(unpack(cds.resources[0].resource!).name, cds.resources[0].name);
    const versions = Object.fromEntries(cds.resources.map((r) => [r.name, r.version]));
    s.send({ node: NODE, type_url: CLUSTER_TYPE, response_nonce: cds.nonce });
    s.send({ node: NODE, type_url: ENDPOINT_TYPE, resource_names_subscribe: ['c1'] });
    const eds = await s.next();
    assert.deepEqual(eds.resources.map((r) => r.name), ['c1']);
    s.send({ node: NODE, type_url: ENDPOINT_TYPE, response_nonce: eds.nonce });

    // Only the changed resource is sent.
    writeResourceFile(dir, 'eds.yaml', [loadAssignment('c1', 2001), loadAssignment('c2', 2002)]);
    const changed = await s.next(PATIENCE_MS);
    assert.equal(changed.type_url, ENDPOINT_TYPE);
    assert.deepEqual(changed.resources.map((r) => r.name), ['c1']);
    assert.notEqual(changed.resources[0].version, eds.resources[0].version);
    s.send({ node: NODE, type_url: ENDPOINT_TYPE, response_nonce: changed.nonce });

    // Removing a cluster's file: removed_resources, nothing else.
    rmSync(join(dir, 'c2.yaml'));
    const removed = await s.next(PATIENCE_MS);
    assert.equal(removed.type_url, CLUSTER_TYPE);
    assert.deepEqual(removed.resources, []);
    assert.deepEqual(removed.removed_resources, ['c2']);
    s.send({ node: NODE, type_url: CLUSTER_TYPE, response_nonce: removed.nonce });

    // Subscribe to c2's endpoints, then unsubscribe from c1: no response is owed for an unsubscribe.
    s.send({ node: NODE, type_url: ENDPOINT_TYPE, resource_names_subscribe: ['c2'] });
    const sub = await s.next();
    assert.deepEqual(sub.resources.map((r) => r.name), ['c2']);
    s.send({ node: NODE, type_url: ENDPOINT_TYPE, response_nonce: sub.nonce, resource_names_unsubscribe: ['c1'] });
    assert.ok(await s.quiet(300));

    // NACK: logged, the same versions not resent.
    writeResourceFile(dir, 'eds.yaml', [loadAssignment('c1', 2001), loadAssignment('c2', 3002)]);
    const next = await s.next(PATIENCE_MS);
    assert.deepEqual(next.resources.map((r) => r.name), ['c2']);
    s.send({ node: NODE, type_url: ENDPOINT_TYPE, response_nonce: next.nonce, error_detail: { code: 3, message: 'bad endpoint' } });
    assert.ok(await s.quiet(300));
    assert.equal(server.counters.nacks, 1);

    // Reconnect with initial_resource_versions: only what differs is sent, and what is gone is removed.
    s.close();
    s2 = client.delta();
    s2.send({ node: NODE, type_url: CLUSTER_TYPE, initial_resource_versions: { c1: versions.c1, c2: versions.c2, gone: 'x' } });
    const resumed = await s2.next();
    assert.deepEqual(resumed.resources, []);
    assert.deepEqual(resumed.removed_resources, ['c2', 'gone']);
  } finally {
    s.close();
    s2?.close();
    client.close();
    await server.stop();
    cleanup();
  }
});

test('delta: the first request of a type is answered on an empty directory, later ones only on change', async () => {
  const { dir, cleanup } = tempDir();
  const server = new ControlPlaneServer({ dir, port: 0, healthPort: 0, watcher: { debounceMs: 20, rescanMs: 0 } });
  await server.start();
  const client = adsClient(server.grpcPort);
  const s = client.delta();
  try {
    s.send({ node: NODE, type_url: CLUSTER_TYPE });
    const cds = await s.next(PATIENCE_MS);
    assert.equal(cds.type_url, CLUSTER_TYPE);
    assert.deepEqual(cds.resources, []);
    assert.deepEqual(cds.removed_resources, []);
    assert.notEqual(cds.nonce, '');
    s.send({ node: NODE, type_url: CLUSTER_TYPE, response_nonce: cds.nonce });
    // The ACK owes nothing: no second empty response.
    assert.ok(await s.quiet(300));
    assert.equal(server.counters.acks, 1);
    // A named EDS subscription's first request is answered too, though the name does not exist yet.
    s.send({ node: NODE, type_url: ENDPOINT_TYPE, resource_names_subscribe: ['later'] });
    const eds = await s.next(PATIENCE_MS);
    assert.equal(eds.type_url, ENDPOINT_TYPE);
    assert.deepEqual(eds.resources, []);
    s.send({ node: NODE, type_url: ENDPOINT_TYPE, response_nonce: eds.nonce });
    writeResourceFile(dir, 'c.yaml', [edsCluster('later'), loadAssignment('later', 1001)]);
    const first = await s.next(PATIENCE_MS);
    const second = await s.next(PATIENCE_MS);
    assert.deepEqual([first, second].map((r) => `${r.type_url}:${r.resources.map((x) => x.name).join()}`).sort(),
      [`${CLUSTER_TYPE}:later`, `${ENDPOINT_TYPE}:later`].sort());
  } finally {
    s.close();
    client.close();
    await server.stop();
    cleanup();
  }
});
