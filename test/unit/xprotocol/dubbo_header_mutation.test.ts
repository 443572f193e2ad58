// Route header mutations on Dubbo requests: the hessian2 attachments map at the end of the body is re-encoded
// (body length fixed) only when a mutation changes it. dubbo2.js -> the x-protocol filter -> a relay that decodes
// every request with dubbo-remoting (recording its attachments) -> sofa-rpc-node with dubbo-remoting.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as net from 'node:net';
import { createRequire } from 'node:module';
import type { RouteConfiguration } from '../../../src/types/envoy.js';
import { dubboClient, startDubboServer } from '../../helpers/rpc_peers.js';
import { startServer } from '../tcp_proxy/harness.js';
import { startXProxy, staticCluster } from './harness.js';

const require = createRequire(import.meta.url);
const DubboRequest = require('dubbo-remoting/lib/protocol/request') as {
  decode(b: Buffer): { packetType: string; data: { methodName: string; requestProps: Record<string, unknown> } };
};

const SVC = 'com.skiff.test.DubboEcho';

/** Forwards bytes both ways to `port`, decoding each request frame on the way with dubbo-remoting. */
async function decodingRelay(port: number) {
  const requests: { method: string; attachments: Record<string, unknown> }[] = [];
  const server = await startServer((down) => {
    const up = net.connect(port, '127.0.0.1');
    down.on('error', () => up.destroy());
    up.on('error', () => down.destroy());
    up.on('data', (d: Buffer) => down.write(d));
    let pending = Buffer.alloc(0);
    down.on('data', (d: Buffer) => {
      pending = Buffer.concat([pending, d]);
      // Bounded: each pass takes one whole frame (16-byte header + body) or stops.
      while (pending.length >= 16 && pending.length >= 16 + pending.readUInt32BE(12)) {
        const frame = pending.subarray(0, 16 + pending.readUInt32BE(12));
        pending = pending.subarray(frame.length);
        if ((frame[2]! & 0x80) !== 0 && (frame[2]! & 0x20) === 0) {
          const r = DubboRequest.decode(Buffer.from(frame));
          requests.push({ method: r.data.methodName, attachments: r.data.requestProps });
        }
        up.write(frame);
      }
    });
  });
  return { server, requests };
}

test('Dubbo: route mutations re-encode the attachments; requests without one keep their bytes', async () => {
  const provider = await startDubboServer([{ interfaceName: SVC, methods: { echo: (x) => `dubbo:${String(x)}`, plain: (x) => `plain:${String(x)}` } }]);
  const relay = await decodingRelay(provider.port);
  const routes = {
    name: 'rpc', virtual_hosts: [{ name: 'echo', domains: [SVC], routes: [
      { match: { prefix: `/${SVC}/plain` }, route: { cluster: 'rpc' } },
      {
        match: { prefix: '/' }, route: { cluster: 'rpc' },
        request_headers_to_add: [
          { header: { key: 'x-tenant', value: 'blue' }, append_action: 'OVERWRITE_IF_EXISTS_OR_ADD' },
          { header: { key: 'x-long', value: 'é'.repeat(40) + 'z'.repeat(1000) } },
          { header: { key: 'interface', value: 'ignored' }, append_action: 'ADD_IF_ABSENT' },
        ],
        request_headers_to_remove: ['Application'],
      },
    ] }],
  } as unknown as RouteConfiguration;
  const proxy = await startXProxy({ protocol: 'dubbo', route_config: routes }, [staticCluster('rpc', [relay.server.port])]);
  const client = dubboClient(proxy.port);
  try {
    assert.equal(await client.invoke(SVC, 'plain', ['p']), 'plain:p');
    assert.equal(await client.invoke(SVC, 'echo', ['one']), 'dubbo:one');
    const many = await Promise.all(Array.from({ length: 20 }, (_, i) => client.invoke(SVC, 'echo', [`n${i}`])));
    many.forEach((r, i) => assert.equal(r, `dubbo:n${i}`));
    assert.equal(relay.requests.length, 22);
    const plain = relay.requests.find((r) => r.method === 'plain')!;
    const echo = relay.requests.find((r) => r.method === 'echo')!;
    assert.equal(plain.attachments['x-tenant'], undefined);
    assert.equal(echo.attachments['x-tenant'], 'blue');
    assert.equal(echo.attachments['x-long'], 'é'.repeat(40) + 'z'.repeat(1000), 'a long non-ASCII value survives hessian');
    assert.equal(echo.attachments.interface, plain.attachments.interface, 'add_if_absent left the present key alone');
    assert.equal(plain.attachments.application, 'dubbo2.js');
    assert.equal(echo.attachments.application, undefined, 'removed (names compare case-insensitively)');
    assert.equal(echo.attachments.path, SVC, 'untouched attachments kept');
    assert.equal(proxy.counter('xprotocol.rpc.header_mutation_applied'), 21);
    assert.equal(proxy.counter('xprotocol.rpc.header_mutation_skipped'), 0);
  } finally {
    client.close();
    await proxy.close();
    await relay.server.close();
    await provider.close();
  }
});

test('maps that cannot be rebuilt safely are left as received (skipped); a mutation that changes nothing keeps the frame', async () => {
  const { mutateDubboRequest, mutateBoltFrame } = await import('../../../src/xprotocol/header_mutation.js');
  const str = (s: string): Buffer => Buffer.concat([Buffer.from([s.length]), Buffer.from(s)]);
  const dubbo = (map: Buffer): { frame: Buffer; mapOff: number } => {
    const body = Buffer.concat([str('2.0.2'), str('com.x.S'), str('1.0'), str('m'), str(''), map]);
    const header = Buffer.alloc(16);
    header.writeUInt16BE(0xdabb, 0);
    header[2] = 0xc2;
    header.writeUInt32BE(body.length, 12);
    return { frame: Buffer.concat([header, body]), mapOff: 16 + body.length - map.length };
  };
  const add = { add: [{ name: 'x-a', value: '1', mode: 'append' as const }], remove: [] };
  // An int attachment value (0x91): not a plain-string map.
  const withInt = dubbo(Buffer.concat([Buffer.from('H'), str('timeout'), Buffer.from([0x91]), Buffer.from('Z')]));
  assert.equal(mutateDubboRequest(withInt.frame, withInt.mapOff, 1 << 20, add), 'skipped');
  // Plain strings: rebuilt, with the body length fixed; a removal of an absent key changes nothing.
  const plain = dubbo(Buffer.concat([Buffer.from('H'), str('k'), str('v'), Buffer.from('Z')]));
  assert.equal(mutateDubboRequest(plain.frame, plain.mapOff, 1 << 20, { add: [], remove: ['absent'] }), null);
  const out = mutateDubboRequest(plain.frame, plain.mapOff, 1 << 20, add) as Buffer;
  assert.ok(out.subarray(plain.mapOff).equals(Buffer.concat([Buffer.from('H'), str('k'), str('v'), str('x-a'), str('1'), Buffer.from('Z')])));
  assert.equal(out.readUInt32BE(12), out.length - 16);
  // Over max_frame_bytes after the rebuild: skipped.
  assert.equal(mutateDubboRequest(plain.frame, plain.mapOff, plain.frame.length + 2, add), 'skipped');
  // A Bolt header map that would pass 64 KiB (a 16-bit length field): skipped.
  const boltFrame = Buffer.alloc(22);
  boltFrame[0] = 1; boltFrame[1] = 1; boltFrame.writeUInt16BE(1, 2);
  assert.equal(mutateBoltFrame(boltFrame, 22, 0, 0, false, { add: [{ name: 'big', value: 'x'.repeat(70_000), mode: 'append' }], remove: [] }), 'skipped');
});
