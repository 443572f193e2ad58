// Route retry_policy and hash_policy applied to RPC frames: retries on upstream reset, on a retriable status
// (the wire status mapped through the protocol's statusToHttp), on a per-try timeout; none without a policy;
// hash_policy on a pseudo-header pinning a method to one host of a RING_HASH cluster. The client is
// sofa-rpc-node; the faulty upstreams are raw Bolt servers answering with sofa-bolt-node's encoder.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { boltClient } from '../../helpers/rpc_peers.js';
import { boltUpstream } from './bolt_upstream.js';
import { startXProxy, staticCluster } from './harness.js';

function routeConfig(route: Record<string, unknown>) {
  return { name: 'rpc', virtual_hosts: [{ name: 'all', domains: ['*'], routes: [{ match: { prefix: '/' }, route: { cluster: 'rpc', ...route } }] }] };
}

test('retry_on reset: a request whose upstream connection dies is retried on the other host', async () => {
  const bad = await boltUpstream('bad', () => 'reset');
  const good = await boltUpstream('good', () => 'ok');
  const proxy = await startXProxy({ route_config: routeConfig({ retry_policy: { retry_on: 'reset', num_retries: { value: 2 } } }) },
    [staticCluster('rpc', [bad.port, good.port])]);
  const client = boltClient(proxy.port);
  try {
    for (let i = 0; i < 6; i++) assert.equal(await client.invoke('com.skiff.Echo', 'echo', ['x']), 'good');
    assert.ok(bad.requests >= 1, 'the resetting host was tried');
    assert.equal(proxy.counter('xprotocol.rpc.downstream_rq_retry'), bad.requests);
    assert.equal(proxy.counter('cluster.rpc.upstream_rq_retry'), bad.requests);
  } finally {
    await client.close();
    await proxy.close();
    await bad.close();
    await good.close();
  }
});

test('without a retry policy a reset is answered with an error reply, not retried', async () => {
  const bad = await boltUpstream('bad', () => 'reset');
  const proxy = await startXProxy({ route_config: routeConfig({}) }, [staticCluster('rpc', [bad.port])]);
  const client = boltClient(proxy.port);
  try {
    await assert.rejects(client.invoke('com.skiff.Echo', 'echo', ['x']));
    assert.equal(bad.requests, 1);
    assert.equal(proxy.counter('xprotocol.rpc.downstream_rq_retry'), 0);
    assert.equal(proxy.counter('xprotocol.rpc.downstream_rq_upstream_reset'), 1);
  } finally {
    await client.close();
    await proxy.close();
    await bad.close();
  }
});

test('retriable-status-codes: a Bolt SERVER_THREADPOOL_BUSY (503) answer is retried, up to num_retries', async () => {
  let n = 0;
  const flaky = await boltUpstream('flaky', () => (n++ < 2 ? 'busy' : 'ok'));
  const proxy = await startXProxy({ route_config: routeConfig({ retry_policy: { retry_on: 'retriable-status-codes', retriable_status_codes: [503], num_retries: { value: 3 } } }) },
    [staticCluster('rpc', [flaky.port])]);
  const client = boltClient(proxy.port);
  try {
    assert.equal(await client.invoke('com.skiff.Echo', 'echo', ['x']), 'flaky');
    assert.equal(flaky.requests, 3, 'two busy answers, then the good one');
    assert.equal(proxy.counter('xprotocol.rpc.downstream_rq_retry'), 2);
    assert.equal(proxy.counter('cluster.rpc.upstream_rq_503'), 2);
    // Budget exhausted: always busy -> the last busy answer reaches the caller after 1 + num_retries tries.
    n = -100;
    await assert.rejects(client.invoke('com.skiff.Echo', 'echo', ['y']));
    assert.equal(flaky.requests, 3 + 4);
  } finally {
    await client.close();
    await proxy.close();
    await flaky.close();
  }
});

test('per_try_timeout: a silent host times out the try and the retry goes to the other host within the route timeout', async () => {
  const silent = await boltUpstream('silent', () => 'silent');
  const good = await boltUpstream('good', () => 'ok');
  const proxy = await startXProxy({ route_config: routeConfig({ timeout: { seconds: 3 }, retry_policy: { retry_on: 'reset', num_retries: { value: 1 }, per_try_timeout: { nanos: 200_000_000 } } }) },
    [staticCluster('rpc', [silent.port, good.port])]);
  const client = boltClient(proxy.port);
  try {
    for (let i = 0; i < 4; i++) assert.equal(await client.invoke('com.skiff.Echo', 'echo', ['x']), 'good');
    assert.ok(silent.requests >= 1);
    assert.equal(proxy.counter('xprotocol.rpc.downstream_rq_per_try_timeout'), silent.requests);
    assert.equal(proxy.counter('xprotocol.rpc.downstream_rq_timeout'), 0);
  } finally {
    await client.close();
    await proxy.close();
    await silent.close();
    await good.close();
  }
});

test('hash_policy on x-protocol-method pins each method to one host of a RING_HASH cluster', async () => {
  const hosts = await Promise.all(['h0', 'h1', 'h2'].map((t) => boltUpstream(t, () => 'ok')));
  const proxy = await startXProxy({ route_config: routeConfig({ hash_policy: [{ header: { header_name: 'x-protocol-method' } }] }) },
    [staticCluster('rpc', hosts.map((h) => h.port), { lb_policy: 'RING_HASH' } as never)]);
  const client = boltClient(proxy.port);
  try {
    const seen = new Set<unknown>();
    for (let m = 0; m < 10; m++) {
      const answers = new Set<unknown>();
      for (let i = 0; i < 4; i++) answers.add(await client.invoke('com.skiff.Echo', `method${m}`, []));
      assert.equal(answers.size, 1, `method${m} always lands on one host`);
      for (const a of answers) seen.add(a);
    }
    assert.ok(seen.size >= 2, 'different methods spread over the ring');
  } finally {
    await client.close();
    await proxy.close();
    for (const h of hosts) await h.close();
  }
});
