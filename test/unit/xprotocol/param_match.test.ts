// dubbo_proxy params_match: predicates over a Dubbo request's arguments (read through xp_read_arg) and the
// x-protocol-params value routes match on.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { XP_DUBBO } from '../../../src/codec/xprotocol/index.js';
import { parseParamsMatch, paramsHeaderValue } from '../../../src/xprotocol/param_match.js';
import { dubboRoutes } from '../../../src/xprotocol/dubbo_proxy.js';
import type { ParamPredicate } from '../../../src/xprotocol/param_match.js';
import { harness, require } from '../codec/xprotocol/harness.js';

const DubboEncoder = (require('dubbo2.js/es6/encode.js') as { default: new (ctx: object) => { encode(): Buffer } }).default;

function request(methodArgs: unknown[]): Buffer {
  return new DubboEncoder({
    requestId: 5, dubboVersion: '2.0.2', dubboInterface: 'com.x.Users', path: 'com.x.Users', version: '1.0.0',
    methodName: 'find', methodArgs, timeout: 1000, application: { name: 't' }, attachments: {},
  }).encode();
}

function value(args: unknown[], predicates: ParamPredicate[]): string {
  const h = harness();
  const bytes = request(args);
  const { n, frame } = harness().decode(XP_DUBBO, bytes);
  assert.equal(n, bytes.length);
  void h;
  return paramsHeaderValue(frame, predicates);
}

const str = (s: string): unknown => ({ $class: 'java.lang.String', $: s });
const int = (i: number): unknown => ({ $class: 'int', $: i });
const long = (i: number): unknown => ({ $class: 'long', $: i });

test('exact_match compares a string argument, and an integer by its decimal form', () => {
  const ps = [parseParamsMatch({ 0: { exact_match: 'ada' } }, 0, 'p'), parseParamsMatch({ 0: { exact_match: 'bob' } }, 1, 'p'),
    parseParamsMatch({ 1: { exact_match: '42' } }, 2, 'p')];
  assert.equal(value([str('ada'), int(42)], ps), ',0,2,');
  assert.equal(value([str('bob'), int(41)], ps), ',1,');
  assert.equal(value([str('adam'), str('42')], ps), ',2,', 'a string "42" has the same string form');
});

test('range_match holds for integers in [start, end), all entries of a route must hold', () => {
  const ps = [parseParamsMatch({ 1: { range_match: { start: '10', end: 20 } } }, 0, 'p'),
    parseParamsMatch({ 0: { exact_match: 'ada' }, 1: { range_match: { start: -5, end: 0 } } }, 1, 'p')];
  assert.equal(value([str('ada'), int(10)], ps), ',0,');
  assert.equal(value([str('ada'), int(19)], ps), ',0,');
  assert.equal(value([str('ada'), int(20)], ps), ',', 'end is exclusive');
  assert.equal(value([str('ada'), int(-5)], ps), ',1,');
  assert.equal(value([str('bob'), int(-5)], ps), ',', 'one entry fails: the route does not match');
  assert.equal(value([str('ada'), long(2 ** 40)], [parseParamsMatch({ 1: { range_match: { start: 2 ** 40, end: 2 ** 40 + 1 } } }, 3, 'p')]), ',3,');
});

test('an index past the arguments and other types never match', () => {
  const ps = [parseParamsMatch({ 2: { exact_match: 'x' } }, 0, 'p'), parseParamsMatch({ 0: { range_match: { start: 0, end: 100 } } }, 1, 'p'),
    parseParamsMatch({ 1: { exact_match: 'true' } }, 2, 'p'), parseParamsMatch({ 0: { exact_match: '' } }, 3, 'p')];
  assert.equal(value([str('abc'), { $class: 'boolean', $: true }], ps), ',');
  assert.equal(value([{ $class: 'double', $: 3 }, { $class: 'java.util.List', $: ['a'] }], ps), ',', 'double and list are not compared');
  assert.equal(value([str('7'), str('x')], ps), ',1,', 'a numeric string is in range, like Envoy');
});

test('params_match config: bad specs are refused, routes match the predicate id in x-protocol-params', () => {
  assert.throws(() => parseParamsMatch({ a: { exact_match: 'x' } }, 0, 'p'), /p\.a: the key must be a uint32/);
  assert.throws(() => parseParamsMatch({ 0: {} }, 0, 'p'), /exactly one of exact_match or range_match/);
  assert.throws(() => parseParamsMatch({ 0: { exact_match: 'x', range_match: {} } }, 0, 'p'), /exactly one/);
  assert.throws(() => parseParamsMatch({ 0: { range_match: { start: 1.5 } } }, 0, 'p'), /range_match\.start: must be an int64/);
  assert.throws(() => parseParamsMatch({ 0: { prefix_match: 'x' } }, 0, 'p'), /prefix_match/);
  const predicates: ParamPredicate[] = [];
  const rc = dubboRoutes({ route_config: [{ interface: 'I', routes: [
    { match: { method: { name: { exact: 'm' }, params_match: { 0: { exact_match: 'a' } } } }, route: { cluster: 'a' } },
    { match: { method: { params_match: { 1: { range_match: { start: 1, end: 2 } } } } }, route: { cluster: 'b' } },
  ] }] }, 'f', predicates) as unknown as { virtual_hosts: { routes: { match: { headers: unknown[] } }[] }[] };
  assert.deepEqual(predicates.map((p) => p.id), [0, 1]);
  assert.deepEqual(rc.virtual_hosts[0].routes[1].match.headers, [{ name: 'x-protocol-params', string_match: { contains: ',1,' } }]);
});
