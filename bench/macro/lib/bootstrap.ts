/**
 * The Envoy v3 bootstrap Skiff runs under in the end-to-end benchmark: one listener with an HTTP
 * connection manager routing everything to a STATIC cluster (the nginx upstream), and the admin on a
 * fixed port so the harness can wait for /ready.
 */
export interface BenchBootstrapOptions { listenPort: number; adminPort: number; upstreamPort: number }

export function benchBootstrap(o: BenchBootstrapOptions): object {
  const socket = (port: number) => ({ socket_address: { address: '127.0.0.1', port_value: port } });
  return {
    admin: { address: socket(o.adminPort) },
    static_resources: {
      listeners: [{
        name: 'bench_ingress',
        address: socket(o.listenPort),
        filter_chains: [{
          filters: [{
            name: 'envoy.filters.network.http_connection_manager',
            typed_config: {
              '@type': 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager',
              stat_prefix: 'ingress_http',
              route_config: {
                name: 'bench_route',
                virtual_hosts: [{ name: 'all', domains: ['*'], routes: [{ match: { prefix: '/' }, route: { cluster: 'upstream' } }] }],
              },
              http_filters: [{
                name: 'envoy.filters.http.router',
                typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router' },
              }],
            },
          }],
        }],
      }],
      clusters: [{
        name: 'upstream',
        type: 'STATIC',
        connect_timeout: '1s',
        lb_policy: 'ROUND_ROBIN',
        load_assignment: {
          cluster_name: 'upstream',
          endpoints: [{ lb_endpoints: [{ endpoint: { address: socket(o.upstreamPort) } }] }],
        },
      }],
    },
  };
}
