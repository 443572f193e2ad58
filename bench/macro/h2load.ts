/**
 * End-to-end HTTP/2 benchmark with h2load (h2c, prior knowledge): Skiff (HTTP/2 downstream, HTTP/1.1 to
 * the upstream) beside nginx doing the same (`listen ... http2` proxying over HTTP/1.1 keep-alive), and the
 * "direct" ceiling (an nginx answering "hello\n" itself over HTTP/2). All proxies share one nginx HTTP/1.1
 * upstream returning "hello\n". Every process started here is stopped on the way out, signals included.
 *
 * Run (after npm run build):  node dist/bench/macro/h2load.js
 * Knobs: BENCH_H2_CLIENTS (16), BENCH_H2_STREAMS (32), BENCH_H2_DURATION_S (10), BENCH_H2_WARMUP_S (2),
 * BENCH_SKIFF_CONCURRENCY ("0"), BENCH_TARGETS ("direct,nginx,skiff").
 */
import { mkdirSync, writeFileSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, httpGet } from './lib/net.js';
import { cleanupNow, installSignalCleanup, onCleanup, runToEnd, spawnTracked, stopChild } from './lib/procs.js';
import { benchTargets, envNumber, skiffConcurrencies } from './lib/env.js';
import { startSkiffProcess } from './lib/skiff_process.js';

const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

const cfg = {
  clients: envNumber('BENCH_H2_CLIENTS', 16),
  streams: envNumber('BENCH_H2_STREAMS', 32),
  durationS: envNumber('BENCH_H2_DURATION_S', 10),
  warmupS: envNumber('BENCH_H2_WARMUP_S', 2),
  skiffConcurrency: skiffConcurrencies('0'),
  targets: benchTargets('direct,nginx,skiff'),
  dir: process.env.BENCH_DIR ?? join(REPO_ROOT, '.bench-tmp', 'h2load'),
};

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function nginxConf(name: string, server: string): string {
  const d = cfg.dir;
  return `worker_processes 1;
pid ${d}/${name}.pid;
error_log ${d}/${name}.err warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${d}/tmp-${name}-body; proxy_temp_path ${d}/tmp-${name}-proxy;
  fastcgi_temp_path ${d}/tmp-${name}-fcgi; uwsgi_temp_path ${d}/tmp-${name}-uwsgi; scgi_temp_path ${d}/tmp-${name}-scgi;
  keepalive_requests 1000000; keepalive_timeout 120s; http2_max_requests 1000000; http2_max_concurrent_streams 256;
  ${server}
}
`;
}

/** Starts an nginx in the foreground (daemon off) so it is a tracked child. */
async function startNginx(name: string, server: string, port: number): Promise<() => Promise<void>> {
  const conf = join(cfg.dir, `${name}.conf`);
  writeFileSync(conf, nginxConf(name, server));
  const child = spawnTracked('nginx', ['-e', join(cfg.dir, `${name}.err`), '-c', conf, '-g', 'daemon off;']);
  onCleanup(() => { try { child.kill('SIGKILL'); } catch { /* gone */ } });
  for (let i = 0; i < 50; i++) {
    const r = await runToEnd('curl', ['-s', '-o', '/dev/null', '-w', '%{http_code}', '--http2-prior-knowledge', `http://127.0.0.1:${port}/`], 2000);
    if (r.stdout === '200') return () => stopChild(child);
    const plain = await httpGet(port, '/').catch(() => undefined);
    if (plain?.status === 200) return () => stopChild(child);
    await sleep(100);
  }
  throw new Error(`${name} did not start: ${existsSync(join(cfg.dir, `${name}.err`)) ? readFileSync(join(cfg.dir, `${name}.err`), 'utf8') : ''}`);
}

function skiffBootstrap(listenPort: number, adminPort: number, upstreamPort: number): object {
  const socket = (port: number) => ({ socket_address: { address: '127.0.0.1', port_value: port } });
  return {
    admin: { address: socket(adminPort) },
    static_resources: {
      listeners: [{
        name: 'h2', address: socket(listenPort),
        filter_chains: [{ filters: [{
          name: 'envoy.filters.network.http_connection_manager',
          typed_config: {
            '@type': 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager',
            stat_prefix: 'h2', codec_type: 'HTTP2',
            route_config: { virtual_hosts: [{ name: 'all', domains: ['*'], routes: [{ match: { prefix: '/' }, route: { cluster: 'upstream' } }] }] },
            http_filters: [{ name: 'envoy.filters.http.router', typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router' } }],
          },
        }] }],
      }],
      clusters: [{
        name: 'upstream', type: 'STATIC', connect_timeout: '1s',
        load_assignment: { cluster_name: 'upstream', endpoints: [{ lb_endpoints: [{ endpoint: { address: socket(upstreamPort) } }] }] },
      }],
    },
  };
}

async function startSkiff(concurrency: number, listenPort: number, upstreamPort: number): Promise<() => Promise<void>> {
  const adminPort = await freePort();
  const bootstrap = skiffBootstrap(listenPort, adminPort, upstreamPort);
  return (await startSkiffProcess(bootstrap, join(cfg.dir, `skiff-${concurrency}.json`), adminPort, concurrency)).stop;
}

interface H2loadResult { rps: number; meanMs: number; maxMs: number; succeeded: number; failed: number }

async function h2load(port: number, durationS: number): Promise<H2loadResult> {
  const args = ['-c', String(cfg.clients), '-m', String(cfg.streams), '-D', String(durationS), '-t', '1', `http://127.0.0.1:${port}/`];
  const r = await runToEnd('h2load', args, (durationS + 30) * 1000);
  if (r.code !== 0) throw new Error(`h2load failed: ${r.stderr || r.stdout}`);
  const rps = Number(/finished in [^,]+, ([\d.]+) req\/s/.exec(r.stdout)?.[1] ?? NaN);
  const m = /time for request:\s+([\d.]+)(us|ms|s)\s+([\d.]+)(us|ms|s)\s+([\d.]+)(us|ms|s)/.exec(r.stdout);
  const ms = (v: string, u: string): number => Number(v) * (u === 'us' ? 0.001 : u === 's' ? 1000 : 1);
  const ok = /(\d+) succeeded, (\d+) failed/.exec(r.stdout);
  return {
    rps, meanMs: m ? ms(m[5], m[6]) : NaN, maxMs: m ? ms(m[3], m[4]) : NaN,
    succeeded: Number(ok?.[1] ?? 0), failed: Number(ok?.[2] ?? 0),
  };
}

async function main(): Promise<void> {
  installSignalCleanup();
  mkdirSync(cfg.dir, { recursive: true });
  const upstreamPort = await freePort();
  const stops: (() => Promise<void>)[] = [];
  const results: { target: string; r: H2loadResult }[] = [];
  try {
    stops.push(await startNginx('upstream', `server { listen 127.0.0.1:${upstreamPort}; location / { default_type text/plain; return 200 "hello\\n"; } }`, upstreamPort));
    const run = async (target: string, port: number): Promise<void> => {
      await h2load(port, cfg.warmupS);
      const r = await h2load(port, cfg.durationS);
      results.push({ target, r });
      process.stderr.write(`${target}: ${r.rps.toFixed(0)} req/s, mean ${r.meanMs.toFixed(2)} ms, ${r.failed} failed\n`);
    };
    if (cfg.targets.has('direct')) {
      const port = await freePort();
      const stop = await startNginx('direct', `server { listen 127.0.0.1:${port} http2; location / { default_type text/plain; return 200 "hello\\n"; } }`, port);
      await run('direct (nginx h2, no proxy)', port);
      await stop();
    }
    if (cfg.targets.has('nginx')) {
      const port = await freePort();
      const stop = await startNginx('nginx-h2-proxy', `upstream backend { server 127.0.0.1:${upstreamPort}; keepalive 1024; keepalive_requests 1000000; }
  server { listen 127.0.0.1:${port} http2; location / { proxy_pass http://backend; proxy_http_version 1.1; proxy_set_header Connection ""; } }`, port);
      await run('nginx (h2 -> h1 proxy)', port);
      await stop();
    }
    if (cfg.targets.has('skiff')) {
      for (const c of cfg.skiffConcurrency) {
        const port = await freePort();
        const stop = await startSkiff(c, port, upstreamPort);
        await run(`skiff --concurrency ${c} (h2 -> h1)`, port);
        await stop();
      }
    }
  } finally {
    for (const s of stops.reverse()) await s();
    cleanupNow();
  }
  const nginx = results.find((x) => x.target.startsWith('nginx'))?.r.rps;
  console.log(`\nh2load -c${cfg.clients} -m${cfg.streams}, ${cfg.durationS} s per target (after ${cfg.warmupS} s warm-up)\n`);
  console.log('| target | req/s | mean latency | failed | vs nginx |');
  console.log('|---|---|---|---|---|');
  for (const { target, r } of results) {
    const ratio = nginx ? (r.rps / nginx).toFixed(2) : 'n/a';
    console.log(`| ${target} | ${r.rps.toFixed(0)} | ${r.meanMs.toFixed(2)} ms | ${r.failed} | ${ratio} |`);
  }
}

await main();
