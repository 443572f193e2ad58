/**
 * The admin endpoint table, Envoy's paths and formats. Handlers are plain functions of the request and
 * the deps, so they can be tested without a socket; admin.ts puts them on HTTP.
 */
import { isLogLevel, LOG_LEVELS } from '../common/logger.js';
import { clustersJson, clustersText } from './clusters.js';
import { listenersJson, listenersText } from './listeners.js';
import { prometheusText } from './prometheus.js';
import { effectiveState, serverInfoJson, commandLineOptions, nodeFromConfigDump } from './server_info.js';
import { selectStats, statsJson, statsText } from './stats_query.js';
import { ConfigDumpQueryError, queryConfigDump, type ConfigDump } from '../config/config_dump.js';
import { json, text, TEXT, type AdminDeps, type AdminEndpoint, type AdminRequest, type AdminResponse } from './types.js';

/** What the admin itself remembers between requests. */
export interface AdminState {
  healthcheckFailed: boolean;
  /** The level last set, first read from the command line (the logger does not expose its own). */
  logLevel: string;
}

export function initialAdminState(deps: AdminDeps): AdminState {
  const info = deps.serverInfo();
  return { healthcheckFailed: false, logLevel: commandLineOptions(info.commandLine, info.concurrency).log_level };
}

type Format = 'text' | 'json' | 'prometheus';

function formatOf(req: AdminRequest, allowed: readonly Format[]): Format | AdminResponse {
  const f = (req.query.get('format') ?? 'text') as Format;
  if (allowed.includes(f)) return f;
  return text(400, `usage: ${req.path}?format=${allowed.join('|')}\n`);
}

function clusterNames(deps: AdminDeps): string[] {
  return deps.clusters().all().map((c) => c.name);
}

function statsResponse(deps: AdminDeps, req: AdminRequest, forced?: Format): AdminResponse {
  const format = forced ?? formatOf(req, ['text', 'json', 'prometheus']);
  if (typeof format !== 'string') return format;
  const sel = selectStats(deps.stats, req.query);
  if (!sel.ok) return text(400, sel.error + '\n');
  if (format === 'json') return json(statsJson(sel.stats));
  if (format === 'prometheus') return text(200, prometheusText(sel.stats, clusterNames(deps)));
  return text(200, statsText(sel.stats));
}

/** server_info still answers when the config dump cannot be built: the node is then `{}`. */
function bootstrapNode(deps: AdminDeps): unknown {
  try { return nodeFromConfigDump(deps.configDump()); } catch { return {}; }
}

const OK = (): AdminResponse => text(200, 'OK\n');

function loggingResponse(deps: AdminDeps, state: AdminState, req: AdminRequest): AdminResponse {
  let status = 200;
  let body = '';
  const level = req.query.get('level');
  const others = [...req.query.keys()].filter((k) => k !== 'level');
  let error: string | undefined;
  if (others.length > 0) error = `per-logger levels are not supported (${others.join(', ')}): use level=<level>`;
  else if (level !== null && !isLogLevel(level)) error = `unknown level ${JSON.stringify(level)}`;
  else if (level !== null && !deps.setLogLevel(level)) error = `level ${level} refused`;
  else if (level !== null) state.logLevel = level;
  if (error) {
    status = 400;
    body += `error: ${error}\n\nusage: /logging?level=<level> (change all levels)\nlevels: ${LOG_LEVELS.join(' ')}\n`;
  }
  body += `active loggers:\n  skiff: ${state.logLevel}\n`;
  return text(status, body);
}

export function adminEndpoints(deps: AdminDeps, state: AdminState): AdminEndpoint[] {
  const currentState = () => {
    const info = deps.serverInfo();
    return { info, state: effectiveState(info, deps.isReady(), state.healthcheckFailed) };
  };
  const list: AdminEndpoint[] = [
    { path: '/', help: 'this list of admin endpoints', mutates: false, handle: () => helpResponse(list, 200) },
    { path: '/help', help: 'this list of admin endpoints', mutates: false, handle: () => helpResponse(list, 200) },
    {
      path: '/ready', help: 'the server state: 200 when LIVE, 503 otherwise', mutates: false,
      handle: () => { const s = currentState().state; return text(s === 'LIVE' ? 200 : 503, s + '\n'); },
    },
    {
      path: '/server_info', help: 'version, state, uptime and command-line options (JSON)', mutates: false,
      handle: () => { const { info, state: s } = currentState(); return json(serverInfoJson(info, s, bootstrapNode(deps))); },
    },
    {
      path: '/stats', help: 'counters and gauges; ?filter=regex, ?usedonly, ?type=, ?format=json|prometheus', mutates: false,
      handle: (req) => statsResponse(deps, req),
    },
    {
      path: '/stats/prometheus', help: 'counters and gauges in the Prometheus text exposition; ?filter=regex', mutates: false,
      handle: (req) => statsResponse(deps, req, 'prometheus'),
    },
    {
      path: '/clusters', help: 'upstream clusters, circuit breakers and per-host stats; ?format=json', mutates: false,
      handle: (req) => {
        const f = formatOf(req, ['text', 'json']);
        if (typeof f !== 'string') return f;
        return f === 'json' ? json(clustersJson(deps.clusters())) : text(200, clustersText(deps.clusters()));
      },
    },
    {
      path: '/listeners', help: 'listeners and their bound addresses; ?format=json', mutates: false,
      handle: (req) => {
        const f = formatOf(req, ['text', 'json']);
        if (typeof f !== 'string') return f;
        return f === 'json' ? json(listenersJson(deps.listeners())) : text(200, listenersText(deps.listeners()));
      },
    },
    {
      path: '/config_dump', help: 'the current configuration (Envoy ConfigDump JSON); ?resource=<field>, ?mask=<fields>', mutates: false,
      handle: (req) => {
        const resource = req.query.get('resource') ?? undefined;
        const mask = req.query.get('mask') ?? undefined;
        if (resource === undefined && mask === undefined) return json(deps.configDump());
        try {
          return json(queryConfigDump(deps.configDump() as ConfigDump, resource, mask));
        } catch (err) {
          if (err instanceof ConfigDumpQueryError) return text(400, `${err.message}\n`);
          throw err;
        }
      },
    },
    {
      path: '/quitquitquit', help: 'shut the server down gracefully', mutates: true,
      handle: () => ({ ...OK(), after: () => deps.quit() }),
    },
    {
      path: '/healthcheck/fail', help: 'fail health checks (the server reports DRAINING)', mutates: true,
      handle: () => { state.healthcheckFailed = true; deps.healthcheckFail?.(true); return OK(); },
    },
    {
      path: '/healthcheck/ok', help: 'pass health checks again', mutates: true,
      handle: () => { state.healthcheckFailed = false; deps.healthcheckFail?.(false); return OK(); },
    },
    { path: '/drain_listeners', help: 'stop accepting on every listener', mutates: true, handle: () => { deps.drainListeners(); return OK(); } },
    {
      path: '/logging', help: 'show the log level, or change it with ?level=<level>', mutates: true,
      handle: (req) => loggingResponse(deps, state, req),
    },
  ];
  return list;
}

export function helpText(endpoints: readonly AdminEndpoint[]): string {
  let s = 'admin commands are:\n';
  for (const e of endpoints) s += `  ${e.path}${e.mutates ? ' (POST)' : ''}: ${e.help}\n`;
  return s;
}

function helpResponse(endpoints: readonly AdminEndpoint[], status: number): AdminResponse {
  return { status, contentType: TEXT, body: helpText(endpoints) };
}

/** Picks the endpoint and checks the method: Envoy refuses GET on mutating endpoints. */
export function dispatch(endpoints: readonly AdminEndpoint[], req: AdminRequest): AdminResponse {
  const e = endpoints.find((x) => x.path === req.path);
  if (!e) return { status: 404, contentType: TEXT, body: 'invalid path. ' + helpText(endpoints) };
  const method = req.method.toUpperCase();
  if (e.mutates && method !== 'POST') return text(405, `method ${method} not allowed, POST required\n`);
  if (!e.mutates && method !== 'GET' && method !== 'HEAD' && method !== 'POST') {
    return text(405, `method ${method} not allowed, GET required\n`);
  }
  return e.handle(req);
}
