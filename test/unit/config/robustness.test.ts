// Untrusted config never crashes the loader: random mutations of a valid bootstrap either load or fail
// with a ConfigError (bounded count, fixed seed).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadBootstrapText } from '../../../src/config/bootstrap.js';
import { ConfigError } from '../../../src/common/errors.js';
import { bootstrap, type Obj } from './fixtures.js';
import { seededRandom } from '../../helpers/random.js';

const STRANGE: unknown[] = [null, 0, -1, 1.5, 2 ** 64, '', 'x', '\u0000', '1s', true, [], {}, [null], { '@type': 'x' },
  { '@type': 'type.googleapis.com/envoy.config.cluster.v3.Cluster' }, '__proto__', { __proto__: { a: 1 } }, 'NaN'];

function collectPaths(v: unknown, path: (string | number)[], out: (string | number)[][]): void {
  out.push(path);
  if (Array.isArray(v)) v.forEach((x, i) => collectPaths(x, [...path, i], out));
  else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) collectPaths(x, [...path, k], out);
}

function mutate(doc: Obj, random: () => number): Obj {
  const copy = JSON.parse(JSON.stringify(doc)) as Obj;
  const paths: (string | number)[][] = [];
  collectPaths(copy, [], paths);
  const path = paths[1 + Math.floor(random() * (paths.length - 1))];
  let parent: any = copy;
  for (const p of path.slice(0, -1)) parent = parent[p];
  const key = path[path.length - 1];
  const choice = random();
  if (choice < 0.6) parent[key] = STRANGE[Math.floor(random() * STRANGE.length)];
  else if (choice < 0.8 && !Array.isArray(parent)) { parent[`${String(key)}_x`] = parent[key]; delete parent[key]; }
  else if (Array.isArray(parent)) parent.splice(Number(key), 1);
  else delete parent[key];
  return copy;
}

test('2000 random mutations load (and round-trip) or fail with a ConfigError', () => {
  const random = seededRandom(20261121);
  const base = bootstrap();
  let rejected = 0;
  const started = Date.now();
  for (let i = 0; i < 2000 && Date.now() - started < 60_000; i++) {
    const doc = mutate(mutate(base, random), random);
    try {
      const loaded = loadBootstrapText(JSON.stringify(doc), 'json');
      // Whatever is accepted prints (config_dump's JSON form) and loads back to the same config.
      assert.deepEqual(loadBootstrapText(JSON.stringify(loaded.raw), 'json').bootstrap, loaded.bootstrap);
    } catch (err) {
      if (err instanceof assert.AssertionError) throw err;
      assert.ok(err instanceof ConfigError, `mutation ${i} threw ${String((err as Error).stack)}\n${JSON.stringify(doc)}`);
      assert.match(err.message, /^\S.*: /);
      rejected++;
    }
  }
  assert.ok(rejected > 100, `only ${rejected} mutations were rejected`);
});

test('random bytes as YAML fail with a ConfigError or load', () => {
  const random = seededRandom(7);
  for (let i = 0; i < 300; i++) {
    const len = Math.floor(random() * 200);
    const text = Array.from({ length: len }, () => String.fromCharCode(Math.floor(random() * 128))).join('');
    try {
      loadBootstrapText(text, 'yaml');
    } catch (err) {
      assert.ok(err instanceof ConfigError, `input ${JSON.stringify(text)} threw ${String(err)}`);
    }
  }
});

test('exponential YAML aliases ("billion laughs") are refused quickly', () => {
  let yaml = 'a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n';
  for (let i = 1; i < 10; i++) yaml += `a${i}: &a${i} [${Array(10).fill(`*a${i - 1}`).join(', ')}]\n`;
  yaml += 'node: {metadata: {boom: *a9}}\n';
  const started = Date.now();
  assert.throws(() => loadBootstrapText(yaml, 'yaml'), (e: unknown) => e instanceof ConfigError && /invalid YAML: Excessive alias count/.test(e.message));
  assert.ok(Date.now() - started < 5000);
});

test('deep nesting is refused with a ConfigError, not a stack overflow', () => {
  const deep = `{"node": {"metadata": ${'{"a": '.repeat(5000)}1${'}'.repeat(5000)}}}`;
  assert.throws(() => loadBootstrapText(deep, 'json'), (e: unknown) => e instanceof ConfigError && /nesting deeper than/.test(e.message));
});
