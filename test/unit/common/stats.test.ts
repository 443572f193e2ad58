// Stat blocks: a cluster's stats stored as slots of a shared slab must behave, and list, exactly like single stats.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StatBlockSchema, StatsStore } from '../../../src/common/stats.js';

const schema = new StatBlockSchema(['rq_total', 'cx_total'], ['cx_active', 'breakers.remaining']);

test('block stats list under their full names, with their values, sorted among single stats', () => {
  const store = new StatsStore();
  const scope = store.scope('cluster.a.b.');
  const block = scope.block(schema);
  store.counter('cluster.a.aaa').inc(7);
  block.counter('rq_total').inc(3);
  scope.gauge('cx_active').set(2);
  scope.scope('breakers.').gauge('remaining').set(1024);
  const { counters, gauges } = store.snapshot();
  assert.deepEqual(counters.map((c) => [c.name, c.value]), [['cluster.a.aaa', 7], ['cluster.a.b.cx_total', 0], ['cluster.a.b.rq_total', 3]]);
  assert.deepEqual(gauges.map((g) => [g.name, g.value]), [['cluster.a.b.breakers.remaining', 1024], ['cluster.a.b.cx_active', 2]]);
});

test('a block stat is one object, found by full name through the store (names with dots), kind respected', () => {
  const store = new StatsStore();
  const block = store.scope('cluster.x.y.').block(schema);
  const c = block.counter('rq_total');
  assert.equal(store.counter('cluster.x.y.rq_total'), c);
  assert.equal(store.scope('cluster.x.y.').counter('rq_total'), c);
  c.inc(); c.inc(4);
  assert.equal(store.counter('cluster.x.y.rq_total').value, 5);
  // A gauge name asked for as a counter is a separate single stat, not the block's gauge.
  assert.notEqual(store.counter('cluster.x.y.cx_active') as unknown, block.gauge('cx_active') as unknown);
  assert.equal(c.name, 'cluster.x.y.rq_total');
});

test('a prefix registered again (a replaced cluster) keeps its block and values; blocks do not share slots', () => {
  const store = new StatsStore();
  const blocks = Array.from({ length: 5000 }, (_, i) => store.scope(`cluster.c${i}.`).block(schema));
  blocks.forEach((b, i) => b.counter('rq_total').inc(i));
  blocks.forEach((b, i) => b.gauge('breakers.remaining').set(-i));
  blocks.forEach((b, i) => {
    assert.equal(b.counter('rq_total').value, i);
    assert.equal(b.gauge('breakers.remaining').value, -i);
    assert.equal(b.counter('cx_total').value, 0);
  });
  const again = store.scope('cluster.c42.').block(schema);
  assert.equal(again, blocks[42]);
  assert.equal(again.counter('rq_total').value, 42);
  assert.throws(() => again.counter('nope'), /not in this block/);
});

test('snapshot lists every stat exactly once in name order, blocks merged with single stats (nested prefixes too)', () => {
  for (const names of [['web', 'api', 'db-1', 'db-10', 'db.2'], ['a', 'a.b', 'b']]) {
    const store = new StatsStore();
    for (const n of names) {
      const scope = store.scope(`cluster.${n}.`);
      scope.block(schema).counter('rq_total').inc(n.length);
      scope.counter('upstream_rq_200').inc();
    }
    store.counter('cluster_manager.cds.update_success').inc();
    store.gauge('server.live').set(1);
    const { counters, gauges } = store.snapshot();
    const sorted = (xs: string[]): string[] => [...xs].sort((x, y) => (x < y ? -1 : x > y ? 1 : 0));
    const cn = counters.map((c) => c.name);
    const gn = gauges.map((g) => g.name);
    assert.deepEqual(cn, sorted(cn));
    assert.deepEqual(gn, sorted(gn));
    assert.equal(new Set(cn).size, cn.length);
    assert.equal(cn.length, names.length * 3 + 1);
    assert.equal(gn.length, names.length * 2 + 1);
    assert.equal(counters.find((c) => c.name === `cluster.${names[1]}.rq_total`)!.value, names[1]!.length);
  }
});
