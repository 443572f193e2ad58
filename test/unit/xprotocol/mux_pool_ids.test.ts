// Upstream request ids on a long-lived multiplexed connection: the per-connection counter wraps at its maximum
// back to 1 and skips ids still in flight, so two requests on one connection never share an id. The line
// protocol is "<id>:<payload>\n" both ways; the upstream holds "hold" lines until a "release" line arrives.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StatsStore } from '../../../src/common/stats.js';
import type { SkiffError } from '../../../src/common/errors.js';
import { createClusterManager } from '../../../src/upstream/cluster_manager.js';
import { MuxPool, type MuxCodec, type MuxFrame } from '../../../src/upstream/mux_pool.js';
import { startServer } from '../tcp_proxy/harness.js';
import { staticCluster } from './harness.js';

class LineFrame implements MuxFrame {
  readonly kind = 'response' as const;
  constructor(readonly requestId: number, readonly payload: string) {}
  release(): void {}
}

function splitLines(onLine: (line: string) => void): (chunk: Uint8Array) => void {
  let buf = '';
  return (chunk) => {
    buf += Buffer.from(chunk).toString();
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      onLine(buf.slice(0, nl));
      buf = buf.slice(nl + 1);
    }
  };
}

const lineCodec: MuxCodec<LineFrame> = {
  pingPong: false,
  reader(onFrame) {
    const feed = splitLines((line) => {
      const colon = line.indexOf(':');
      onFrame(new LineFrame(Number(line.slice(0, colon)), line.slice(colon + 1)));
    });
    return { feed, stop() {} };
  },
  heartbeat: () => null,
  heartbeatReply: () => null,
};

/** Answers each line at once, except "hold" lines, answered when a "release" line comes; records the ids seen. */
async function holdingServer() {
  const ids: number[] = [];
  const server = await startServer((s) => {
    const held: string[] = [];
    s.on('data', splitLines((line) => {
      ids.push(Number(line.slice(0, line.indexOf(':'))));
      const payload = line.slice(line.indexOf(':') + 1);
      if (payload === 'hold') { held.push(line); return; }
      if (payload === 'release') for (const h of held.splice(0)) s.write(`${h}\n`);
      s.write(`${line}\n`);
    }));
  });
  return { server, ids };
}

function call(pool: MuxPool<LineFrame>, payload: string): Promise<string> {
  return new Promise((resolve, reject) => {
    pool.send({ oneway: false, timeoutMs: 10_000, encode: (id) => Buffer.from(`${id}:${payload}\n`), written: () => {} },
      { onResponse: (f) => resolve(f!.payload), onError: (e: SkiffError) => reject(e) });
  });
}

async function until(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 500 && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(cond(), `timed out waiting for ${what}`);
}

async function withPool(ids: { maxRequestId?: number; firstRequestId?: number }, body: (pool: MuxPool<LineFrame>, seen: number[]) => Promise<void>) {
  const up = await holdingServer();
  const cm = createClusterManager([staticCluster('c', [up.server.port])], { stats: new StatsStore(), connect: () => { throw new Error('raw only'); } });
  await cm.ready();
  const cluster = cm.get('c')!;
  const pool = new MuxPool<LineFrame>({ cluster, host: cluster.hosts()[0], codec: lineCodec, connectionsPerHost: 1, heartbeatIntervalMs: 0, ...ids });
  try {
    await body(pool, up.ids);
    assert.equal(up.server.connections, 1, 'every request on the one connection');
  } finally {
    pool.close();
    cm.close();
    await up.server.close();
  }
}

test('ids started next to 2^31-1 wrap to 1 while an id from before the wrap is still in flight', async () => {
  await withPool({ firstRequestId: 0x7fff_fffe }, async (pool, seen) => {
    const held = call(pool, 'hold');
    await until(() => seen.length === 1, 'the held request upstream');
    for (const p of ['a', 'b', 'c']) assert.equal(await call(pool, p), p);
    assert.equal(await call(pool, 'release'), 'release');
    assert.equal(await held, 'hold');
    assert.deepEqual(seen, [0x7fff_fffe, 0x7fff_ffff, 1, 2, 3]);
  });
});

test('after a wrap, ids still in flight are skipped: no two requests in flight share an id', async () => {
  await withPool({ maxRequestId: 3 }, async (pool, seen) => {
    const held = call(pool, 'hold'); // id 1, in flight throughout
    await until(() => seen.length === 1, 'the held request upstream');
    for (const p of ['a', 'b', 'c', 'd', 'e']) assert.equal(await call(pool, p), p);
    // Concurrent: ids 2 and 3 are taken, then nothing is free but they come back as answers arrive.
    const both = await Promise.all([call(pool, 'f'), call(pool, 'g')]);
    assert.deepEqual(both, ['f', 'g']);
    assert.equal(await call(pool, 'release'), 'release');
    assert.equal(await held, 'hold');
    // 1 (held), then 2, 3, wrap: 1 is skipped each time.
    assert.deepEqual(seen, [1, 2, 3, 2, 3, 2, 3, 2, 3]);
  });
});
