// Virtual host selection by authority: Envoy's precedence (exact, then *suffix longest first, then prefix*
// longest first, then *), case-insensitive, a wildcard never matching the empty string, and the port.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compile, routed, vhost } from './support.js';

const table = compile({
  virtual_hosts: [
    vhost('star', ['*']),
    vhost('prefix-short', ['api.*']),
    vhost('prefix-long', ['api.internal.*']),
    vhost('prefix-dash', ['shop-*']),
    vhost('suffix-short', ['*.com']),
    vhost('suffix-long', ['*.example.com']),
    vhost('suffix-dash', ['*-bar.foo.org']),
    vhost('exact', ['www.example.com', 'example.com:8080']),
  ],
});

test('an exact domain beats every wildcard', () => {
  assert.equal(routed(table, { host: 'www.example.com' }), 'exact');
});

test('the longest suffix wildcard wins, and suffixes beat prefixes', () => {
  assert.equal(routed(table, { host: 'a.example.com' }), 'suffix-long');
  assert.equal(routed(table, { host: 'a.other.com' }), 'suffix-short');
  // api.example.com matches both "api.*" and "*.example.com": the suffix wins.
  assert.equal(routed(table, { host: 'api.example.com' }), 'suffix-long');
  assert.equal(routed(table, { host: 'baz-bar.foo.org' }), 'suffix-dash');
});

test('the longest prefix wildcard wins', () => {
  assert.equal(routed(table, { host: 'api.internal.local' }), 'prefix-long');
  assert.equal(routed(table, { host: 'api.local' }), 'prefix-short');
  assert.equal(routed(table, { host: 'shop-eu' }), 'prefix-dash');
});

test('a wildcard does not match the empty string', () => {
  assert.equal(routed(table, { host: '-bar.foo.org' }), 'star');
  assert.equal(routed(table, { host: '.example.com' }), 'suffix-short');
  assert.equal(routed(table, { host: 'api.' }), 'star');
});

test('"*" takes what nothing else matched; no "*" means no route', () => {
  assert.equal(routed(table, { host: 'localhost' }), 'star');
  const noStar = compile({ virtual_hosts: [vhost('only', ['only.example'])] });
  assert.equal(routed(noStar, { host: 'other.example' }), null);
  assert.equal(noStar.virtualHostIndex(0), -1);
});

test('domains are matched case-insensitively', () => {
  assert.equal(routed(table, { host: 'WWW.Example.COM' }), 'exact');
  assert.equal(routed(table, { host: 'A.EXAMPLE.COM' }), 'suffix-long');
  assert.equal(routed(table, { host: 'API.Internal.x' }), 'prefix-long');
  const upper = compile({ virtual_hosts: [vhost('u', ['Mixed.Case.IO'])] });
  assert.equal(routed(upper, { host: 'mixed.case.io' }), 'u');
});

test('by default the port is part of the authority, as in Envoy', () => {
  assert.equal(routed(table, { host: 'example.com:8080' }), 'exact');
  // "*.example.com" does not end the authority "www.example.com:8080", and no domain strips the port.
  assert.equal(routed(table, { host: 'www.example.com:8080' }), 'star');
  assert.equal(routed(table, { host: 'example.com' }), 'suffix-short');
});

test('ignore_port_in_host_matching strips the port (not from bare IPv6 literals)', () => {
  const t = compile({
    ignore_port_in_host_matching: true,
    virtual_hosts: [vhost('named', ['www.example.com']), vhost('v6', ['[::1]']), vhost('bare', ['::1']), vhost('star', ['*'])],
  } as never);
  assert.equal(routed(t, { host: 'www.example.com:8443' }), 'named');
  assert.equal(routed(t, { host: 'www.example.com' }), 'named');
  assert.equal(routed(t, { host: '[::1]:80' }), 'v6');
  assert.equal(routed(t, { host: '::1' }), 'bare');
  assert.equal(routed(t, { host: 'www.example.com:' }), 'star');
});

test('many exact domains are found through the hash table', () => {
  const vhosts = Array.from({ length: 500 }, (_, i) => vhost(`vh${i}`, [`svc-${i}.ns.svc.cluster.local`, `svc-${i}`]));
  const t = compile({ virtual_hosts: vhosts });
  for (const i of [0, 1, 77, 250, 499]) {
    assert.equal(routed(t, { host: `svc-${i}.ns.svc.cluster.local` }), `vh${i}`);
    assert.equal(routed(t, { host: `svc-${i}` }), `vh${i}`);
  }
  assert.equal(routed(t, { host: 'svc-500' }), null);
  t.retire(0);
});

test('many wildcard domains of several lengths keep longest-first precedence', () => {
  const vhosts = [];
  for (let i = 0; i < 300; i++) vhosts.push(vhost(`s${i}`, [`*.ns${i}.svc`, `*.x.ns${i}.svc`, `svc${i}-*`]));
  vhosts.push(vhost('star', ['*']));
  const t = compile({ virtual_hosts: vhosts });
  assert.equal(routed(t, { host: 'a.ns17.svc' }), 's17');
  assert.equal(routed(t, { host: 'a.x.ns250.svc' }), 's250');
  assert.equal(routed(t, { host: 'a.y.ns250.svc' }), 's250');
  assert.equal(routed(t, { host: 'SVC42-eu' }), 's42');
  assert.equal(routed(t, { host: 'svc42-' }), 'star');
  assert.equal(routed(t, { host: 'ns17.svc' }), 'star');
  t.retire(0);
});
