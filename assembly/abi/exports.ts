// Per-instance set-up. Every thread (main and each worker) instantiates the module over the one
// shared memory and then calls `thread_init` with the scratch region JS assigned to it.
// Globals (not memory) are per instance, so one thread's scratch pointer is never seen by another.
import { ABI_VERSION } from "./layout";

let scratchBase: usize = 0;
let scratchLen: usize = 0;

/** Called once per instance, before any other export. Returns the ABI version JS must match. */
export function thread_init(base: usize, len: usize): i32 {
  scratchBase = base;
  scratchLen = len;
  return ABI_VERSION;
}

/** Start of this thread's scratch region (result records and temporary output). */
export function thread_scratch(): usize {
  return scratchBase;
}

/** Length of this thread's scratch region. */
export function thread_scratch_len(): usize {
  return scratchLen;
}

/** First byte above the module's static data: JS carves its regions from here. */
export function heap_base(): usize {
  return __heap_base;
}
