import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as net from 'node:net';
import { once } from 'node:events';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { closedPort } from '../../helpers/ports.js';
import { waitFor, PATIENCE_MS, SLOW_PATIENCE_MS } from '../../helpers/wait.js';
import { tcpProxyConfig, TCP_PROXY_TYPE_URL, pickCluster } from '../../../src/tcp_proxy/config.js';
import { exchange, roundTrip, startEcho, startProxy, startServer, staticCluster } from './harness.js';

test('config: cluster or weighted_clusters required, unsupported fields and access logs named', () => {
  const at = (m: Record<string, unknown>) => () => tcpProxyConfig({ '@type': TCP_PROXY_TYPE_URL, stat_prefix: 'p', ...m }, 'f');
  assert.throws(at({}), /f\.cluster: a cluster or weighted_clusters is required/);
  assert.throws(at({ cluster: 'a', weighted_clusters: { clusters: [{ name: 'b', weight: 1 }] } }), /either cluster or weighted_clusters/);
  assert.throws(at({ cluster: 'a', tunneling_config: {} }), /f\.tunneling_config\.hostname: required/);
  assert.throws(at({ cluster: 'a', on_demand: {} }), (e: Error & { code?: string }) => e.code === 'SKIFF_CONFIG_UNSUPPORTED' && /f\.on_demand/.test(e.message));
  assert.throws(at({ cluster: 'a', access_log: [{ name: 'x' }] }), /f\.access_log\[0\]\.typed_config: an access logger needs a typed_config/);
  assert.throws(at({ cluster: 'a', access_log: [{ name: 'x', typed_config: { '@type': 'type.googleapis.com/envoy.extensions.access_loggers.stream.v3.StdoutAccessLog', log_format: { text_format: '%NOPE%' } } }] }), /f\.access_log\[0\]\.typed_config\.log_format: unknown or unsupported command operator %NOPE%/);
  assert.throws(at({ cluster: 'a', max_connect_attempts: { value: 0 } }), /max_connect_attempts: must be at least 1/);
  assert.throws(at({ weighted_clusters: { clusters: [{ name: 'a', weight: 0 }] } }), /clusters\[0\]\.weight: must be at least 1/);
  const c = tcpProxyConfig({ '@type': TCP_PROXY_TYPE_URL, stat_prefix: 'p', cluster: 'a', access_log: [] }, 'f');
  assert.equal(c.idleTimeoutMs, 3_600_000, "Envoy's default idle timeout is one hour");
  assert.equal(c.maxConnectAttempts, 1);
  const w = tcpProxyConfig({ '@type': TCP_PROXY_TYPE_URL, stat_prefix: 'p', weighted_clusters: { clusters: [{ name: 'a', weight: 1 }, { name: 'b', weight: 3 }] } }, 'f');
  assert.deepEqual([0, 0.24, 0.25, 0.99].map((r) => pickCluster(w, r)), ['a', 'a', 'b', 'b']);
});

test('bytes flow both ways through the proxy and are counted with Envoy names', async () => {
  const echo = await startEcho();
  const proxy = await startProxy({ cluster: 'echo' }, [staticCluster('echo', [echo.port])]);
  try {
    const c = net.connect({ port: proxy.port, host: '127.0.0.1' });
    await once(c, 'connect');
    assert.equal(await exchange(c, 'hello', 5), 'hello');
    const big = 'x'.repeat(200_000);
    assert.equal((await exchange(c, big, big.length)).length, big.length);
    c.destroy();
    await waitFor(() => proxy.filter.activeSessions === 0, PATIENCE_MS, 'session end');
    assert.equal(proxy.counter('tcp.tp.downstream_cx_total'), 1);
    assert.equal(proxy.counter('tcp.tp.downstream_cx_rx_bytes_total'), 200_005);
    assert.equal(proxy.counter('tcp.tp.downstream_cx_tx_bytes_total'), 200_005);
    assert.equal(proxy.counter('cluster.echo.upstream_cx_tx_bytes_total'), 200_005);
    assert.equal(proxy.counter('cluster.echo.upstream_cx_rx_bytes_total'), 200_005);
    assert.equal(proxy.counter('cluster.echo.upstream_cx_total'), 1);
    await waitFor(() => proxy.stats.gauge('cluster.echo.upstream_cx_active').value === 0, PATIENCE_MS, 'upstream closed');
  } finally {
    await proxy.close();
    await echo.close();
  }
});

test('half-close: the client FIN reaches the upstream, whose reply still comes back', async () => {
  // Replies only after the request ended: how many bytes it got.
  const upstream = await startServer((s) => {
    let n = 0;
    s.on('data', (d: Buffer) => { n += d.length; });
    s.on('end', () => { s.end(`got ${n}`); });
  });
  const proxy = await startProxy({ cluster: 'u' }, [staticCluster('u', [upstream.port])]);
  try {
    const r = await roundTrip(proxy.port, 'a'.repeat(10_000));
    assert.equal(r.reply, 'got 10000');
    assert.equal(r.closedBy, 'end');
  } finally {
    await proxy.close();
    await upstream.close();
  }
});

test('half-close the other way: after the upstream FIN the client can still send', async () => {
  let received = '';
  let upstreamEnded!: () => void;
  const upstreamDone = new Promise<void>((r) => { upstreamEnded = r; });
  const upstream = await startServer((s) => {
    s.end('bye early');
    s.on('data', (d: Buffer) => { received += d.toString(); });
    s.on('end', () => upstreamEnded());
  });
  const proxy = await startProxy({ cluster: 'u' }, [staticCluster('u', [upstream.port])]);
  try {
    const c = net.connect({ port: proxy.port, host: '127.0.0.1', allowHalfOpen: true });
    c.on('error', () => {});
    const closed = once(c, 'close');
    let got = '';
    c.on('data', (d: Buffer) => { got += d.toString(); });
    await once(c, 'end');
    assert.equal(got, 'bye early');
    c.write('still talking');
    c.end();
    await Promise.race([upstreamDone, new Promise((_, rej) => setTimeout(() => rej(new Error('upstream never saw the end')), 3000))]);
    assert.equal(received, 'still talking');
    await closed;
  } finally {
    await proxy.close();
    await upstream.close();
  }
});

test('idle_timeout closes a quiet connection and counts idle_timeout', async () => {
  // Traffic every 80 ms for longer than one 600 ms idle period keeps the connection open, then silence closes
  // it. The gaps are measured: a run where the machine stalled for a whole idle period (the timeout then fires
  // rightly) proves nothing and is repeated, bounded, on a new connection.
  const IDLE_MS = 600;
  const MARGIN_MS = 20;
  const echo = await startEcho();
  const proxy = await startProxy({ cluster: 'echo', idle_timeout: { nanos: IDLE_MS * 1_000_000 } }, [staticCluster('echo', [echo.port])]);
  try {
    for (let attempt = 1; attempt <= 5; attempt++) {
      const timeoutsBefore = proxy.counter('tcp.tp.idle_timeout');
      let lastActivity = Date.now(); // before the connection exists: no arming of the timer comes sooner
      const c = net.connect({ port: proxy.port, host: '127.0.0.1' });
      c.on('error', () => {});
      await once(c, 'connect');
      let stalled = false;
      for (let i = 0; i < 10; i++) {
        const sent = Date.now();
        const reply = await exchange(c, 'ping', 4).catch(() => 'closed');
        if (Date.now() - lastActivity >= IDLE_MS - MARGIN_MS) { stalled = true; break; }
        assert.equal(reply, 'ping', `exchange ${i}: still open`);
        lastActivity = sent;
        await new Promise((r) => setTimeout(r, 80));
      }
      if (stalled) {
        c.destroy();
        await waitFor(() => proxy.filter.activeSessions === 0, PATIENCE_MS, 'the stalled attempt\'s session to end');
        continue;
      }
      assert.equal(proxy.counter('tcp.tp.idle_timeout'), timeoutsBefore);
      await once(c, 'close');
      const quietFor = Date.now() - lastActivity;
      // Not before the idle period; the upper bound only tells the timeout from a connection left open.
      assert.ok(quietFor >= IDLE_MS - 1 && quietFor < PATIENCE_MS, `closed after ${quietFor} ms of silence`);
      await waitFor(() => proxy.counter('tcp.tp.idle_timeout') === timeoutsBefore + 1, PATIENCE_MS, 'idle_timeout counted');
      return;
    }
    assert.fail('the event loop stalled for a whole idle period in each of 5 attempts');
  } finally {
    await proxy.close();
    await echo.close();
  }
});

test('connect failure: another host is tried up to max_connect_attempts; all failing closes the client', async () => {
  const echo = await startEcho();
  const dead1 = await closedPort();
  const dead2 = await closedPort();
  const proxy = await startProxy({ cluster: 'mixed', max_connect_attempts: { value: 2 } }, [
    staticCluster('mixed', [dead1, echo.port]),
  ]);
  const allDead = await startProxy({ cluster: 'dead', max_connect_attempts: { value: 3 } }, [staticCluster('dead', [dead1, dead2])]);
  try {
    for (let i = 0; i < 4; i++) {
      const c = net.connect({ port: proxy.port, host: '127.0.0.1' });
      await once(c, 'connect');
      assert.equal(await exchange(c, `m${i}`, 2), `m${i}`, 'a dead host is retried on the live one');
      c.destroy();
    }
    assert.ok(proxy.counter('cluster.mixed.upstream_cx_connect_fail') >= 1, 'round robin reached the dead host');
    const r = await roundTrip(allDead.port, 'lost');
    assert.equal(r.reply, '');
    assert.equal(allDead.counter('cluster.dead.upstream_cx_connect_fail'), 3);
    assert.equal(allDead.counter('cluster.dead.upstream_cx_connect_attempts_exceeded'), 1);
  } finally {
    await proxy.close();
    await allDead.close();
    await echo.close();
  }
});

test('weighted_clusters split connections by weight; an unknown cluster counts downstream_cx_no_route', async () => {
  const a = await startEcho('A:');
  const b = await startEcho('B:');
  const seq = [0.1, 0.3, 0.6, 0.9];
  let i = 0;
  const proxy = await startProxy({ weighted_clusters: { clusters: [{ name: 'a', weight: 1 }, { name: 'b', weight: 3 }, { name: 'missing', weight: 1 }] } },
    [staticCluster('a', [a.port]), staticCluster('b', [b.port])], () => seq[i++ % seq.length] * 0.8);
  try {
    const replies: string[] = [];
    for (let n = 0; n < 8; n++) replies.push((await roundTrip(proxy.port, 'x')).reply);
    // r*0.8*5: 0.4 -> a, 1.2 / 2.4 / 3.6 -> b
    assert.deepEqual(replies, ['A:x', 'B:x', 'B:x', 'B:x', 'A:x', 'B:x', 'B:x', 'B:x']);
    i = 0;
    const noRoute = await startProxy({ weighted_clusters: { clusters: [{ name: 'missing', weight: 1 }] } }, []);
    try {
      assert.equal((await roundTrip(noRoute.port, 'x')).reply, '');
      assert.equal(noRoute.counter('tcp.tp.downstream_cx_no_route'), 1);
    } finally {
      await noRoute.close();
    }
  } finally {
    await proxy.close();
    await a.close();
    await b.close();
  }
});

test('max_connections: a connection over the breaker is closed and counted as overflow', async () => {
  const echo = await startEcho();
  const proxy = await startProxy({ cluster: 'echo' }, [staticCluster('echo', [echo.port], { circuit_breakers: { thresholds: [{ max_connections: { value: 1 } }] } })]);
  try {
    const first = net.connect({ port: proxy.port, host: '127.0.0.1' });
    await once(first, 'connect');
    assert.equal(await exchange(first, 'one', 3), 'one');
    assert.equal((await roundTrip(proxy.port, 'two')).reply, '');
    assert.equal(proxy.counter('cluster.echo.upstream_cx_overflow'), 1);
    first.destroy();
    await waitFor(() => proxy.stats.gauge('cluster.echo.upstream_cx_active').value === 0, PATIENCE_MS, 'first closed');
    assert.equal((await roundTrip(proxy.port, 'three')).reply, 'three', 'the budget is back');
  } finally {
    await proxy.close();
    await echo.close();
  }
});

test('backpressure: a slow upstream pauses reading from the client; nothing is lost when it catches up', async () => {
  let upstreamSocket: net.Socket | undefined;
  let received = 0;
  const upstream = await startServer((s) => { upstreamSocket = s; s.pause(); s.on('data', (d: Buffer) => { received += d.length; }); });
  const proxy = await startProxy({ cluster: 'u' }, [staticCluster('u', [upstream.port])]);
  try {
    const c = net.connect({ port: proxy.port, host: '127.0.0.1' });
    c.on('error', () => {});
    await once(c, 'connect');
    const chunk = Buffer.alloc(64 * 1024, 1);
    let written = 0;
    // Write until the kernel and the proxy stop taking bytes (bounded: 64 MiB or 10 s).
    const deadline = Date.now() + PATIENCE_MS;
    while (written < 64 * 1024 * 1024 && Date.now() < deadline) {
      written += chunk.length;
      if (!c.write(chunk)) {
        // A socket that is still moving drains within a second even on a busy machine; a stalled one never does.
        const drained = await Promise.race([once(c, 'drain').then(() => true), new Promise((r) => setTimeout(() => r(false), 1000))]);
        if (!drained) break;
      }
    }
    assert.ok(written < 32 * 1024 * 1024, `the client could push ${written} bytes into a stalled upstream`);
    assert.ok(proxy.counter('tcp.tp.downstream_flow_control_paused_reading_total') >= 1);
    await waitFor(() => upstreamSocket !== undefined, PATIENCE_MS, 'upstream accepted');
    upstreamSocket!.resume();
    await waitFor(() => received === written, SLOW_PATIENCE_MS, `all ${written} bytes delivered (got ${received})`);
    assert.ok(proxy.counter('tcp.tp.downstream_flow_control_resumed_reading_total') >= 1);
    c.destroy();
  } finally {
    await proxy.close();
    await upstream.close();
  }
});

test('a real redis-server behind the proxy answers PING and SET/GET (a node echo server when redis is absent)', async () => {
  const haveRedis = existsSync('/usr/bin/redis-server');
  let stop: () => Promise<void>;
  let upstreamPort: number;
  if (haveRedis) {
    ({ port: upstreamPort, stop } = await startRedis());
  } else {
    const echo = await startEcho();
    upstreamPort = echo.port;
    stop = () => echo.close();
  }
  const proxy = await startProxy({ cluster: 'redis' }, [staticCluster('redis', [upstreamPort])]);
  try {
    const c = net.connect({ port: proxy.port, host: '127.0.0.1' });
    await once(c, 'connect');
    if (haveRedis) {
      assert.equal(await exchange(c, '*1\r\n$4\r\nPING\r\n', 7), '+PONG\r\n');
      assert.equal(await exchange(c, '*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nskiff\r\n', 5), '+OK\r\n');
      assert.equal(await exchange(c, '*2\r\n$3\r\nGET\r\n$1\r\nk\r\n', 11), '$5\r\nskiff\r\n');
    } else {
      assert.equal(await exchange(c, 'PING', 4), 'PING');
    }
    c.destroy();
  } finally {
    await proxy.close();
    await stop();
  }
});

/**
 * redis-server on a free port. The port is picked (closedPort) before redis binds it, so another process can
 * take it in between: a redis that exits before it answers is retried on a new port (bounded).
 */
async function startRedis(): Promise<{ port: number; stop: () => Promise<void> }> {
  for (let attempt = 1; attempt <= 3; attempt++) {
    const port = await closedPort();
    const proc = spawn('/usr/bin/redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    let exitedEarly = false;
    const exited = once(proc, 'exit').then(() => { exitedEarly = true; });
    const stop = async (): Promise<void> => { proc.kill('SIGTERM'); const t = setTimeout(() => proc.kill('SIGKILL'), 3000); await exited; clearTimeout(t); };
    const deadline = Date.now() + SLOW_PATIENCE_MS;
    for (;;) {
      const ok = await new Promise<boolean>((r) => { const s = net.connect({ port, host: '127.0.0.1' }, () => { s.destroy(); r(true); }); s.on('error', () => r(false)); });
      if (ok && !exitedEarly) return { port, stop };
      if (exitedEarly) break; // the port was taken meanwhile: try another
      if (Date.now() > deadline) { await stop(); throw new Error('redis-server did not start'); }
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  throw new Error('redis-server exited at start on 3 ports');
}
