// A pool that follows the load (minThreads 0): no worker before the first task, at most `threads` under a
// burst, and workers that exit once idle for idleTimeoutMs, with the live count reported on every change.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mainInstance } from '../../../src/wasm/runtime.js';
import { createWorkerPool, WorkerPoolError } from '../../../src/workers/pool.js';
import type { ThreadInfo } from '../../../src/workers/handlers/thread_info.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const FIXTURES = new URL('./fixture_handlers.js', import.meta.url).href;

async function until(cond: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

test('workers start on the first task, stay within threads, and exit when idle', async () => {
  const changes: number[] = [];
  const pool = await createWorkerPool({
    threads: 2, memory: mainInstance().memory, minThreads: 0, idleTimeoutMs: 200,
    concurrentTasksPerWorker: 1, onLiveThreadsChange: (n) => changes.push(n), handlerModules: [FIXTURES],
  });
  try {
    await sleep(100);
    assert.equal(pool.liveThreads, 0, 'no worker before any task');
    assert.deepEqual(changes, []);

    const first = await pool.run<ThreadInfo>('thread.info', null);
    assert.ok(first.threadIndex === 1 || first.threadIndex === 2);
    assert.ok(pool.liveThreads >= 1);

    // A burst one worker cannot take alone (concurrentTasksPerWorker 1): two tasks that each wait (bounded) for
    // the other to arrive finish only if they run at once, so the second worker must start. Tiny tasks would
    // not do: on a loaded machine the first worker can drain them all before the second is ready.
    const cell = new Int32Array(new SharedArrayBuffer(4));
    const met = await Promise.all(Array.from({ length: 2 }, () =>
      pool.run<{ threadIndex: number; met: boolean }>('test.rendezvous', { cell, parties: 2, timeoutMs: 30_000 })));
    assert.ok(met.every((m) => m.met), `the two tasks ran at once: ${JSON.stringify(met)}`);
    assert.deepEqual(met.map((m) => m.threadIndex).sort(), [1, 2]);
    // The pool reports a worker live when piscina says it is ready, which can come after its first result.
    await until(() => Math.max(0, ...changes) === 2, `the second worker reported live (changes: ${changes})`);
    assert.ok(Math.max(...changes) <= 2, `never more than threads: ${changes}`);

    await until(() => pool.liveThreads === 0, 'idle workers to exit', 30_000);
    assert.equal(changes.at(-1), 0);

    // Work after the idle exit starts a worker again, on a freed thread index.
    const again = await pool.run<ThreadInfo>('thread.info', null);
    assert.ok(again.threadIndex === 1 || again.threadIndex === 2);
    assert.equal(pool.liveThreads, 1);
  } finally {
    await pool.destroy();
  }
});

test('regression: after an idle exit the next worker gets a thread index (one thread, three idle exits)', async () => {
  // A worker ended by the idle exit kept its thread index, so with one thread the next worker found none free
  // and its task never ran. Each round waits (bounded) for the exit, then a task must be answered (bounded).
  const pool = await createWorkerPool({ threads: 1, memory: mainInstance().memory, minThreads: 0, idleTimeoutMs: 50 });
  try {
    for (let round = 0; round < 3; round++) {
      const answer = pool.run<ThreadInfo>('thread.info', null);
      const timedOut = new Promise<'timed out'>((r) => setTimeout(() => r('timed out'), 30_000).unref());
      const info = await Promise.race([answer, timedOut]);
      assert.notEqual(info, 'timed out', `round ${round}: the task was never run`);
      assert.equal((info as ThreadInfo).threadIndex, 1);
      await until(() => pool.liveThreads === 0, `round ${round}: the idle exit`);
      await until(() => (pool as unknown as { heldThreadIndices(): number }).heldThreadIndices() === 0, `round ${round}: the thread index given back`);
    }
  } finally {
    await pool.destroy();
  }
});

test('minThreads and idleTimeoutMs are checked', async () => {
  const memory = mainInstance().memory;
  const isConfig = (e: unknown) => e instanceof WorkerPoolError && e.code === 'SKIFF_WORKER_POOL_CONFIG';
  await assert.rejects(createWorkerPool({ threads: 1, memory, minThreads: 2 }), isConfig);
  await assert.rejects(createWorkerPool({ threads: 1, memory, minThreads: 0, idleTimeoutMs: -1 }), isConfig);
});
