/**
 * gRPC unary calls per second through Skiff against the same calls made directly, with @grpc/grpc-js on both
 * ends: N concurrent callers share one channel (one HTTP/2 connection), each issuing its next call when the
 * previous one completes, for a fixed time. Skiff listens h2c (codec AUTO) and forwards over HTTP/2 to the
 * gRPC server (explicit http2_protocol_options). The server runs in its own process (lib/grpc_server.ts);
 * the callers run in this one. Every process started here is stopped on the way out, signals included.
 *
 * Run (after npm run build):  node dist/bench/macro/grpc.js   (or: npm run bench -- macro grpc)
 * Knobs: BENCH_GRPC_CALLERS (32), BENCH_GRPC_DURATION_S (10), BENCH_GRPC_WARMUP_S (2), BENCH_GRPC_BYTES (64),
 * BENCH_SKIFF_CONCURRENCY ("0"; a list runs each), BENCH_TARGETS ("direct,skiff").
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import { freePort } from './lib/net.js';
import { cleanupNow, installSignalCleanup, spawnTracked, stopChild } from './lib/procs.js';
import { ECHO_SERVICE } from './lib/grpc_server.js';
import { benchTargets, envNumber, skiffConcurrencies } from './lib/env.js';
import { startSkiffProcess } from './lib/skiff_process.js';

const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

const cfg = {
  callers: Math.max(1, envNumber('BENCH_GRPC_CALLERS', 32)),
  durationS: envNumber('BENCH_GRPC_DURATION_S', 10),
  warmupS: envNumber('BENCH_GRPC_WARMUP_S', 2),
  bytes: envNumber('BENCH_GRPC_BYTES', 64),
  skiffConcurrency: skiffConcurrencies('0'),
  targets: benchTargets('direct,skiff'),
  dir: process.env.BENCH_DIR ?? join(REPO_ROOT, '.bench-tmp', 'grpc'),
};

async function startGrpcServer(): Promise<{ port: number; stop: () => Promise<void> }> {
  const child = spawnTracked(process.execPath, [join(REPO_ROOT, 'dist', 'bench', 'macro', 'lib', 'grpc_server.js'), '0']);
  let out = '';
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`gRPC server did not start: ${out}`)), 10_000);
    child.stdout?.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /port (\d+)/.exec(out);
      if (m) { clearTimeout(timer); resolve(Number(m[1])); }
    });
    child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`gRPC server exited ${code}: ${out}`)); });
  });
  return { port, stop: () => stopChild(child) };
}

function skiffBootstrap(listenPort: number, adminPort: number, upstreamPort: number): object {
  const socket = (port: number) => ({ socket_address: { address: '127.0.0.1', port_value: port } });
  return {
    admin: { address: socket(adminPort) },
    static_resources: {
      listeners: [{
        name: 'grpc', address: socket(listenPort),
        filter_chains: [{ filters: [{
          name: 'envoy.filters.network.http_connection_manager',
          typed_config: {
            '@type': 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager',
            stat_prefix: 'grpc', codec_type: 'AUTO',
            route_config: { virtual_hosts: [{ name: 'all', domains: ['*'], routes: [
              { match: { prefix: '/skiff.bench.Echo/' }, route: { cluster: 'grpc', timeout: { seconds: 0 } } },
            ] }] },
            http_filters: [{ name: 'envoy.filters.http.router', typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router' } }],
          },
        }] }],
      }],
      clusters: [{
        name: 'grpc', type: 'STATIC', connect_timeout: '1s',
        typed_extension_protocol_options: {
          'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': {
            '@type': 'type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions',
            explicit_http_config: { http2_protocol_options: {} },
          },
        },
        load_assignment: { cluster_name: 'grpc', endpoints: [{ lb_endpoints: [{ endpoint: { address: socket(upstreamPort) } }] }] },
      }],
    },
  };
}

async function startSkiff(concurrency: number, listenPort: number, upstreamPort: number): Promise<() => Promise<void>> {
  const adminPort = await freePort();
  const bootstrap = skiffBootstrap(listenPort, adminPort, upstreamPort);
  return (await startSkiffProcess(bootstrap, join(cfg.dir, `skiff-${concurrency}.json`), adminPort, concurrency)).stop;
}

interface CallResult { calls: number; errors: number; rps: number; p50Ms: number; p99Ms: number }

/** `cfg.callers` closed loops of unary calls on one channel for `durationS`; latencies of every call. */
async function load(port: number, durationS: number): Promise<CallResult> {
  const Ctor = grpc.makeGenericClientConstructor(ECHO_SERVICE, 'Echo');
  const client = new Ctor(`127.0.0.1:${port}`, grpc.credentials.createInsecure()) as unknown as grpc.Client & { Call: (m: Buffer, o: grpc.CallOptions, cb: (e: grpc.ServiceError | null) => void) => void };
  const payload = Buffer.alloc(cfg.bytes, 0x61);
  const latencies: number[] = [];
  let errors = 0;
  const started = performance.now();
  const endAt = started + durationS * 1000;
  const caller = async (): Promise<void> => {
    // Bounded by time: each iteration is one call, the loop ends at endAt (a call has a 5 s deadline).
    while (performance.now() < endAt) {
      const t0 = performance.now();
      const err = await new Promise<grpc.ServiceError | null>((resolve) => client.Call(payload, { deadline: Date.now() + 5000 }, resolve));
      if (err) errors++; else latencies.push(performance.now() - t0);
    }
  };
  try {
    await Promise.all(Array.from({ length: cfg.callers }, caller));
  } finally {
    client.close();
  }
  const elapsedS = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const pct = (p: number): number => latencies.length === 0 ? NaN : latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))]!;
  return { calls: latencies.length, errors, rps: latencies.length / elapsedS, p50Ms: pct(0.5), p99Ms: pct(0.99) };
}

async function main(): Promise<void> {
  installSignalCleanup();
  mkdirSync(cfg.dir, { recursive: true });
  const server = await startGrpcServer();
  const results: { target: string; r: CallResult }[] = [];
  try {
    const run = async (target: string, port: number): Promise<void> => {
      if (cfg.warmupS > 0) await load(port, cfg.warmupS);
      const r = await load(port, cfg.durationS);
      results.push({ target, r });
      process.stderr.write(`${target}: ${r.rps.toFixed(0)} calls/s, p50 ${r.p50Ms.toFixed(2)} ms, p99 ${r.p99Ms.toFixed(2)} ms, ${r.errors} errors\n`);
    };
    if (cfg.targets.has('direct')) await run('direct (grpc-js -> grpc-js)', server.port);
    if (cfg.targets.has('skiff')) {
      for (const c of cfg.skiffConcurrency) {
        const port = await freePort();
        const stop = await startSkiff(c, port, server.port);
        try { await run(`skiff --concurrency ${c} (h2c -> h2)`, port); } finally { await stop(); }
      }
    }
  } finally {
    await server.stop();
    cleanupNow();
  }
  const direct = results.find((x) => x.target.startsWith('direct'))?.r.rps;
  console.log(`\ngRPC unary, ${cfg.callers} concurrent callers on one channel, ${cfg.bytes}-byte messages, ${cfg.durationS} s per target (after ${cfg.warmupS} s warm-up)\n`);
  console.log('| target | calls/s | p50 | p99 | errors | vs direct |');
  console.log('|---|---|---|---|---|---|');
  for (const { target, r } of results) {
    const ratio = direct ? (r.rps / direct).toFixed(2) : 'n/a';
    console.log(`| ${target} | ${r.rps.toFixed(0)} | ${r.p50Ms.toFixed(2)} ms | ${r.p99Ms.toFixed(2)} ms | ${r.errors} | ${ratio} |`);
  }
}

await main();
