/**
 * The HTTP set_filter_state filter's work on one request (on_request_headers): a stream filter state over
 * the connection's, filled from the request head, the connection's addresses and its mTLS SANs.
 */
import { FilterStateStore } from '../common/filter_state.js';
import type { DownstreamStream } from '../types/http.js';
import type { ProxyDeps } from './deps.js';
import { applyFilterStateRules, filterStateEntry, type FilterStateRule } from './set_filter_state.js';

export function requestFilterState(rules: readonly FilterStateRule[], stream: DownstreamStream, deps: ProxyDeps): FilterStateStore {
  const state = new FilterStateStore(deps.connectionFilterState);
  const head = stream.head;
  const cert = deps.clientCert;
  const entry = filterStateEntry({
    remoteAddress: stream.remoteAddress, remotePort: stream.remotePort,
    // The stream knows its local port only; the address is the listener's (Envoy prints it; Skiff "-").
    localAddress: '', localPort: stream.localPort,
    peerUriSans: cert?.peerUriSans, localUriSans: cert?.localUriSans,
  }, { method: head.method, path: head.path, host: head.host, headers: head.headers });
  applyFilterStateRules(rules, state, entry);
  return state;
}
