// The record layouts in assembly/abi/layout.ts and src/wasm/layout.ts must agree: the module exports every
// layout constant as a global, and this test compares them with the JS side one by one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as layout from '../../../src/wasm/layout.js';
import { mainInstance } from '../../../src/wasm/runtime.js';

test('every JS layout constant equals the wasm global of the same name', () => {
  const exports = mainInstance().exports as Record<string, unknown>;
  const names = Object.keys(layout);
  assert.ok(names.length > 10);
  for (const name of names) {
    const g = exports[name];
    assert.ok(g instanceof WebAssembly.Global, `wasm does not export ${name}`);
    assert.equal((g as WebAssembly.Global).value, (layout as Record<string, number>)[name], name);
  }
});

test('every wasm layout global is known to JS', () => {
  const exports = mainInstance().exports as Record<string, unknown>;
  for (const [name, value] of Object.entries(exports)) {
    if (value instanceof WebAssembly.Global) assert.ok(name in layout, `JS layout lacks ${name}`);
  }
});

test('the thread scratch region is the one JS assigned', () => {
  const wasm = mainInstance();
  assert.equal(wasm.exports.thread_scratch(), wasm.scratchBase);
  assert.equal(wasm.exports.thread_scratch_len(), wasm.scratchLen);
  assert.ok(wasm.map.slab.base > wasm.map.routeCache.base);
  assert.ok(wasm.map.slab.len > 16 * 1024 * 1024);
});
