// The proto Root and the allow-list agree: every supported message and field exists in Envoy's protos.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { envoyRoot, isKnownApiType, lookupMessage, protoLoadStats, resolveTypeUrl } from '../../../src/config/protos.js';
import { HINT_FIELDS, SUPPORTED } from '../../../src/config/subset.js';

test('the Root loads once and is cached', () => {
  const a = envoyRoot();
  const stats = protoLoadStats();
  assert.ok(stats && stats.files > 10 && stats.loadMs > 0, JSON.stringify(stats));
  assert.equal(envoyRoot(), a);
  assert.deepEqual(protoLoadStats(), stats);
});

test('type URLs resolve against the Root', () => {
  assert.equal(resolveTypeUrl('type.googleapis.com/envoy.config.cluster.v3.Cluster')?.name, 'Cluster');
  assert.equal(resolveTypeUrl('type.googleapis.com/envoy.extensions.filters.http.router.v3.Router')?.name, 'Router');
  assert.equal(resolveTypeUrl('type.googleapis.com/no.such.Type'), undefined);
  assert.equal(resolveTypeUrl('type.googleapis.com/envoy.config.cluster.v3'), undefined);
});

test('unloaded Envoy extension types are recognised without loading them', () => {
  assert.equal(isKnownApiType('envoy.extensions.filters.http.cors.v3.Cors'), true);
  assert.equal(isKnownApiType('envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy'), true);
  assert.equal(isKnownApiType('envoy.extensions.filters.http.cors.v3.NotCors'), false);
  assert.equal(isKnownApiType('acme.filters.Thing'), false);
  assert.equal(isKnownApiType('../../etc.Passwd'), false);
});

test('every message and field of the allow-list exists in the protos', () => {
  for (const [name, rules] of Object.entries(SUPPORTED)) {
    const type = lookupMessage(name);
    assert.ok(type, `${name} is not a loaded message`);
    if (rules === '*') continue;
    for (const [field, rule] of Object.entries(rules)) {
      assert.ok(type.fields[field], `${name}.${field} does not exist`);
      if (rule !== true && rule.only) {
        const sub = type.fields[field].resolvedType as { fields: Record<string, unknown> };
        for (const f of rule.only) assert.ok(sub.fields[f], `${name}.${field}: ${f} does not exist`);
      }
      if (rule !== true && rule.values) {
        const values = (type.fields[field].resolvedType as { values: Record<string, number> }).values;
        for (const v of rule.values) assert.ok(v in values, `${name}.${field}: ${v} is not an enum value`);
      }
    }
  }
  for (const hint of HINT_FIELDS) {
    const dot = hint.lastIndexOf('.');
    assert.ok(lookupMessage(hint.slice(0, dot))?.fields[hint.slice(dot + 1)], hint);
  }
});

test('releaseEnvoyRoot drops the Root and the next use loads a fresh one that still works', async () => {
  const { releaseEnvoyRoot } = await import('../../../src/config/protos.js');
  const before = envoyRoot();
  releaseEnvoyRoot();
  const after = envoyRoot();
  assert.notEqual(after, before);
  assert.equal(resolveTypeUrl('type.googleapis.com/envoy.config.cluster.v3.Cluster')?.name, 'Cluster');
});
