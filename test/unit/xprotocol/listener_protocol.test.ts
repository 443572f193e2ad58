// protocol: auto behind the listener's protocol_inspector: the protocol it named (ConnectionInfo.alpn) is used
// instead of detecting again. Shown by a mismatch: Bolt bytes on a connection the listener called `dubbo` are a
// protocol error, while the same bytes with no name are detected as Bolt and answered.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { boltClient } from '../../helpers/rpc_peers.js';
import { waitFor, PATIENCE_MS } from '../../helpers/wait.js';
import { boltUpstream } from './bolt_upstream.js';
import { allTo, startXProxy, staticCluster } from './harness.js';

test('protocol auto takes the protocol the listener named; without a name it detects', async () => {
  const up = await boltUpstream('up');
  const named = await startXProxy({ protocol: 'auto', route_config: allTo('rpc') }, [staticCluster('rpc', [up.port])], 'bolt');
  const wrong = await startXProxy({ protocol: 'auto', route_config: allTo('rpc') }, [staticCluster('rpc', [up.port])], 'dubbo');
  const unnamed = await startXProxy({ protocol: 'auto', route_config: allTo('rpc') }, [staticCluster('rpc', [up.port])]);
  const clients = [boltClient(named.port), boltClient(wrong.port), boltClient(unnamed.port)];
  try {
    assert.equal(await clients[0]!.invoke('com.skiff.Echo', 'echo', []), 'up');
    assert.equal(named.counter('xprotocol.rpc.downstream_cx_protocol_from_listener'), 1);
    assert.equal(await clients[2]!.invoke('com.skiff.Echo', 'echo', []), 'up');
    assert.equal(unnamed.counter('xprotocol.rpc.downstream_cx_protocol_from_listener'), 0);
    await assert.rejects(clients[1]!.invoke('com.skiff.Echo', 'echo', [], { timeoutMs: 1000 }));
    await waitFor(() => wrong.counter('xprotocol.rpc.downstream_cx_protocol_error') >= 1, PATIENCE_MS, 'Bolt bytes refused as Dubbo');
  } finally {
    for (const c of clients) await c.close();
    await named.close();
    await wrong.close();
    await unnamed.close();
    await up.close();
  }
});
