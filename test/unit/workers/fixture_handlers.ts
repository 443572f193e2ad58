// Task handlers only the worker-pool tests load (through `handlerModules`).
import type { TaskHandler } from '../../../src/workers/types.js';
import { SkiffError } from '../../../src/common/errors.js';
import { createRouteMatchHandler } from '../../../src/workers/route_offload.js';
import { attachPrefixTable, PREFIX_MATCH_TASK } from './prefix_table.js';

/** Leases a slab in the worker, fills it with `byte`, returns the pointer (the main thread releases it). */
const fillSlab: TaskHandler<{ bytes: number; byte: number }, number> = {
  kind: 'test.fill-slab',
  run(ctx, { bytes, byte }) {
    const p = ctx.slab.lease(bytes);
    if (p !== 0) ctx.wasm.u8.fill(byte, p, p + bytes);
    return p;
  },
};

const fail: TaskHandler<{ code: string }, never> = {
  kind: 'test.fail',
  run(_ctx, { code }) { throw new SkiffError(code, 'failed on purpose'); },
};

/** Busy for `ms` (bounded), so tests can hold a worker. */
const spin: TaskHandler<{ ms: number }, number> = {
  kind: 'test.spin',
  run(ctx, { ms }) {
    const end = Date.now() + Math.min(ms, 2000);
    while (Date.now() < end) { /* busy on purpose */ }
    return ctx.threadIndex;
  },
};

/**
 * Waits (bounded by `timeoutMs`) until `parties` tasks have arrived at `cell[0]`, then returns whether they
 * all did. Tasks that can only finish together prove they ran at once on different workers, whatever the
 * machine's speed: a test holds a worker this way instead of guessing how long a task takes.
 */
const rendezvous: TaskHandler<{ cell: Int32Array; parties: number; timeoutMs: number }, { threadIndex: number; met: boolean }> = {
  kind: 'test.rendezvous',
  run(ctx, { cell, parties, timeoutMs }) {
    Atomics.add(cell, 0, 1);
    Atomics.notify(cell, 0);
    const deadline = Date.now() + Math.min(timeoutMs, 60_000);
    for (let seen = Atomics.load(cell, 0); seen < parties; seen = Atomics.load(cell, 0)) {
      const left = deadline - Date.now();
      if (left <= 0) return { threadIndex: ctx.threadIndex, met: false };
      Atomics.wait(cell, 0, seen, left);
    }
    return { threadIndex: ctx.threadIndex, met: true };
  },
};

// Route offload against the test prefix table (prefix_table.ts).
/** Ends the worker thread under the task (a crash as the pool sees it). */
const exitThread: TaskHandler<unknown, never> = {
  kind: 'test.exit',
  run() { process.exit(3); },
};

export const handlers: readonly TaskHandler[] = [fillSlab, fail, spin, rendezvous, exitThread, createRouteMatchHandler(PREFIX_MATCH_TASK, attachPrefixTable)];
