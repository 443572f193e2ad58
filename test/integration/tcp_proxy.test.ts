// tcp_proxy through the real skiff process: a listener whose filter chain is envoy.filters.network.tcp_proxy,
// an echo upstream, half-close, a dead cluster, and the byte counters on /stats.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as net from 'node:net';
import { once } from 'node:events';
import { startSkiff } from '../helpers/skiff.js';
import { closedPort } from '../helpers/ports.js';
import { SLOW_PATIENCE_MS } from '../helpers/wait.js';
import { exchange, roundTrip, startEcho, startServer, staticCluster } from '../unit/tcp_proxy/harness.js';

const TCP_PROXY = 'type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy';

function tcpListener(name: string, proxy: Record<string, unknown>) {
  return {
    name, address: { socket_address: { address: '127.0.0.1', port_value: 0 } },
    filter_chains: [{ filters: [{ name: 'envoy.filters.network.tcp_proxy', typed_config: { '@type': TCP_PROXY, ...proxy } }] }],
  };
}

async function statsText(adminUrl: string): Promise<string> {
  return (await fetch(`${adminUrl}/stats`)).text();
}

function stat(text: string, name: string): number {
  const m = new RegExp(`^${name.replace(/\./g, '\\.')}: (\\d+)$`, 'm').exec(text);
  return m === null ? NaN : Number(m[1]);
}

test('skiff proxies raw TCP by config: echo, half-close, a dead cluster, counters on /stats', async () => {
  const echo = await startEcho();
  const replyOnEnd = await startServer((s) => { let n = 0; s.on('data', (d: Buffer) => { n += d.length; }); s.on('end', () => s.end(`got ${n}`)); });
  const dead = await closedPort();
  const skiff = await startSkiff({
    config: {
      admin: { address: { socket_address: { address: '127.0.0.1', port_value: 0 } } },
      static_resources: {
        listeners: [
          tcpListener('echo', { stat_prefix: 'echo_tcp', cluster: 'echo' }),
          tcpListener('halfclose', { stat_prefix: 'hc', cluster: 'reply_on_end' }),
          tcpListener('dead', { stat_prefix: 'dead', cluster: 'dead', max_connect_attempts: { value: 2 } }),
        ],
        clusters: [staticCluster('echo', [echo.port]), staticCluster('reply_on_end', [replyOnEnd.port]), staticCluster('dead', [dead])],
      },
    },
  }).catch(async (e: unknown) => { await echo.close(); await replyOnEnd.close(); throw e; });
  try {
    const c = net.connect({ port: skiff.port('echo'), host: '127.0.0.1' });
    await once(c, 'connect');
    assert.equal(await exchange(c, 'hello skiff', 11, 10_000), 'hello skiff');
    c.destroy();
    assert.equal((await roundTrip(skiff.port('halfclose'), 'z'.repeat(5000), 10_000)).reply, 'got 5000');
    assert.equal((await roundTrip(skiff.port('dead'), 'nobody home', 10_000)).reply, '');
    // Stats settle as each connection's close runs: poll until every expected value is there (bounded), then
    // assert each so a failure names the one that differs.
    const expected: Record<string, number> = {
      'tcp.echo_tcp.downstream_cx_total': 1, 'tcp.echo_tcp.downstream_cx_rx_bytes_total': 11, 'tcp.echo_tcp.downstream_cx_tx_bytes_total': 11,
      'cluster.echo.upstream_cx_rx_bytes_total': 11, 'tcp.hc.downstream_cx_rx_bytes_total': 5000, 'cluster.dead.upstream_cx_connect_fail': 2,
      'cluster.dead.upstream_cx_connect_attempts_exceeded': 1,
    };
    let text = '';
    const deadline = Date.now() + SLOW_PATIENCE_MS;
    for (let i = 0; i < 2000 && Date.now() < deadline; i++) {
      text = await statsText(skiff.adminUrl);
      if (Object.entries(expected).every(([name, value]) => stat(text, name) === value)) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal(stat(text, 'tcp.echo_tcp.downstream_cx_total'), 1);
    assert.equal(stat(text, 'tcp.echo_tcp.downstream_cx_rx_bytes_total'), 11);
    assert.equal(stat(text, 'tcp.echo_tcp.downstream_cx_tx_bytes_total'), 11);
    assert.equal(stat(text, 'cluster.echo.upstream_cx_rx_bytes_total'), 11);
    assert.equal(stat(text, 'tcp.hc.downstream_cx_rx_bytes_total'), 5000);
    assert.equal(stat(text, 'cluster.dead.upstream_cx_connect_fail'), 2);
    assert.equal(stat(text, 'cluster.dead.upstream_cx_connect_attempts_exceeded'), 1);
  } finally {
    assert.equal(await skiff.stop(), 0);
    await echo.close();
    await replyOnEnd.close();
  }
});

test('an unsupported tcp_proxy field is refused at start-up, named by its path', async () => {
  await assert.rejects(startSkiff({
    config: {
      admin: { address: { socket_address: { address: '127.0.0.1', port_value: 0 } } },
      static_resources: { listeners: [tcpListener('t', { stat_prefix: 't', cluster: 'c', max_downstream_connection_duration: '5s' })], clusters: [staticCluster('c', [1])] },
    },
  }), /max_downstream_connection_duration/);
});

test('tcp_proxy access_log: one line per connection in the file, with upstream, bytes and flags', async () => {
  const { mkdtempSync, readFileSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const dir = mkdtempSync(join(tmpdir(), 'skiff-tcp-al-'));
  const logPath = join(dir, 'tcp.log');
  const echo = await startEcho();
  const dead = await closedPort();
  const fileLog = (format: string) => [{
    name: 'envoy.access_loggers.file',
    typed_config: { '@type': 'type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog', path: logPath, log_format: { text_format_source: { inline_string: format } } },
  }];
  // %FILTER_STATE% shows what a set_filter_state network filter ahead of tcp_proxy stored on the connection.
  const format = '%UPSTREAM_CLUSTER% %UPSTREAM_HOST% %BYTES_RECEIVED% %BYTES_SENT% %RESPONSE_FLAGS% %DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT% %FILTER_STATE(io.example.peer:PLAIN)% %DURATION%\n';
  const setPeerState = {
    name: 'envoy.filters.network.set_filter_state',
    typed_config: {
      '@type': 'type.googleapis.com/envoy.extensions.filters.network.set_filter_state.v3.Config',
      on_new_connection: [{ object_key: 'io.example.peer', factory_key: 'envoy.string', format_string: { text_format_source: { inline_string: 'peer-%DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT%' } } }],
    },
  };
  const echoListener = tcpListener('echo', { stat_prefix: 'echo_tcp', cluster: 'echo', access_log: fileLog(format) });
  echoListener.filter_chains[0]!.filters.unshift(setPeerState as never);
  const skiff = await startSkiff({
    config: {
      admin: { address: { socket_address: { address: '127.0.0.1', port_value: 0 } } },
      static_resources: {
        listeners: [
          echoListener,
          tcpListener('dead', { stat_prefix: 'dead', cluster: 'dead', access_log: fileLog(format) }),
        ],
        clusters: [staticCluster('echo', [echo.port]), staticCluster('dead', [dead])],
      },
    },
  }).catch(async (e: unknown) => { await echo.close(); rmSync(dir, { recursive: true, force: true }); throw e; });
  try {
    for (const msg of ['one', 'second!']) {
      const c = net.connect({ port: skiff.port('echo'), host: '127.0.0.1' });
      await once(c, 'connect');
      assert.equal(await exchange(c, msg, msg.length, 10_000), msg);
      c.end();
      await once(c, 'close');
    }
    assert.equal((await roundTrip(skiff.port('dead'), 'nobody home', 10_000)).reply, '');
    let lines: string[] = [];
    const deadline = Date.now() + SLOW_PATIENCE_MS;
    for (let i = 0; i < 2000 && Date.now() < deadline; i++) {
      try { lines = readFileSync(logPath, 'utf8').split('\n').filter((l) => l !== ''); } catch { lines = []; }
      if (lines.length >= 3) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal(lines.length, 3, lines.join('\n'));
    const echoLines = lines.filter((l) => l.startsWith('echo ')).map((l) => l.replace(/ \d+$/, ' D')).sort();
    assert.deepEqual(echoLines, [`echo 127.0.0.1:${echo.port} 3 3 - 127.0.0.1 peer-127.0.0.1 D`, `echo 127.0.0.1:${echo.port} 7 7 - 127.0.0.1 peer-127.0.0.1 D`]);
    assert.deepEqual(lines.filter((l) => l.startsWith('dead ')).map((l) => l.replace(/ \d+$/, ' D')), ['dead - 0 0 UF 127.0.0.1 - D']);
  } finally {
    assert.equal(await skiff.stop(), 0);
    await echo.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('an unknown access log command operator is refused at start-up, named by its field', async () => {
  await assert.rejects(startSkiff({
    config: {
      admin: { address: { socket_address: { address: '127.0.0.1', port_value: 0 } } },
      static_resources: {
        listeners: [tcpListener('t', {
          stat_prefix: 't', cluster: 'c',
          access_log: [{ name: 'envoy.access_loggers.stdout', typed_config: { '@type': 'type.googleapis.com/envoy.extensions.access_loggers.stream.v3.StdoutAccessLog', log_format: { text_format_source: { inline_string: '%NO_SUCH_OPERATOR%\n' } } } }],
        })],
        clusters: [staticCluster('c', [1])],
      },
    },
  }), /access_log\[0\]\.typed_config\.log_format.*NO_SUCH_OPERATOR/);
});
