// Push latency from a file write to receipt on every connected stream (SotW and delta), with several clients,
// plus the server shrugging off malformed requests. Prints the latency it measures; it does not assert on it,
// since CI's machine may be slow and busy (how fast a push is belongs to the benchmarks).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { credentials, makeGenericClientConstructor, type ClientDuplexStream } from '@grpc/grpc-js';
import { ControlPlaneServer } from '../../../src/control_plane/server.js';
import { setLogLevel } from '../../../src/common/logger.js';
import { CLUSTER_TYPE, ENDPOINT_TYPE, NODE, adsClient, edsCluster, loadAssignment, tempDir, writeResourceFile, type QueuedStream } from './helpers.js';
import type { DeltaDiscoveryRequest, DeltaDiscoveryResponse, DiscoveryRequest, DiscoveryResponse } from '../../../src/control_plane/protocol.js';
import { PATIENCE_MS } from '../../helpers/wait.js';

setLogLevel('off');

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];
}

test('every connected node gets each file change (10 SotW + 10 delta streams, 10 edits); the push latency is printed', async () => {
  const { dir, cleanup } = tempDir();
  writeResourceFile(dir, 'cds.yaml', [edsCluster('c1')]);
  writeResourceFile(dir, 'eds.yaml', [loadAssignment('c1', 1000)]);
  const server = new ControlPlaneServer({ dir, port: 0, healthPort: 0, watcher: { debounceMs: 20, rescanMs: 500 } });
  await server.start();
  const client = adsClient(server.grpcPort);
  const sotw: QueuedStream<DiscoveryRequest, DiscoveryResponse>[] = [];
  const delta: QueuedStream<DeltaDiscoveryRequest, DeltaDiscoveryResponse>[] = [];
  try {
    for (let i = 0; i < 10; i++) {
      const s = client.sotw();
      sotw.push(s);
      s.send({ node: { ...NODE, id: `sotw-${i}` }, type_url: ENDPOINT_TYPE, resource_names: ['c1'] });
      const first = await s.next();
      s.send({ node: NODE, type_url: ENDPOINT_TYPE, resource_names: ['c1'], version_info: first.version_info, response_nonce: first.nonce });
      const d = client.delta();
      delta.push(d);
      d.send({ node: { ...NODE, id: `delta-${i}` }, type_url: ENDPOINT_TYPE, resource_names_subscribe: ['c1'] });
      const dfirst = await d.next();
      d.send({ node: NODE, type_url: ENDPOINT_TYPE, response_nonce: dfirst.nonce });
    }
    const latencies: number[] = [];
    for (let edit = 1; edit <= 10; edit++) {
      const started = performance.now();
      writeResourceFile(dir, 'eds.yaml', [loadAssignment('c1', 1000 + edit)]);
      for (const s of sotw) {
        const r = await s.next(PATIENCE_MS);
        latencies.push(performance.now() - started);
        s.send({ node: NODE, type_url: ENDPOINT_TYPE, resource_names: ['c1'], version_info: r.version_info, response_nonce: r.nonce });
      }
      for (const d of delta) {
        const r = await d.next(PATIENCE_MS);
        latencies.push(performance.now() - started);
        assert.equal(r.resources.length, 1);
        d.send({ node: NODE, type_url: ENDPOINT_TYPE, response_nonce: r.nonce });
      }
    }
    latencies.sort((x, y) => x - y);
    const p50 = percentile(latencies, 0.5);
    const p99 = percentile(latencies, 0.99);
    process.stdout.write(`control-plane push latency (file write -> 20 streams, 10 edits): p50 ${p50.toFixed(1)} ms, p99 ${p99.toFixed(1)} ms, max ${latencies.at(-1)!.toFixed(1)} ms\n`);
    assert.equal(server.connectedStreams(), 20);
  } finally {
    for (const s of [...sotw, ...delta]) s.close();
    client.close();
    await server.stop();
    cleanup();
  }
});

test('malformed requests end only their own stream; the server keeps serving', async () => {
  const { dir, cleanup } = tempDir();
  writeResourceFile(dir, 'cds.yaml', [edsCluster('c1')]);
  const server = new ControlPlaneServer({ dir, port: 0, healthPort: 0, watcher: { debounceMs: 20, rescanMs: 0 } });
  await server.start();
  // A client that sends raw bytes as the request: not a DiscoveryRequest.
  const Raw = makeGenericClientConstructor({
    StreamAggregatedResources: {
      path: '/envoy.service.discovery.v3.AggregatedDiscoveryService/StreamAggregatedResources', requestStream: true, responseStream: true,
      requestSerialize: (b: Buffer) => b, requestDeserialize: (b: Buffer) => b, responseSerialize: (b: Buffer) => b, responseDeserialize: (b: Buffer) => b,
    },
  } as never, 'Raw');
  const raw = new Raw(`127.0.0.1:${server.grpcPort}`, credentials.createInsecure()) as unknown as { StreamAggregatedResources(): ClientDuplexStream<Buffer, Buffer>; close(): void };
  const client = adsClient(server.grpcPort);
  const good = client.sotw();
  try {
    const call = raw.StreamAggregatedResources();
    const ended = new Promise<string>((resolve) => {
      call.on('error', (e) => resolve(e.message));
      call.on('end', () => resolve('end'));
      call.on('data', () => undefined);
    });
    call.write(Buffer.from([0xff, 0xff, 0xff, 0x0f, 0x12, 0x80]));
    const outcome = await Promise.race([ended, new Promise<string>((r) => setTimeout(() => r('timeout'), 3000))]);
    assert.notEqual(outcome, 'timeout');
    call.cancel();
    good.send({ node: NODE, type_url: CLUSTER_TYPE });
    const r = await good.next();
    assert.equal(r.resources.length, 1);
  } finally {
    good.close();
    client.close();
    raw.close();
    await server.stop();
    cleanup();
  }
});
