// Envoy's dubbo_proxy route model translated to a RouteConfiguration over the x-protocol pseudo-headers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dubboRoutes } from '../../../src/xprotocol/dubbo_proxy.js';

test('interfaces become virtual hosts; group, version and method become header matches', () => {
  const rc = dubboRoutes({
    route_config: [
      { name: 'a', interface: 'com.x.A', group: 'g1', version: '2.0', routes: [{ match: { method: { name: { exact: 'get' } }, headers: [{ name: 'tenant', string_match: { exact: 'blue' } }] }, route: { cluster: 'a2' } }] },
      { name: 'a-any', interface: 'com.x.A', routes: [{ match: {}, route: { weighted_clusters: { clusters: [{ name: 'a', weight: 1 }] } } }] },
      { interface: 'com.x.B', routes: [{ match: {}, route: { cluster: 'b' } }] },
    ],
  }, 'f') as unknown as { virtual_hosts: { name: string; domains: string[]; routes: { match: { prefix: string; headers?: unknown[] }; route: unknown }[] }[] };
  assert.equal(rc.virtual_hosts.length, 2, 'one virtual host per interface');
  const [a, b] = rc.virtual_hosts;
  assert.deepEqual(a.domains, ['com.x.A']);
  assert.equal(a.routes.length, 2, 'routes of both configs for com.x.A, in order');
  assert.deepEqual(a.routes[0].match.headers, [
    { name: 'x-protocol-group', string_match: { exact: 'g1' } },
    { name: 'x-protocol-version', string_match: { exact: '2.0' } },
    { name: 'x-protocol-method', string_match: { exact: 'get' } },
    { name: 'tenant', string_match: { exact: 'blue' } },
  ]);
  assert.deepEqual(a.routes[0].route, { cluster: 'a2' });
  assert.equal(a.routes[1].match.headers, undefined);
  assert.deepEqual(b.domains, ['com.x.B']);
  assert.equal(b.name, 'dubbo_2');
});

test('what dubbo_proxy routes cannot express here is refused by name', () => {
  assert.throws(() => dubboRoutes({ drds: { route_config_name: 'x' } }, 'f'), /f\.drds: unsupported/);
  // params_match needs the filter's predicate list (dubboProxyFilterFactory passes one; param_match.test.ts)
  assert.throws(() => dubboRoutes({ route_config: [{ interface: 'I', routes: [{ match: { method: { name: { exact: 'm' }, params_match: { 0: { exact_match: 'x' } } } }, route: { cluster: 'c' } }] }] }, 'f'),
    /f\.route_config\[0\]\.routes\[0\]\.match\.method\.params_match: unsupported field/);
  assert.throws(() => dubboRoutes({ route_config: [{ interface: 'I', routes: [{ match: {}, route: { cluster: 'c', metadata_match: {} } }] }] }, 'f'),
    /route\.metadata_match: unsupported field/);
  assert.throws(() => dubboRoutes({ route_config: [{ routes: [] }] }, 'f'), /f\.route_config\[0\]\.interface/);
});
