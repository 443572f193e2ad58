/**
 * The admin server's contract with the rest of Skiff: what it reads (stats, clusters, listeners, config
 * dump, server info) and what it may ask the server to do (quit, drain, fail health checks, log level).
 * Every callback runs on the main thread, inside an admin request.
 */
import type { StatsStore } from '../common/stats.js';
import type { ClusterManager } from '../types/upstream.js';

export type ServerState = 'LIVE' | 'DRAINING' | 'PRE_INITIALIZING' | 'INITIALIZING';

export interface ServerInfoSource {
  version: string;
  state: ServerState;
  uptimeSeconds: number;
  /** The process's arguments (as `process.argv.slice(1)` or without the script); flags are read from it. */
  commandLine: string[];
  concurrency: number;
}

export interface ListenerAddress { name: string; address: string; port: number }

export interface AdminDeps {
  stats: StatsStore;
  clusters(): ClusterManager;
  listeners(): ListenerAddress[];
  /** Envoy ConfigDump JSON, built by src/config. */
  configDump(): unknown;
  serverInfo(): ServerInfoSource;
  isReady(): boolean;
  /** /quitquitquit: graceful shutdown; called after the reply has been written. */
  quit(): void;
  /** /drain_listeners */
  drainListeners(): void;
  /** /logging?level=debug; false when the level is refused. Only valid level names reach it. */
  setLogLevel(level: string): boolean;
  /** /healthcheck/fail (true) and /healthcheck/ok (false), for the health_check filter and readiness. */
  healthcheckFail?(failed: boolean): void;
}

/** A parsed admin request: what every endpoint handler sees. */
export interface AdminRequest {
  method: string;
  path: string;
  query: URLSearchParams;
}

export interface AdminResponse {
  status: number;
  contentType: string;
  body: string;
  /** Runs once the reply has been flushed (e.g. the shutdown of /quitquitquit). */
  after?: () => void;
}

export interface AdminEndpoint {
  path: string;
  /** One line for the endpoint list on `/`, `/help` and 404s. */
  help: string;
  /** Mutating endpoints take POST only; GET gets 405, as Envoy does. */
  mutates: boolean;
  handle(req: AdminRequest): AdminResponse;
}

export const TEXT = 'text/plain; charset=UTF-8';
export const JSON_TYPE = 'application/json';

export function text(status: number, body: string): AdminResponse {
  return { status, contentType: TEXT, body };
}

export function json(value: unknown): AdminResponse {
  return { status: 200, contentType: JSON_TYPE, body: JSON.stringify(value, null, 2) + '\n' };
}
