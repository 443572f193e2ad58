// The pool and cluster driven with the real HTTP/1 client codec (src/stream/http1/client.ts) against a
// node:http upstream: what the server composition wires together.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ClientConnection, HeaderList } from '../../../src/types/http.js';
import type { HttpConnectionPool } from '../../../src/types/upstream.js';
import { StatsStore } from '../../../src/common/stats.js';
import { mainInstance } from '../../../src/wasm/runtime.js';
import { createClientConnection } from '../../../src/stream/http1/client.js';
import { createClusterManager } from '../../../src/upstream/cluster_manager.js';
import { TestUpstream, waitFor } from './helpers.js';

function acquire(pool: HttpConnectionPool): Promise<ClientConnection> {
  return new Promise((resolve, reject) => { pool.acquire((err, conn) => (err ? reject(err) : resolve(conn!))); });
}

function fetchVia(conn: ClientConnection, path: string): Promise<{ status: number; body: string; headers: HeaderList }> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('response timed out')), 5000);
    let status = 0; let headers: HeaderList | undefined; const chunks: Buffer[] = [];
    const req = conn.requestLocal('GET', path, [['host', 'upstream']], { bodyKind: 'none' }, {
      onHead: (h) => { status = h.status; headers = h.headers; },
      onData: (c) => { chunks.push(Buffer.from(c)); },
      onEnd: () => { clearTimeout(timer); resolve({ status, body: Buffer.concat(chunks).toString(), headers: headers! }); },
      onError: (e) => { clearTimeout(timer); reject(e); },
    });
    req.end(); // the request (no body) is complete: the codec reuses a connection only after this
  });
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
      const conn = await acquire(pool);
      const res = await fetchVia(conn, `/r${i}`);
      assert.equal(res.status, 200);
      assert.equal(res.body, 'real 1', `request ${i}, reusable=${conn.reusable}`);
      pool.release(conn);
    }
    assert.equal(up.connections, 1, 'one keep-alive connection served all five');
    assert.equal(c.hosts()[0].stats.rq_total, 5);
    up.dropConnections();
    await waitFor(() => pool.activeConnections === 0, 2000, 'pool notices the peer close');
    const conn = await acquire(pool);
    assert.equal((await fetchVia(conn, '/after')).body, 'real 2');
    pool.release(conn);
    up.closeAfterResponse = true;
    const last = await acquire(pool);
    await fetchVia(last, '/close');
    pool.release(last);
    assert.equal(pool.activeConnections, 0, 'connection: close is not pooled');
  } finally { cm.close(); await up.stop(); }
});
