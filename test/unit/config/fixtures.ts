// Small bootstraps for the config tests, built as objects so each test changes one field and asserts
// exactly what that change does.
import { loadBootstrapText, type LoadOptions } from '../../../src/config/bootstrap.js';
import type { LoadedBootstrap } from '../../../src/config/types.js';

export const HCM = 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager';
export const ROUTER = 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router';

export type Obj = Record<string, any>;

export function hcm(overrides: Obj = {}): Obj {
  return {
    '@type': HCM,
    stat_prefix: 'ingress_http',
    route_config: {
      name: 'local',
      virtual_hosts: [{ name: 'all', domains: ['*'], routes: [{ match: { prefix: '/' }, route: { cluster: 'web' } }] }],
    },
    http_filters: [{ name: 'envoy.filters.http.router', typed_config: { '@type': ROUTER } }],
    ...overrides,
  };
}

export function listener(overrides: Obj = {}, hcmOverrides: Obj = {}): Obj {
  return {
    name: 'ingress',
    address: { socket_address: { address: '127.0.0.1', port_value: 10000 } },
    filter_chains: [{ filters: [{ name: 'envoy.filters.network.http_connection_manager', typed_config: hcm(hcmOverrides) }] }],
    ...overrides,
  };
}

export function cluster(overrides: Obj = {}): Obj {
  return {
    name: 'web',
    type: 'STATIC',
    connect_timeout: '0.25s',
    load_assignment: {
      cluster_name: 'web',
      endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: '127.0.0.1', port_value: 8080 } } } }] }],
    },
    ...overrides,
  };
}

export function bootstrap(overrides: Obj = {}): Obj {
  return {
    admin: { address: { socket_address: { address: '127.0.0.1', port_value: 9901 } } },
    static_resources: { listeners: [listener()], clusters: [cluster()] },
    ...overrides,
  };
}

export function load(doc: Obj, options?: LoadOptions): LoadedBootstrap {
  return loadBootstrapText(JSON.stringify(doc), 'json', options);
}
