/**
 * Bolt calls per second through Skiff vs direct. The Bolt server (sofa-rpc-node) runs in a child process,
 * Skiff in another (--concurrency 0); the load generator here keeps BOLT_BENCH_INFLIGHT calls in flight,
 * pipelined over BOLT_BENCH_CONNECTIONS connections, for BOLT_BENCH_SECONDS per target (the first 0.3 s not counted).
 *
 *   npm run build && node dist/bench/macro/bolt.js
 *
 * Prints calls/s and mean latency for direct and proxied, and the ratio (target: proxied >= 0.5x direct).
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startSkiff } from '../../test/helpers/skiff.js';
import { startBoltServer } from '../../test/helpers/rpc_peers.js';
import { createRequire } from 'node:module';
import * as net from 'node:net';

const SERVICE = 'com.skiff.bench.EchoService';
const SECONDS = Number(process.env.BOLT_BENCH_SECONDS ?? '5');
const INFLIGHT = Number(process.env.BOLT_BENCH_INFLIGHT ?? '256');
const CONNECTIONS = Number(process.env.BOLT_BENCH_CONNECTIONS ?? '4');

async function serverRole(kind: string): Promise<void> {
  if (kind === 'raw') {
    // Answers every Bolt v1 request with one canned response (its id patched): an upstream that costs
    // almost nothing, so the figure shows Skiff's own cost rather than sofa-rpc-node's.
    const response = bolt.responseEncode(1, { isError: false, appResponse: { $class: 'java.lang.String', $: 'hello skiff' } }, { protocolType: 'bolt', codecType: 'hessian2' });
    const server = net.createServer((c) => {
      let pending: Buffer = Buffer.alloc(0);
      c.on('error', () => {});
      c.on('data', (d: Buffer) => {
        pending = pending.length === 0 ? d : Buffer.concat([pending, d]);
        let off = 0;
        const out: Buffer[] = [];
        while (pending.length - off >= 22) {
          const total = 22 + pending.readUInt16BE(off + 14) + pending.readUInt16BE(off + 16) + pending.readUInt32BE(off + 18);
          if (pending.length - off < total) break;
          const r = Buffer.from(response);
          r.writeUInt32BE(pending.readUInt32BE(off + 5), 5);
          out.push(r);
          off += total;
        }
        pending = pending.subarray(off);
        if (out.length > 0) c.write(Buffer.concat(out));
      });
    });
    server.listen(0, '127.0.0.1', () => process.stdout.write(`${(server.address() as net.AddressInfo).port}\n`));
    process.on('SIGTERM', () => process.exit(0));
    return;
  }
  const s = await startBoltServer([{ interfaceName: SERVICE, methods: { echo: (x) => x } }]);
  process.stdout.write(`${s.port}\n`);
  process.on('SIGTERM', () => { void s.close().then(() => process.exit(0)); });
}

interface Result { calls: number; seconds: number; meanMs: number; errors: number }

const require = createRequire(import.meta.url);
const bolt = require('sofa-bolt-node/lib/protocol') as {
  requestEncode(id: number, req: object, options: object): Buffer;
  responseEncode(id: number, res: object, options: object): Buffer;
};
/** One request frame from sofa-bolt-node's encoder; copies get their own id patched at bytes 5..8. */
const TEMPLATE = bolt.requestEncode(1, {
  serverSignature: `${SERVICE}:1.0`, methodName: 'echo', args: [{ $class: 'java.lang.String', $: 'hello skiff' }], timeout: 10_000,
}, { protocolType: 'bolt', codecType: 'hessian2' });

/**
 * The load generator: CONNECTIONS connections, each keeping INFLIGHT/CONNECTIONS requests in flight; every
 * response read is answered with a new request in the same write (pipelining). Responses are counted by
 * their Bolt v1 header (20 bytes + class + header + content lengths).
 */
async function load(port: number): Promise<Result> {
  const perConn = Math.max(1, Math.floor(INFLIGHT / CONNECTIONS));
  let calls = 0;
  let errors = 0;
  let latencyTotal = 0;
  const started = performance.now();
  const end = Date.now() + SECONDS * 1000;
  await Promise.all(Array.from({ length: CONNECTIONS }, () => new Promise<void>((resolve) => {
    const sent = new Map<number, number>();
    let nextId = 1;
    let pending: Buffer = Buffer.alloc(0);
    let warm = true;
    const frames = (n: number): Buffer => {
      const out = Buffer.allocUnsafe(TEMPLATE.length * n);
      for (let i = 0; i < n; i++) {
        TEMPLATE.copy(out, i * TEMPLATE.length);
        const id = nextId++;
        out.writeUInt32BE(id, i * TEMPLATE.length + 5);
        sent.set(id, performance.now());
      }
      return out;
    };
    const c = net.connect({ port, host: '127.0.0.1', noDelay: true }, () => c.write(frames(perConn)));
    c.on('error', () => { errors++; resolve(); });
    c.on('close', () => resolve());
    setTimeout(() => { warm = false; }, 300);
    // Bounded: answers still missing 5 s after the end are counted as errors.
    setTimeout(() => { errors += sent.size; c.destroy(); }, SECONDS * 1000 + 5000).unref();
    c.on('data', (d: Buffer) => {
      pending = pending.length === 0 ? d : Buffer.concat([pending, d]);
      let off = 0;
      let done = 0;
      while (pending.length - off >= 20) {
        const total = 20 + pending.readUInt16BE(off + 12) + pending.readUInt16BE(off + 14) + pending.readUInt32BE(off + 16);
        if (pending.length - off < total) break;
        const id = pending.readUInt32BE(off + 5);
        const t0 = sent.get(id);
        sent.delete(id);
        if (pending.readUInt16BE(off + 10) !== 0) errors++;
        else if (!warm) { calls++; if (t0 !== undefined) latencyTotal += performance.now() - t0; }
        off += total;
        done++;
      }
      pending = pending.subarray(off);
      if (Date.now() >= end) { if (sent.size === 0) c.destroy(); return; }
      if (done > 0) c.write(frames(done));
    });
  })));
  const seconds = (performance.now() - started) / 1000 - 0.3;
  return { calls, seconds, meanMs: calls > 0 ? latencyTotal / calls : NaN, errors };
}

async function startServerProcess(kind: string): Promise<{ port: number; stop(): void }> {
  const server = spawn(process.execPath, [fileURLToPath(import.meta.url), '--server', kind], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    server.stdout!.on('data', (c: Buffer) => { out += c.toString(); const m = /^(\d+)\n/.exec(out); if (m) resolve(Number(m[1])); });
    server.once('exit', () => reject(new Error('bolt server exited')));
    setTimeout(() => reject(new Error('bolt server did not start')), 15_000).unref();
  });
  return { port, stop: () => { server.kill('SIGTERM'); } };
}

function bootstrap(port: number): object {
  return {
    admin: { address: { socket_address: { address: '127.0.0.1', port_value: 0 } } },
    static_resources: {
      listeners: [{
        name: 'rpc', address: { socket_address: { address: '127.0.0.1', port_value: 0 } },
        filter_chains: [{ filters: [{ name: 'skiff.filters.network.xprotocol', typed_config: {
          '@type': 'type.googleapis.com/skiff.filters.network.xprotocol.v1.XProtocol', stat_prefix: 'rpc', protocol: 'bolt',
          route_config: { name: 'rpc', virtual_hosts: [{ name: 'all', domains: ['*'], routes: [{ match: { prefix: '/' }, route: { cluster: 'bolt' } }] }] },
        } }] }],
      }],
      clusters: [{ name: 'bolt', type: 'STATIC', connect_timeout: { seconds: 1 },
        load_assignment: { cluster_name: 'bolt', endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: '127.0.0.1', port_value: port } } } }] }] } }],
    },
  };
}

async function main(): Promise<void> {
  console.log(`Bolt echo, ${INFLIGHT} calls in flight over ${CONNECTIONS} pipelined connections, ${SECONDS} s each\n`);
  console.log('| upstream | target | calls/s | mean latency ms | errors |\n|---|---|---|---|---|');
  const ratios: string[] = [];
  for (const kind of ['sofa-rpc-node', 'raw']) {
    const server = await startServerProcess(kind);
    const skiff = await startSkiff({ concurrency: 0, config: bootstrap(server.port) });
    try {
      const direct = await load(server.port);
      const proxied = await load(skiff.port('rpc'));
      const row = (name: string, r: Result): string =>
        `| ${kind} | ${name} | ${Math.round(r.calls / r.seconds)} | ${r.meanMs.toFixed(2)} | ${r.errors} |`;
      console.log(row('direct', direct));
      console.log(row('through skiff', proxied));
      ratios.push(`${kind}: proxied / direct = ${((proxied.calls / proxied.seconds) / (direct.calls / direct.seconds)).toFixed(2)}`);
    } finally {
      await skiff.stop();
      server.stop();
    }
  }
  console.log(`\n${ratios.join('\n')}`);
}

/** `--load PORT`: only the load generator, against a Bolt server (or a Skiff) already running (for profiling). */
async function loadOnly(port: number): Promise<void> {
  const r = await load(port);
  console.log(`${Math.round(r.calls / r.seconds)} calls/s, mean ${r.meanMs.toFixed(2)} ms, ${r.errors} errors`);
}

if (process.argv.includes('--load')) void loadOnly(Number(process.argv[process.argv.indexOf('--load') + 1]));
else if (process.argv.includes('--server')) void serverRole(process.argv[process.argv.indexOf('--server') + 1] ?? 'sofa-rpc-node');
else main().catch((e) => { console.error(e); process.exitCode = 1; });
