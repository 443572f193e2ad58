/**
 * envoy.filters.network.http_connection_manager as a terminal network filter: reads and validates the HCM
 * config, compiles its inline route table (or waits for its RDS table), and serves each connection of its
 * filter chain through the server codec `codec_type` picks (src/stream/server_codecs.ts) and one
 * ConnectionManager. Main thread only.
 */
import { TLSSocket } from 'node:tls';
import { ConfigError, UnsupportedConfigError } from '../common/errors.js';
import type { Any, HttpConnectionManager } from '../types/envoy.js';
import type {
  DownstreamConnection, NetworkFilter, NetworkFilterContext, NetworkFilterFactory, ServedConnection,
} from '../types/network.js';
import type { RouteResolver, RouteTable } from '../types/router.js';
import type { WasmInstance } from '../wasm/module.js';
import { compileRouteTable } from '../router/index.js';
import { selectServerCodec, serverCodec, type ServerCodecConnection } from '../stream/server_codecs.js';
import { hash64 } from '../upstream/hash.js';
import { connectionManagerConfig, HCM_FILTER_NAME, HCM_TYPE_URL, type ConnectionManagerConfig } from './config.js';
import { ConnectionManager } from './connection_manager.js';
import { PathNormalizer } from './path_normalization.js';
import { DownstreamClientCert } from './xfcc.js';

/** How long AUTO waits for the first 24 bytes before it settles on HTTP/1 (Envoy's listener filter timeout). */
const CODEC_DETECT_TIMEOUT_MS = 15_000;

type RetirableTable = RouteTable & { retire?(graceMs?: number): void };
type SwappableResolver = RouteResolver & { setTable(table: RouteTable): void };

function isSwappable(r: RouteResolver): r is SwappableResolver {
  return typeof (r as Partial<SwappableResolver>).setTable === 'function';
}

/** Compiles an HCM's inline route_config once; errors name the full field path under `path` (the filter). */
function compileInline(hcm: ConnectionManagerConfig, path: string, wasm: WasmInstance): RetirableTable | undefined {
  if (!hcm.routeConfig) return undefined;
  try {
    return compileRouteTable(hcm.routeConfig, wasm);
  } catch (e) {
    if (e instanceof ConfigError) {
      const detail = e.message.startsWith(`${e.path}: `) ? e.message.slice(e.path.length + 2) : e.message;
      const field = e.path.startsWith('route_config') ? e.path : `route_config.${e.path}`;
      throw new ConfigError(`${path}.typed_config.${field}`, detail, { cause: e });
    }
    throw e;
  }
}

export class HcmFilter implements NetworkFilter {
  readonly rdsNames: readonly string[];
  private resolver: RouteResolver | undefined;
  private cm: ConnectionManager | undefined;
  private table: RouteTable | undefined;
  private draining = false;

  constructor(readonly config: ConnectionManagerConfig, private readonly inlineTable: RetirableTable | undefined,
    private readonly ctx: NetworkFilterContext) {
    this.rdsNames = config.rdsRouteConfigName === undefined ? [] : [config.rdsRouteConfigName];
    if (inlineTable !== undefined) this.useTable(inlineTable);
  }

  setRouteTable(name: string, table: RouteTable): void {
    if (name !== this.config.rdsRouteConfigName || table === this.table) return;
    this.useTable(table);
  }

  private useTable(table: RouteTable): void {
    this.table = table;
    if (this.resolver === undefined) {
      this.resolver = this.ctx.resolverFor(table);
      this.cm = new ConnectionManager(this.config, {
        stats: this.ctx.stats, clusters: this.ctx.clusters, resolver: this.resolver, hashKey: hash64, log: this.ctx.log,
        pathNormalizer: this.config.pathNormalization && new PathNormalizer(this.config.pathNormalization, this.ctx.wasm),
      });
      if (this.draining) this.cm.startDraining();
    } else if (isSwappable(this.resolver)) {
      this.resolver.setTable(table);
    } else {
      this.ctx.log?.error(`listener ${this.ctx.listenerName}: its route resolver cannot follow RDS updates`);
    }
  }

  onConnection(conn: DownstreamConnection): ServedConnection {
    const cm = this.cm;
    const socket = conn.socket;
    if (cm === undefined) { // the listener serves only once warm: a table is always there
      socket.destroy();
      return { drain: () => {}, destroy: () => {} };
    }
    // XFCC reads the peer certificate of TLS chains, once per connection and only when a request needs it.
    const handler = cm.newConnection(() => socket.end(), socket instanceof TLSSocket ? new DownstreamClientCert(socket) : undefined, conn.filterState);
    socket.once('close', () => cm.connectionClosed());
    let codec: ServerCodecConnection | undefined;
    const config = this.config;
    selectServerCodec(config.codecType, socket, conn.info.alpn, conn.initialData, CODEC_DETECT_TIMEOUT_MS, (name, initialData) => {
      if (socket.destroyed) return;
      const factory = serverCodec(name);
      if (factory === undefined) { socket.destroy(); return; } // HTTP2 without a codec is refused at config time
      handler.setProtocol(name);
      try {
        codec = factory({
          wasm: this.ctx.wasm, socket, initialData, handler, stats: this.ctx.stats, http2: config.http2Options,
          options: {
            maxRequestHeadersKb: config.maxRequestHeadersKb,
            maxHeadersCount: config.maxHeadersCount,
            requestHeadersTimeoutMs: config.requestHeadersTimeoutMs,
            idleTimeoutMs: config.idleTimeoutMs,
          },
        });
      } catch (e) {
        this.ctx.log?.error(`listener ${this.ctx.listenerName}: connection setup failed: ${e instanceof Error ? e.message : String(e)}`);
        socket.destroy();
      }
    });
    return {
      drain: () => { if (codec === undefined) socket.destroy(); else if (codec.drain) codec.drain(); else handler.closeIfIdle(); },
      destroy: () => { if (codec === undefined) socket.destroy(); else codec.destroy(); },
    };
  }

  startDraining(): void {
    this.draining = true;
    this.cm?.startDraining();
  }

  dispose(graceMs?: number): void {
    this.inlineTable?.retire?.(graceMs);
  }
}

export const hcmFilterFactory: NetworkFilterFactory = {
  names: [HCM_FILTER_NAME],
  typeUrls: [HCM_TYPE_URL],
  create(typedConfig: Any, path: string, ctx: NetworkFilterContext): NetworkFilter {
    const config = connectionManagerConfig(typedConfig as unknown as HttpConnectionManager, path);
    if (config.codecType === 'HTTP2' && serverCodec('http2') === undefined) {
      throw new UnsupportedConfigError(`${path}.typed_config.codec_type`, 'codec_type HTTP2 (no HTTP/2 server codec is registered)');
    }
    return new HcmFilter(config, compileInline(config, path, ctx.wasm), ctx);
  },
};
