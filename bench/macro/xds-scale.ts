/**
 * xDS at scale (issue 3): 10 000 EDS clusters with 50 000 endpoints pushed by `skiff control-plane` to a running
 * Skiff over ADS, state of the world and delta, while open-loop HTTP traffic flows through Skiff.
 *
 * Per mode it starts (and always stops again) the control plane on an empty directory, a child process that is
 * both the HTTP upstream and the open-loop client (lib/open_loop.js), and Skiff (`--concurrency 0`) with an ADS
 * bootstrap plus one static listener routing to that upstream. Then:
 *   1. idle: traffic at RATE req/s for a few seconds -> idle p50/p99; Skiff's VmRSS -> the baseline;
 *   2. push: the clusters and assignments are written into the directory in a few files (atomic renames);
 *      the control plane logs its new snapshot (with its own read+decode and encode times) and pushes;
 *      "applied" is when the control plane has Skiff's ACK of that version for both CDS and EDS (Skiff ACKs
 *      only once a response is applied), polled on the control plane's /healthz so Skiff is not disturbed;
 *   3. traffic p50/p99 over the push window (push seen .. applied), VmRSS / VmHWM after, and one check that
 *      Skiff's /stats shows every cluster active and none warming.
 * Prints a table with the targets and ok/MISS. Env knobs: XDS_SCALE_CLUSTERS (10000), XDS_SCALE_ENDPOINTS (5 per
 * cluster), XDS_SCALE_RATE (500 req/s), XDS_SCALE_MODES (GRPC,DELTA_GRPC), XDS_SCALE_FILES (4 per type),
 * XDS_SCALE_NODE_ARGS (node flags for Skiff, e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, httpGet, waitFor } from './lib/net.js';
import { cleanupNow, installSignalCleanup, spawnTracked, stopChild } from './lib/procs.js';
import { fmtUs, table } from './lib/report.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const SKIFF_BIN = join(ROOT, 'bin', 'skiff.js');
const OPEN_LOOP = fileURLToPath(new URL('./lib/open_loop.js', import.meta.url));
const TMP = join(ROOT, '.bench-tmp', 'macro', 'xds-scale');

const CLUSTERS = Number(process.env.XDS_SCALE_CLUSTERS ?? 10_000);
const ENDPOINTS = Number(process.env.XDS_SCALE_ENDPOINTS ?? 5);
const RATE = Number(process.env.XDS_SCALE_RATE ?? 500);
const FILES = Number(process.env.XDS_SCALE_FILES ?? 4);
const MODES = (process.env.XDS_SCALE_MODES ?? 'GRPC,DELTA_GRPC').split(',').filter((m) => m === 'GRPC' || m === 'DELTA_GRPC');
const IDLE_S = 5;
const APPLY_LIMIT_MS = 180_000;
/** When after applied the settled RSS is read. */
const SETTLE_MS = 15_000;

/** Issue 3's targets. */
const TARGET = { applyMs: 1000, bytesPerCluster: 5 * 1024, bytesPerEndpoint: 512, p99Ratio: 2 };

const T = {
  cluster: 'type.googleapis.com/envoy.config.cluster.v3.Cluster',
  cla: 'type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment',
};
const HCM = 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager';
const ROUTER = 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const nowMs = (): number => performance.timeOrigin + performance.now();
const socket = (port: number, address = '127.0.0.1') => ({ socket_address: { address, port_value: port } });

function clusterResource(i: number): unknown {
  return {
    '@type': T.cluster, name: `cluster-${i}`, type: 'EDS', connect_timeout: '1s', lb_policy: 'ROUND_ROBIN',
    eds_cluster_config: { service_name: `svc-${i}`, eds_config: { ads: {}, resource_api_version: 'V3' } },
  };
}

function assignment(i: number): unknown {
  const lb = [];
  for (let e = 0; e < ENDPOINTS; e++) {
    const n = i * ENDPOINTS + e;
    lb.push({ endpoint: { address: socket(8080, `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`) } });
  }
  return { '@type': T.cla, cluster_name: `svc-${i}`, endpoints: [{ locality: { zone: 'z1' }, lb_endpoints: lb }] };
}

/** Writes every file under a hidden name first, then renames them all at once: the control plane sees one change. */
function writePush(dir: string): void {
  const staged: [string, string][] = [];
  const per = Math.ceil(CLUSTERS / FILES);
  for (let f = 0; f < FILES; f++) {
    const lo = f * per;
    const hi = Math.min(CLUSTERS, lo + per);
    const cds = [];
    const eds = [];
    for (let i = lo; i < hi; i++) { cds.push(clusterResource(i)); eds.push(assignment(i)); }
    for (const [name, items] of [[`cds-${f}.json`, cds], [`eds-${f}.json`, eds]] as const) {
      const tmp = join(dir, `.${name}.tmp`);
      writeFileSync(tmp, JSON.stringify(items));
      staged.push([tmp, join(dir, name)]);
    }
  }
  for (const [from, to] of staged) renameSync(from, to);
}

function bootstrap(mode: string, o: { listen: number; admin: number; upstream: number; cp: number }): object {
  return {
    node: { id: `bench-${mode}`, cluster: 'bench' },
    admin: { address: socket(o.admin) },
    dynamic_resources: {
      ads_config: { api_type: mode, transport_api_version: 'V3', grpc_services: [{ envoy_grpc: { cluster_name: 'xds_cluster' } }] },
      cds_config: { ads: {}, resource_api_version: 'V3' },
    },
    static_resources: {
      listeners: [{
        name: 'ingress', address: socket(o.listen),
        filter_chains: [{ filters: [{ name: 'envoy.filters.network.http_connection_manager', typed_config: {
          '@type': HCM, stat_prefix: 'ingress',
          route_config: { name: 'r', virtual_hosts: [{ name: 'all', domains: ['*'], routes: [{ match: { prefix: '/' }, route: { cluster: 'upstream' } }] }] },
          http_filters: [{ name: 'envoy.filters.http.router', typed_config: { '@type': ROUTER } }],
        } }] }],
      }],
      clusters: [
        { name: 'upstream', type: 'STATIC', connect_timeout: '1s', load_assignment: { cluster_name: 'upstream', endpoints: [{ lb_endpoints: [{ endpoint: { address: socket(o.upstream) } }] }] } },
        { name: 'xds_cluster', type: 'STATIC', connect_timeout: '1s', load_assignment: { cluster_name: 'xds_cluster', endpoints: [{ lb_endpoints: [{ endpoint: { address: socket(o.cp) } }] }] } },
      ],
    },
  };
}

/**
 * CPU time (user + system) a process has used so far, in ms (/proc/PID/stat, clock ticks of 10 ms); with `mainOnly`
 * its main thread's alone (/proc/PID/task/PID/stat: the thread that also serves traffic; the rest is worker threads).
 */
function cpuMsOf(pid: number, mainOnly = false): number {
  const stat = readFileSync(mainOnly ? `/proc/${pid}/task/${pid}/stat` : `/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

interface Mem { rssKiB: number; hwmKiB: number }
function memOf(pid: number): Mem {
  const s = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (k: string): number => Number(new RegExp(`^${k}:\\s+(\\d+)\\s+kB$`, 'm').exec(s)?.[1] ?? NaN);
  return { rssKiB: kib('VmRSS'), hwmKiB: kib('VmHWM') };
}

function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
}

interface Samples { due: number[]; latencyUs: number[]; errors: number }
function window(s: Samples, from: number, to: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < s.due.length; i++) if (s.due[i] >= from && s.due[i] <= to) out.push(s.latencyUs[i]);
  return out;
}

/** Lines of a child's stderr, kept (bounded) and matched as they come. */
function watchLines(child: ChildProcess, onLine: (line: string) => void): () => string {
  let tail = '';
  let partial = '';
  child.stderr?.on('data', (c: Buffer) => {
    const text = c.toString();
    tail = (tail + text).slice(-4000);
    partial += text;
    let nl: number;
    for (let i = 0; i < 10_000 && (nl = partial.indexOf('\n')) >= 0; i++) { onLine(partial.slice(0, nl)); partial = partial.slice(nl + 1); }
  });
  return () => tail;
}

interface ModeResult {
  mode: string;
  error?: string;
  pushToAppliedMs?: number;
  writeToAppliedMs?: number;
  cpDecodeMs?: number;
  cpEncodeMs?: number;
  skiffCpuMs?: number;
  skiffMainCpuMs?: number;
  cpCpuMs?: number;
  idle?: { p50: number; p99: number; n: number };
  push?: { p50: number; p99: number; n: number };
  errors?: number;
  base?: Mem;
  after?: Mem;
  settled?: Mem;
  cpuAfterMs?: number;
  cpCounters?: Record<string, number>;
  active?: number;
  warming?: number;
}

async function runMode(mode: string): Promise<ModeResult> {
  const result: ModeResult = { mode };
  const dir = join(TMP, mode);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, 'cp'), { recursive: true });
  const children: ChildProcess[] = [];
  try {
    // Control plane on an empty directory.
    const cpNodeArgs = (process.env.XDS_SCALE_CP_NODE_ARGS ?? '').split(' ').filter((a) => a !== '');
    const cp = spawnTracked(process.execPath, [...cpNodeArgs, SKIFF_BIN, 'control-plane', '--dir', join(dir, 'cp'), '--port', '0', '--health-port', '0', '--rescan-ms', '0']);
    children.push(cp);
    let snapshotLine: { at: number; line: string } | undefined;
    const cpTail = watchLines(cp, (line) => { if (/snapshot version 2:/.test(line)) snapshotLine = { at: nowMs(), line }; });
    const cpPorts = await new Promise<{ grpc: number; health: number }>((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error(`control plane did not start: ${cpTail()}`)), 20_000);
      cp.stdout!.on('data', (c: Buffer) => {
        out += c.toString();
        const m = /control-plane listening grpc=(\d+) health=(\d+)/.exec(out);
        if (m) { clearTimeout(timer); resolve({ grpc: Number(m[1]), health: Number(m[2]) }); }
      });
      cp.once('exit', () => { clearTimeout(timer); reject(new Error(`control plane exited: ${cpTail()}`)); });
    });

    // Upstream + load generator.
    const load = fork(OPEN_LOOP, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    children.push(load);
    const messages: Record<string, unknown>[] = [];
    load.on('message', (m: Record<string, unknown>) => messages.push(m));
    const message = async (event: string, ms: number): Promise<Record<string, unknown>> => {
      const deadline = Date.now() + ms;
      for (let i = 0; i < 100_000 && Date.now() < deadline; i++) {
        const at = messages.findIndex((m) => m.event === event);
        if (at >= 0) return messages.splice(at, 1)[0];
        await sleep(10);
      }
      throw new Error(`load generator: no ${event} within ${ms} ms`);
    };
    const upstreamPort = (await message('upstream', 10_000)).port as number;

    // Skiff.
    const listen = await freePort();
    const admin = await freePort();
    const bootPath = join(dir, 'bootstrap.json');
    writeFileSync(bootPath, JSON.stringify(bootstrap(mode, { listen, admin, upstream: upstreamPort, cp: cpPorts.grpc })));
    const nodeArgs = (process.env.XDS_SCALE_NODE_ARGS ?? '').split(' ').filter((a) => a !== '');
    const skiff = spawnTracked(process.execPath, [...nodeArgs, SKIFF_BIN, '-c', bootPath, '--concurrency', '0', '--log-level', 'info'], { cwd: ROOT });
    children.push(skiff);
    const skiffLines: string[] = [];
    const skiffTail = watchLines(skiff, (line) => { if (/\[xds\]/.test(line) && skiffLines.length < 50) skiffLines.push(`${new Date().toISOString()} ${line}`); });
    // XDS_SCALE_SKIFF_STDOUT=FILE keeps Skiff's stdout (e.g. with XDS_SCALE_NODE_ARGS=--trace-gc).
    if (process.env.XDS_SCALE_SKIFF_STDOUT) skiff.stdout?.pipe(createWriteStream(`${process.env.XDS_SCALE_SKIFF_STDOUT}.${mode}`));
    else skiff.stdout?.resume();
    try {
      await waitFor(admin, '/ready', (r) => r.status === 200, 30_000, skiff);
      await waitFor(listen, '/', (r) => r.status === 200 && r.body === 'ok', 10_000, skiff);
    } catch (e) {
      throw new Error(`${(e as Error).message}\n${skiffTail()}`);
    }

    // 1. idle
    load.send({ cmd: 'start', port: listen, rate: RATE, connections: 16, maxSeconds: 600 });
    await message('started', 10_000);
    await sleep(1500);
    const idleFrom = nowMs();
    await sleep(IDLE_S * 1000);
    const idleTo = nowMs();
    result.base = memOf(skiff.pid!);

    // 2. push
    const writeAt = nowMs();
    const cpu0 = { skiff: cpuMsOf(skiff.pid!), skiffMain: cpuMsOf(skiff.pid!, true), cp: cpuMsOf(cp.pid!) };
    writePush(join(dir, 'cp'));
    let appliedAt: number | undefined;
    const node = `bench-${mode}`;
    for (let i = 0; i < APPLY_LIMIT_MS / 20 && nowMs() - writeAt < APPLY_LIMIT_MS; i++) {
      try {
        const h = await httpGet(cpPorts.health, '/healthz', 2000);
        const acked = (JSON.parse(h.body) as { acked?: Record<string, Record<string, string>> }).acked?.[node];
        if (acked?.Cluster === '2' && acked?.ClusterLoadAssignment === '2') { appliedAt = nowMs(); break; }
      } catch { /* the control plane is busy loading: ask again */ }
      if (skiff.exitCode !== null) throw new Error(`skiff exited during the push:\n${skiffTail()}`);
      await sleep(20);
    }
    if (appliedAt === undefined) throw new Error(`not applied within ${APPLY_LIMIT_MS} ms\n${cpTail()}\n${skiffTail()}`);
    // CPU used from the write to applied: what the push cost each process, whatever the machine's other load.
    result.skiffCpuMs = cpuMsOf(skiff.pid!) - cpu0.skiff;
    result.skiffMainCpuMs = cpuMsOf(skiff.pid!, true) - cpu0.skiffMain;
    result.cpCpuMs = cpuMsOf(cp.pid!) - cpu0.cp;
    const pushAt = snapshotLine?.at ?? writeAt;
    if (process.env.XDS_SCALE_VERBOSE) {
      process.stderr.write(`write ${new Date(writeAt).toISOString()} push ${new Date(pushAt).toISOString()} applied ${new Date(appliedAt).toISOString()}\n${skiffLines.join('\n')}\n`);
    }
    result.writeToAppliedMs = appliedAt - writeAt;
    result.pushToAppliedMs = appliedAt - pushAt;
    const m = /read\+decode (\d+) ms, encode (\d+) ms/.exec(snapshotLine?.line ?? '');
    if (m) { result.cpDecodeMs = Number(m[1]); result.cpEncodeMs = Number(m[2]); }
    await sleep(1000);

    // 3. after
    load.send({ cmd: 'stop' });
    const samples = (await message('samples', 20_000)) as unknown as Samples;
    const idle = window(samples, idleFrom, idleTo);
    // The push window runs from the control plane's push to Skiff's ACK, and at least 1 s (so p99 has samples).
    const during = window(samples, pushAt, Math.max(appliedAt, pushAt + 1000));
    result.idle = { p50: percentile(idle, 0.5), p99: percentile(idle, 0.99), n: idle.length };
    result.push = { p50: percentile(during, 0.5), p99: percentile(during, 0.99), n: during.length };
    result.errors = samples.errors;
    await sleep(1000);
    result.after = memOf(skiff.pid!);
    // Skiff's CPU from here to the settled reading: traffic has stopped, so this should be near zero.
    const cpuMsOf0 = cpuMsOf(skiff.pid!);
    // Settled: V8 gives back pages of the push's garbage only some seconds later (idle-time GC, memory reducer).
    await sleep(Math.max(0, appliedAt + SETTLE_MS - nowMs()));
    result.settled = memOf(skiff.pid!);
    result.cpuAfterMs = cpuMsOf(skiff.pid!) - cpuMsOf0;
    try {
      result.cpCounters = (JSON.parse((await httpGet(cpPorts.health, '/healthz', 5000)).body) as { counters?: Record<string, number> }).counters;
    } catch { /* reported as missing */ }
    const stats = await httpGet(admin, '/stats?filter=^cluster_manager\\.(active|warming)_clusters$', 30_000);
    result.active = Number(/cluster_manager\.active_clusters: (\d+)/.exec(stats.body)?.[1]);
    result.warming = Number(/cluster_manager\.warming_clusters: (\d+)/.exec(stats.body)?.[1]);
  } catch (e) {
    result.error = (e as Error).message;
  } finally {
    for (const c of children.reverse()) await stopChild(c, 3000);
  }
  return result;
}

const verdict = (ok: boolean | undefined): string => (ok === undefined ? 'n/a' : ok ? 'ok' : 'MISS');
const mib = (kib: number | undefined): string => (kib === undefined || !Number.isFinite(kib) ? 'n/a' : `${(kib / 1024).toFixed(1)}MiB`);

function report(results: ModeResult[]): void {
  console.log(`\nxDS scale: ${CLUSTERS} EDS clusters, ${CLUSTERS * ENDPOINTS} endpoints, traffic ${RATE} req/s open loop`);
  const ms = (v: number | undefined): string => (v === undefined || !Number.isFinite(v) ? 'n/a' : `${Math.round(v)}ms`);
  console.log(table(['mode', 'push->applied', 'write->applied', 'cp decode', 'cp encode', 'skiff cpu', 'main thread', 'cp cpu', `<=${TARGET.applyMs}ms`], results.map((r) => [
    r.mode, ms(r.pushToAppliedMs), ms(r.writeToAppliedMs), ms(r.cpDecodeMs), ms(r.cpEncodeMs), ms(r.skiffCpuMs), ms(r.skiffMainCpuMs), ms(r.cpCpuMs),
    verdict(r.pushToAppliedMs === undefined ? undefined : r.pushToAppliedMs <= TARGET.applyMs),
  ])));
  console.log('');
  console.log(table(['mode', 'idle p50', 'idle p99', 'push p50', 'push p99', 'p99 ratio', 'samples idle/push', 'errors', `<=${TARGET.p99Ratio}x`], results.map((r) => {
    const ratio = r.idle && r.push ? r.push.p99 / r.idle.p99 : undefined;
    return [r.mode, fmtUs(r.idle?.p50), fmtUs(r.idle?.p99), fmtUs(r.push?.p50), fmtUs(r.push?.p99),
      ratio === undefined || !Number.isFinite(ratio) ? 'n/a' : ratio.toFixed(2), `${r.idle?.n ?? 0}/${r.push?.n ?? 0}`, String(r.errors ?? 'n/a'),
      verdict(ratio === undefined || !Number.isFinite(ratio) ? undefined : ratio <= TARGET.p99Ratio)];
  })));
  console.log('');
  const budgetKiB = (CLUSTERS * TARGET.bytesPerCluster + CLUSTERS * ENDPOINTS * TARGET.bytesPerEndpoint) / 1024;
  console.log(table(['mode', 'RSS base', 'RSS +1s', `RSS +${SETTLE_MS / 1000}s`, 'HWM', 'delta settled', 'per cluster+5 eps', `budget ${mib(budgetKiB)}`, 'active', 'warming'], results.map((r) => {
    const delta = r.base && r.settled ? r.settled.rssKiB - r.base.rssKiB : undefined;
    return [r.mode, mib(r.base?.rssKiB), mib(r.after?.rssKiB), mib(r.settled?.rssKiB), mib(r.settled?.hwmKiB), mib(delta),
      delta === undefined ? 'n/a' : `${((delta * 1024) / CLUSTERS / 1024).toFixed(2)}KiB`,
      verdict(delta === undefined ? undefined : delta <= budgetKiB), String(r.active ?? 'n/a'), String(r.warming ?? 'n/a')];
  })));
  for (const r of results) {
    console.log(`${r.mode}: skiff CPU while settling (no traffic) ${r.cpuAfterMs ?? 'n/a'} ms; control plane counters ${JSON.stringify(r.cpCounters ?? {})}`);
  }
  console.log(`\n(skiff cpu / cp cpu: CPU time each process used from the write to applied (main thread: Skiff's main thread alone, which serves the traffic); wall times on a shared machine`
    + ` include waiting for a core. Budget = ${CLUSTERS} x 5 KiB per cluster + ${CLUSTERS * ENDPOINTS} x 0.5 KiB per endpoint; active counts the 2 static clusters too)`);
  for (const r of results) if (r.error) console.log(`\n${r.mode}: ${r.error.slice(0, 3000)}`);
}

async function main(): Promise<void> {
  installSignalCleanup();
  mkdirSync(TMP, { recursive: true });
  const results: ModeResult[] = [];
  for (const mode of MODES) {
    process.stderr.write(`xds-scale: ${mode}...\n`);
    results.push(await runMode(mode));
  }
  report(results);
  writeFileSync(join(TMP, 'results.json'), JSON.stringify(results, null, 2));
  cleanupNow();
  process.exitCode = results.some((r) => r.error) ? 1 : 0;
}

void main();
