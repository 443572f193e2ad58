/**
 * What the request lifecycle needs from the rest of Skiff, passed in by the connection manager so the
 * lifecycle can be tested with fakes and composed without import cycles.
 */
import type { Logger } from '../common/logger.js';
import type { RouteResolver } from '../types/router.js';
import type { ClusterManager } from '../types/upstream.js';
import type { WasmInstance } from '../wasm/module.js';

export interface ProxyDeps {
  readonly clusters: ClusterManager;
  readonly resolver: RouteResolver;
  /** 64-bit hash of a hash_policy header value (src/upstream/hash.ts hash64). */
  readonly hashKey: (value: string) => bigint;
  /** True once the listener drains: responses then carry `connection: close`. */
  readonly draining: () => boolean;
  readonly log?: Logger;
  /** The wasm instance the HTTP/1.1 codec runs on, for the upstream connections of upgrades (src/proxy/upgrade_exchange.ts). */
  readonly wasm?: WasmInstance;
}
