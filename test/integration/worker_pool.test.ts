// With --concurrency the worker pool follows the load: no worker thread at start-up, one started when route
// batches reach --offload-min-batch (1 here), and none left after --worker-idle-timeout-ms without work. The
// live count is the gauge server.worker_threads on /stats.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { once } from 'node:events';
import { getOnFreshConnection } from '../helpers/http_get.js';
import { startSkiff } from '../helpers/skiff.js';

function bootstrap(upstreamPort: number): object {
  return {
    admin: { address: { socket_address: { address: '127.0.0.1', port_value: 0 } } },
    static_resources: {
      listeners: [{
        name: 'ingress',
        address: { socket_address: { address: '127.0.0.1', port_value: 0 } },
        filter_chains: [{ filters: [{
          name: 'envoy.filters.network.http_connection_manager',
          typed_config: {
            '@type': 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager',
            stat_prefix: 'ingress_http',
            route_config: { virtual_hosts: [{ name: 'all', domains: ['*'], routes: [{ match: { prefix: '/' }, route: { cluster: 'app' } }] }] },
            http_filters: [{ name: 'envoy.filters.http.router', typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router' } }],
          },
        }] }],
      }],
      clusters: [{
        name: 'app', type: 'STATIC', connect_timeout: '1s',
        load_assignment: { cluster_name: 'app', endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: '127.0.0.1', port_value: upstreamPort } } } }] }] },
      }],
    },
  };
}

async function workerThreads(adminUrl: string): Promise<number> {
  const text = await (await fetch(`${adminUrl}/stats`)).text();
  const m = /^server\.worker_threads: (\d+)$/m.exec(text);
  assert.ok(m, `server.worker_threads on /stats:\n${text.slice(0, 400)}`);
  return Number(m[1]);
}

async function until(cond: () => Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test('a worker starts on demand, answers through the offload, and exits when idle', async () => {
  const upstream = http.createServer((req, res) => res.end(`upstream saw ${req.url}`));
  upstream.listen(0, '127.0.0.1');
  await once(upstream, 'listening');
  const upPort = (upstream.address() as { port: number }).port;
  const skiff = await startSkiff({ config: bootstrap(upPort), concurrency: 2, args: ['--worker-idle-timeout-ms', '1000'] });
  try {
    assert.equal(await workerThreads(skiff.adminUrl), 0, 'no worker before any request');
    const port = skiff.port('ingress');
    for (let i = 0; i < 3; i++) assert.deepEqual(await getOnFreshConnection(port, `/r${i}`), { status: 200, body: `upstream saw /r${i}` });
    // The first batch waited for a worker to start, so one is live right after (it exits only after 1 s idle).
    const afterLoad = await workerThreads(skiff.adminUrl);
    assert.ok(afterLoad >= 1 && afterLoad <= 2, `live workers after requests: ${afterLoad}`);
    await until(async () => (await workerThreads(skiff.adminUrl)) === 0, 'the idle worker to exit');
    // And again: a new request starts a worker afresh and is answered.
    assert.deepEqual(await getOnFreshConnection(port, '/again'), { status: 200, body: 'upstream saw /again' });
  } finally {
    assert.equal(await skiff.stop(), 0);
    upstream.close();
  }
});
