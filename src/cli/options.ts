/**
 * Command-line options in Envoy's words (`-c`, `--concurrency`, `--mode validate`, `--log-level`,
 * `--drain-time-s`, `--admin-address-path`). Unknown flags are errors, never ignored.
 */
import { SkiffError } from '../common/errors.js';
import { isLogLevel, type LogLevel } from '../common/logger.js';
import { DEFAULT_NEW_SPACE_TARGET_MB } from './young_generation.js';

export interface CliOptions {
  command: 'serve' | 'help' | 'version';
  configPath?: string;
  configYaml?: string;
  mode: 'serve' | 'validate';
  /** Worker threads; 0 runs everything inline on the main thread. */
  concurrency: number;
  logLevel: LogLevel;
  drainTimeS: number;
  parentShutdownTimeS: number;
  adminAddressPath?: string;
  /** With workers: fewer route matches than this per event-loop turn stay inline (bench/micro/worker-handoff). */
  offloadMinBatch: number;
  workerIdleTimeoutMs: number;
  workerMinThreads: number;
  /** V8 new-space cap in MiB (src/cli/young_generation.ts); 0 leaves V8's default (32 MiB). */
  newSpaceMb: number;
}

export class CliError extends SkiffError {
  constructor(message: string) {
    super('SKIFF_CLI_USAGE', message, 'config');
    this.name = 'CliError';
  }
}

export const USAGE = `Usage: skiff -c FILE [options]
       skiff control-plane --dir DIR --port N     (a file-backed xDS server; --help for its options)

  -c, --config-path FILE      Envoy v3 Bootstrap, YAML (.yaml/.yml) or JSON
      --config-yaml TEXT      Bootstrap as inline YAML instead of a file
      --mode serve|validate   validate: check the config and exit 0, or non-zero naming the bad field
      --concurrency N         worker threads for CPU work (0 = everything inline on the main thread; default 0)
  -l, --log-level LEVEL       trace, debug, info, warn, error, critical, off (default info)
      --drain-time-s N        on SIGTERM/SIGINT, how long in-flight requests may take to finish (default 600)
      --parent-shutdown-time-s N   accepted for Envoy compatibility (hot restart)
      --admin-address-path FILE    write the admin listener's address here once it is bound
      --offload-min-batch N   with workers, hand route matching to them only for batches of N or more per
                              event-loop turn (default 64: smaller batches cost the main thread more than they save).
                              Workers start on demand, when the first such batch comes, up to --concurrency
      --worker-idle-timeout-ms N   a worker with no task for N ms exits (default 30000); gauge server.worker_threads
      --worker-min-threads N  start N workers up front and keep them (default 0; a worker started under heavy
                              load was measured to hold ~10-20 MiB more than one started at boot)
      --new-space-mb N        cap V8's young generation at N MiB (default 2; 0 = V8's default, 32): a bigger one
                              saves little GC time and costs resident memory (ignored under --max-semi-space-size)
      --version               print the version
  -h, --help                  this text
`;

function intArg(flag: string, v: string | undefined, min: number, max: number): number {
  if (v === undefined || !/^\d+$/.test(v)) throw new CliError(`${flag} needs a whole number, got ${v === undefined ? 'nothing' : JSON.stringify(v)}`);
  const n = Number(v);
  if (n < min || n > max) throw new CliError(`${flag} must be between ${min} and ${max}, got ${n}`);
  return n;
}

export function parseArgs(argv: readonly string[]): CliOptions {
  const o: CliOptions = { command: 'serve', mode: 'serve', concurrency: 0, logLevel: 'info', drainTimeS: 600, parentShutdownTimeS: 900, offloadMinBatch: 64, workerIdleTimeoutMs: 30_000, workerMinThreads: 0, newSpaceMb: DEFAULT_NEW_SPACE_TARGET_MB };
  for (let i = 0; i < argv.length; i++) {
    let arg = argv[i];
    let value: string | undefined;
    const eq = arg.indexOf('=');
    if (arg.startsWith('--') && eq > 0) { value = arg.slice(eq + 1); arg = arg.slice(0, eq); }
    const next = (): string | undefined => value ?? argv[++i];
    switch (arg) {
      case '-c': case '--config-path': o.configPath = next(); if (!o.configPath) throw new CliError(`${arg} needs a file`); break;
      case '--config-yaml': o.configYaml = next(); if (o.configYaml === undefined) throw new CliError(`${arg} needs YAML text`); break;
      case '--mode': {
        const m = next();
        if (m !== 'serve' && m !== 'validate') throw new CliError(`--mode must be serve or validate, got ${JSON.stringify(m)}`);
        o.mode = m; break;
      }
      case '--concurrency': o.concurrency = intArg(arg, next(), 0, 16); break;
      case '-l': case '--log-level': {
        const l = next();
        if (!l || !isLogLevel(l)) throw new CliError(`${arg} must be one of trace, debug, info, warn, error, critical, off`);
        o.logLevel = l; break;
      }
      case '--drain-time-s': o.drainTimeS = intArg(arg, next(), 0, 86400); break;
      case '--parent-shutdown-time-s': o.parentShutdownTimeS = intArg(arg, next(), 0, 86400); break;
      case '--admin-address-path': o.adminAddressPath = next(); if (!o.adminAddressPath) throw new CliError(`${arg} needs a file`); break;
      case '--offload-min-batch': o.offloadMinBatch = intArg(arg, next(), 1, 4096); break;
      case '--worker-idle-timeout-ms': o.workerIdleTimeoutMs = intArg(arg, next(), 1, 86_400_000); break;
      case '--worker-min-threads': o.workerMinThreads = intArg(arg, next(), 0, 16); break;
      case '--new-space-mb': o.newSpaceMb = intArg(arg, next(), 0, 256); break;
      case '--version': o.command = 'version'; break;
      case '-h': case '--help': o.command = 'help'; break;
      default: throw new CliError(`unknown option ${JSON.stringify(arg)}`);
    }
  }
  if (o.configPath && o.configYaml !== undefined) throw new CliError('pass either -c FILE or --config-yaml TEXT, not both');
  if (o.command === 'serve' && !o.configPath && o.configYaml === undefined) throw new CliError('no configuration: pass -c FILE or --config-yaml TEXT');
  return o;
}
