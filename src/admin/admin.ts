/**
 * The admin server: Envoy's admin endpoints (endpoints.ts) on node:http. It binds where the bootstrap's
 * `admin.address` says (loopback when the caller passes 127.0.0.1) and answers one request at a time
 * from the main thread; nothing here is on the data path.
 */
import http from 'node:http';
import { SkiffError } from '../common/errors.js';
import { logger } from '../common/logger.js';
import { adminEndpoints, dispatch, initialAdminState } from './endpoints.js';
import { text, type AdminDeps, type AdminResponse } from './types.js';

export type { AdminDeps } from './types.js';

const log = logger('admin');

export interface AdminServer {
  readonly port: number;
  /** Whether /healthcheck/fail is in force (for the health_check filter). */
  readonly healthcheckFailed: boolean;
  /** Stops listening and closes open admin connections. */
  close(): Promise<void>;
}

function respond(res: http.ServerResponse, r: AdminResponse): void {
  res.writeHead(r.status, {
    'content-type': r.contentType,
    'content-length': Buffer.byteLength(r.body),
    'cache-control': 'no-cache, max-age=0',
    'x-content-type-options': 'nosniff',
  });
  if (r.after) {
    const after = r.after;
    // The reply must reach the client before, say, the process exits.
    res.once('finish', () => setImmediate(after));
  }
  res.end(r.body);
}

/** Binds `address:port` (port 0 picks a free one); an empty address means loopback, never all interfaces. */
export function startAdmin(address: string, port: number, deps: AdminDeps): Promise<AdminServer> {
  const host = address === '' ? '127.0.0.1' : address;
  const state = initialAdminState(deps);
  const endpoints = adminEndpoints(deps, state);
  const server = http.createServer((req, res) => {
    req.resume(); // bodies are not used by any endpoint
    let r: AdminResponse;
    try {
      const url = new URL(req.url ?? '/', 'http://admin');
      r = dispatch(endpoints, { method: req.method ?? 'GET', path: url.pathname, query: url.searchParams });
    } catch (e) {
      log.error(`admin ${req.method} ${req.url}: ${(e as Error).stack ?? String(e)}`);
      r = text(500, `internal error: ${(e as Error).message}\n`);
    }
    respond(res, r);
  });
  server.on('clientError', (_err, socket) => { socket.destroy(); });
  return new Promise((resolve, reject) => {
    server.once('error', (e) => reject(new SkiffError('SKIFF_ADMIN_BIND', `admin cannot listen on ${host}:${port}: ${e.message}`, 'config', false, { cause: e })));
    server.listen(port, host, () => {
      const bound = server.address();
      const boundPort = typeof bound === 'object' && bound ? bound.port : port;
      resolve({
        port: boundPort,
        get healthcheckFailed() { return state.healthcheckFailed; },
        close: () => new Promise<void>((done) => {
          server.close(() => done());
          server.closeAllConnections();
        }),
      });
    });
  });
}
