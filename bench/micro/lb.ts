/**
 * Micro benchmark: one chooseHost per policy over 10 and 100 hosts, and hash64 of a typical header value.
 * Run: npm run build && node dist/bench/micro/lb.js   (about 6 s; keeps to one core)
 */
import { Bench } from 'tinybench';
import type { Host } from '../../src/types/upstream.js';
import type { Cluster as EnvoyCluster } from '../../src/types/envoy.js';
import { createLoadBalancer } from '../../src/upstream/lb/registry.js';
import { hash64 } from '../../src/upstream/hash.js';

const policies: NonNullable<EnvoyCluster['lb_policy']>[] = ['ROUND_ROBIN', 'LEAST_REQUEST', 'RANDOM', 'RING_HASH', 'MAGLEV'];

function hosts(n: number, weighted: boolean): Host[] {
  return Array.from({ length: n }, (_, i) => ({ address: `10.0.${i >> 8}.${i & 255}`, port: 8080, weight: weighted ? 1 + (i % 3) : 1, activeRequests: i % 5, healthy: true }));
}

const bench = new Bench({ time: 200 });
const keys = Array.from({ length: 256 }, (_, i) => hash64(`user-${i}`));
let k = 0;
for (const n of [10, 100]) {
  for (const policy of policies) {
    for (const weighted of [false, true]) {
      if (weighted && (policy === 'LEAST_REQUEST' || policy === 'MAGLEV')) continue;
      const lb = createLoadBalancer(hosts(n, weighted), { config: { name: 'b', lb_policy: policy }, path: 'b', random: Math.random });
      const hashed = policy === 'RING_HASH' || policy === 'MAGLEV';
      bench.add(`${policy}${weighted ? ' weighted' : ''} ${n} hosts`, () => {
        lb.chooseHost(hashed ? { hash: keys[k++ & 255] } : {});
      });
    }
  }
}
const values = Array.from({ length: 64 }, (_, i) => `session-${i.toString(36)}-0123456789abcdef`);
let v = 0;
bench.add('hash64 (32-byte value)', () => { hash64(values[v++ & 63]); });

await bench.run();
console.table(bench.table());
