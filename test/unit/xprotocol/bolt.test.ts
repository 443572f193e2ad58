// sofa-rpc-node client -> the x-protocol filter -> sofa-rpc-node server, over real sockets.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { boltClient, startBoltServer } from '../../helpers/rpc_peers.js';
import { closedPort } from '../../helpers/ports.js';
import { waitFor, PATIENCE_MS } from '../../helpers/wait.js';
import { allTo, startXProxy, staticCluster } from './harness.js';
import { slabStats } from '../../../src/wasm/slab.js';
import { mainInstance } from '../../../src/wasm/runtime.js';

/** Slabs leased now, over all classes. */
function leased(): number { return slabStats(mainInstance()).reduce((n, c) => n + c.leased, 0); }

const ECHO = 'com.skiff.test.EchoService';

test('Bolt: unary calls go through and come back to their caller', async () => {
  const server = await startBoltServer([{ interfaceName: ECHO, methods: { echo: (x) => `echo:${String(x)}`, add: (a, b) => (a as number) + (b as number) } }]);
  const proxy = await startXProxy({ route_config: allTo('rpc') }, [staticCluster('rpc', [server.port])]);
  const client = boltClient(proxy.port);
  try {
    assert.equal(await client.invoke(ECHO, 'echo', ['hello']), 'echo:hello');
    assert.equal(await client.invoke(ECHO, 'add', [2, 40]), 42);
    assert.equal(proxy.counter('xprotocol.rpc.downstream_rq_total'), 2);
    assert.equal(proxy.counter('cluster.rpc.upstream_rq_total'), 2);
    assert.equal(proxy.counter('cluster.rpc.upstream_rq_200'), 2);
  } finally {
    await client.close();
    await proxy.close();
    await server.close();
  }
});

test('Bolt: 1 000 concurrent calls share a few upstream connections and each answer reaches its caller', async () => {
  const server = await startBoltServer([{ interfaceName: ECHO, methods: { echo: async (x) => { await new Promise((r) => setTimeout(r, Math.random() * 20)); return `echo:${String(x)}`; } } }]);
  const proxy = await startXProxy({ route_config: allTo('rpc'), connections_per_host: { value: 2 } }, [staticCluster('rpc', [server.port])]);
  const client = boltClient(proxy.port);
  try {
    await client.invoke(ECHO, 'echo', ['warm']);
    const before = leased();
    const results = await Promise.all(Array.from({ length: 1000 }, (_, i) => client.invoke(ECHO, 'echo', [i], { timeoutMs: 10_000 })));
    results.forEach((r, i) => assert.equal(r, `echo:${i}`));
    assert.ok(server.connections <= 2, `${server.connections} upstream connections`);
    assert.equal(proxy.counter('cluster.rpc.upstream_rq_total'), 1001);
    assert.equal(proxy.gauge('cluster.rpc.upstream_rq_active'), 0);
    // Every frame's bytes and record went back to the pool once written.
    await waitFor(() => leased() === before, PATIENCE_MS, `slabs back (${leased()} leased, ${before} before)`);
  } finally {
    await client.close();
    await proxy.close();
    await server.close();
  }
});

test('Bolt: no route, no upstream and a timeout come back as Bolt error replies', async () => {
  const server = await startBoltServer([{ interfaceName: ECHO, methods: { slow: async () => { await new Promise((r) => setTimeout(r, 1500)); return 'late'; } } }]);
  const dead = await closedPort();
  const routes = {
    name: 'rpc', virtual_hosts: [
      { name: 'echo', domains: [ECHO], routes: [{ match: { prefix: '/' }, route: { cluster: 'rpc', timeout: { nanos: 200_000_000 } } }] },
      { name: 'down', domains: ['com.skiff.test.Down'], routes: [{ match: { prefix: '/' }, route: { cluster: 'dead' } }] },
    ],
  };
  const proxy = await startXProxy({ route_config: routes }, [staticCluster('rpc', [server.port]), staticCluster('dead', [dead])]);
  const client = boltClient(proxy.port);
  try {
    // sofa-rpc-node reports any non-success status as a server exception. Told apart from its own timeout
    // (RpcResponseTimeoutError, "no response in N ms") by the error, not by how long it took.
    const errorReply = (e: Error): boolean => e.name !== 'RpcResponseTimeoutError' && /Server exception|NO_PROCESSOR|no route|upstream|timeout/i.test(e.message);
    await assert.rejects(client.invoke('com.skiff.test.Nowhere', 'x', [], { timeoutMs: PATIENCE_MS }), errorReply);
    await assert.rejects(client.invoke('com.skiff.test.Down', 'x', [], { timeoutMs: PATIENCE_MS }), errorReply);
    // The upstream answers 'late' after 1.5 s: a rejection with an error reply is the 200 ms route timeout's.
    await assert.rejects(client.invoke(ECHO, 'slow', [], { timeoutMs: PATIENCE_MS }), errorReply);
    assert.equal(proxy.counter('xprotocol.rpc.downstream_rq_no_route'), 1);
    assert.equal(proxy.counter('xprotocol.rpc.downstream_rq_no_healthy_upstream'), 1);
    assert.equal(proxy.counter('xprotocol.rpc.downstream_rq_timeout'), 1);
    assert.equal(proxy.counter('xprotocol.rpc.downstream_rq_local_reply'), 3);
  } finally {
    await client.close();
    await proxy.close();
    await server.close();
  }
});
