// Connection lifecycle: drain completes in-flight requests with `connection: close` and closes idle
// keep-alive connections; a downstream disconnect aborts the upstream request.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { once } from 'node:events';
import {
  allDomains, closeAll, httpUpstream, listener, request, startProxy, staticCluster, waitFor, within,
} from './proxy_harness.js';
import { SLOW_PATIENCE_MS } from '../helpers/wait.js';

const DRAIN_DEADLINE_MS = 4 * SLOW_PATIENCE_MS;

test('drain completes in-flight requests and closes idle connections', async (t) => {
  // The slow response is held until the test releases it, after drain has begun: surely in flight then.
  let releaseSlow: (() => void) | undefined;
  const up = await httpUpstream((req, res) => {
    if (req.url === '/slow') releaseSlow = () => res.end('slow done');
    else res.end('fast');
  });
  const proxy = await startProxy([listener('ingress', allDomains([{ match: { prefix: '/' }, route: { cluster: 'app' } }]))], [staticCluster('app', [up.port])]);
  t.after(() => closeAll(proxy, up));
  const port = proxy.port();

  // An idle keep-alive connection: one request answered, then nothing.
  const idle = net.connect(port, '127.0.0.1');
  await once(idle, 'connect');
  idle.write('GET /fast HTTP/1.1\r\nHost: x\r\n\r\n');
  await once(idle, 'data');
  const idleClosed = once(idle, 'close');
  idle.on('error', () => {});
  idle.resume();

  const inFlight = request(port, { path: '/slow' });
  // Drain only once the request is in flight upstream (a fixed sleep loses the race on a loaded machine).
  await waitFor(() => releaseSlow !== undefined, 'the slow request to reach the upstream');
  // A deadline far past the test's patience: drain resolving within the patience (within() below) means it
  // resolved when the connections were gone, not at the deadline.
  const drained = proxy.listeners.drain(DRAIN_DEADLINE_MS);
  releaseSlow!();
  const r = await inFlight;
  assert.equal(r.status, 200);
  assert.equal(r.body, 'slow done');
  assert.equal(r.headers.connection, 'close');
  await within(idleClosed, 'the idle connection to close');
  await within(drained, 'drain to resolve when the connections were gone, not at its deadline', DRAIN_DEADLINE_MS / 2);
  assert.equal(proxy.gauge('http.ingress.downstream_cx_active'), 0);
  assert.equal(proxy.gauge(`listener.127.0.0.1_${port}.downstream_cx_active`), 0);
  await assert.rejects(request(port, { path: '/fast' }), /ECONNREFUSED/);
});

test('drain destroys connections still open at the deadline', async (t) => {
  const held: http.ServerResponse[] = [];
  const up = await httpUpstream((_req, res) => { held.push(res); });
  const proxy = await startProxy([listener('ingress', allDomains([{ match: { prefix: '/' }, route: { cluster: 'app', timeout: { seconds: 0 } } }]))], [staticCluster('app', [up.port])]);
  t.after(async () => { for (const r of held) r.destroy(); await closeAll(proxy, up); });
  const stuck = request(proxy.port(), { path: '/never' }).catch((e: Error) => e);
  await waitFor(() => held.length > 0, 'the upstream to hold a request');
  const started = Date.now();
  await proxy.listeners.drain(200);
  assert.ok(Date.now() - started >= 190);
  assert.ok((await stuck) instanceof Error, 'the stuck client saw its connection closed');
});

test('a downstream disconnect aborts the upstream request', async (t) => {
  let upstreamSawRequest = false;
  let upstreamSocketClosed = false;
  const up = await httpUpstream();
  up.server.removeAllListeners('request');
  up.server.on('request', (req: http.IncomingMessage) => {
    upstreamSawRequest = true;
    req.socket.once('close', () => { upstreamSocketClosed = true; });
  });
  const proxy = await startProxy([listener('ingress', allDomains([{ match: { prefix: '/' }, route: { cluster: 'app' } }]))], [staticCluster('app', [up.port])]);
  t.after(() => closeAll(proxy, up));
  const client = net.connect(proxy.port(), '127.0.0.1');
  await once(client, 'connect');
  client.write('GET /wait HTTP/1.1\r\nHost: x\r\n\r\n');
  await waitFor(() => upstreamSawRequest, 'the upstream to receive the request');
  client.destroy();
  await waitFor(() => upstreamSocketClosed, 'the upstream connection to be closed by the proxy');
  await waitFor(() => proxy.gauge('http.ingress.downstream_rq_active') === 0, 'the request to end');
  assert.equal(proxy.counter('http.ingress.downstream_rq_rx_reset'), 1);
  assert.equal(proxy.gauge('cluster.app.upstream_rq_active'), 0);
});
