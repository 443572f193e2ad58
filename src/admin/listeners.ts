/** /listeners in Envoy's forms: `name::address:port` lines, and `?format=json` (admin.v3.Listeners). */
import type { ListenerAddress } from './types.js';
import { hostAddress } from './clusters.js';

export function listenersText(listeners: readonly ListenerAddress[]): string {
  return listeners.map((l) => `${l.name}::${hostAddress(l.address, l.port)}\n`).join('');
}

export function listenersJson(listeners: readonly ListenerAddress[]): unknown {
  return {
    listener_statuses: listeners.map((l) => ({
      name: l.name,
      local_address: { socket_address: { address: l.address, port_value: l.port } },
    })),
  };
}
