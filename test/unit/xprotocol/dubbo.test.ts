// dubbo2.js DirectlyDubbo -> the x-protocol filter -> sofa-rpc-node with dubbo-remoting, over real sockets.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as net from 'node:net';
import { once } from 'node:events';
import { dubboClient, startDubboServer } from '../../helpers/rpc_peers.js';
import { closedPort } from '../../helpers/ports.js';
import { PATIENCE_MS, waitFor } from '../../helpers/wait.js';
import { startXProxy, staticCluster } from './harness.js';

const SVC = 'com.skiff.test.DubboEcho';

test('Dubbo: unary calls, routing by interface, and error replies dubbo2.js understands', async () => {
  const server = await startDubboServer([{ interfaceName: SVC, methods: {
    echo: (x) => `dubbo:${String(x)}`,
    slow: async () => { await new Promise((r) => setTimeout(r, 1500)); return 'late'; },
  } }]);
  const dead = await closedPort();
  const routes = {
    name: 'rpc', virtual_hosts: [
      { name: 'echo', domains: [SVC], routes: [
        { match: { prefix: `/${SVC}/slow` }, route: { cluster: 'rpc', timeout: { nanos: 200_000_000 } } },
        { match: { prefix: '/' }, route: { cluster: 'rpc' } },
      ] },
      { name: 'down', domains: ['com.skiff.test.Down'], routes: [{ match: { prefix: '/' }, route: { cluster: 'dead' } }] },
    ],
  };
  const proxy = await startXProxy({ protocol: 'dubbo', route_config: routes }, [staticCluster('rpc', [server.port]), staticCluster('dead', [dead])]);
  const client = dubboClient(proxy.port);
  try {
    assert.equal(await client.invoke(SVC, 'echo', ['one']), 'dubbo:one');
    const many = await Promise.all(Array.from({ length: 200 }, (_, i) => client.invoke(SVC, 'echo', [`n${i}`])));
    many.forEach((r, i) => assert.equal(r, `dubbo:n${i}`));
    // An error reply from the sidecar, not dubbo2.js's own timeout ("remote invoke timeout"): told apart by the
    // message, not by how long it took.
    const quick = async (p: Promise<unknown>, what: RegExp): Promise<void> => {
      await assert.rejects(p, (e: Error) => what.test(e.message) && !/remote invoke timeout/.test(e.message));
    };
    await quick(client.invoke('com.skiff.test.Nowhere', 'x', []), /no route/);
    await quick(client.invoke('com.skiff.test.Down', 'x', []), /no healthy upstream/);
    await quick(client.invoke(SVC, 'slow', []), /timeout/);
    assert.equal(proxy.counter('xprotocol.rpc.downstream_rq_no_route'), 1);
    assert.equal(proxy.counter('xprotocol.rpc.downstream_rq_timeout'), 1);
    assert.ok(proxy.counter('cluster.rpc.upstream_rq_200') >= 201);
  } finally {
    client.close();
    await proxy.close();
    await server.close();
  }
});

test('auto: one listener serves Bolt and Dubbo clients, told apart by their first bytes', async () => {
  const { boltClient, startBoltServer } = await import('../../helpers/rpc_peers.js');
  const bolt = await startBoltServer([{ interfaceName: 'com.skiff.B', methods: { hi: () => 'bolt' } }]);
  const dubbo = await startDubboServer([{ interfaceName: 'com.skiff.D', methods: { hi: () => 'dubbo' } }]);
  const routes = {
    name: 'rpc', virtual_hosts: [
      { name: 'b', domains: ['com.skiff.B'], routes: [{ match: { prefix: '/' }, route: { cluster: 'bolt' } }] },
      { name: 'd', domains: ['com.skiff.D'], routes: [{ match: { prefix: '/' }, route: { cluster: 'dubbo' } }] },
    ],
  };
  const proxy = await startXProxy({ protocol: 'auto', route_config: routes }, [staticCluster('bolt', [bolt.port]), staticCluster('dubbo', [dubbo.port])]);
  const bc = boltClient(proxy.port);
  const dc = dubboClient(proxy.port);
  try {
    assert.equal(await bc.invoke('com.skiff.B', 'hi', []), 'bolt');
    assert.equal(await dc.invoke('com.skiff.D', 'hi', []), 'dubbo');
  } finally {
    await bc.close();
    dc.close();
    await proxy.close();
    await bolt.close();
    await dubbo.close();
  }
});

test('Dubbo drain: the client is told READONLY, then the idle connection closes', async () => {
  const proxy = await startXProxy({ protocol: 'dubbo', route_config: { name: 'r' } }, []);
  try {
    const c = net.connect({ port: proxy.port, host: '127.0.0.1' });
    c.on('error', () => {});
    await once(c, 'connect');
    const chunks: Buffer[] = [];
    c.on('data', (d: Buffer) => chunks.push(d));
    const closed = once(c, 'close');
    // The session exists once the listener handed the socket over.
    await waitFor(() => proxy.filter.activeSessions === 1, PATIENCE_MS, 'the session');
    proxy.filter.startDraining();
    await Promise.race([closed, new Promise((_, rej) => setTimeout(() => rej(new Error('not closed')), PATIENCE_MS))]);
    const bytes = Buffer.concat(chunks);
    assert.equal(bytes.readUInt16BE(0), 0xdabb, 'a Dubbo frame');
    assert.ok((bytes[2] & 0x20) !== 0, 'an event');
    assert.ok(bytes.subarray(16).toString('latin1').includes('R'), 'READONLY');
    assert.equal(proxy.counter('xprotocol.rpc.downstream_goaway_sent'), 1);
  } finally {
    await proxy.close();
  }
});
