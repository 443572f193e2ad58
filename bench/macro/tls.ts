/**
 * TLS handshakes per second: wrk sends every request with `Connection: close`, so each request is a new TCP
 * connection and a full TLS handshake (wrk does not resume sessions), against
 *   - Skiff (downstream envoy.transport_sockets.tls, a direct_response route: no upstream),
 *   - nginx (1 worker, `listen ssl`, `return 200`, session cache and tickets off),
 *   - a plain Node HTTPS server (one process).
 * All three answer "hello\n" with the same certificate: ECDSA P-256, made here with the openssl CLI (TLS 1.3,
 * X25519 by default on all three). Every process started here is stopped on the way out, signals included.
 *
 * Run (after npm run build):  node dist/bench/macro/tls.js   (or: npm run bench -- macro tls)
 * Knobs: BENCH_TLS_CONNECTIONS (16), BENCH_TLS_DURATION_S (10), BENCH_TLS_WARMUP_S (2),
 * BENCH_SKIFF_CONCURRENCY ("0"; a list runs each), BENCH_TARGETS ("skiff,nginx,node").
 */
import { mkdirSync, writeFileSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from './lib/net.js';
import { cleanupNow, installSignalCleanup, onCleanup, runToEnd, spawnTracked, stopChild } from './lib/procs.js';
import { parseWrk, type WrkResult } from './lib/wrk.js';
import { benchTargets, envNumber, skiffConcurrencies } from './lib/env.js';
import { startSkiffProcess } from './lib/skiff_process.js';

const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

const cfg = {
  connections: Math.max(1, envNumber('BENCH_TLS_CONNECTIONS', 16)),
  durationS: envNumber('BENCH_TLS_DURATION_S', 10),
  warmupS: envNumber('BENCH_TLS_WARMUP_S', 2),
  skiffConcurrency: skiffConcurrencies('0'),
  targets: benchTargets('skiff,nginx,node'),
  dir: process.env.BENCH_DIR ?? join(REPO_ROOT, '.bench-tmp', 'tls'),
};

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface Cert { certPath: string; keyPath: string }

async function makeCert(): Promise<Cert> {
  const certPath = join(cfg.dir, 'server.crt');
  const keyPath = join(cfg.dir, 'server.key');
  const r = await runToEnd('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-days', '2', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1',
    '-keyout', keyPath, '-out', certPath], 20_000);
  if (r.code !== 0) throw new Error(`openssl failed: ${r.stderr}`);
  return { certPath, keyPath };
}

/** Waits until `curl -k` gets a 200 over TLS from the port. */
async function waitTls(port: number, what: string, dead: () => boolean): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const r = await runToEnd('curl', ['-sk', '-o', '/dev/null', '-w', '%{http_code}', `https://127.0.0.1:${port}/`], 2000);
    if (r.stdout === '200') return;
    if (dead()) break;
    await sleep(100);
  }
  throw new Error(`${what} did not answer over TLS`);
}

async function startNginx(port: number, cert: Cert): Promise<() => Promise<void>> {
  const d = cfg.dir;
  const conf = join(d, 'nginx.conf');
  writeFileSync(conf, `worker_processes 1;
pid ${d}/nginx.pid;
error_log ${d}/nginx.err warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${d}/tmp-body; proxy_temp_path ${d}/tmp-proxy;
  fastcgi_temp_path ${d}/tmp-fcgi; uwsgi_temp_path ${d}/tmp-uwsgi; scgi_temp_path ${d}/tmp-scgi;
  server {
    listen 127.0.0.1:${port} ssl;
    ssl_certificate ${cert.certPath}; ssl_certificate_key ${cert.keyPath};
    ssl_protocols TLSv1.2 TLSv1.3; ssl_session_cache off; ssl_session_tickets off;
    location / { default_type text/plain; return 200 "hello\\n"; }
  }
}
`);
  const child = spawnTracked('nginx', ['-e', join(d, 'nginx.err'), '-c', conf, '-g', 'daemon off;']);
  onCleanup(() => { try { child.kill('SIGKILL'); } catch { /* gone */ } });
  try {
    await waitTls(port, 'nginx', () => child.exitCode !== null);
  } catch (e) {
    throw new Error(`${(e as Error).message}: ${existsSync(join(d, 'nginx.err')) ? readFileSync(join(d, 'nginx.err'), 'utf8') : ''}`);
  }
  return () => stopChild(child);
}

async function startNodeHttps(port: number, cert: Cert): Promise<() => Promise<void>> {
  const child = spawnTracked(process.execPath, [join(REPO_ROOT, 'dist', 'bench', 'macro', 'lib', 'https_server.js'), String(port), cert.certPath, cert.keyPath]);
  await waitTls(port, 'node https', () => child.exitCode !== null);
  return () => stopChild(child);
}

function skiffBootstrap(listenPort: number, adminPort: number, cert: Cert): object {
  const socket = (port: number) => ({ socket_address: { address: '127.0.0.1', port_value: port } });
  return {
    admin: { address: socket(adminPort) },
    static_resources: {
      listeners: [{
        name: 'tls', address: socket(listenPort),
        filter_chains: [{
          transport_socket: { name: 'envoy.transport_sockets.tls', typed_config: {
            '@type': 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext',
            common_tls_context: {
              tls_certificates: [{ certificate_chain: { filename: cert.certPath }, private_key: { filename: cert.keyPath } }],
              alpn_protocols: ['http/1.1'],
            },
          } },
          filters: [{
            name: 'envoy.filters.network.http_connection_manager',
            typed_config: {
              '@type': 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager',
              stat_prefix: 'tls', codec_type: 'HTTP1',
              route_config: { virtual_hosts: [{ name: 'all', domains: ['*'], routes: [
                { match: { prefix: '/' }, direct_response: { status: 200, body: { inline_string: 'hello\n' } } },
              ] }] },
              http_filters: [{ name: 'envoy.filters.http.router', typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router' } }],
            },
          }],
        }],
      }],
    },
  };
}

async function startSkiff(concurrency: number, listenPort: number, cert: Cert): Promise<() => Promise<void>> {
  const adminPort = await freePort();
  const bootstrap = skiffBootstrap(listenPort, adminPort, cert);
  const { child, stop } = await startSkiffProcess(bootstrap, join(cfg.dir, `skiff-${concurrency}.json`), adminPort, concurrency);
  await waitTls(listenPort, 'skiff', () => child.exitCode !== null);
  return stop;
}

async function wrkClose(port: number, durationS: number): Promise<WrkResult> {
  const args = ['-t1', `-c${cfg.connections}`, `-d${durationS}s`, '--latency', '-H', 'Connection: close', `https://127.0.0.1:${port}/`];
  const r = await runToEnd('wrk', args, (durationS + 30) * 1000);
  if (r.timedOut) throw new Error(`wrk ${args.join(' ')} did not finish`);
  if (r.code !== 0) throw new Error(`wrk exited ${r.code}: ${r.stderr.trim() || r.stdout.trim()}`);
  return parseWrk(r.stdout);
}

async function main(): Promise<void> {
  installSignalCleanup();
  mkdirSync(cfg.dir, { recursive: true });
  const cert = await makeCert();
  const results: { target: string; r: WrkResult }[] = [];
  const run = async (target: string, start: (port: number) => Promise<() => Promise<void>>): Promise<void> => {
    const port = await freePort();
    const stop = await start(port);
    try {
      if (cfg.warmupS > 0) await wrkClose(port, cfg.warmupS);
      const r = await wrkClose(port, cfg.durationS);
      results.push({ target, r });
      process.stderr.write(`${target}: ${r.requestsPerSec.toFixed(0)} handshakes/s, p50 ${(r.p50Us / 1000).toFixed(2)} ms, ${r.non2xx} non-2xx, ${r.socketErrors} socket errors\n`);
    } finally {
      await stop();
    }
  };
  try {
    if (cfg.targets.has('nginx')) await run('nginx (1 worker)', (p) => startNginx(p, cert));
    if (cfg.targets.has('node')) await run('node https (1 process)', (p) => startNodeHttps(p, cert));
    if (cfg.targets.has('skiff')) for (const c of cfg.skiffConcurrency) await run(`skiff --concurrency ${c}`, (p) => startSkiff(c, p, cert));
  } finally {
    cleanupNow();
  }
  const nginx = results.find((x) => x.target.startsWith('nginx'))?.r.requestsPerSec;
  console.log(`\nTLS handshakes (wrk -c${cfg.connections}, Connection: close: one full handshake per request), ${cfg.durationS} s per target (after ${cfg.warmupS} s warm-up)\n`);
  console.log('| target | handshakes/s | p50 | p99 | non-2xx | socket errors | vs nginx |');
  console.log('|---|---|---|---|---|---|---|');
  for (const { target, r } of results) {
    const ratio = nginx ? (r.requestsPerSec / nginx).toFixed(2) : 'n/a';
    console.log(`| ${target} | ${r.requestsPerSec.toFixed(0)} | ${(r.p50Us / 1000).toFixed(2)} ms | ${(r.p99Us / 1000).toFixed(2)} ms | ${r.non2xx} | ${r.socketErrors} | ${ratio} |`);
  }
}

await main();
