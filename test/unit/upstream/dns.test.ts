import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resolve, type Lookup } from '../../../src/upstream/dns.js';
import { StatsStore } from '../../../src/common/stats.js';
import { createClusterManager } from '../../../src/upstream/cluster_manager.js';
import { testConnectionFactory } from './helpers.js';
import { PATIENCE_MS } from '../../helpers/wait.js';

const both: Lookup = async (_name, family) => [
  { address: '10.0.0.1', family: 4 }, { address: 'fd00::1', family: 6 }, { address: '10.0.0.2', family: 4 }, { address: '10.0.0.1', family: 4 },
].filter((a) => family === 0 || a.family === family);
const v4only: Lookup = async () => [{ address: '10.0.0.9', family: 4 }];

test('dns_lookup_family picks addresses as Envoy reads it', async () => {
  assert.deepEqual(await resolve(both, 'x', 'AUTO'), ['fd00::1']);
  assert.deepEqual(await resolve(v4only, 'x', 'AUTO'), ['10.0.0.9']);
  assert.deepEqual(await resolve(both, 'x', 'V4_PREFERRED'), ['10.0.0.1', '10.0.0.2']);
  assert.deepEqual(await resolve(both, 'x', 'V4_ONLY'), ['10.0.0.1', '10.0.0.2']);
  assert.deepEqual(await resolve(both, 'x', 'V6_ONLY'), ['fd00::1']);
  assert.deepEqual(await resolve(both, 'x', 'ALL'), ['10.0.0.1', '10.0.0.2', 'fd00::1']);
  await assert.rejects(resolve(v4only, 'x', 'V6_ONLY'), /no V6_ONLY address/);
});

test('a lookup that never answers counts as a failed update and the cluster keeps working', async () => {
  const stats = new StatsStore();
  let calls = 0;
  const stalled: Lookup = () => { calls++; return new Promise(() => {}); };
  const cm = createClusterManager([{
    name: 'slow', type: 'STRICT_DNS', dns_refresh_rate: { seconds: 60 },
    load_assignment: { cluster_name: 'slow', endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: 'stuck.example', port_value: 80 } } } }] }] },
  }], { stats, connect: testConnectionFactory, lookup: stalled, dnsLookupTimeoutMs: 100 });
  try {
    const started = Date.now();
    await cm.ready();
    // The 100 ms lookup timeout ended the wait, not the 60 s refresh (the bound only tells the two apart).
    assert.ok(Date.now() - started < PATIENCE_MS);
    assert.equal(calls, 1);
    assert.equal(stats.counter('cluster.slow.update_failure').value, 1);
    assert.equal(cm.get('slow')!.hosts().length, 0);
    assert.equal(cm.get('slow')!.chooseHost({}), null);
  } finally { cm.close(); }
});
