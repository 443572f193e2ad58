// The `skiff` command end to end: validate mode, usage errors, serving a bootstrap, graceful stop on SIGTERM.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { once } from 'node:events';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getOnFreshConnection } from '../helpers/http_get.js';
import { startSkiff, runSkiff, REPO_ROOT } from '../helpers/skiff.js';
import { PATIENCE_MS, waitFor } from '../helpers/wait.js';

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
            route_config: { virtual_hosts: [{ name: 'all', domains: ['*'], routes: [
              { match: { path: '/healthz' }, direct_response: { status: 200, body: { inline_string: 'ok' } } },
              { match: { prefix: '/' }, route: { cluster: 'app' } },
            ] }] },
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

test('--mode validate accepts the bundled examples', async () => {
  for (const f of ['default.yaml']) {
    const r = await runSkiff(['--mode', 'validate', '-c', join(REPO_ROOT, 'examples', f)]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /OK/);
  }
});

test('--mode validate rejects an unsupported field naming its path', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'skiff-cli-'));
  try {
    const cfg = bootstrap(1) as { static_resources: { clusters: Record<string, unknown>[] } };
    cfg.static_resources.clusters[0].outlier_detection = { consecutive_5xx: 5 };
    const file = join(dir, 'bad.json');
    writeFileSync(file, JSON.stringify(cfg));
    const r = await runSkiff(['--mode', 'validate', '-c', file]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /static_resources\.clusters\[0\]\.outlier_detection/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('usage errors exit 2 and name the option', async () => {
  const r = await runSkiff(['--no-such-flag']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--no-such-flag/);
  const r2 = await runSkiff(['-c', 'x.yaml', '--concurrency', 'many']);
  assert.equal(r2.code, 2);
  assert.match(r2.stderr, /--concurrency/);
});

test('serves a bootstrap, then drains an in-flight request on SIGTERM and exits 0', async () => {
  let slowArrived = false;
  const upstream = http.createServer((req, res) => {
    if (req.url === '/slow') slowArrived = true;
    const delay = req.url === '/slow' ? 600 : 0;
    setTimeout(() => { res.setHeader('content-type', 'text/plain'); res.end(`upstream saw ${req.url}`); }, delay);
  });
  upstream.listen(0, '127.0.0.1');
  await once(upstream, 'listening');
  const upPort = (upstream.address() as { port: number }).port;
  const skiff = await startSkiff({ config: bootstrap(upPort) });
  try {
    const port = skiff.port('ingress');
    assert.deepEqual(await getOnFreshConnection(port, '/healthz'), { status: 200, body: 'ok' });
    assert.deepEqual(await getOnFreshConnection(port, '/hello'), { status: 200, body: 'upstream saw /hello' });
    const info = (await (await fetch(`${skiff.adminUrl}/server_info`)).json()) as { state: string };
    assert.equal(info.state, 'LIVE');
    const stats = await (await fetch(`${skiff.adminUrl}/stats`)).text();
    assert.match(stats, /http\.ingress_http\.downstream_rq_total: 2/);
    const inFlight = getOnFreshConnection(port, '/slow');
    // SIGTERM once the request is surely in flight (a fixed sleep can lose that race on a loaded machine).
    await waitFor(() => slowArrived, PATIENCE_MS, 'the slow request to reach the upstream');
    const code = skiff.stop();
    assert.deepEqual(await inFlight, { status: 200, body: 'upstream saw /slow' });
    assert.equal(await code, 0);
  } finally {
    await skiff.stop();
    upstream.close();
  }
});
