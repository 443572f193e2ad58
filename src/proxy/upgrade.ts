/**
 * HTTP upgrades and CONNECT as Envoy's connection manager decides them (upgrade_configs on the HCM and on the
 * route; see Envoy's "HTTP upgrades" architecture page):
 *
 *   request type: `CONNECT` for the CONNECT method, else the `Upgrade` header's value (HTTP/1.1, with
 *   `Connection: upgrade`), lowercase. `h2c` is not an upgrade Skiff serves: its headers are stripped and the
 *   request is served as HTTP/1.1 (Envoy does the same).
 *
 *   enabled: the route's entry for that type decides when it has one (enabled or not); otherwise the
 *   connection manager's entry (absent: not enabled). Not enabled -> 403 (`downstream_rq_ws_on_non_ws_route`).
 *
 * What an enabled upgrade does: CONNECT on a route with `connect_config` is terminated here (raw TCP to the
 * cluster, src/proxy/tunnel.ts); any other upgrade is forwarded to an HTTP/1.1 upstream with its upgrade headers
 * kept, and a `101` answer turns both connections into a byte tunnel. CONNECT without `connect_config` (Envoy
 * proxies it to an upstream that speaks CONNECT) is not implemented: answered 403 with a log line.
 */
import type { RequestHead } from '../types/http.js';
import type { RouteEntry } from '../types/router.js';

export const CONNECT_TYPE = 'connect';

export type UpgradeDecision =
  /** Not an upgrade: the request goes the usual way. */
  | { readonly kind: 'none' }
  /** The upgrade type is not enabled for this route: 403. */
  | { readonly kind: 'forbidden'; readonly type: string }
  /** CONNECT terminated by Skiff: the payload goes to the cluster as raw TCP. */
  | { readonly kind: 'terminate-connect' }
  /** CONNECT to be proxied to an upstream that speaks CONNECT (not implemented). */
  | { readonly kind: 'proxy-connect' }
  /** An HTTP/1.1 upgrade (WebSocket, ...) forwarded with its headers. */
  | { readonly kind: 'upgrade'; readonly type: string; readonly value: string };

/** The request's upgrade type (lowercase), or undefined when it asks for none. */
export function requestUpgradeType(head: RequestHead): string | undefined {
  if (head.method === 'CONNECT') return CONNECT_TYPE;
  if (!head.upgrade) return undefined;
  const value = head.headers.get('upgrade');
  if (value === undefined) return undefined;
  const type = value.trim().toLowerCase();
  if (type === '' || type === 'h2c') return undefined;
  return type;
}

/** Whether `type` is enabled on `route` under the connection manager's `hcm` upgrade map (Envoy's precedence). */
export function upgradeEnabled(type: string, hcm: ReadonlyMap<string, boolean>, route: RouteEntry): boolean {
  const own = route.upgrades?.get(type);
  if (own !== undefined) return own.enabled;
  return hcm.get(type) === true;
}

export function upgradeDecision(head: RequestHead, hcm: ReadonlyMap<string, boolean>, route: RouteEntry): UpgradeDecision {
  const type = requestUpgradeType(head);
  if (type === undefined) return { kind: 'none' };
  if (!upgradeEnabled(type, hcm, route)) return { kind: 'forbidden', type };
  if (type === CONNECT_TYPE) return route.upgrades?.get(type)?.terminateConnect === true ? { kind: 'terminate-connect' } : { kind: 'proxy-connect' };
  // An upgrade carrying a request body is not one a tunnel can follow (the body would precede the switch).
  if (head.bodyKind !== 'none') return { kind: 'forbidden', type };
  return { kind: 'upgrade', type, value: head.headers.get('upgrade')!.trim() };
}
