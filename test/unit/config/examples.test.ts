// The bundled example bootstraps validate, and default.yaml is what `npm start` documents.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadBootstrapFile, loadBootstrapText } from '../../../src/config/bootstrap.js';
import { clusterEndpoints, hcmOf, socketAddressOf } from '../../../src/config/values.js';

// From dist/test/unit/config/ up to the repository root.
const examplesDir = fileURLToPath(new URL('../../../../examples/', import.meta.url));

test('every example validates without warnings and its JSON form loads back the same', () => {
  const files = readdirSync(examplesDir).filter((f) => /\.(ya?ml|json)$/.test(f)).sort();
  assert.deepEqual(files, ['default.yaml', 'local-replies.yaml', 'multi-protocol.yaml', 'routing.yaml']);
  for (const f of files) {
    const loaded = loadBootstrapFile(examplesDir + f);
    assert.deepEqual(loaded.warnings, [], f);
    // Envoy's JSON form (what /config_dump prints) loads back to the same config.
    const again = loadBootstrapText(JSON.stringify(loaded.raw), 'json');
    assert.deepEqual(again.bootstrap, loaded.bootstrap, f);
  }
});

test('default.yaml: admin on 9901, ingress_http on 10000, /healthz answered locally, / to local_service', () => {
  const { bootstrap } = loadBootstrapFile(examplesDir + 'default.yaml');
  assert.deepEqual(socketAddressOf(bootstrap.admin?.address), { address: '127.0.0.1', port: 9901 });
  const [listener] = bootstrap.static_resources!.listeners!;
  assert.deepEqual(socketAddressOf(listener.address), { address: '127.0.0.1', port: 10000 });
  const hcm = hcmOf(listener);
  assert.equal(hcm.stat_prefix, 'ingress_http');
  const routes = hcm.route_config!.virtual_hosts![0].routes!;
  const health = routes.find((r) => r.match.path === '/healthz');
  assert.equal(health?.direct_response?.status, 200);
  assert.equal(health?.direct_response?.body?.inline_string, 'ok\n');
  assert.equal(routes.find((r) => r.match.prefix === '/')?.route?.cluster, 'local_service');
  const [cluster] = bootstrap.static_resources!.clusters!;
  assert.equal(cluster.name, 'local_service');
  assert.equal(cluster.type, 'STATIC');
  assert.deepEqual(clusterEndpoints(cluster).map((e) => `${e.address}:${e.port}`), ['127.0.0.1:8080']);
});

test('routing.yaml: round robin across 18080 and 18081; routes by host, path and header', () => {
  const { bootstrap } = loadBootstrapFile(examplesDir + 'routing.yaml');
  const web = bootstrap.static_resources!.clusters!.find((c) => c.name === 'web')!;
  assert.equal(web.lb_policy, 'ROUND_ROBIN');
  assert.deepEqual(clusterEndpoints(web).map((e) => e.port), [18080, 18081]);
  const vhosts = hcmOf(bootstrap.static_resources!.listeners![0]).route_config!.virtual_hosts!;
  assert.ok(vhosts.some((v) => v.domains.includes('api.example.com')));
  const routes = vhosts.flatMap((v) => v.routes ?? []);
  assert.ok(routes.some((r) => r.match.safe_regex));
  assert.ok(routes.some((r) => r.match.path));
  assert.ok(routes.some((r) => (r.match.headers ?? []).length > 0));
});
