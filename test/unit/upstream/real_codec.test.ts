// The pool and cluster driven with the real HTTP/1 client codec (src/stream/http1/client.ts) against a
// node:http upstream: what the server composition wires together.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ClientConnection } from '../../../src/types/http.js';
import { StatsStore } from '../../../src/common/stats.js';
import { mainInstance } from '../../../src/wasm/runtime.js';
import { createClientConnection } from '../../../src/stream/http1/client.js';
import { createClusterManager } from '../../../src/upstream/cluster_manager.js';
import { TestUpstream, acquireConnection, get, waitFor, type TestResponse } from './helpers.js';
import { PATIENCE_MS } from '../../helpers/wait.js';

/** A GET through the real codec, which sends only the headers it is given (the test double adds its own host). */
function fetchVia(conn: ClientConnection, path: string): Promise<TestResponse> {
  return get(conn, path, [['host', 'upstream']]);
}

test('requests through the real HTTP/1 client codec reuse keep-alive connections and survive peer closes', async () => {
  const up = await new TestUpstream('real').start();
  const wasm = mainInstance();
  const stats = new StatsStore();
  const cm = createClusterManager([{
    name: 'real', type: 'STATIC', connect_timeout: { seconds: 1 },
    load_assignment: { cluster_name: 'real', endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: '127.0.0.1', port_value: up.port } } } }] }] },
  }], { stats, connect: (socket) => createClientConnection(wasm, socket) });
  try {
    const c = cm.get('real')!;
    const pool = c.pool(c.chooseHost({})!);
    for (let i = 0; i < 5; i++) {
      const conn = await acquireConnection(pool);
      const res = await fetchVia(conn, `/r${i}`);
      assert.equal(res.status, 200);
      assert.equal(res.body, 'real 1', `request ${i}, reusable=${conn.reusable}`);
      pool.release(conn);
    }
    assert.equal(up.connections, 1, 'one keep-alive connection served all five');
    assert.equal(c.hosts()[0].stats.rq_total, 5);
    up.dropConnections();
    await waitFor(() => pool.activeConnections === 0, PATIENCE_MS, 'pool notices the peer close');
    const conn = await acquireConnection(pool);
    assert.equal((await fetchVia(conn, '/after')).body, 'real 2');
    pool.release(conn);
    up.closeAfterResponse = true;
    const last = await acquireConnection(pool);
    await fetchVia(last, '/close');
    pool.release(last);
    assert.equal(pool.activeConnections, 0, 'connection: close is not pooled');
  } finally { cm.close(); await up.stop(); }
});
