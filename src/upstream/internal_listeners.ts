/**
 * The process's internal listeners (Envoy's bootstrap extension envoy.bootstrap.internal_listener): listeners
 * with `internal_listener` bind no port; the listener manager registers each one here by name, and a cluster
 * endpoint with an `envoy_internal_address` connects to it in-process (src/upstream/transport.ts openSocket).
 * One registry per process: Skiff runs one server per process, as Envoy has one per instance.
 *
 * Main thread only.
 */
import type { FilterState } from '../types/network.js';
import { FilterStateStore } from '../common/filter_state.js';
import { internalSocketPair, refusedInternalSocket, type InternalSocket } from './internal_socket.js';

/** Where an internal endpoint connects, and what travels with the connection. */
export interface InternalAddress {
  /** `envoy_internal_address.server_listener_name`. */
  readonly listenerName: string;
  /** `envoy_internal_address.endpoint_id` ('' when unset): tells endpoints of one listener apart. */
  readonly endpointId: string;
  /** The upstream's passthrough_metadata (src/upstream/internal_upstream.ts), by namespace. */
  readonly metadata?: ReadonlyMap<string, Record<string, unknown>>;
}

/** Per connection: what the connecting side shares with the internal listener (filter state ONCE / TRANSITIVE). */
export interface InternalConnectOptions {
  readonly filterState?: FilterState;
}

/** A connection handed to an internal listener: the listener's end, its metadata and its filter state. */
export interface InternalConnection {
  readonly socket: InternalSocket;
  /** The passed-through metadata (a copy per connection), by namespace. */
  readonly dynamicMetadata: ReadonlyMap<string, Readonly<Record<string, unknown>>>;
  /** The connection's filter state: what the connecting side shared with upstream, for the listener's filters to add to. */
  readonly filterState: FilterState;
}

export type InternalAcceptor = (conn: InternalConnection) => void;

export class InternalListenerRegistry {
  private readonly acceptors = new Map<string, InternalAcceptor>();

  /** The listener named `name` takes new internal connections from now on (replacing a previous one of the name). */
  register(name: string, acceptor: InternalAcceptor): void {
    this.acceptors.set(name, acceptor);
  }

  /** Stops routing to `acceptor` (only if it is still the one registered under `name`). */
  unregister(name: string, acceptor: InternalAcceptor): boolean {
    if (this.acceptors.get(name) !== acceptor) return false;
    this.acceptors.delete(name);
    return true;
  }

  has(name: string): boolean { return this.acceptors.has(name); }

  names(): string[] { return [...this.acceptors.keys()]; }

  /**
   * Opens a connection to the internal listener `address.listenerName`: returns the client end at once; on
   * the next turn the listener takes the other end and the client end emits 'connect' (or, with no such
   * listener, 'error' ECONNREFUSED, a connect failure like a closed port).
   */
  connect(address: InternalAddress, opts: InternalConnectOptions = {}): InternalSocket {
    const name = address.listenerName;
    if (!this.acceptors.has(name)) return refusedInternalSocket(name);
    const { client, server } = internalSocketPair(name);
    const dynamicMetadata = new Map<string, Record<string, unknown>>();
    for (const [k, v] of address.metadata ?? []) dynamicMetadata.set(k, { ...v });
    const filterState = opts.filterState?.sharedWithUpstream() ?? new FilterStateStore();
    setImmediate(() => {
      if (client.destroyed) { server.destroy(); return; } // cancelled while connecting
      const acceptor = this.acceptors.get(name);
      if (acceptor === undefined) { // removed in between
        server.destroy();
        client.destroy(Object.assign(new Error(`ECONNREFUSED: no internal listener named ${name}`), { code: 'ECONNREFUSED' }));
        return;
      }
      acceptor({ socket: server, dynamicMetadata, filterState });
      client.emit('connect');
    });
    return client;
  }
}

/** The process's registry. */
export const internalListeners = new InternalListenerRegistry();
