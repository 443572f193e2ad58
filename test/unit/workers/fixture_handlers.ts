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


// Route offload against the test prefix table (prefix_table.ts).
/** Ends the worker thread under the task (a crash as the pool sees it). */
const exitThread: TaskHandler<unknown, never> = {
  kind: 'test.exit',
  run() { process.exit(3); },
};

export const handlers: readonly TaskHandler[] = [fillSlab, fail, spin, exitThread, createRouteMatchHandler(PREFIX_MATCH_TASK, attachPrefixTable)];
