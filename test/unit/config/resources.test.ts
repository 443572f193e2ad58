// Single xDS resources decode and validate like the bootstrap's static resources.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, UnsupportedConfigError } from '../../../src/common/errors.js';
import { decodeResource, validateResource } from '../../../src/config/resources.js';
import { cluster, listener } from './fixtures.js';

test('a Listener and a Cluster resource decode with their @type and validate', () => {
  const l = decodeResource({ '@type': 'type.googleapis.com/envoy.config.listener.v3.Listener', ...listener() }, 'resources[0]');
  assert.equal(l.typeUrl, 'type.googleapis.com/envoy.config.listener.v3.Listener');
  assert.equal(l.value.name, 'ingress');
  validateResource(l, 'resources[0]');
  const c = decodeResource({ '@type': 'type.googleapis.com/envoy.config.cluster.v3.Cluster', ...cluster() }, 'resources[1]');
  assert.equal(c.json.connect_timeout, '0.250s');
  validateResource(c, 'resources[1]');
});

test('resource errors name the resource and the field', () => {
  const c = decodeResource({ '@type': 'type.googleapis.com/envoy.config.cluster.v3.Cluster', ...cluster({ outlier_detection: {} }) }, 'resources[0]');
  assert.throws(() => validateResource(c, 'resources[0]'), (e: unknown) => e instanceof UnsupportedConfigError && e.message === 'resources[0].outlier_detection: unsupported field');
  const bad = decodeResource({ '@type': 'type.googleapis.com/envoy.config.cluster.v3.Cluster', ...cluster({ name: '' }) }, 'resources[0]');
  assert.throws(() => validateResource(bad, 'resources[0]'), /resources\[0\]\.name: must be at least 1 characters long/);
  assert.throws(() => decodeResource({ '@type': 'type.googleapis.com/envoy.extensions.filters.http.rbac.v3.RBAC' }, 'r'),
    (e: unknown) => e instanceof ConfigError && /not loaded by Skiff/.test(e.message));
  assert.throws(() => decodeResource({ name: 'x' }, 'r'), /without "@type"/);
});
