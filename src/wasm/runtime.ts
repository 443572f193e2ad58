/**
 * The main thread's wasm instance, created on first use. Workers create their own (src/workers).
 */
import { createSharedMemory } from './memory.js';
import { instantiate, type WasmInstance } from './module.js';

let main: WasmInstance | undefined;

/** The main thread's instance (thread index 0) over the process's shared memory. */
export function mainInstance(): WasmInstance {
  main ??= instantiate(createSharedMemory(), 0);
  return main;
}
