import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseWrk, durationToUs } from '../../../../bench/macro/lib/wrk.js';
import { parseProbe, parseRequestLog } from '../../../../bench/macro/lib/probe.js';
import { ratioTable, memoryTable, latencyTable, isClean, type TargetResult } from '../../../../bench/macro/lib/report.js';
import { benchBootstrap } from '../../../../bench/macro/lib/bootstrap.js';
import { spawnTracked, cleanupNow } from '../../../../bench/macro/lib/procs.js';

const WRK_OUT = `Running 10s test @ http://127.0.0.1:18081/
  1 threads and 64 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   761.37us  205.40us   5.41ms   86.29%
    Req/Sec    84.63k     3.41k   89.10k    72.00%
  Latency Distribution
     50%  726.00us
     75%  812.00us
     90%    0.94ms
     99%    1.56s
  842310 requests in 10.00s, 128.53MB read
  Socket errors: connect 0, read 3, write 1, timeout 2
  Non-2xx or 3xx responses: 17
Requests/sec:  84221.92
Transfer/sec:     12.85MB
`;

test('wrk output: throughput, percentiles in µs, non-2xx and socket errors', () => {
  const r = parseWrk(WRK_OUT);
  assert.equal(r.requestsPerSec, 84221.92);
  assert.equal(r.requests, 842310);
  assert.equal(r.p50Us, 726);
  assert.equal(r.p75Us, 812);
  assert.equal(r.p90Us, 940);
  assert.equal(r.p99Us, 1_560_000);
  assert.equal(r.non2xx, 17);
  assert.equal(r.socketErrors, 6);
  assert.throws(() => parseWrk('wrk: connection refused'), /no Requests\/sec/);
  assert.throws(() => durationToUs('12parsecs'));
});

test('latency probe output', () => {
  assert.deepEqual(parseProbe('61 88 240\n'), { p50Us: 61, p90Us: 88, p99Us: 240 });
  assert.throws(() => parseProbe('? ? ?\n'));
});

const wrk = (rps: number, bad = 0) => ({ requestsPerSec: rps, requests: 100_000, p50Us: 500, p75Us: 600, p90Us: 700, p99Us: 900, non2xx: bad, socketErrors: 0 });

test('ratios against nginx and fastify, with the README targets; failures print n/a', () => {
  const results: TargetResult[] = [
    { name: 'nginx proxy', kind: 'nginx', wrk: wrk(60_000) },
    { name: 'haproxy', kind: 'haproxy', wrk: wrk(40_000) },
    { name: 'fastify', kind: 'fastify', wrk: wrk(10_000) },
    { name: 'skiff c0', kind: 'skiff', wrk: wrk(40_000) },
    { name: 'skiff c1', kind: 'skiff', wrk: wrk(20_000) },
    { name: 'skiff c2', kind: 'skiff', error: 'failed to start' },
    { name: 'skiff c3', kind: 'skiff', wrk: wrk(90_000, 50_000) },
  ];
  const lines = ratioTable(results).split('\n');
  assert.match(lines.find((l) => l.startsWith('skiff c0'))!, /^skiff c0\s+0\.67\s+1\.00\s+4\.00\s+ok\s+ok$/);
  assert.match(lines.find((l) => l.startsWith('skiff c1'))!, /^skiff c1\s+0\.33\s+0\.50\s+2\.00\s+MISS\s+MISS$/);
  assert.match(lines.find((l) => l.startsWith('skiff c2'))!, /^skiff c2(\s+n\/a){5}$/);
  assert.match(lines.find((l) => l.startsWith('skiff c3'))!, /^skiff c3(\s+n\/a){5}$/, 'a run full of errors is not compared');
  assert.equal(isClean(wrk(1, 1000)), true);
  assert.equal(isClean(wrk(1, 1001)), false);
});

test('added latency is measured against direct; RSS against 80 MB', () => {
  const pct = (p50: number) => ({ p50Us: p50, p90Us: p50 * 2, p99Us: p50 * 4 });
  const fixed = (p50: number) => ({ ...pct(p50), requests: 4000, achievedRps: 2000, non2xx: 0, errors: 0 });
  const results: TargetResult[] = [
    { name: 'direct', kind: 'direct', probe: pct(50), fixedRate: fixed(300) },
    { name: 'skiff fast', kind: 'skiff', probe: pct(120), fixedRate: fixed(380), rateRssMiB: 60, peakRssMiB: 110 },
    { name: 'skiff slow', kind: 'skiff', probe: pct(400), fixedRate: fixed(900), rateRssMiB: 95.5, peakRssMiB: 70 },
  ];
  const lat = latencyTable(results, 2000).split('\n');
  assert.match(lat.find((l) => l.startsWith('skiff fast'))!, /\s70us\s.*\s80us\s+2000\s+ok$/);
  assert.match(lat.find((l) => l.startsWith('skiff slow'))!, /\s350us\s.*\s600us\s+2000\s+MISS$/);
  const mem = memoryTable(results);
  // The verdict reads the fixed-rate peak; the whole-session peak is shown beside it.
  assert.match(mem, /skiff fast\s+60\.0 MiB\s+ok\s+110\.0 MiB/);
  assert.match(mem, /skiff slow\s+95\.5 MiB\s+MISS\s+70\.0 MiB/);
});

test('the bootstrap routes the listener to a STATIC cluster at the upstream, admin on its port', () => {
  const b = benchBootstrap({ listenPort: 1111, adminPort: 2222, upstreamPort: 18080 }) as {
    admin: { address: { socket_address: { port_value: number } } };
    static_resources: { listeners: { address: { socket_address: { port_value: number } } }[];
      clusters: { type: string; load_assignment: { endpoints: { lb_endpoints: { endpoint: { address: { socket_address: { address: string; port_value: number } } } }[] }[] } }[] };
  };
  assert.equal(b.admin.address.socket_address.port_value, 2222);
  assert.equal(b.static_resources.listeners[0].address.socket_address.port_value, 1111);
  const c = b.static_resources.clusters[0];
  assert.equal(c.type, 'STATIC');
  assert.deepEqual(c.load_assignment.endpoints[0].lb_endpoints[0].endpoint.address.socket_address, { address: '127.0.0.1', port_value: 18080 });
});

test('clean-up kills every child still running', async () => {
  const child = spawnTracked(process.execPath, ['-e', 'setTimeout(() => {}, 60000)']);
  await new Promise((r) => child.once('spawn', r));
  const exited = new Promise<string | null>((r) => child.once('exit', (_code, signal) => r(signal)));
  cleanupNow();
  assert.equal(await exited, 'SIGKILL');
});

test('the open-loop request log gives percentiles over 2xx answers and counts the rest', () => {
  const lines = [];
  for (let i = 1; i <= 100; i++) lines.push(`${1_700_000_000_000_000 + i * 500}\t200\t${i * 10}`);
  lines.push('1700000000100000\t503\t40', '1700000000100500\t-1\t0', '');
  const r = parseRequestLog(lines.join('\n'), 2);
  assert.equal(r.requests, 100);
  assert.equal(r.p50Us, 510);
  assert.equal(r.p90Us, 910);
  assert.equal(r.p99Us, 1000);
  assert.equal(r.non2xx, 1);
  assert.equal(r.errors, 1);
  assert.equal(r.achievedRps, 50);
});
