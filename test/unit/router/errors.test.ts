// Invalid route configurations are rejected with a ConfigError that names the field.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError } from '../../../src/common/errors.js';
import type { RouteConfiguration } from '../../../src/types/envoy.js';
import { compile } from './support.js';

function rejects(config: unknown, path: string, code = 'SKIFF_CONFIG_INVALID'): void {
  assert.throws(() => compile(config as RouteConfiguration), (err: unknown) => {
    assert.ok(err instanceof ConfigError, String(err));
    assert.equal(err.path, path);
    assert.equal(err.code, code);
    return true;
  });
}

const ok = { name: 'ok', domains: ['ok.example'], routes: [{ match: { prefix: '/' }, route: { cluster: 'c' } }] };

test('a regex that does not compile names the regex field', () => {
  rejects({ virtual_hosts: [ok, { name: 'v', domains: ['v'], routes: [
    { match: { prefix: '/' }, route: { cluster: 'c' } }, { match: { prefix: '/' }, route: { cluster: 'c' } },
    { match: { prefix: '/' }, route: { cluster: 'c' } },
    { match: { safe_regex: { regex: '/(unclosed' } }, route: { cluster: 'c' } },
  ] }] }, 'virtual_hosts[1].routes[3].match.safe_regex.regex');
  rejects({ virtual_hosts: [{ ...ok, routes: [{ match: { prefix: '/', headers: [{ name: 'x', safe_regex_match: { regex: '[' } }] }, route: { cluster: 'c' } }] }] },
    'virtual_hosts[0].routes[0].match.headers[0].safe_regex_match.regex');
  rejects({ virtual_hosts: [{ ...ok, routes: [{ match: { prefix: '/', query_parameters: [{ name: 'q', string_match: { safe_regex: { regex: '(?=x)' } } }] }, route: { cluster: 'c' } }] }] },
    'virtual_hosts[0].routes[0].match.query_parameters[0].string_match.safe_regex.regex');
  // Unbalanced on its own even if wrapping would balance it.
  rejects({ virtual_hosts: [{ ...ok, routes: [{ match: { safe_regex: { regex: 'a)|(b' } }, route: { cluster: 'c' } }] }] },
    'virtual_hosts[0].routes[0].match.safe_regex.regex');
});

test('weighted clusters summing to 0, or to something else than total_weight', () => {
  rejects({ virtual_hosts: [{ ...ok, routes: [{ match: { prefix: '/' }, route: { weighted_clusters: { clusters: [{ name: 'a', weight: { value: 0 } }] } } }] }] },
    'virtual_hosts[0].routes[0].route.weighted_clusters.clusters');
  rejects({ virtual_hosts: [{ ...ok, routes: [{ match: { prefix: '/' }, route: { weighted_clusters: { clusters: [{ name: 'a', weight: { value: 3 } }], total_weight: { value: 100 } } } }] }] },
    'virtual_hosts[0].routes[0].route.weighted_clusters.total_weight');
});

test('duplicate domains, across or within virtual hosts, case-insensitively', () => {
  rejects({ virtual_hosts: [ok, { name: 'b', domains: ['x', 'OK.example'], routes: [] }] }, 'virtual_hosts[1].domains[1]');
  rejects({ virtual_hosts: [{ name: 'a', domains: ['*'] }, { name: 'b', domains: ['*'] }] }, 'virtual_hosts[1].domains[0]');
  rejects({ virtual_hosts: [{ name: 'a', domains: ['a.*.com'] }] }, 'virtual_hosts[0].domains[0]');
  rejects({ virtual_hosts: [{ name: 'a', domains: [] }] }, 'virtual_hosts[0].domains');
  rejects({ virtual_hosts: [ok, { ...ok, domains: ['other'] }] }, 'virtual_hosts[1].name');
});

test('a route needs exactly one path matcher and exactly one action', () => {
  rejects({ virtual_hosts: [{ ...ok, routes: [{ match: { prefix: '/', path: '/x' }, route: { cluster: 'c' } }] }] }, 'virtual_hosts[0].routes[0].match');
  rejects({ virtual_hosts: [{ ...ok, routes: [{ match: { headers: [] }, route: { cluster: 'c' } }] }] }, 'virtual_hosts[0].routes[0].match');
  rejects({ virtual_hosts: [{ ...ok, routes: [{ match: { prefix: '/' } }] }] }, 'virtual_hosts[0].routes[0]');
  rejects({ virtual_hosts: [{ ...ok, routes: [{ match: { prefix: '/' }, route: {} }] }] }, 'virtual_hosts[0].routes[0].route');
  rejects({ virtual_hosts: [{ ...ok, routes: [{ match: { path_separated_prefix: '/a/' }, route: { cluster: 'c' } }] }] },
    'virtual_hosts[0].routes[0].match.path_separated_prefix');
  rejects({ virtual_hosts: [{ ...ok, routes: [{ match: { prefix: '/' }, direct_response: { status: 99 } }] }] },
    'virtual_hosts[0].routes[0].direct_response.status');
});

test('header matchers: one form only, known pseudo-headers only', () => {
  rejects({ virtual_hosts: [{ ...ok, routes: [{ match: { prefix: '/', headers: [{ name: 'x', exact_match: 'a', present_match: true }] }, route: { cluster: 'c' } }] }] },
    'virtual_hosts[0].routes[0].match.headers[0]');
  rejects({ virtual_hosts: [{ ...ok, routes: [{ match: { prefix: '/', headers: [{ name: ':scheme', exact_match: 'https' }] }, route: { cluster: 'c' } }] }] },
    'virtual_hosts[0].routes[0].match.headers[0].name', 'SKIFF_CONFIG_UNSUPPORTED');
  rejects({ virtual_hosts: [{ ...ok, routes: [{ match: { prefix: '/', headers: [{ name: 'x', string_match: { exact: 'a', prefix: 'b' } }] }, route: { cluster: 'c' } }] }] },
    'virtual_hosts[0].routes[0].match.headers[0].string_match');
});

test('fields Skiff does not implement are rejected by name, not ignored', () => {
  rejects({ virtual_hosts: [{ ...ok, routes: [{ match: { prefix: '/', grpc: {} }, route: { cluster: 'c' } }] }] },
    'virtual_hosts[0].routes[0].match.grpc', 'SKIFF_CONFIG_UNSUPPORTED');
  rejects({ virtual_hosts: [{ ...ok, routes: [{ match: { prefix: '/' }, route: { cluster_header: 'x' } }] }] },
    'virtual_hosts[0].routes[0].route.cluster_header', 'SKIFF_CONFIG_UNSUPPORTED');
  rejects({ virtual_hosts: [{ ...ok, rate_limits: [] }] }, 'virtual_hosts[0].rate_limits', 'SKIFF_CONFIG_UNSUPPORTED');
  rejects({ vhds: {}, virtual_hosts: [] }, 'route_config.vhds', 'SKIFF_CONFIG_UNSUPPORTED');
});

test('header mutations: no pseudo-headers or host, append and append_action exclusive', () => {
  rejects({ request_headers_to_add: [{ header: { key: ':path', value: '/' } }], virtual_hosts: [] }, 'request_headers_to_add[0].header.key');
  rejects({ virtual_hosts: [{ ...ok, request_headers_to_remove: ['host'] }] }, 'virtual_hosts[0].request_headers_to_remove[0]');
  rejects({ virtual_hosts: [{ ...ok, routes: [{ match: { prefix: '/' }, route: { cluster: 'c' },
    response_headers_to_add: [{ header: { key: 'a', value: 'b' }, append: { value: true }, append_action: 'ADD_IF_ABSENT' }] }] }] },
  'virtual_hosts[0].routes[0].response_headers_to_add[0].append');
});
