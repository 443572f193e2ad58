// Bolt through the x-protocol filter: heartbeats, upstream keepalive, upstream restart, routing by service and
// version, graceful drain.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as net from 'node:net';
import { once } from 'node:events';
import { boltClient, startBoltServer } from '../../helpers/rpc_peers.js';
import { closedPort } from '../../helpers/ports.js';
import { waitFor, PATIENCE_MS } from '../../helpers/wait.js';
import { allTo, startXProxy, staticCluster } from './harness.js';
import { startServer } from '../tcp_proxy/harness.js';

const ECHO = 'com.skiff.test.EchoService';

/** A Bolt v1 heartbeat request (22 bytes): proto 1, type request, cmd 0 (heartbeat), ver2 1, id, codec 1, timeout, no class/header/content. */
function boltHeartbeat(id: number): Buffer {
  const b = Buffer.alloc(22);
  b[0] = 1; b[1] = 1; b.writeUInt16BE(0, 2); b[4] = 1; b.writeUInt32BE(id, 5); b[9] = 1; b.writeUInt32BE(3000, 10);
  return b;
}

test('Bolt: the sidecar answers a downstream heartbeat itself', async () => {
  const proxy = await startXProxy({ route_config: allTo('nowhere') }, []);
  try {
    const c = net.connect({ port: proxy.port, host: '127.0.0.1' });
    await once(c, 'connect');
    c.write(boltHeartbeat(77));
    const [reply] = (await once(c, 'data')) as [Buffer];
    assert.equal(reply[0], 1, 'Bolt v1');
    assert.equal(reply[1], 0, 'a response');
    assert.equal(reply.readUInt16BE(2), 0, 'heartbeat command');
    assert.equal(reply.readUInt32BE(5), 77, 'the same id');
    assert.equal(proxy.counter('xprotocol.rpc.downstream_rq_heartbeat'), 1);
    c.destroy();
  } finally {
    await proxy.close();
  }
});

test('Bolt: an idle upstream connection gets keepalive heartbeats, and is closed when they go unanswered', async () => {
  const received: Buffer[] = [];
  let closedByProxy = false;
  const upstream = await startServer((s) => {
    s.on('data', (d: Buffer) => received.push(d));
    s.on('end', () => { closedByProxy = true; });
  });
  const proxy = await startXProxy({ route_config: allTo('raw'), heartbeat: { upstream_interval: { nanos: 100_000_000 } }, request_timeout: { nanos: 50_000_000 } },
    [staticCluster('raw', [upstream.port])]);
  const client = boltClient(proxy.port);
  try {
    // The raw upstream never answers: the request times out, then the connection is idle.
    await assert.rejects(client.invoke(ECHO, 'echo', ['x'], { timeoutMs: 60 }));
    await waitFor(() => closedByProxy, PATIENCE_MS, 'the proxy closing the silent upstream');
    const bytes = Buffer.concat(received);
    // Somewhere after the request: a heartbeat request (type 1, cmd 0).
    let found = false;
    for (let i = 0; i + 22 <= bytes.length; i++) if (bytes[i] === 1 && bytes[i + 1] === 1 && bytes.readUInt16BE(i + 2) === 0 && bytes[i + 4] === 1) found = true;
    assert.ok(found, 'a Bolt heartbeat reached the upstream');
  } finally {
    await client.close();
    await proxy.close();
    await upstream.close();
  }
});

test('Bolt: an upstream that goes away gets an error reply; after its restart calls flow again', async () => {
  const port = await closedPort();
  let server = await startBoltServer([{ interfaceName: ECHO, methods: { echo: (x) => `one:${String(x)}` } }], port);
  const proxy = await startXProxy({ route_config: allTo('rpc') }, [staticCluster('rpc', [port])]);
  const client = boltClient(proxy.port);
  try {
    assert.equal(await client.invoke(ECHO, 'echo', ['a']), 'one:a');
    await server.close();
    await waitFor(() => proxy.gauge('cluster.rpc.upstream_cx_active') === 0, PATIENCE_MS, 'upstream connections gone');
    // An error reply, not the client's own timeout (told apart by the error, not by how long it took).
    await assert.rejects(client.invoke(ECHO, 'echo', ['b'], { timeoutMs: PATIENCE_MS }), (e: Error) => e.name !== 'RpcResponseTimeoutError');
    server = await startBoltServer([{ interfaceName: ECHO, methods: { echo: (x) => `two:${String(x)}` } }], port);
    assert.equal(await client.invoke(ECHO, 'echo', ['c']), 'two:c');
    assert.ok(proxy.counter('cluster.rpc.upstream_cx_connect_fail') >= 1);
  } finally {
    await client.close();
    await proxy.close();
    await server.close();
  }
});

test('Bolt: two services to two clusters, and version 2.0 of one to a canary', async () => {
  const users = await startBoltServer([{ interfaceName: 'com.skiff.Users', methods: { who: () => 'users-stable' } }]);
  const canary = await startBoltServer([{ interfaceName: 'com.skiff.Users', version: '2.0', methods: { who: () => 'users-canary' } }]);
  const orders = await startBoltServer([{ interfaceName: 'com.skiff.Orders', methods: { who: () => 'orders' } }]);
  const routes = {
    name: 'rpc', virtual_hosts: [
      {
        name: 'users', domains: ['com.skiff.Users'], routes: [
          { match: { prefix: '/', headers: [{ name: 'x-protocol-version', string_match: { exact: '2.0' } }] }, route: { cluster: 'users_canary' } },
          { match: { prefix: '/com.skiff.Users/who' }, route: { cluster: 'users' } },
        ],
      },
      { name: 'orders', domains: ['com.skiff.Orders'], routes: [{ match: { prefix: '/' }, route: { cluster: 'orders' } }] },
    ],
  };
  const proxy = await startXProxy({ route_config: routes }, [
    staticCluster('users', [users.port]), staticCluster('users_canary', [canary.port]), staticCluster('orders', [orders.port]),
  ]);
  const client = boltClient(proxy.port);
  try {
    assert.equal(await client.invoke('com.skiff.Users', 'who', []), 'users-stable');
    assert.equal(await client.invoke('com.skiff.Users', 'who', [], { version: '2.0' }), 'users-canary');
    assert.equal(await client.invoke('com.skiff.Orders', 'who', []), 'orders');
    assert.equal(proxy.counter('cluster.users.upstream_rq_total'), 1);
    assert.equal(proxy.counter('cluster.users_canary.upstream_rq_total'), 1);
    assert.equal(proxy.counter('cluster.orders.upstream_rq_total'), 1);
  } finally {
    await client.close();
    await proxy.close();
    await users.close();
    await canary.close();
    await orders.close();
  }
});

test('Bolt: drain lets the call in flight finish, then closes the idle connection', async () => {
  const server = await startBoltServer([{ interfaceName: ECHO, methods: { slow: async () => { await new Promise((r) => setTimeout(r, 300)); return 'done'; } } }]);
  const proxy = await startXProxy({ route_config: allTo('rpc') }, [staticCluster('rpc', [server.port])]);
  const client = boltClient(proxy.port);
  try {
    assert.equal(await client.invoke(ECHO, 'slow', []), 'done');
    const inFlight = client.invoke(ECHO, 'slow', []);
    await waitFor(() => proxy.gauge('xprotocol.rpc.downstream_rq_active') === 1, PATIENCE_MS, 'the call in flight');
    proxy.filter.startDraining();
    assert.equal(await inFlight, 'done');
    await waitFor(() => proxy.filter.activeSessions === 0, PATIENCE_MS, 'the drained connection closed');
  } finally {
    await client.close();
    await proxy.close();
    await server.close();
  }
});
