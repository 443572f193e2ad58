import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { startAdmin, type AdminServer } from '../../../src/admin/admin.js';
import { SkiffError } from '../../../src/common/errors.js';
import { fakeWorld, type FakeWorld } from './fake_deps.js';
import { PATIENCE_MS, waitFor } from '../../helpers/wait.js';

async function call(port: number, method: string, path: string): Promise<{ status: number; body: string; type: string }> {
  const r = await fetch(`http://127.0.0.1:${port}${path}`, { method });
  return { status: r.status, body: await r.text(), type: r.headers.get('content-type') ?? '' };
}

describe('admin server over a real socket', () => {
  let w: FakeWorld;
  let admin: AdminServer;
  const get = (p: string) => call(admin.port, 'GET', p);
  const post = (p: string) => call(admin.port, 'POST', p);

  before(async () => {
    w = fakeWorld();
    w.store.counter('http.ingress_http.downstream_rq_total').inc(5);
    w.store.counter('http.ingress_http.downstream_rq_2xx').inc(4);
    w.store.gauge('http.ingress_http.downstream_cx_active').set(2);
    w.clusters[0].stats.upstream_rq_total.inc(9);
    w.clusters[0].stats.responseCode(200);
    w.clusters[0].stats.responseCode(503);
    w.clusters[0].stats.upstream_cx_active.set(3);
    w.store.counter('listener.127.0.0.1_10000.downstream_cx_total').inc(6);
    admin = await startAdmin('127.0.0.1', 0, w.deps);
  });
  after(async () => { await admin.close(); });

  test('binds a real port on loopback', () => {
    assert.ok(admin.port > 0);
  });

  test('GET / and /help list every endpoint', async () => {
    for (const p of ['/', '/help']) {
      const r = await get(p);
      assert.equal(r.status, 200);
      for (const e of ['/ready', '/server_info', '/stats', '/stats/prometheus', '/clusters', '/listeners', '/config_dump',
        '/quitquitquit', '/healthcheck/fail', '/healthcheck/ok', '/drain_listeners', '/logging']) {
        assert.match(r.body, new RegExp(`^  ${e.replace(/\//g, '\\/')}[ :]`, 'm'), `${p} lists ${e}`);
      }
    }
  });

  test('unknown paths are 404 with the endpoint list', async () => {
    const r = await get('/nope');
    assert.equal(r.status, 404);
    assert.match(r.body, /^invalid path\. admin commands are:/);
    assert.match(r.body, /\/server_info/);
  });

  test('/ready is 200 LIVE while live and ready, 503 with the state otherwise', async () => {
    assert.deepEqual([(await get('/ready')).status, (await get('/ready')).body], [200, 'LIVE\n']);
    w.info.state = 'INITIALIZING';
    try {
      const r = await get('/ready');
      assert.equal(r.status, 503);
      assert.equal(r.body, 'INITIALIZING\n');
    } finally { w.info.state = 'LIVE'; }
    w.ready.value = false;
    try {
      const r = await get('/ready');
      assert.equal(r.status, 503);
      assert.equal(r.body, 'DRAINING\n');
    } finally { w.ready.value = true; }
  });

  test('/healthcheck/fail and /healthcheck/ok flip readiness and tell the server; GET is refused', async () => {
    const refused = await get('/healthcheck/fail');
    assert.equal(refused.status, 405);
    assert.equal((await get('/ready')).status, 200, 'a refused GET changes nothing');
    assert.equal(admin.healthcheckFailed, false);

    assert.equal((await post('/healthcheck/fail')).body, 'OK\n');
    assert.equal(admin.healthcheckFailed, true);
    assert.deepEqual(await get('/ready').then((r) => [r.status, r.body]), [503, 'DRAINING\n']);
    assert.equal((JSON.parse((await get('/server_info')).body) as { state: string }).state, 'DRAINING');

    assert.equal((await post('/healthcheck/ok')).status, 200);
    assert.equal((await get('/ready')).status, 200);
    assert.deepEqual(w.actions.filter((a) => a.startsWith('hc:')), ['hc:true', 'hc:false']);
  });

  test('/server_info is Envoy ServerInfo JSON', async () => {
    const r = await get('/server_info');
    assert.equal(r.status, 200);
    assert.match(r.type, /application\/json/);
    const j = JSON.parse(r.body) as Record<string, unknown> & { command_line_options: Record<string, unknown> };
    assert.equal(j.version, '0.1.0');
    assert.equal(j.state, 'LIVE');
    assert.equal(j.uptime_current_epoch, '12s');
    assert.equal(j.uptime_all_epochs, '12s');
    assert.equal(j.command_line_options.concurrency, 2);
    assert.equal(j.command_line_options.config_path, '/etc/skiff.yaml');
    assert.equal(j.command_line_options.log_level, 'warn');
    assert.equal(j.command_line_options.drain_time, '30s');
    assert.equal(j.command_line_options.mode, 'Serve');
    assert.deepEqual(j.node, { id: 'n1' }, 'the node comes from the bootstrap in the config dump');
  });

  test('/stats prints sorted name: value lines for counters and gauges', async () => {
    const r = await get('/stats');
    assert.equal(r.status, 200);
    const lines = r.body.trimEnd().split('\n');
    const names = lines.map((l) => l.slice(0, l.indexOf(': ')));
    assert.deepEqual(names, [...names].sort());
    assert.ok(lines.includes('cluster.web.upstream_rq_total: 9'));
    assert.ok(lines.includes('cluster.web.upstream_cx_active: 3'), 'gauges are listed too');
    assert.ok(lines.includes('http.ingress_http.downstream_rq_total: 5'));
    for (const l of lines) assert.match(l, /^[^:]+: -?\d+$/);
  });

  test('/stats?filter= keeps names matching the regex anywhere; a bad regex is 400', async () => {
    const r = await get('/stats?filter=' + encodeURIComponent('upstream_rq_\\dxx$'));
    assert.equal(r.body, 'cluster.web.upstream_rq_2xx: 1\ncluster.web.upstream_rq_5xx: 1\n');
    const bad = await get('/stats?filter=' + encodeURIComponent('(['));
    assert.equal(bad.status, 400);
  });

  test('/stats?usedonly and ?type=Gauges narrow the list', async () => {
    const used = (await get('/stats?usedonly')).body;
    assert.doesNotMatch(used, /: 0$/m);
    assert.match(used, /cluster\.web\.upstream_rq_total: 9/);
    const gauges = (await get('/stats?type=Gauges&filter=web')).body;
    assert.equal(gauges, ['cluster.web.upstream_cx_active: 3', 'cluster.web.upstream_rq_active: 0', 'cluster.web.upstream_rq_pending_active: 0', ''].join('\n'));
  });

  test('/stats?format=json is {stats:[{name,value}]}', async () => {
    const r = await get('/stats?format=json&filter=^http\\.');
    const j = JSON.parse(r.body) as { stats: { name: string; value: number }[] };
    assert.deepEqual(j.stats, [
      { name: 'http.ingress_http.downstream_cx_active', value: 2 },
      { name: 'http.ingress_http.downstream_rq_2xx', value: 4 },
      { name: 'http.ingress_http.downstream_rq_total', value: 5 },
    ]);
    assert.equal((await get('/stats?format=xml')).status, 400);
  });

  test('/stats/prometheus extracts cluster, HCM prefix, listener and response-code tags', async () => {
    const r = await get('/stats/prometheus');
    assert.equal(r.status, 200);
    const b = r.body;
    assert.match(b, /^# TYPE envoy_cluster_upstream_rq_total counter\nenvoy_cluster_upstream_rq_total\{envoy_cluster_name="outbound\|80\|\|api\.ns\.svc\.cluster\.local"\} 0\nenvoy_cluster_upstream_rq_total\{envoy_cluster_name="web"\} 9$/m);
    assert.match(b, /^envoy_http_downstream_rq_total\{envoy_http_conn_manager_prefix="ingress_http"\} 5$/m);
    assert.match(b, /^envoy_http_downstream_rq_xx\{envoy_response_code_class="2",envoy_http_conn_manager_prefix="ingress_http"\} 4$/m);
    assert.match(b, /^envoy_cluster_upstream_rq_xx\{envoy_response_code_class="5",envoy_cluster_name="web"\} 1$/m);
    assert.match(b, /^envoy_cluster_upstream_rq\{envoy_response_code="200",envoy_cluster_name="web"\} 1$/m);
    assert.match(b, /^envoy_listener_downstream_cx_total\{envoy_listener_address="127\.0\.0\.1_10000"\} 6$/m);
    assert.match(b, /^# TYPE envoy_cluster_upstream_cx_active gauge$/m);
    assert.match(b, /^# TYPE envoy_http_downstream_cx_active gauge$/m);
    // one # TYPE line per family, families sorted
    const types = [...b.matchAll(/^# TYPE (\S+) (counter|gauge)$/gm)].map((m) => m[1]);
    assert.equal(new Set(types).size, types.length);
    assert.deepEqual(types, [...types].sort());
    // every sample line belongs to the family announced above it
    let family = '';
    for (const line of b.trimEnd().split('\n')) {
      if (line.startsWith('# TYPE ')) { family = line.split(' ')[2]; continue; }
      assert.match(line, /^[a-zA-Z_][a-zA-Z0-9_]*\{[^}]*\} -?\d+$/);
      assert.equal(line.slice(0, line.indexOf('{')), family);
    }
  });

  test('/stats/prometheus honours ?filter=, and /stats?format=prometheus is the same', async () => {
    const a = await get('/stats/prometheus?filter=downstream_cx_total');
    assert.equal(a.body, '# TYPE envoy_listener_downstream_cx_total counter\nenvoy_listener_downstream_cx_total{envoy_listener_address="127.0.0.1_10000"} 6\n');
    const b = await get('/stats?format=prometheus&filter=downstream_cx_total');
    assert.equal(b.body, a.body);
  });

  test('/clusters prints Envoy text lines with breakers and per-host stats', async () => {
    const r = await get('/clusters');
    assert.equal(r.status, 200);
    const lines = r.body.trimEnd().split('\n');
    for (const l of [
      'web::observability_name::web',
      'web::default_priority::max_connections::100',
      'web::default_priority::max_pending_requests::1024',
      'web::default_priority::max_requests::1024',
      'web::default_priority::max_retries::3',
      'web::added_via_api::false',
      'web::127.0.0.1:8080::cx_active::3',
      'web::127.0.0.1:8080::cx_total::7',
      'web::127.0.0.1:8080::rq_active::2',
      'web::127.0.0.1:8080::rq_total::40',
      'web::127.0.0.1:8080::rq_error::4',
      'web::127.0.0.1:8080::health_flags::healthy',
      'web::127.0.0.1:8080::weight::1',
      'web::[::1]:8081::cx_active::0',
      'web::[::1]:8081::rq_total::0',
      'web::[::1]:8081::health_flags::/failed_active_hc',
      'web::[::1]:8081::weight::5',
      'outbound|80||api.ns.svc.cluster.local::10.0.0.9:80::rq_active::0',
    ]) assert.ok(lines.includes(l), `missing ${l}`);
    const shape = /^[^:]+::(?:observability_name::\S+|default_priority::[a-z_]+::\d+|added_via_api::(?:true|false)|(?:\d+\.\d+\.\d+\.\d+|\[[0-9a-f:]+\]):\d+::[a-z_]+::.*)$/;
    for (const l of lines) assert.match(l, shape);
  });

  test('/clusters?format=json is admin.v3.Clusters', async () => {
    const j = JSON.parse((await get('/clusters?format=json')).body) as {
      cluster_statuses: { name: string; circuit_breakers: { thresholds: { max_connections: number }[] };
        host_statuses: { address: { socket_address: { address: string; port_value: number } }; weight: number;
          stats: { name: string; value: string; type?: string }[]; health_status: Record<string, unknown> }[] }[];
    };
    assert.deepEqual(j.cluster_statuses.map((c) => c.name), ['web', 'outbound|80||api.ns.svc.cluster.local']);
    const web = j.cluster_statuses[0];
    assert.equal(web.circuit_breakers.thresholds[0].max_connections, 100);
    assert.deepEqual(web.host_statuses[0].address, { socket_address: { address: '127.0.0.1', port_value: 8080 } });
    assert.deepEqual(web.host_statuses[0].stats.find((s) => s.name === 'cx_active'), { name: 'cx_active', type: 'GAUGE', value: '3' });
    assert.deepEqual(web.host_statuses[0].stats.find((s) => s.name === 'rq_total'), { name: 'rq_total', value: '40' });
    assert.equal(web.host_statuses[1].weight, 5);
    assert.equal(web.host_statuses[1].health_status.failed_active_health_check, true);
  });

  test('/listeners in text and JSON', async () => {
    assert.equal((await get('/listeners')).body, 'ingress::127.0.0.1:10000\nv6::[::1]:10001\n');
    const j = JSON.parse((await get('/listeners?format=json')).body);
    assert.deepEqual(j, { listener_statuses: [
      { name: 'ingress', local_address: { socket_address: { address: '127.0.0.1', port_value: 10000 } } },
      { name: 'v6', local_address: { socket_address: { address: '::1', port_value: 10001 } } },
    ] });
  });

  test('/config_dump returns the dump the config module built', async () => {
    const r = await get('/config_dump');
    assert.match(r.type, /application\/json/);
    assert.deepEqual(JSON.parse(r.body), w.deps.configDump());
  });

  test('/drain_listeners and /logging act only on POST', async () => {
    assert.equal((await get('/drain_listeners')).status, 405);
    assert.equal((await get('/logging?level=debug')).status, 405);
    assert.ok(!w.actions.includes('drain') && !w.actions.includes('log:debug'));
    assert.equal((await post('/drain_listeners')).body, 'OK\n');
    assert.ok(w.actions.includes('drain'));
  });

  test('/logging shows the level, changes it with ?level=, refuses unknown levels with 400', async () => {
    const show = await post('/logging');
    assert.equal(show.status, 200);
    assert.match(show.body, /active loggers:\n  skiff: warn\n/);
    const set = await post('/logging?level=debug');
    assert.equal(set.status, 200);
    assert.match(set.body, /skiff: debug/);
    assert.ok(w.actions.includes('log:debug'));
    const bad = await post('/logging?level=loud');
    assert.equal(bad.status, 400);
    assert.match(bad.body, /usage: \/logging\?level=<level>/);
    assert.ok(!w.actions.includes('log:loud'), 'an unknown level never reaches the logger');
  });

  test('a handler that throws is a 500, and the server keeps serving', async () => {
    const original = w.deps.configDump;
    w.deps.configDump = () => { throw new Error('dump failed'); };
    try {
      const r = await get('/config_dump');
      assert.equal(r.status, 500);
      assert.match(r.body, /dump failed/);
    } finally { w.deps.configDump = original; }
    assert.equal((await get('/ready')).status, 200);
  });

  test('garbage on the socket does not crash the admin', async () => {
    await new Promise<void>((resolve, reject) => {
      const s = net.connect(admin.port, '127.0.0.1', () => s.write('\x00\x01 NOT HTTP\r\n\r\n'));
      const timer = setTimeout(() => { s.destroy(); reject(new Error('no close after garbage')); }, PATIENCE_MS);
      s.on('data', () => {});
      s.on('error', () => {});
      s.on('close', () => { clearTimeout(timer); resolve(); });
    });
    assert.equal((await get('/ready')).status, 200);
  });
});

describe('admin lifecycle', () => {
  test('/quitquitquit replies OK, then asks the server to quit', async () => {
    const w = fakeWorld();
    const admin = await startAdmin('127.0.0.1', 0, w.deps);
    try {
      assert.equal((await call(admin.port, 'GET', '/quitquitquit')).status, 405);
      assert.equal(w.actions.length, 0);
      const r = await call(admin.port, 'POST', '/quitquitquit');
      assert.equal(r.body, 'OK\n');
      await waitFor(() => w.actions.includes('quit'), PATIENCE_MS, 'the quit action');
      assert.deepEqual(w.actions, ['quit']);
    } finally { await admin.close(); }
  });

  test('close() stops listening even with a keep-alive connection open', async () => {
    const w = fakeWorld();
    const admin = await startAdmin('127.0.0.1', 0, w.deps);
    const port = admin.port;
    const s = net.connect(port, '127.0.0.1');
    await new Promise((res) => s.once('connect', res));
    s.on('error', () => {});
    await admin.close();
    await assert.rejects(fetch(`http://127.0.0.1:${port}/ready`));
    s.destroy();
  });

  test('a taken port fails with SKIFF_ADMIN_BIND', async () => {
    const w = fakeWorld();
    const first = await startAdmin('127.0.0.1', 0, w.deps);
    try {
      await assert.rejects(startAdmin('127.0.0.1', first.port, w.deps), (e: unknown) => e instanceof SkiffError && e.code === 'SKIFF_ADMIN_BIND');
    } finally { await first.close(); }
  });
});
