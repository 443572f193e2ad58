/**
 * `skiff`: run the sidecar on an Envoy v3 bootstrap, or validate one (`--mode validate`).
 * Returns the process exit code; serving resolves only after a graceful stop.
 */
import { parseArgs, USAGE, CliError } from './options.js';
import { setLogLevel, logger } from '../common/logger.js';
import { SkiffError } from '../common/errors.js';
import type { LoadedBootstrap } from '../config/bootstrap.js';
import { capYoungGeneration } from './young_generation.js';

// The config loader (protobufjs, yaml) and the server graph are imported only once the young generation is
// capped: importing them first would already grow it (src/cli/young_generation.ts), and --help needs neither.
const log = logger('main');

async function load(configPath: string | undefined, configYaml: string | undefined): Promise<LoadedBootstrap> {
  const { loadBootstrapFile, loadBootstrapText } = await import('../config/bootstrap.js');
  return configPath ? loadBootstrapFile(configPath) : loadBootstrapText(configYaml ?? '', 'yaml');
}

export async function main(argv: string[]): Promise<number | undefined> {
  // `skiff control-plane ...`: the file-backed xDS server, loaded only when asked for.
  if (argv[0] === 'control-plane') return (await import('./control_plane.js')).controlPlaneMain(argv.slice(1));
  let opts;
  try {
    opts = parseArgs(argv);
  } catch (e) {
    if (e instanceof CliError) { process.stderr.write(`skiff: ${e.message}\n\n${USAGE}`); return 2; }
    throw e;
  }
  if (opts.command === 'help') { process.stdout.write(USAGE); return 0; }
  if (opts.command === 'version') { process.stdout.write(`skiff ${(await import('../server/server.js')).VERSION}\n`); return 0; }
  setLogLevel(opts.logLevel);
  // Before the bootstrap is loaded: decoding it alone would grow the young generation to 16 MiB.
  if (opts.newSpaceMb > 0) capYoungGeneration({ targetMb: opts.newSpaceMb });
  const what = opts.configPath ?? '--config-yaml';
  let loaded: LoadedBootstrap;
  try {
    loaded = await load(opts.configPath, opts.configYaml);
  } catch (e) {
    const code = e instanceof SkiffError ? e.code : 'SKIFF_CONFIG_INVALID';
    process.stderr.write(`skiff: configuration '${what}' rejected (${code}): ${(e as Error).message}\n`);
    return 1;
  }
  for (const w of loaded.warnings) log.warn(`config: ${w}`);
  if (opts.mode === 'validate') { process.stdout.write(`configuration '${what}' OK\n`); return 0; }

  const { Server } = await import('../server/server.js');
  const server = new Server({
    loaded, concurrency: opts.concurrency, drainTimeMs: opts.drainTimeS * 1000, offloadMinBatch: opts.offloadMinBatch, workerIdleTimeoutMs: opts.workerIdleTimeoutMs, workerMinThreads: opts.workerMinThreads,
    adminAddressPath: opts.adminAddressPath, commandLine: process.argv.slice(1),
  });
  try {
    await server.start();
  } catch (e) {
    log.error(`start-up failed: ${(e as Error).message}`);
    await server.stop().catch(() => undefined);
    return 1;
  }
  return new Promise<number>((resolve) => {
    const onSignal = (sig: string): void => {
      log.info(`${sig}: draining (up to ${opts.drainTimeS} s) and exiting`);
      server.stop().then(() => resolve(0), (e) => { log.error(`stop failed: ${(e as Error).message}`); resolve(1); });
    };
    process.once('SIGTERM', () => onSignal('SIGTERM'));
    process.once('SIGINT', () => onSignal('SIGINT'));
  });
}
