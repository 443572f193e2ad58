import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileSanMatchers, parseSubjectAltName } from '../../../src/tls/san_matcher.js';

test("Node's subjectaltname string is split by type, quoted values unquoted", () => {
  const sans = parseSubjectAltName('DNS:a.example.com, URI:spiffe://cluster.local/ns/x/sa/y, IP Address:10.0.0.1, email:ops@example.com, DNS:"we,ird.example.com"');
  assert.deepEqual(sans, {
    DNS: ['a.example.com', 'we,ird.example.com'], URI: ['spiffe://cluster.local/ns/x/sa/y'], IP_ADDRESS: ['10.0.0.1'], EMAIL: ['ops@example.com'],
  });
  assert.deepEqual(parseSubjectAltName(undefined), { DNS: [], URI: [], EMAIL: [], IP_ADDRESS: [] });
});

test('any matcher of the right SAN type passes; string matchers as Envoy defines them', () => {
  const check = compileSanMatchers([
    { san_type: 'URI', matcher: { prefix: 'spiffe://cluster.local/ns/prod/' } },
    { san_type: 'DNS', matcher: { suffix: '.svc.cluster.local', ignore_case: true } },
    { san_type: 'IP_ADDRESS', matcher: { exact: '10.0.0.1' } },
    { san_type: 'EMAIL', matcher: { safe_regex: { regex: '[a-z]+@example\\.com' } } },
  ], 'm')!;
  const none = { DNS: [], URI: [], EMAIL: [], IP_ADDRESS: [] };
  assert.equal(check({ ...none, URI: ['spiffe://cluster.local/ns/prod/sa/web'] }), true);
  assert.equal(check({ ...none, URI: ['spiffe://cluster.local/ns/dev/sa/web'] }), false);
  assert.equal(check({ ...none, DNS: ['WEB.default.SVC.cluster.local'] }), true);
  // The type matters: the same text as a DNS SAN does not pass an IP matcher.
  assert.equal(check({ ...none, DNS: ['10.0.0.1'] }), false);
  assert.equal(check({ ...none, IP_ADDRESS: ['10.0.0.1'] }), true);
  assert.equal(check({ ...none, EMAIL: ['ops@example.com'] }), true);
  assert.equal(check({ ...none, EMAIL: ['ops@example.com.evil'] }), false, 'safe_regex matches the whole value');
  assert.equal(compileSanMatchers([], 'm'), undefined);
  assert.throws(() => compileSanMatchers([{ san_type: 'URI', matcher: {} }], 'm'), { message: /m\[0\]\.matcher/ });
  assert.throws(() => compileSanMatchers([{ san_type: 'DNS', matcher: { safe_regex: { regex: '(' } } }], 'm'), { message: /m\[0\]\.matcher\.safe_regex\.regex/ });
});
