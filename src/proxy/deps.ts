/**
 * What the request lifecycle needs from the rest of Skiff, passed in by the connection manager so the
 * lifecycle can be tested with fakes and composed without import cycles.
 */
import type { Logger } from '../common/logger.js';
import type { RouteResolver } from '../types/router.js';
import type { ClusterManager } from '../types/upstream.js';
import type { PathNormalizer } from './path_normalization.js';
import type { DownstreamClientCert } from './xfcc.js';
import type { FilterState } from '../types/network.js';

export interface ProxyDeps {
  readonly clusters: ClusterManager;
  readonly resolver: RouteResolver;
  /** 64-bit hash of a hash_policy header value (src/upstream/hash.ts hash64). */
  readonly hashKey: (value: string) => bigint;
  /** True once the listener drains: responses then carry `connection: close`. */
  readonly draining: () => boolean;
  readonly log?: Logger;
  /** The HCM's path normalization, when one of its options is on (src/proxy/path_normalization.ts). */
  readonly pathNormalizer?: PathNormalizer;
  /** The downstream connection's client certificate (TLS chains only): XFCC reads it (src/proxy/xfcc.ts). */
  readonly clientCert?: DownstreamClientCert;
  /** The downstream connection's filter state (network set_filter_state, an internal listener's passthrough). */
  readonly connectionFilterState?: FilterState;
}
