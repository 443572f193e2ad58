import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Cluster as EnvoyCluster } from '../../../src/types/envoy.js';
import type { Host } from '../../../src/types/upstream.js';
import { createLoadBalancer, lbPolicies } from '../../../src/upstream/lb/registry.js';
import { createRingHashLb } from '../../../src/upstream/lb/ring_hash.js';
import { createMaglevLb, isPrime } from '../../../src/upstream/lb/maglev.js';
import { hash64 } from '../../../src/upstream/hash.js';
import { fakeHost } from './helpers.js';
import { seededRandom } from '../../helpers/random.js';

function lb(policy: EnvoyCluster['lb_policy'], hosts: Host[], extra: Partial<EnvoyCluster> = {}, seed = 1) {
  return createLoadBalancer(hosts, { config: { name: 'c', lb_policy: policy, ...extra }, path: 'clusters[0]', random: seededRandom(seed) });
}

function hostsOf(n: number, weight = (_i: number) => 1): (Host & { key: string })[] {
  return Array.from({ length: n }, (_, i) => fakeHost(`10.0.0.${i + 1}`, weight(i)));
}

function countPicks(pick: () => Host | null, n: number): Map<Host, number> {
  const counts = new Map<Host, number>();
  for (let i = 0; i < n; i++) { const h = pick(); assert.ok(h); counts.set(h, (counts.get(h) ?? 0) + 1); }
  return counts;
}

test('the registry knows the five policies and rejects others by name', () => {
  assert.deepEqual(lbPolicies().sort(), ['LEAST_REQUEST', 'MAGLEV', 'RANDOM', 'RING_HASH', 'ROUND_ROBIN']);
  assert.throws(() => lb('CLUSTER_PROVIDED' as EnvoyCluster['lb_policy'], []), (e: Error & { code?: string }) => e.code === 'SKIFF_CONFIG_UNSUPPORTED' && /lb_policy/.test(e.message));
});

test('every policy returns null with no hosts or no healthy hosts', () => {
  for (const p of lbPolicies()) {
    assert.equal(lb(p as EnvoyCluster['lb_policy'], []).chooseHost({}), null, p);
    const hs = hostsOf(3);
    for (const h of hs) h.healthy = false;
    assert.equal(lb(p as EnvoyCluster['lb_policy'], hs).chooseHost({ hash: 42n }), null, p);
  }
});

test('every policy avoids attempted and unhealthy hosts while another exists', () => {
  for (const p of lbPolicies()) {
    const hs = hostsOf(4);
    hs[0].healthy = false;
    const balancer = lb(p as EnvoyCluster['lb_policy'], hs);
    const attempted = new Set<Host>([hs[1], hs[2]]);
    for (let i = 0; i < 50; i++) {
      assert.equal(balancer.chooseHost({ attempted, hash: hash64(`k${i}`) }), hs[3], p);
      assert.equal(balancer.chooseHost({ attempted }), hs[3], p);
    }
    // Every healthy host already tried: a retry still gets a healthy one rather than nothing.
    const all = new Set<Host>(hs);
    for (let i = 0; i < 20; i++) {
      const h = balancer.chooseHost({ attempted: all, hash: hash64(`k${i}`) });
      assert.ok(h !== null && h.healthy, p);
    }
  }
});

test('ROUND_ROBIN without weights is an exact rotation', () => {
  const hs = hostsOf(4);
  const balancer = lb('ROUND_ROBIN', hs);
  const first = balancer.chooseHost({})!;
  const start = hs.findIndex((h) => h === first);
  for (let i = 1; i < 40; i++) assert.equal(balancer.chooseHost({}), hs[(start + i) % 4]);
});

test('ROUND_ROBIN with weights gives exact proportions per cycle, interleaved', () => {
  const hs = hostsOf(3, (i) => [5, 1, 1][i]);
  const balancer = lb('ROUND_ROBIN', hs);
  for (let cycle = 0; cycle < 10; cycle++) {
    const picks = Array.from({ length: 7 }, () => balancer.chooseHost({})!);
    assert.equal(picks.filter((h) => h === hs[0]).length, 5);
    assert.equal(picks.filter((h) => h === hs[1]).length, 1);
    assert.equal(picks.filter((h) => h === hs[2]).length, 1);
    // Smooth: the heavy host never runs more than 3 in a row within a cycle of 5:1:1.
    let run = 0, maxRun = 0;
    for (const h of picks) { run = h === hs[0] ? run + 1 : 0; maxRun = Math.max(maxRun, run); }
    assert.ok(maxRun <= 3, `run of ${maxRun}`);
  }
});

test('RANDOM follows weights within tolerance', () => {
  const hs = hostsOf(3, (i) => [1, 2, 7][i]);
  const balancer = lb('RANDOM', hs, {}, 7);
  const n = 20000;
  const c = countPicks(() => balancer.chooseHost({}), n);
  [0.1, 0.2, 0.7].forEach((share, i) => assert.ok(Math.abs(c.get(hs[i])! / n - share) < 0.02, `host ${i}: ${c.get(hs[i])}`));
});

test('LEAST_REQUEST prefers the least loaded of its choices', () => {
  const hs = hostsOf(4);
  hs[0].activeRequests = 10; hs[1].activeRequests = 10; hs[2].activeRequests = 10; hs[3].activeRequests = 0;
  const balancer = lb('LEAST_REQUEST', hs);
  const c = countPicks(() => balancer.chooseHost({}), 4000);
  // With two choices among four, the idle host wins whenever drawn: 1 - (3/4)^2 = 43.75% of picks.
  const share = c.get(hs[3])! / 4000;
  assert.ok(share > 0.39 && share < 0.49, `idle host share ${share}`);
  // choice_count = number of hosts makes it nearly always find the idle one.
  const wide = lb('LEAST_REQUEST', hs, { least_request_lb_config: { choice_count: { value: 16 } } });
  const w = countPicks(() => wide.chooseHost({}), 1000);
  assert.ok(w.get(hs[3])! > 980);
  // All equal: spread evenly.
  for (const h of hs) h.activeRequests = 0;
  const even = countPicks(() => balancer.chooseHost({}), 8000);
  for (const h of hs) assert.ok(Math.abs(even.get(h)! / 8000 - 0.25) < 0.03);
  assert.throws(() => lb('LEAST_REQUEST', hs, { least_request_lb_config: { choice_count: { value: 1 } } }), /choice_count/);
});

test('RING_HASH is stable per key, spreads keys, and a removed host moves only its own keys', () => {
  const hs = hostsOf(4);
  const ring = createRingHashLb(hs, { config: { name: 'c' }, path: 'c', random: seededRandom(3) });
  assert.ok(ring.size >= 1024);
  const keys = Array.from({ length: 4000 }, (_, i) => hash64(`user-${i}`));
  const before = keys.map((hash) => ring.chooseHost({ hash })!);
  for (let i = 0; i < keys.length; i += 97) assert.equal(ring.chooseHost({ hash: keys[i] }), before[i]);
  for (const h of hs) {
    const share = before.filter((x) => x === h).length / keys.length;
    assert.ok(share > 0.15 && share < 0.35, `share ${share}`);
  }
  const removed = hs[2];
  ring.update(hs.filter((h) => h !== removed));
  let moved = 0;
  keys.forEach((hash, i) => {
    const now = ring.chooseHost({ hash })!;
    assert.notEqual(now, removed);
    if (before[i] !== removed) assert.equal(now, before[i], 'a key whose host stayed keeps it');
    else moved++;
  });
  assert.ok(moved > 0);
  // Unweighted hosts of weight 3 own about three times the keys.
  const weighted = createRingHashLb([fakeHost('10.1.0.1', 3), fakeHost('10.1.0.2', 1)], { config: { name: 'c' }, path: 'c', random: seededRandom(3) });
  const heavy = keys.filter((hash) => weighted.chooseHost({ hash })!.address === '10.1.0.1').length / keys.length;
  assert.ok(heavy > 0.65 && heavy < 0.85, `heavy share ${heavy}`);
});

test('RING_HASH validates its sizes', () => {
  const mk = (cfg: EnvoyCluster['ring_hash_lb_config']) => createRingHashLb([], { config: { name: 'c', ring_hash_lb_config: cfg }, path: 'c', random: Math.random });
  assert.throws(() => mk({ maximum_ring_size: { value: 8 * 1024 * 1024 + 1 } }), /maximum_ring_size/);
  assert.throws(() => mk({ minimum_ring_size: { value: 4096 }, maximum_ring_size: { value: 2048 } }), /minimum_ring_size/);
  const small = createRingHashLb(hostsOf(3), { config: { name: 'c', ring_hash_lb_config: { minimum_ring_size: { value: 64 } } }, path: 'c', random: Math.random });
  assert.ok(small.size >= 64 && small.size < 128);
  // Huge weights scale the points down instead of blowing the ring up; proportions hold.
  const big = createRingHashLb([fakeHost('10.3.0.1', 3_000_000_000), fakeHost('10.3.0.2', 1_000_000_000)], { config: { name: 'c' }, path: 'c', random: Math.random });
  assert.ok(big.size >= 1024 && big.size <= 1026, `size ${big.size}`);
  const keys = Array.from({ length: 2000 }, (_, i) => hash64(`k-${i}`));
  const heavy = keys.filter((hash) => big.chooseHost({ hash })!.address === '10.3.0.1').length / keys.length;
  assert.ok(heavy > 0.65 && heavy < 0.85, `heavy share ${heavy}`);
});

test('MAGLEV is stable per key, balanced, and remaps little when a host is removed', () => {
  const hs = hostsOf(5);
  const mag = createMaglevLb(hs, { config: { name: 'c' }, path: 'c', random: seededRandom(5) });
  const table = mag.snapshot();
  assert.equal(table.length, 65537);
  for (let i = 0; i < 5; i++) {
    const share = table.filter((x) => x === i).length / table.length;
    assert.ok(Math.abs(share - 0.2) < 0.01, `slot share ${share}`);
  }
  const keys = Array.from({ length: 5000 }, (_, i) => hash64(`session-${i}`));
  const before = keys.map((hash) => mag.chooseHost({ hash })!);
  for (let i = 0; i < keys.length; i += 101) assert.equal(mag.chooseHost({ hash: keys[i] }), before[i]);
  const removed = hs[1];
  mag.update(hs.filter((h) => h !== removed));
  let stayedKeys = 0, disturbed = 0;
  keys.forEach((hash, i) => {
    const now = mag.chooseHost({ hash })!;
    assert.notEqual(now, removed);
    if (before[i] !== removed) { stayedKeys++; if (now !== before[i]) disturbed++; }
  });
  assert.ok(disturbed / stayedKeys < 0.05, `disturbed ${disturbed} of ${stayedKeys}`);
});

test('MAGLEV follows weights and insists on a prime table size', () => {
  const hs = [fakeHost('10.2.0.1', 3), fakeHost('10.2.0.2', 1)];
  const mag = createMaglevLb(hs, { config: { name: 'c', maglev_lb_config: { table_size: { value: 10007 } } }, path: 'c', random: Math.random });
  const share = mag.snapshot().filter((x) => x === 0).length / 10007;
  assert.ok(Math.abs(share - 0.75) < 0.01, `heavy share ${share}`);
  assert.throws(() => createMaglevLb(hs, { config: { name: 'c', maglev_lb_config: { table_size: { value: 65536 } } }, path: 'c', random: Math.random }), /not prime/);
  assert.ok(isPrime(65537) && !isPrime(65535) && !isPrime(1) && isPrime(2));
});

test('RING_HASH and MAGLEV without a hash pick at random by weight', () => {
  for (const p of ['RING_HASH', 'MAGLEV'] as const) {
    const hs = hostsOf(2, (i) => [1, 3][i]);
    const balancer = lb(p, hs, {}, 11);
    const c = countPicks(() => balancer.chooseHost({}), 8000);
    assert.ok(Math.abs(c.get(hs[1])! / 8000 - 0.75) < 0.03, p);
  }
});
