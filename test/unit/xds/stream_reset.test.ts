/**
 * A stream reset in the middle of a push: a raw HTTP/2 server speaks gRPC framing by hand so it can send one
 * whole response, then only part of the next one's bytes, then RST_STREAM. The client must apply the first,
 * nothing of the second, and ask again from the first's version on the next stream.
 */
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import { test } from 'node:test';
import { setLogLevel } from '../../../src/common/logger.js';
import { AdsClient } from '../../../src/xds/ads_client.js';
import { SOTW_METHOD_PATH, discoveryRequest, discoveryResponse, type DiscoveryRequest } from '../../../src/xds/protocol.js';
import type { XdsUpdate } from '../../../src/xds/types.js';
import { CLUSTER, Inbox, cluster, sotwResponse } from './ads_peer.js';
import { PATIENCE_MS } from '../../helpers/wait.js';

setLogLevel('off');

function frame(payload: Buffer): Buffer {
  const head = Buffer.alloc(5);
  head.writeUInt8(0, 0);
  head.writeUInt32BE(payload.length, 1);
  return Buffer.concat([head, payload]);
}

/** Splits a byte stream into gRPC messages (bounded by what arrived). */
function unframe(buffered: Buffer): { messages: Buffer[]; rest: Buffer<ArrayBufferLike> } {
  const messages: Buffer[] = [];
  let at = 0;
  while (buffered.length - at >= 5) {
    const len = buffered.readUInt32BE(at + 1);
    if (buffered.length - at - 5 < len) break;
    messages.push(buffered.subarray(at + 5, at + 5 + len));
    at += 5 + len;
  }
  return { messages, rest: buffered.subarray(at) };
}

test('a stream reset in the middle of a response applies nothing of it; the next stream starts from the last whole one', async (t) => {
  const streams = new Inbox<{ stream: http2.ServerHttp2Stream; requests: Inbox<DiscoveryRequest> }>();
  const server = http2.createServer();
  server.on('stream', (stream, headers) => {
    if (headers[':path'] !== SOTW_METHOD_PATH) { stream.respond({ ':status': 404 }); stream.end(); return; }
    const requests = new Inbox<DiscoveryRequest>();
    let buffered: Buffer<ArrayBufferLike> = Buffer.alloc(0);
    stream.on('data', (chunk: Buffer) => {
      const { messages, rest } = unframe(Buffer.concat([buffered, chunk]));
      buffered = rest;
      for (const m of messages) requests.push(discoveryRequest.decode(m));
    });
    stream.on('error', () => { /* reset by the test */ });
    stream.respond({ ':status': 200, 'content-type': 'application/grpc' });
    streams.push({ stream, requests });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  const client = new AdsClient({
    dynamicResources: {
      ads_config: { api_type: 'GRPC', grpc_services: [{ google_grpc: { target_uri: `127.0.0.1:${port}` } }] },
      cds_config: { ads: {} },
    },
    node: { id: 'n' },
    backoff: { baseMs: 20, maxMs: 100 },
  });
  t.after(() => { client.close(); server.close(); });
  const updates: XdsUpdate[] = [];
  client.onUpdate(CLUSTER, (u) => { updates.push(u); });
  client.start();

  const first = await streams.take(PATIENCE_MS, 'stream');
  assert.equal((await first.requests.take()).type_url, CLUSTER);
  first.stream.write(frame(discoveryResponse.encode(sotwResponse(CLUSTER, 'v1', 'n1', [cluster('a'), cluster('b')]))));
  const ack = await first.requests.take();
  assert.equal(ack.version_info, 'v1');

  // v2 replaces a and b with 50 clusters; only the first half of its bytes goes out before the reset.
  const big = frame(discoveryResponse.encode(sotwResponse(CLUSTER, 'v2', 'n2', Array.from({ length: 50 }, (_, i) => cluster(`c${i}`, 10000 + i)))));
  first.stream.write(big.subarray(0, big.length >> 1));
  await new Promise((r) => setTimeout(r, 50));
  first.stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR);

  const second = await streams.take(PATIENCE_MS, 'reconnected stream');
  const again = await second.requests.take();
  assert.equal(again.version_info, 'v1');
  assert.equal(updates.length, 1, 'the half-sent response never reached the handler');
  assert.deepEqual([...client.resources(CLUSTER).keys()].sort(), ['a', 'b']);
  assert.equal(client.versionInfo(CLUSTER), 'v1');
  second.stream.close(http2.constants.NGHTTP2_CANCEL);
});
