// The multiplexed pool on its own, with a line protocol ("<id>:<payload>\n" both ways): multiplex spreads
// requests over connectionsPerHost connections; ping-pong keeps one request per connection; timeouts and
// connection loss fail only the requests they concern.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type * as net from 'node:net';
import { StatsStore } from '../../../src/common/stats.js';
import type { SkiffError } from '../../../src/common/errors.js';
import { createClusterManager } from '../../../src/upstream/cluster_manager.js';
import { MuxPool, type MuxCodec, type MuxFrame } from '../../../src/upstream/mux_pool.js';
import { startServer } from '../tcp_proxy/harness.js';
import { staticCluster } from './harness.js';
import { PATIENCE_MS } from '../../helpers/wait.js';

class LineFrame implements MuxFrame {
  readonly kind = 'response' as const;
  constructor(readonly requestId: number, readonly payload: string) {}
  release(): void {}
}

function lineCodec(pingPong: boolean): MuxCodec<LineFrame> {
  return {
    pingPong,
    reader(onFrame) {
      let buf = '';
      return {
        feed(chunk) {
          buf += Buffer.from(chunk).toString();
          let nl: number;
          while ((nl = buf.indexOf('\n')) >= 0) {
            const line = buf.slice(0, nl);
            buf = buf.slice(nl + 1);
            const colon = line.indexOf(':');
            onFrame(new LineFrame(Number(line.slice(0, colon)), line.slice(colon + 1)));
          }
        },
        stop() {},
      };
    },
    heartbeat: () => null,
    heartbeatReply: () => null,
  };
}

/** An upstream answering each line after `delayMs`, recording the most lines in flight on one connection. */
async function lineServer(delayMs: number, silent = (_p: string) => false) {
  let maxInFlight = 0;
  const conns: net.Socket[] = [];
  const server = await startServer((s) => {
    conns.push(s);
    let inFlight = 0;
    let buf = '';
    s.on('data', (d: Buffer) => {
      buf += d.toString();
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        if (silent(line.slice(line.indexOf(':') + 1))) continue;
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        setTimeout(() => { inFlight--; if (!s.destroyed) s.write(`${line}\n`); }, delayMs);
      }
    });
  });
  return { server, conns, get maxInFlight() { return maxInFlight; } };
}

function call(pool: MuxPool<LineFrame>, payload: string, timeoutMs = PATIENCE_MS): Promise<string> {
  return new Promise((resolve, reject) => {
    pool.send({
      oneway: false, timeoutMs,
      encode: (id) => Buffer.from(`${id}:${payload}\n`),
      written: () => {},
    }, {
      onResponse: (f) => resolve(f!.payload),
      onError: (e: SkiffError) => reject(e),
    });
  });
}

async function setup(port: number, pingPong: boolean, connectionsPerHost = 2) {
  const stats = new StatsStore();
  const cm = createClusterManager([staticCluster('c', [port])], { stats, connect: () => { throw new Error('raw only'); } });
  await cm.ready();
  const cluster = cm.get('c')!;
  const pool = new MuxPool<LineFrame>({ cluster, host: cluster.hosts()[0], codec: lineCodec(pingPong), connectionsPerHost, heartbeatIntervalMs: 0 });
  return { stats, cm, pool };
}

test('multiplex: 300 concurrent requests over two connections, every answer to its caller', async () => {
  const up = await lineServer(5);
  const { cm, pool, stats } = await setup(up.server.port, false, 2);
  try {
    const answers = await Promise.all(Array.from({ length: 300 }, (_, i) => call(pool, `p${i}`)));
    answers.forEach((a, i) => assert.equal(a, `p${i}`));
    assert.equal(up.server.connections, 2);
    assert.ok(up.maxInFlight > 1, 'requests overlapped on a connection');
    assert.equal(stats.counter('cluster.c.upstream_rq_total').value, 300);
    assert.equal(stats.gauge('cluster.c.upstream_rq_active').value, 0);
  } finally {
    pool.close();
    cm.close();
    await up.server.close();
  }
});

test('ping-pong: one request per connection at a time', async () => {
  const up = await lineServer(5);
  const { cm, pool } = await setup(up.server.port, true);
  try {
    const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => call(pool, `q${i}`)));
    answers.forEach((a, i) => assert.equal(a, `q${i}`));
    assert.equal(up.maxInFlight, 1);
    assert.ok(up.server.connections > 1, 'more connections for concurrent requests');
    // Sequential requests reuse an idle connection.
    const before = up.server.connections;
    for (let i = 0; i < 5; i++) assert.equal(await call(pool, `s${i}`), `s${i}`);
    assert.equal(up.server.connections, before);
  } finally {
    pool.close();
    cm.close();
    await up.server.close();
  }
});

test('a timed-out request fails alone; a lost connection fails its requests and the next one reconnects', async () => {
  const up = await lineServer(5, (p) => p === 'never');
  const { cm, pool, stats } = await setup(up.server.port, false, 1);
  try {
    const [late, ok] = await Promise.allSettled([call(pool, 'never', 100), call(pool, 'fine')]);
    assert.equal(late.status, 'rejected');
    assert.equal((late as PromiseRejectedResult).reason.code, 'SKIFF_UPSTREAM_RQ_TIMEOUT');
    assert.equal(ok.status, 'fulfilled');
    assert.equal(stats.counter('cluster.c.upstream_rq_timeout').value, 1);
    const lost = call(pool, 'never');
    await new Promise((r) => setTimeout(r, 50));
    for (const s of up.conns) s.destroy();
    await assert.rejects(lost, (e: SkiffError) => e.code === 'SKIFF_UPSTREAM_RESET');
    assert.equal(await call(pool, 'again'), 'again');
    assert.equal(up.server.connections, 2);
  } finally {
    pool.close();
    cm.close();
    await up.server.close();
  }
});
