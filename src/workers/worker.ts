/**
 * Worker entry (piscina's `filename`). At start-up, before any task: claim a thread index, instantiate the wasm
 * module over the shared memory with it, attach to the slab pool, load the handlers, then tell the main thread
 * it is ready. Each task is `{ kind, payload }`, dispatched to the handler registered for `kind`.
 */
import { threadId, workerData } from 'node:worker_threads';
import { instantiate } from '../wasm/module.js';
import { slabPool } from '../wasm/slab.js';
import { builtinHandlers } from './handlers.js';
import { ThreadSlots } from './thread_slots.js';
import type { HandlerModule, TaskEnvelope, TaskHandler, TaskOutcome, WorkerBootData, WorkerContext } from './types.js';

const READY_STARTED = 0;
const READY_FAILED = 1;

async function start(boot: WorkerBootData): Promise<{ ctx: WorkerContext; handlers: Map<string, TaskHandler> }> {
  const threadIndex = new ThreadSlots(boot.slots).claim(threadId);
  if (threadIndex === 0) throw new Error('worker: no free thread index');
  const wasm = instantiate(boot.memory, threadIndex, boot.module);
  const ctx: WorkerContext = { threadIndex, wasm, slab: slabPool(wasm) };
  const handlers = new Map<string, TaskHandler>();
  const add = (h: TaskHandler, from: string): void => {
    if (handlers.has(h.kind)) throw new Error(`worker: task kind '${h.kind}' registered twice (${from})`);
    handlers.set(h.kind, h);
  };
  for (const h of builtinHandlers) add(h, 'built-in');
  for (const spec of boot.handlerModules) {
    const mod = (await import(spec)) as HandlerModule;
    if (!Array.isArray(mod.handlers)) throw new Error(`worker: ${spec} exports no 'handlers' list`);
    for (const h of mod.handlers) add(h, spec);
  }
  return { ctx, handlers };
}

const boot = workerData as WorkerBootData;
const readyFlags = new Int32Array(boot.ready);
let state: { ctx: WorkerContext; handlers: Map<string, TaskHandler> };
try {
  state = await start(boot);
  Atomics.add(readyFlags, READY_STARTED, 1);
} catch (err) {
  Atomics.add(readyFlags, READY_FAILED, 1);
  throw err;
} finally {
  Atomics.notify(readyFlags, READY_STARTED);
}

export default function runTask(task: TaskEnvelope): TaskOutcome {
  const handler = state.handlers.get(task?.kind);
  if (!handler) return { ok: false, code: 'SKIFF_WORKER_UNKNOWN_TASK', message: `no handler for task kind '${task?.kind}'` };
  try {
    return { ok: true, value: handler.run(state.ctx, task.payload) };
  } catch (err) {
    const e = err as { code?: unknown; message?: unknown };
    return {
      ok: false,
      code: typeof e?.code === 'string' ? e.code : 'SKIFF_WORKER_TASK_FAILED',
      message: `${task.kind}: ${typeof e?.message === 'string' ? e.message : String(err)}`,
    };
  }
}
