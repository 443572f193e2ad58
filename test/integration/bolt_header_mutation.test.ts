// Route header mutations on Bolt through the real skiff process: sofa-rpc-node client -> skiff -> an upstream
// that decodes each request's header map with sofa-bolt-node's SimpleMapSerializer and answers with its encoder.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { startSkiff } from '../helpers/skiff.js';
import { boltClient } from '../helpers/rpc_peers.js';
import { startServer, staticCluster } from '../unit/tcp_proxy/harness.js';

const require = createRequire(import.meta.url);
const bolt = require('sofa-bolt-node/lib/protocol') as { responseEncode(id: number, res: object, o: object): Buffer };
const simpleMap = require('sofa-bolt-node/lib/simple_map_serializer') as { decode(b: Buffer): Record<string, string> };
const XPROTOCOL = 'type.googleapis.com/skiff.filters.network.xprotocol.v1.XProtocol';

/** A Bolt v1 upstream recording each request's header map and answering `ok`. */
async function headerRecorder() {
  const maps: Record<string, string>[] = [];
  const server = await startServer((s) => {
    s.on('error', () => {});
    let pending = Buffer.alloc(0);
    s.on('data', (d: Buffer) => {
      pending = Buffer.concat([pending, d]);
      // Bounded: each pass takes one whole v1 request (22-byte header + class + header map + content) or stops.
      while (pending.length >= 22) {
        const classLen = pending.readUInt16BE(14);
        const headerLen = pending.readUInt16BE(16);
        const len = 22 + classLen + headerLen + pending.readUInt32BE(18);
        if (pending.length < len) break;
        const frame = pending.subarray(0, len);
        pending = pending.subarray(len);
        if (frame.readUInt16BE(2) !== 1) { s.write(Buffer.from([1, 0, 0, 0, 1, ...frame.subarray(5, 9), 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0])); continue; }
        maps.push(simpleMap.decode(Buffer.from(frame.subarray(22 + classLen, 22 + classLen + headerLen))));
        s.write(bolt.responseEncode(frame.readUInt32BE(5), { isError: false, appResponse: { $class: 'java.lang.String', $: 'ok' } }, { protocolType: 'bolt', codecType: 'hessian2' }));
      }
    });
  });
  return { server, maps };
}

test('skiff applies route and virtual-host header mutations to Bolt request header maps', async () => {
  const up = await headerRecorder();
  const skiff = await startSkiff({
    config: {
      admin: { address: { socket_address: { address: '127.0.0.1', port_value: 0 } } },
      static_resources: {
        listeners: [{
          name: 'rpc', address: { socket_address: { address: '127.0.0.1', port_value: 0 } },
          filter_chains: [{ filters: [{ name: 'skiff.filters.network.xprotocol', typed_config: {
            '@type': XPROTOCOL, stat_prefix: 'rpc', protocol: 'bolt',
            route_config: { name: 'rpc', virtual_hosts: [{
              name: 'all', domains: ['*'], request_headers_to_add: [{ header: { key: 'x-mesh', value: 'skiff' } }],
              routes: [{
                match: { prefix: '/' }, route: { cluster: 'up' },
                request_headers_to_add: [{ header: { key: 'x-tenant', value: 'blue' }, append_action: 'OVERWRITE_IF_EXISTS_OR_ADD' }],
                request_headers_to_remove: ['service'],
              }],
            }] },
          } }] }],
        }],
        clusters: [staticCluster('up', [up.server.port])],
      },
    },
  }).catch(async (e: unknown) => { await up.server.close(); throw e; });
  const client = boltClient(skiff.port('rpc'));
  try {
    const results = await Promise.all(Array.from({ length: 20 }, () => client.invoke('com.skiff.Users', 'get', [1])));
    assert.deepEqual(results, Array(20).fill('ok'));
    assert.equal(up.maps.length, 20);
    for (const m of up.maps) {
      assert.equal(m['x-tenant'], 'blue');
      assert.equal(m['x-mesh'], 'skiff');
      assert.equal(m.service, undefined, 'removed');
    }
    const text = await (await fetch(`${skiff.adminUrl}/stats`)).text();
    assert.match(text, /^xprotocol\.rpc\.header_mutation_applied: 20$/m);
  } finally {
    await client.close();
    assert.equal(await skiff.stop(), 0);
    await up.server.close();
  }
});
