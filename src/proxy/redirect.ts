/**
 * The Location of a route's redirect action (Envoy's RedirectAction): scheme, host, port and path each
 * replaced when configured, else taken from the request.
 */
import type { RequestHead } from '../types/http.js';
import type { RouteActionEntry, RouteEntry } from '../types/router.js';

type Redirect = Extract<RouteActionEntry, { kind: 'redirect' }>;

function splitHostPort(authority: string): { host: string; port: string | undefined } {
  if (authority.startsWith('[')) {
    const end = authority.indexOf(']');
    const rest = authority.slice(end + 1);
    return { host: authority.slice(0, end + 1), port: rest.startsWith(':') ? rest.slice(1) : undefined };
  }
  const colon = authority.lastIndexOf(':');
  return colon < 0 ? { host: authority, port: undefined } : { host: authority.slice(0, colon), port: authority.slice(colon + 1) };
}

export function redirectLocation(head: RequestHead, r: Redirect, route: RouteEntry): string {
  const scheme = r.scheme ?? 'http';
  const original = splitHostPort(head.host);
  let host = original.host;
  let port = original.port;
  if (r.host !== undefined) { const h = splitHostPort(r.host); host = h.host; port = h.port ?? port; }
  if (r.port !== undefined) port = String(r.port);
  // The default port of the scheme is left out, as browsers and Envoy do.
  if ((scheme === 'http' && port === '80') || (scheme === 'https' && port === '443')) port = undefined;
  if (r.scheme === 'https' && r.port === undefined && original.port !== undefined && r.host === undefined) port = undefined;
  const q = head.path.indexOf('?');
  const pathOnly = q < 0 ? head.path : head.path.slice(0, q);
  const query = q < 0 ? '' : head.path.slice(q);
  let path: string;
  if (r.path !== undefined) path = r.path;
  else if (r.prefixRewrite !== undefined && route.matchPrefix !== undefined && pathOnly.startsWith(route.matchPrefix)) {
    path = r.prefixRewrite + pathOnly.slice(route.matchPrefix.length);
  } else path = pathOnly;
  const keepQuery = !r.stripQuery && !path.includes('?');
  return `${scheme}://${host}${port !== undefined ? ':' + port : ''}${path}${keepQuery ? query : ''}`;
}
