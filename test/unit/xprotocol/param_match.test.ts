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
  assert.throws(() => parseParamsMatch({ 0: { exact_match: 'x' } }, 64, 'p'), /at most 64 routes with params_match/);
  const predicates: ParamPredicate[] = [];
  const rc = dubboRoutes({ route_config: [{ interface: 'I', routes: [
    { match: { method: { name: { exact: 'm' }, params_match: { 0: { exact_match: 'a' } } } }, route: { cluster: 'a' } },
    { match: { method: { params_match: { 1: { range_match: { start: 1, end: 2 } } } } }, route: { cluster: 'b' } },
  ] }] }, 'f', predicates) as unknown as { virtual_hosts: { routes: { match: { headers: unknown[] } }[] }[] };
  assert.deepEqual(predicates.map((p) => p.id), [0, 1]);
  assert.deepEqual(rc.virtual_hosts[0].routes[1].match.headers, [{ name: 'x-protocol-params', string_match: { contains: ',1,' } }]);
});

test('the wasm router picks the first route whose parameters hold; without predicates no header is added', async () => {
  const { mainInstance } = await import('../../../src/wasm/runtime.js');
  const { slabPool } = await import('../../../src/wasm/slab.js');
  const { decodeFrame, DEFAULT_MAX_FRAME_BYTES, XFrameView } = await import('../../../src/codec/xprotocol/index.js');
  const { compileRouteTable, InlineRouteResolver } = await import('../../../src/router/index.js');
  const { buildRouteHead } = await import('../../../src/xprotocol/route_head.js');
  const { RECORD_LEASE_BYTES } = await import('../../../src/xprotocol/frame_reader.js');
  type Frame = import('../../../src/xprotocol/frame_reader.js').Frame;
  type RouteEntry = import('../../../src/types/router.js').RouteEntry;
  const wasm = mainInstance();
  const pool = slabPool(wasm);
  const buf = pool.lease(65536);
  const rec = pool.lease(RECORD_LEASE_BYTES);
  assert.ok(buf !== 0 && rec !== 0);
  const predicates: ParamPredicate[] = [];
  const table = compileRouteTable(dubboRoutes({ route_config: [{ interface: 'com.x.Users', routes: [
    { match: { method: { name: { exact: 'find' }, params_match: { 0: { exact_match: 'ada' } } } }, route: { cluster: 'gold' } },
    { match: { method: { params_match: { 1: { range_match: { start: 0, end: 10 } } } } }, route: { cluster: 'low' } },
    { match: {}, route: { cluster: 'rest' } },
  ] }] }, 'f', predicates), wasm);
  const resolver = new InlineRouteResolver(table);
  const route = (args: unknown[], withParams = true): Promise<{ cluster: string | undefined; params: string | undefined }> => {
    const bytes = request(args);
    wasm.u8.set(bytes, buf);
    assert.equal(decodeFrame(wasm, XP_DUBBO, buf, bytes.length, rec, DEFAULT_MAX_FRAME_BYTES), bytes.length);
    // buildRouteHead reads the record and writes the head after it, in the same lease (a real Frame's)
    const frame = { rec, view: new XFrameView(wasm, rec) } as unknown as Frame;
    const value = withParams ? paramsHeaderValue(frame.view, predicates) : undefined;
    const head = buildRouteHead(wasm, frame, value);
    return new Promise((resolve) => resolver.resolve(head, (r: RouteEntry | null) => resolve({
      cluster: r?.action.kind === 'cluster' ? r.action.cluster : undefined, params: head.headers.get('x-protocol-params'),
    })));
  };
  assert.deepEqual(await route([str('ada'), int(50)]), { cluster: 'gold', params: ',0,' });
  assert.deepEqual(await route([str('bob'), int(3)]), { cluster: 'low', params: ',1,' });
  assert.deepEqual(await route([str('ada'), int(3)]), { cluster: 'gold', params: ',0,1,' }, 'first match wins');
  assert.deepEqual(await route([str('bob'), int(10)]), { cluster: 'rest', params: ',' });
  assert.deepEqual(await route([str('ada'), int(3)], false), { cluster: 'rest', params: undefined }, 'no header: parameter routes do not match');
  table.retire?.();
  pool.release(buf);
  pool.release(rec);
});
