// Random sequences of pool operations against a real upstream, checking after every step that the pool's
// books balance (connections, breaker budgets, gauges, in-flight counts) and that nothing leaks at the end.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ClientConnection } from '../../../src/types/http.js';
import type { PoolHandle } from '../../../src/types/upstream.js';
import type { SkiffError } from '../../../src/common/errors.js';
import { StatsStore } from '../../../src/common/stats.js';
import { ClusterImpl } from '../../../src/upstream/cluster.js';
import type { Http1Pool } from '../../../src/upstream/http1_pool.js';
import { TestUpstream, get, testConnectionFactory, waitFor } from './helpers.js';
import { seededRandom } from '../../helpers/random.js';
import { PATIENCE_MS } from '../../helpers/wait.js';

const STEPS = 300;
const MAX_CX = 3;
const MAX_PENDING = 4;

for (const seed of [1, 2, 3]) {
  test(`pool books balance over ${STEPS} random operations (seed ${seed})`, async () => {
    const up = await new TestUpstream().start();
    const stats = new StatsStore();
    const cluster = new ClusterImpl({
      name: 'p', connect_timeout: { seconds: 1 },
      circuit_breakers: { thresholds: [{ max_connections: { value: MAX_CX }, max_pending_requests: { value: MAX_PENDING } }] },
      common_http_protocol_options: { max_requests_per_connection: { value: 4 } },
      load_assignment: { cluster_name: 'p', endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: '127.0.0.1', port_value: up.port } } } }] }] },
    }, 'clusters[0]', { stats, connect: testConnectionFactory });
    const host = cluster.hosts()[0];
    const pool = cluster.pool(host) as Http1Pool;
    const rnd = seededRandom(seed);
    const held: ClientConnection[] = [];
    const waiting = new Set<PoolHandle>();
    let overflows = 0;
    const g = (n: string): number => stats.gauge(`cluster.p.${n}`).value;

    const check = (where: string): void => {
      assert.ok(pool.activeConnections <= MAX_CX, `${where}: ${pool.activeConnections} connections`);
      assert.equal(g('upstream_cx_active'), pool.activeConnections, where);
      assert.equal(host.stats.cx_active, pool.activeConnections, where);
      assert.equal(cluster.breakers.connections.current, pool.activeConnections, where);
      assert.equal(g('upstream_rq_pending_active'), pool.pendingRequests, where);
      assert.ok(cluster.breakers.pendingRequests.current <= pool.pendingRequests, where);
      // In flight = waiting + holding a connection (held ones may have lost theirs to a peer close).
      const busy = host.activeRequests - pool.pendingRequests;
      assert.ok(busy >= 0 && busy <= held.length, `${where}: busy ${busy} held ${held.length}`);
      assert.ok(pool.idleConnections + busy <= pool.activeConnections, where);
    };

    try {
      for (let step = 0; step < STEPS; step++) {
        const op = rnd();
        if (op < 0.4) {
          const box: { handle?: PoolHandle; settled: boolean } = { settled: false };
          box.handle = pool.acquire((err: SkiffError | null, conn?: ClientConnection) => {
            box.settled = true;
            if (box.handle) waiting.delete(box.handle);
            if (err) { overflows++; return; }
            held.push(conn!);
          });
          if (!box.settled) waiting.add(box.handle); // answered later (or cancelled)
        } else if (op < 0.7 && held.length > 0) {
          const conn = held.splice(Math.floor(rnd() * held.length), 1)[0];
          if (rnd() < 0.5 && conn.reusable) { try { await get(conn); } catch { /* lost to a peer close */ } }
          pool.release(conn);
        } else if (op < 0.8 && waiting.size > 0) {
          const h = [...waiting][Math.floor(rnd() * waiting.size)];
          waiting.delete(h);
          h.cancel();
        } else if (op < 0.85) {
          up.dropConnections();
        } else {
          await new Promise((r) => setTimeout(r, 2));
        }
        check(`step ${step}`);
      }
      // Wind down: release everything held, cancel the rest, let connections settle.
      for (let round = 0; round < 50 && (held.length > 0 || pool.pendingRequests > 0); round++) {
        for (const h of waiting) h.cancel();
        waiting.clear();
        for (const conn of held.splice(0)) pool.release(conn);
        await new Promise((r) => setTimeout(r, 5));
      }
      assert.equal(held.length, 0);
      assert.equal(pool.pendingRequests, 0);
      assert.equal(host.activeRequests, 0);
      check('wound down');
      assert.ok(overflows > 0, 'the breakers were exercised');
    } finally {
      cluster.close();
      await up.stop();
    }
    await waitFor(() => pool.activeConnections === 0, PATIENCE_MS, 'all closed');
    assert.equal(g('upstream_cx_active'), 0);
    assert.equal(cluster.breakers.connections.current, 0);
    assert.equal(cluster.breakers.pendingRequests.current, 0);
    assert.equal(stats.counter('cluster.p.upstream_cx_total').value, stats.counter('cluster.p.upstream_cx_destroy').value);
  });
}
