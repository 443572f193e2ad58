// One SecureContext per distinct material: TLS contexts built from the same certificates share it (thousands of
// clusters naming the same SDS secrets build one), different material or versions get their own.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { sharedSecureContext } from '../../../src/tls/secure_context_cache.js';
import { ReloadableTlsContext } from '../../../src/tls/context.js';
import { createTestCa, type TestCa } from '../../helpers/certs.js';

let ca: TestCa;
let other: TestCa;
before(() => { ca = createTestCa(); other = createTestCa('Other CA'); });
after(() => { ca.cleanup(); other.cleanup(); });

test('the same options give the same SecureContext; different CA, versions or certificates do not', () => {
  const a = sharedSecureContext({ ca: Buffer.from(ca.cert), minVersion: 'TLSv1.2', maxVersion: 'TLSv1.3' });
  assert.equal(sharedSecureContext({ ca: Buffer.from(ca.cert), minVersion: 'TLSv1.2', maxVersion: 'TLSv1.3' }), a);
  assert.notEqual(sharedSecureContext({ ca: Buffer.from(other.cert), minVersion: 'TLSv1.2', maxVersion: 'TLSv1.3' }), a);
  assert.notEqual(sharedSecureContext({ ca: Buffer.from(ca.cert), minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2' }), a);
  assert.notEqual(sharedSecureContext({ cert: [Buffer.from(ca.cert)], key: [Buffer.from(ca.key)], minVersion: 'TLSv1.2', maxVersion: 'TLSv1.3' }), a);
  assert.throws(() => sharedSecureContext({ ca: Buffer.from('not a certificate, ') , sessionTimeout: 5 }), /sessionTimeout/);
});

test('two TLS contexts with the same inline material share one SecureContext', () => {
  const config = { validation_context: { trusted_ca: { inline_string: ca.cert } } };
  const role = { side: 'client', defaultMin: 'TLSv1.2', defaultMax: 'TLSv1.3' } as const;
  const one = new ReloadableTlsContext(config, 'a', role, undefined);
  const two = new ReloadableTlsContext(config, 'b', role, undefined);
  try {
    assert.equal(one.current, two.current);
  } finally {
    one.dispose();
    two.dispose();
  }
});
