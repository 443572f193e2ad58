/**
 * The original_dst listener filter's filter-state side (Envoy's, for internal listeners): a connection that
 * arrives carrying `envoy.filters.listener.original_dst.local_ip` / `remote_ip` (set upstream of an internal
 * listener by set_filter_state, shared ONCE) takes those addresses as its local / remote address, so chain
 * selection (filter_chain_match, filter_chain_matcher's destination_ip input) and %DOWNSTREAM_LOCAL_ADDRESS%
 * see the original destination rather than the internal listener's. Values are `ip:port` (IPv6 bracketed), as
 * set_filter_state's address factory stores them; anything else is ignored.
 */
import type { FilterState } from '../types/network.js';
import type { ConnectionFacts } from './filter_chain_match.js';

export const ORIGINAL_DST_LOCAL_IP_KEY = 'envoy.filters.listener.original_dst.local_ip';
export const ORIGINAL_DST_REMOTE_IP_KEY = 'envoy.filters.listener.original_dst.remote_ip';

function splitAddress(v: string | undefined): { address: string; port: number } | undefined {
  if (v === undefined) return undefined;
  const m = /^\[([^\]]+)\]:(\d{1,5})$/.exec(v) ?? /^([^:]+):(\d{1,5})$/.exec(v);
  return m === null ? undefined : { address: m[1]!, port: Number(m[2]) };
}

/** `facts` with the addresses the filter state restores (the same object when it restores none). */
export function restoreOriginalAddresses(facts: ConnectionFacts, state: FilterState | undefined): ConnectionFacts {
  if (state === undefined) return facts;
  const local = splitAddress(state.get(ORIGINAL_DST_LOCAL_IP_KEY)?.value);
  const remote = splitAddress(state.get(ORIGINAL_DST_REMOTE_IP_KEY)?.value);
  if (local === undefined && remote === undefined) return facts;
  return {
    localAddress: local?.address ?? facts.localAddress, localPort: local?.port ?? facts.localPort,
    remoteAddress: remote?.address ?? facts.remoteAddress, remotePort: remote?.port ?? facts.remotePort,
    transportProtocol: facts.transportProtocol, serverName: facts.serverName, applicationProtocols: facts.applicationProtocols,
    filterState: state,
  };
}
