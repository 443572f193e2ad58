// The route arena: first-fit allocation, retirement with a grace period, coalescing of freed blocks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RouteArena, RouteArenaFullError } from '../../../src/router/index.js';

test('a retired block is reused only after its grace period', () => {
  let now = 1000;
  const arena = new RouteArena(0, 4096, () => now);
  const a = arena.allocate(1000);
  const b = arena.allocate(1000);
  assert.notEqual(a, b);
  assert.equal(a % 64, 0);
  arena.retire(a, 500);
  const c = arena.allocate(1000);
  assert.ok(c !== a, 'still in its grace period');
  now += 500;
  assert.equal(arena.allocate(1000), a);
});

test('freed neighbours coalesce into one block', () => {
  const arena = new RouteArena(0, 4096, () => 0);
  const blocks = [arena.allocate(1024), arena.allocate(1024), arena.allocate(1024), arena.allocate(1024)];
  assert.throws(() => arena.allocate(64), RouteArenaFullError);
  arena.retire(blocks[1], 0);
  arena.retire(blocks[3], 0);
  arena.retire(blocks[2], 0);
  assert.equal(arena.reclaim(), 3);
  assert.equal(arena.freeBytes, 3072);
  assert.equal(arena.allocate(3000), blocks[1]);
});

test('exhaustion is a typed error; retiring an unknown block is refused', () => {
  const arena = new RouteArena(0, 1024, () => 0);
  assert.throws(() => arena.allocate(2048), (e: unknown) => e instanceof RouteArenaFullError && e.code === 'SKIFF_ROUTE_ARENA_FULL');
  assert.throws(() => arena.retire(64, 0), /unknown block/);
});
