/** `thread.info`: which worker ran the task, and its wasm view of the slab pool (for health checks, tests). */
import { threadId } from 'node:worker_threads';
import type { TaskHandler } from '../types.js';

export interface ThreadInfo {
  readonly threadIndex: number;
  readonly threadId: number;
  readonly scratchBase: number;
  readonly slabMaxLease: number;
}

export const threadInfoHandler: TaskHandler<unknown, ThreadInfo> = {
  kind: 'thread.info',
  run(ctx) {
    return { threadIndex: ctx.threadIndex, threadId, scratchBase: ctx.wasm.scratchBase, slabMaxLease: ctx.slab.maxLease };
  },
};
