/**
 * envoy.filters.network.dubbo_proxy (envoy.extensions.filters.network.dubbo_proxy.v3.DubboProxy) served by the
 * x-protocol filter: its interface / group / version / method route model is translated into an Envoy
 * RouteConfiguration over the x-protocol pseudo-headers (README.md), one virtual host per interface:
 *
 *   RouteConfiguration.interface  -> virtual host domain
 *   RouteConfiguration.group      -> header x-protocol-group exact
 *   RouteConfiguration.version    -> header x-protocol-version exact
 *   RouteMatch.method.name        -> header x-protocol-method (the StringMatcher as is)
 *   RouteMatch.method.params_match -> predicate k, evaluated in JS on the arguments (param_match.ts);
 *                                    header x-protocol-params contains ",k,"
 *   RouteMatch.headers            -> headers (attachments)
 *   RouteAction cluster / weighted_clusters -> the same
 *
 * Not supported (rejected by name): drds, metadata_match, filters other
 * than the router.
 */
import type { Any, RouteConfiguration } from '../types/envoy.js';
import type { NetworkFilter, NetworkFilterContext, NetworkFilterFactory } from '../types/network.js';
import { ConfigError, UnsupportedConfigError } from '../common/errors.js';
import { checkFields, requireString } from '../config/values.js';
import { XPROTOCOL_TYPE_URL } from './config.js';
import { PSEUDO_GROUP, PSEUDO_METHOD, PSEUDO_VERSION } from './route_head.js';
import { xprotocolFilterFactory, type XProtocolFilter } from './filter.js';
import { parseParamsMatch, PSEUDO_PARAMS, type ParamPredicate } from './param_match.js';

export const DUBBO_PROXY_FILTER_NAME = 'envoy.filters.network.dubbo_proxy';
export const DUBBO_PROXY_TYPE_URL = 'type.googleapis.com/envoy.extensions.filters.network.dubbo_proxy.v3.DubboProxy';
export const DUBBO_ROUTER_NAME = 'envoy.filters.dubbo.router';
export const DUBBO_ROUTER_TYPE_URL = 'type.googleapis.com/envoy.extensions.filters.network.dubbo_proxy.router.v3.Router';

export interface DubboRoute {
  match?: { method?: { name?: Record<string, unknown>; params_match?: Record<string, unknown> }; headers?: unknown[] };
  route?: { cluster?: string; weighted_clusters?: unknown; metadata_match?: unknown };
}
export interface DubboRouteConfig { name?: string; interface?: string; group?: string; version?: string; routes?: DubboRoute[] }
export interface DubboProxyMessage {
  stat_prefix?: string;
  protocol_type?: string;
  serialization_type?: string;
  route_config?: DubboRouteConfig[];
  drds?: unknown;
  multiple_route_config?: { name?: string; route_config?: DubboRouteConfig[] };
  dubbo_filters?: { name?: string; config?: { '@type'?: string } }[];
}

/**
 * The Envoy RouteConfiguration the dubbo_proxy routes mean; routes with params_match also add their predicate
 * to `predicates` (when given; without it params_match is refused).
 */
export function dubboRoutes(m: DubboProxyMessage, path: string, predicates?: ParamPredicate[]): RouteConfiguration {
  if (m.drds !== undefined) throw new UnsupportedConfigError(`${path}.drds`, 'dubbo_proxy RDS (drds)');
  const list = m.multiple_route_config?.route_config ?? m.route_config ?? [];
  const listPath = m.multiple_route_config !== undefined ? `${path}.multiple_route_config.route_config` : `${path}.route_config`;
  const hosts = new Map<string, { name: string; domains: string[]; routes: unknown[] }>();
  list.forEach((rc, i) => {
    const at = `${listPath}[${i}]`;
    checkFields(rc, ['name', 'interface', 'group', 'version', 'routes'], at);
    const iface = requireString(rc.interface, `${at}.interface`);
    let vh = hosts.get(iface);
    if (vh === undefined) { vh = { name: rc.name ?? `dubbo_${i}`, domains: [iface], routes: [] }; hosts.set(iface, vh); }
    (rc.routes ?? []).forEach((r, j) => {
      const rp = `${at}.routes[${j}]`;
      checkFields(r, ['match', 'route'], rp);
      const headers: unknown[] = [];
      if (rc.group) headers.push({ name: PSEUDO_GROUP, string_match: { exact: rc.group } });
      if (rc.version) headers.push({ name: PSEUDO_VERSION, string_match: { exact: rc.version } });
      const method = r.match?.method;
      if (method !== undefined) {
        checkFields(method, predicates === undefined ? ['name'] : ['name', 'params_match'], `${rp}.match.method`);
        if (method.name !== undefined) headers.push({ name: PSEUDO_METHOD, string_match: method.name });
        if (method.params_match !== undefined) {
          const p = parseParamsMatch(method.params_match, predicates!.length, `${rp}.match.method.params_match`);
          predicates!.push(p);
          headers.push({ name: PSEUDO_PARAMS, string_match: { contains: `,${p.id},` } });
        }
      }
      headers.push(...(r.match?.headers ?? []));
      const action = r.route;
      if (action === undefined) throw new ConfigError(`${rp}.route`, 'required');
      checkFields(action, ['cluster', 'weighted_clusters'], `${rp}.route`);
      vh.routes.push({ match: { prefix: '/', ...(headers.length > 0 ? { headers } : {}) }, route: action });
    });
  });
  return { name: m.multiple_route_config?.name ?? 'dubbo', virtual_hosts: [...hosts.values()] } as unknown as RouteConfiguration;
}

export const dubboProxyFilterFactory: NetworkFilterFactory = {
  names: [DUBBO_PROXY_FILTER_NAME],
  typeUrls: [DUBBO_PROXY_TYPE_URL],
  create(typedConfig: Any, path: string, ctx: NetworkFilterContext): NetworkFilter {
    const m = typedConfig as unknown as DubboProxyMessage;
    const at = `${path}.typed_config`;
    checkFields(m, ['@type', 'stat_prefix', 'protocol_type', 'serialization_type', 'route_config', 'drds', 'multiple_route_config', 'dubbo_filters'], at);
    if ((m.protocol_type ?? 'Dubbo') !== 'Dubbo') throw new UnsupportedConfigError(`${at}.protocol_type`, `value ${m.protocol_type}`);
    if ((m.serialization_type ?? 'Hessian2') !== 'Hessian2') throw new UnsupportedConfigError(`${at}.serialization_type`, `value ${m.serialization_type}`);
    (m.dubbo_filters ?? []).forEach((f, i) => {
      if (f.name !== DUBBO_ROUTER_NAME && f.config?.['@type'] !== DUBBO_ROUTER_TYPE_URL) throw new UnsupportedConfigError(`${at}.dubbo_filters[${i}]`, `dubbo filter ${f.name ?? '(unnamed)'}`);
    });
    const predicates: ParamPredicate[] = [];
    const filter = xprotocolFilterFactory.create({
      '@type': XPROTOCOL_TYPE_URL, stat_prefix: requireString(m.stat_prefix, `${at}.stat_prefix`), protocol: 'dubbo',
      route_config: dubboRoutes(m, at, predicates),
    }, path, ctx) as XProtocolFilter;
    filter.paramPredicates = predicates;
    return filter;
  },
};
