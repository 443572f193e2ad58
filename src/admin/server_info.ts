/**
 * /server_info as Envoy's admin.v3.ServerInfo: version, state, uptimes (Duration JSON, `"12s"`) and the
 * command-line options, read back from the process's arguments in Envoy's field names.
 */
import type { ServerInfoSource, ServerState } from './types.js';

export interface CommandLineOptions {
  base_id: string;
  concurrency: number;
  config_path: string;
  config_yaml: string;
  admin_address_path: string;
  log_level: string;
  mode: 'Serve' | 'Validate';
  restart_epoch: number;
  drain_time: string;
  parent_shutdown_time: string;
}

/** Reads the flags Skiff shares with Envoy (`-c`, `--log-level`, ...); unknown arguments are skipped. */
export function commandLineOptions(argv: readonly string[], concurrency: number): CommandLineOptions {
  const o: CommandLineOptions = {
    base_id: '0', concurrency, config_path: '', config_yaml: '', admin_address_path: '', log_level: 'info',
    mode: 'Serve', restart_epoch: 0, drain_time: '600s', parent_shutdown_time: '900s',
  };
  for (let i = 0; i < argv.length; i++) {
    let flag = argv[i];
    let inline: string | undefined;
    const eq = flag.indexOf('=');
    if (flag.startsWith('--') && eq > 0) { inline = flag.slice(eq + 1); flag = flag.slice(0, eq); }
    const value = (): string => inline ?? argv[++i] ?? '';
    switch (flag) {
      case '-c': case '--config-path': o.config_path = value(); break;
      case '--config-yaml': o.config_yaml = value(); break;
      case '-l': case '--log-level': o.log_level = value(); break;
      case '--mode': o.mode = value() === 'validate' ? 'Validate' : 'Serve'; break;
      case '--admin-address-path': o.admin_address_path = value(); break;
      case '--drain-time-s': o.drain_time = `${Number(value()) || 0}s`; break;
      case '--parent-shutdown-time-s': o.parent_shutdown_time = `${Number(value()) || 0}s`; break;
      case '--restart-epoch': o.restart_epoch = Number(value()) || 0; break;
      case '--base-id': o.base_id = value(); break;
      default: break;
    }
  }
  return o;
}

/**
 * The state the admin reports: a server that says LIVE but is not ready (its health checks were failed
 * by /healthcheck/fail, or it is going down) is DRAINING, as Envoy reports it.
 */
export function effectiveState(info: ServerInfoSource, ready: boolean, healthcheckFailed: boolean): ServerState {
  if (info.state === 'LIVE' && (!ready || healthcheckFailed)) return 'DRAINING';
  return info.state;
}

/** The bootstrap's `node` from an Envoy ConfigDump (its BootstrapConfigDump entry), or `{}`. */
export function nodeFromConfigDump(dump: unknown): unknown {
  const configs = (dump as { configs?: unknown } | null)?.configs;
  if (!Array.isArray(configs)) return {};
  for (const c of configs) {
    const entry = c as { '@type'?: string; bootstrap?: { node?: unknown } } | null;
    if (entry?.['@type']?.endsWith('envoy.admin.v3.BootstrapConfigDump') && entry.bootstrap?.node) return entry.bootstrap.node;
  }
  return {};
}

export function serverInfoJson(info: ServerInfoSource, state: ServerState, node: unknown = {}): unknown {
  const uptime = `${Math.max(0, Math.floor(info.uptimeSeconds))}s`;
  return {
    version: info.version,
    state,
    hot_restart_version: 'disabled',
    command_line_options: commandLineOptions(info.commandLine, info.concurrency),
    node,
    uptime_current_epoch: uptime,
    uptime_all_epochs: uptime,
  };
}
