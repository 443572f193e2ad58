/**
 * Checks that span more than one field or resource, after each message is valid on its own: unique
 * listener, cluster and virtual host names, one listener per address (and not the admin's), listeners and
 * admin bound to IP addresses, STATIC clusters with IP endpoints, ring hash sizes in order, and the router
 * as the last HTTP filter of every connection manager.
 * A route to a cluster that is not defined is not an error (Envoy answers 503 at run time).
 */
import { isIP } from 'node:net';
import { ConfigError } from '../common/errors.js';
import type { Address, Bootstrap, HttpConnectionManager, RouteConfiguration } from '../types/envoy.js';
import { HCM_TYPE_URL, ROUTER_TYPE_URL } from './subset.js';
import { CLUSTER_DEFAULTS } from './values.js';

function requireUnique(names: (string | undefined)[], what: string, pathOf: (i: number) => string): void {
  const seen = new Map<string, number>();
  names.forEach((name, i) => {
    if (name === undefined || name === '') return;
    const first = seen.get(name);
    if (first !== undefined) throw new ConfigError(pathOf(i), `duplicate ${what} name ${JSON.stringify(name)} (also ${pathOf(first)})`);
    seen.set(name, i);
  });
}

function bindAddress(address: Address | undefined, path: string): string {
  const sa = address?.socket_address;
  if (!sa) throw new ConfigError(fieldPath(path, 'socket_address'), 'is required');
  if (isIP(sa.address) === 0) {
    throw new ConfigError(`${path}.socket_address.address`, `must be an IP address to listen on, got ${JSON.stringify(sa.address)}`);
  }
  return `${sa.address}:${sa.port_value ?? 0}`;
}

function fieldPath(parent: string, field: string): string {
  return `${parent}.${field}`;
}

export function checkReferences(bootstrap: Bootstrap): void {
  const listeners = bootstrap.static_resources?.listeners ?? [];
  const clusters = bootstrap.static_resources?.clusters ?? [];
  const lPath = (i: number) => `static_resources.listeners[${i}]`;
  const cPath = (i: number) => `static_resources.clusters[${i}]`;
  requireUnique(listeners.map((l) => l.name), 'listener', (i) => `${lPath(i)}.name`);
  requireUnique(clusters.map((c) => c.name), 'cluster', (i) => `${cPath(i)}.name`);

  const adminKey = bootstrap.admin?.address ? bindAddress(bootstrap.admin.address, 'admin.address') : undefined;
  const bound = new Map<string, number>();
  listeners.forEach((listener, i) => {
    // An internal listener binds nothing: it is reached by name (src/upstream/internal_listeners.ts).
    const internal = (listener as { internal_listener?: unknown }).internal_listener !== undefined;
    if (!listener.address && !internal) throw new ConfigError(`${lPath(i)}.address`, 'is required');
    const key = internal ? `internal:${listener.name}` : bindAddress(listener.address, `${lPath(i)}.address`);
    // Port 0 asks the kernel for a fresh port, so several such listeners never collide.
    const first = bound.get(key);
    if (first !== undefined && !key.endsWith(':0')) {
      throw new ConfigError(`${lPath(i)}.address`, `two listeners on ${key} (also ${lPath(first)})`);
    }
    bound.set(key, i);
    if (key === adminKey && !key.endsWith(':0')) throw new ConfigError(`${lPath(i)}.address`, `${key} is also the admin address`);
    // Envoy refuses a listener without filter chains (a default_filter_chain counts); a chain needs its terminal filter.
    const defaultChain = (listener as { default_filter_chain?: unknown }).default_filter_chain;
    if ((listener.filter_chains ?? []).length === 0 && defaultChain === undefined) throw new ConfigError(`${lPath(i)}.filter_chains`, 'a listener needs a filter chain');
    (listener.filter_chains ?? []).forEach((chain, c) => {
      if ((chain.filters ?? []).length === 0) {
        throw new ConfigError(`${lPath(i)}.filter_chains[${c}].filters`, 'a terminal network filter (http_connection_manager, tcp_proxy, ...) is required');
      }
      if ((chain.filters ?? []).some((f) => f.name === 'envoy.filters.network.http_connection_manager' && f.typed_config === undefined)) {
        throw new ConfigError(`${lPath(i)}.filter_chains[${c}].filters`, 'the http_connection_manager filter (with its typed_config) is required');
      }
      (chain.filters ?? []).forEach((filter, f) => {
        const hcm = filter.typed_config as HttpConnectionManager | undefined;
        if (hcm?.['@type'] !== HCM_TYPE_URL) return;
        const at = `${lPath(i)}.filter_chains[${c}].filters[${f}].typed_config`;
        checkRouterLast(hcm, at);
        if (hcm.route_config) checkRouteConfig(hcm.route_config, `${at}.route_config`);
      });
    });
  });

  clusters.forEach((cluster, i) => {
    const ring = cluster.ring_hash_lb_config;
    const min = ring?.minimum_ring_size?.value;
    const max = ring?.maximum_ring_size?.value;
    if (min !== undefined && max !== undefined && min > max) {
      throw new ConfigError(`${cPath(i)}.ring_hash_lb_config.minimum_ring_size`, `${min} is above maximum_ring_size ${max}`);
    }
    if ((cluster.type ?? CLUSTER_DEFAULTS.type) !== 'STATIC') return;
    (cluster.load_assignment?.endpoints ?? []).forEach((locality, l) => {
      (locality.lb_endpoints ?? []).forEach((lb, e) => {
        const address = lb.endpoint?.address?.socket_address?.address;
        if (address !== undefined && isIP(address) === 0) {
          throw new ConfigError(
            `${cPath(i)}.load_assignment.endpoints[${l}].lb_endpoints[${e}].endpoint.address.socket_address.address`,
            `a STATIC cluster needs IP addresses, got ${JSON.stringify(address)} (use type STRICT_DNS for names)`,
          );
        }
      });
    });
  });
}

function checkRouterLast(hcm: HttpConnectionManager, path: string): void {
  const filters = hcm.http_filters ?? [];
  if (filters.length === 0) throw new ConfigError(`${path}.http_filters`, 'the router filter (envoy.filters.http.router) must be the last HTTP filter; none is configured');
  filters.forEach((filter, i) => {
    const isRouter = filter.typed_config ? filter.typed_config['@type'] === ROUTER_TYPE_URL : filter.name === 'envoy.filters.http.router';
    if (isRouter !== (i === filters.length - 1)) {
      throw new ConfigError(`${path}.http_filters[${i}]`, isRouter
        ? 'the router filter must be the last HTTP filter'
        : 'the last HTTP filter must be the router (envoy.filters.http.router)');
    }
  });
}

function checkRouteConfig(rc: RouteConfiguration, path: string): void {
  requireUnique((rc.virtual_hosts ?? []).map((v) => v.name), 'virtual host', (i) => `${path}.virtual_hosts[${i}].name`);
}
