import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HeaderEdits, applyHeaderMutation } from '../../../src/proxy/header_mutation.js';
import { downstreamHeaderEdits, isInternalAddress, originalClientAddress, rewritePath, upstreamHeadPlan } from '../../../src/proxy/request_headers.js';
import { redirectLocation } from '../../../src/proxy/redirect.js';
import { hcmConfig, headerList, requestHead, route } from './fakes.js';

test('header mutation: remove then add by append action', () => {
  const edits = new HeaderEdits(headerList([['a', '1'], ['b', '2'], ['c', '3']]));
  applyHeaderMutation(edits, {
    remove: ['B'],
    add: [
      { name: 'a', value: 'x', mode: 'append' },
      { name: 'c', value: 'y', mode: 'add_if_absent' },
      { name: 'd', value: 'z', mode: 'add_if_absent' },
      { name: 'c', value: 'w', mode: 'overwrite' },
      { name: 'e', value: 'v', mode: 'overwrite_if_exists' },
      { name: 'a', value: 'u', mode: 'overwrite_if_exists' },
    ],
  });
  assert.deepEqual(new Set(edits.remove), new Set(['b', 'c', 'a']));
  assert.deepEqual(edits.add, [['d', 'z'], ['c', 'w'], ['a', 'u']]);
});

test('x-forwarded-for is appended with use_remote_address; x-forwarded-proto overwritten', () => {
  const head = requestHead({ headers: [['x-forwarded-for', '1.1.1.1, 2.2.2.2'], ['x-forwarded-proto', 'https']] });
  const { edits } = downstreamHeaderEdits(head, '10.0.0.9', hcmConfig({ use_remote_address: { value: true } }));
  assert.equal(edits.get('x-forwarded-for'), '1.1.1.1, 2.2.2.2, 10.0.0.9');
  assert.equal(edits.get('x-forwarded-proto'), 'http');
});

test('without use_remote_address, xff is untouched and x-forwarded-proto only set when absent', () => {
  const kept = downstreamHeaderEdits(requestHead({ headers: [['x-forwarded-for', '1.1.1.1'], ['x-forwarded-proto', 'https']] }), '10.0.0.9', hcmConfig()).edits;
  assert.equal(kept.get('x-forwarded-for'), '1.1.1.1');
  assert.equal(kept.get('x-forwarded-proto'), 'https');
  const set = downstreamHeaderEdits(requestHead(), '10.0.0.9', hcmConfig()).edits;
  assert.equal(set.get('x-forwarded-proto'), 'http');
  assert.equal(set.has('x-forwarded-for'), false);
});

test('x-request-id: generated uuid v4 when absent, kept when present, not generated when disabled', () => {
  const gen = downstreamHeaderEdits(requestHead(), '10.0.0.9', hcmConfig());
  assert.match(gen.requestId!, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  assert.equal(gen.edits.get('x-request-id'), gen.requestId);
  const other = downstreamHeaderEdits(requestHead(), '10.0.0.9', hcmConfig());
  assert.notEqual(other.requestId, gen.requestId);
  const kept = downstreamHeaderEdits(requestHead({ headers: [['x-request-id', 'abc']] }), '10.0.0.9', hcmConfig());
  assert.equal(kept.requestId, 'abc');
  assert.equal(kept.edits.add.length, 1); // only x-forwarded-proto
  const off = downstreamHeaderEdits(requestHead(), '10.0.0.9', hcmConfig({ generate_request_id: { value: false } }));
  assert.equal(off.requestId, undefined);
});

test('original client address honours xff_num_trusted_hops', () => {
  const h = headerList([['x-forwarded-for', '1.1.1.1, 2.2.2.2, 3.3.3.3']]);
  assert.equal(originalClientAddress(h, '9.9.9.9', hcmConfig({ use_remote_address: { value: true } })), '9.9.9.9');
  assert.equal(originalClientAddress(h, '9.9.9.9', hcmConfig()), '3.3.3.3');
  assert.equal(originalClientAddress(h, '9.9.9.9', hcmConfig({ xff_num_trusted_hops: 1 })), '2.2.2.2');
  assert.equal(originalClientAddress(h, '9.9.9.9', hcmConfig({ xff_num_trusted_hops: 5 })), '9.9.9.9');
});

test('prefix_rewrite keeps the rest of the path and the query', () => {
  const r = route({ action: { kind: 'cluster', cluster: 'c' }, matchPrefix: '/api/', prefixRewrite: '/v2/' });
  assert.equal(rewritePath('/api/users?x=1', r), '/v2/users?x=1');
  assert.equal(rewritePath('/other', r), undefined);
  assert.equal(rewritePath('/api/x', route({ action: { kind: 'cluster', cluster: 'c' } })), undefined);
});

test('prefix_rewrite on a safe_regex route replaces the whole path and keeps the query', () => {
  const r = route({ action: { kind: 'cluster', cluster: 'c' }, regexMatch: true, prefixRewrite: '/users' });
  assert.equal(rewritePath('/v1/users/42?full=1', r), '/users?full=1');
  assert.equal(rewritePath('/v1/users/42', r), '/users');
});

test('upstream plan: route mutations, host rewrite, expected timeout, expect dropped', () => {
  const head = requestHead({ path: '/api/a', headers: [['expect', '100-continue'], ['x-drop', '1'], ['x-envoy-expected-rq-timeout-ms', '1']] });
  const base = downstreamHeaderEdits(head, '10.0.0.1', hcmConfig()).edits;
  const r = route({
    action: { kind: 'cluster', cluster: 'c' }, matchPrefix: '/api', prefixRewrite: '/b', hostRewrite: 'internal.svc',
    requestHeaders: { remove: ['x-drop'], add: [{ name: 'x-added', value: 'yes', mode: 'append' }] },
  });
  const plan = upstreamHeadPlan(head, base, r, 2500);
  assert.equal(plan.path, '/b/a');
  const add = new Map(plan.add.map(([n, v]) => [n, v]));
  assert.equal(add.get('host'), 'internal.svc');
  assert.equal(add.get('x-added'), 'yes');
  assert.equal(add.get('x-envoy-expected-rq-timeout-ms'), '2500');
  assert.equal(add.get('x-forwarded-proto'), 'http');
  assert.ok(add.has('x-request-id'));
  for (const n of ['expect', 'x-drop', 'host', 'x-envoy-expected-rq-timeout-ms']) assert.ok(plan.remove.includes(n), n);
  const noTimeout = upstreamHeadPlan(head, base, r, 0);
  assert.equal(noTimeout.add.some(([n]) => n === 'x-envoy-expected-rq-timeout-ms'), false);
});

test('redirect location replaces what is configured and keeps the rest', () => {
  const head = requestHead({ host: 'a.com:8080', path: '/old/x?q=1' });
  const base = { kind: 'redirect' as const, status: 301, stripQuery: false };
  const r = route({ action: base, matchPrefix: '/old' });
  assert.equal(redirectLocation(head, base, r), 'http://a.com:8080/old/x?q=1');
  assert.equal(redirectLocation(head, { ...base, host: 'b.com' }, r), 'http://b.com:8080/old/x?q=1');
  assert.equal(redirectLocation(head, { ...base, scheme: 'https', port: 443 }, r), 'https://a.com/old/x?q=1');
  assert.equal(redirectLocation(head, { ...base, path: '/new', stripQuery: true }, r), 'http://a.com:8080/new');
  assert.equal(redirectLocation(head, { ...base, prefixRewrite: '/new' }, r), 'http://a.com:8080/new/x?q=1');
});

test('internal addresses as Envoy defines them', () => {
  for (const a of ['10.1.2.3', '127.0.0.1', '172.16.0.1', '172.31.255.255', '192.168.1.1', '::1', '::ffff:10.0.0.1', 'fd00::1']) assert.equal(isInternalAddress(a), true, a);
  for (const a of ['8.8.8.8', '172.32.0.1', '192.169.0.1', '2001:db8::1', '11.0.0.1']) assert.equal(isInternalAddress(a), false, a);
});

test('use_remote_address: an internal peer without xff is internal', () => {
  const head = requestHead({ headers: [['x-request-id', 'keep'], ['x-envoy-retry-on', '5xx']] });
  const { edits, requestId } = downstreamHeaderEdits(head, '10.0.0.9', hcmConfig({ use_remote_address: { value: true } }));
  assert.equal(edits.get('x-envoy-internal'), 'true');
  assert.equal(edits.get('x-envoy-retry-on'), '5xx');
  assert.equal(requestId, 'keep');
  assert.equal(edits.has('x-envoy-external-address'), false);
});

test('use_remote_address: an external request loses x-envoy-* headers and gets a new request id', () => {
  const head = requestHead({ headers: [['x-request-id', 'spoofed'], ['x-envoy-retry-on', '5xx'], ['x-envoy-internal', 'true'], ['x-envoy-custom', 'kept']] });
  const { edits, requestId } = downstreamHeaderEdits(head, '8.8.8.8', hcmConfig({ use_remote_address: { value: true } }));
  assert.equal(edits.has('x-envoy-retry-on'), false);
  assert.equal(edits.has('x-envoy-internal'), false);
  assert.equal(edits.get('x-envoy-custom'), 'kept');
  assert.equal(edits.get('x-envoy-external-address'), '8.8.8.8');
  assert.notEqual(requestId, 'spoofed');
  assert.equal(edits.get('x-request-id'), requestId);
  // An internal peer relaying an x-forwarded-for is external too.
  const relayed = downstreamHeaderEdits(requestHead({ headers: [['x-forwarded-for', '1.2.3.4']] }), '10.0.0.9', hcmConfig({ use_remote_address: { value: true } }));
  assert.equal(relayed.edits.get('x-envoy-external-address'), '10.0.0.9');
});
