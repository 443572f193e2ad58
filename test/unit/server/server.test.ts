// The composition root releases the Envoy proto Root once started (the bootstrap is static: nothing more is
// decoded), and /config_dump stays complete because it is built from the already-decoded JSON.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadBootstrapText } from '../../../src/config/bootstrap.js';
import { isEnvoyRootLoaded } from '../../../src/config/protos.js';
import { CONFIG_DUMP_TYPES } from '../../../src/config/config_dump.js';
import { Server } from '../../../src/server/server.js';

const BOOTSTRAP = `
admin: { address: { socket_address: { address: 127.0.0.1, port_value: 0 } } }
static_resources:
  listeners:
  - name: ingress
    address: { socket_address: { address: 127.0.0.1, port_value: 0 } }
    filter_chains:
    - filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: ingress_http
          route_config:
            name: local_route
            virtual_hosts: [{ name: all, domains: ["*"], routes: [{ match: { prefix: "/" }, route: { cluster: backend, timeout: 2.5s } }] }]
          http_filters: [{ name: envoy.filters.http.router, typed_config: { "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router } }]
  clusters:
  - name: backend
    type: STATIC
    connect_timeout: 0.25s
    load_assignment:
      cluster_name: backend
      endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: 1 } } } }] }]
`;

type Json = Record<string, any>;

test('after start the proto Root is released and /config_dump is still complete', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'skiff-server-'));
  const addressPath = join(dir, 'admin');
  const loaded = loadBootstrapText(BOOTSTRAP, 'yaml');
  assert.equal(isEnvoyRootLoaded(), true);
  const server = new Server({ loaded, concurrency: 0, drainTimeMs: 100, offloadMinBatch: 64, adminAddressPath: addressPath, commandLine: [] });
  try {
    await server.start();
    assert.equal(isEnvoyRootLoaded(), false);
    const res = await fetch(`http://${readFileSync(addressPath, 'utf8')}/config_dump`, { signal: AbortSignal.timeout(5000) });
    assert.equal(res.status, 200);
    const dump = (await res.json()) as { configs: Json[] };
    const section = (type: string): Json => dump.configs.find((c) => c['@type'] === type) ?? assert.fail(`no ${type}`);
    assert.equal(section(CONFIG_DUMP_TYPES.bootstrap).bootstrap.static_resources.clusters[0].name, 'backend');
    const cluster = section(CONFIG_DUMP_TYPES.clusters).static_clusters[0].cluster;
    assert.equal(cluster.name, 'backend');
    assert.equal(cluster.connect_timeout, '0.250s');
    assert.equal(section(CONFIG_DUMP_TYPES.listeners).static_listeners[0].listener.name, 'ingress');
    const route = section(CONFIG_DUMP_TYPES.routes).static_route_configs[0].route_config;
    assert.equal(route.name, 'local_route');
    assert.equal(route.virtual_hosts[0].routes[0].route.timeout, '2.500s');
    // Nothing the running server does reloads the Root.
    assert.equal(isEnvoyRootLoaded(), false);
  } finally {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
