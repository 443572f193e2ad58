/**
 * `skiff control-plane --dir DIR --port N [--address 127.0.0.1] [--health-port M] [--log-level L]`:
 * the file-backed xDS server (src/control_plane). Runs until SIGTERM/SIGINT; returns the exit code.
 */
import { parseArgs as parseNodeArgs } from 'node:util';
import { existsSync, statSync } from 'node:fs';
import { isLogLevel, setLogLevel } from '../common/logger.js';
import { ControlPlaneServer } from '../control_plane/server.js';

export const CONTROL_PLANE_USAGE = `usage: skiff control-plane --dir DIR --port N [options]

Serves the Listener, RouteConfiguration, Cluster and ClusterLoadAssignment resources in DIR's YAML/JSON files
over xDS (ADS: state of the world and delta), and pushes every change to connected nodes.

  --dir DIR            directory of resource files (*.yaml, *.yml, *.json)
  --port N             gRPC port (0: any free port)
  --address ADDR       address to bind (default 127.0.0.1)
  --health-port M      /healthz HTTP port (default: N + 1; any free port when N is 0)
  --rescan-ms MS       periodic rescan besides file watching (default 2000, 0 = off)
  --log-level LEVEL    trace|debug|info|warn|error|critical|off (default info)
`;

export interface ControlPlaneArgs {
  dir: string;
  port: number;
  address: string;
  healthPort: number | undefined;
  rescanMs: number;
  logLevel: string;
  help: boolean;
}

export class ControlPlaneUsageError extends Error {}

function port(raw: string, flag: string): number {
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || n > 65535) throw new ControlPlaneUsageError(`${flag}: not a port: '${raw}'`);
  return n;
}

export function parseControlPlaneArgs(argv: string[]): ControlPlaneArgs {
  let parsed;
  try {
    parsed = parseNodeArgs({
      args: argv, allowPositionals: false, strict: true,
      options: {
        dir: { type: 'string' }, port: { type: 'string' }, address: { type: 'string' }, 'health-port': { type: 'string' },
        'rescan-ms': { type: 'string' }, 'log-level': { type: 'string' }, help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (e) {
    throw new ControlPlaneUsageError((e as Error).message);
  }
  const v = parsed.values;
  if (v.help) return { dir: '', port: 0, address: '', healthPort: undefined, rescanMs: 0, logLevel: 'info', help: true };
  if (!v.dir) throw new ControlPlaneUsageError('--dir is required');
  if (v.port === undefined) throw new ControlPlaneUsageError('--port is required');
  if (!existsSync(v.dir) || !statSync(v.dir).isDirectory()) throw new ControlPlaneUsageError(`--dir: '${v.dir}' is not a directory`);
  const logLevel = v['log-level'] ?? 'info';
  if (!isLogLevel(logLevel)) throw new ControlPlaneUsageError(`--log-level: unknown level '${logLevel}'`);
  const rescan = v['rescan-ms'] ?? '2000';
  if (!/^\d+$/.test(rescan)) throw new ControlPlaneUsageError(`--rescan-ms: not a number: '${rescan}'`);
  return {
    dir: v.dir, port: port(v.port, '--port'), address: v.address ?? '127.0.0.1',
    healthPort: v['health-port'] === undefined ? undefined : port(v['health-port'], '--health-port'),
    rescanMs: Number(rescan), logLevel, help: false,
  };
}

/** Entry for `skiff control-plane ARGS`; resolves with the exit code after SIGTERM/SIGINT. */
export async function controlPlaneMain(argv: string[]): Promise<number> {
  let args: ControlPlaneArgs;
  try {
    args = parseControlPlaneArgs(argv);
  } catch (e) {
    if (e instanceof ControlPlaneUsageError) { process.stderr.write(`skiff control-plane: ${e.message}\n\n${CONTROL_PLANE_USAGE}`); return 2; }
    throw e;
  }
  if (args.help) { process.stdout.write(CONTROL_PLANE_USAGE); return 0; }
  if (isLogLevel(args.logLevel)) setLogLevel(args.logLevel);
  const server = new ControlPlaneServer({
    dir: args.dir, port: args.port, address: args.address, healthPort: args.healthPort,
    watcher: { debounceMs: 50, rescanMs: args.rescanMs },
  });
  try {
    const ports = await server.start();
    // One machine-readable line so scripts and tests can find the ports when --port 0 was used.
    process.stdout.write(`control-plane listening grpc=${ports.grpcPort} health=${ports.healthPort}\n`);
  } catch (e) {
    process.stderr.write(`skiff control-plane: start-up failed: ${(e as Error).message}\n`);
    await server.stop().catch(() => undefined);
    return 1;
  }
  return new Promise<number>((resolve) => {
    const onSignal = (): void => { server.stop().then(() => resolve(0), () => resolve(1)); };
    process.once('SIGTERM', onSignal);
    process.once('SIGINT', onSignal);
  });
}
