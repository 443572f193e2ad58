/**
 * The only place that compiles and instantiates Skiff's wasm module. The module is compiled once per
 * thread from build/skiff.wasm and instantiated over the one shared memory; each instance is then given
 * its thread's scratch region. Area wrappers (http1, router, slab) take a `WasmInstance` and call its
 * numeric exports directly.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { memoryMap, type MemoryMap } from './memory.js';
import { hostCallbacks } from './host.js';
import { ABI_VERSION } from './layout.js';

/** build/skiff.wasm, relative to dist/src/wasm/ and to src/wasm/. */
export const WASM_PATH = fileURLToPath(new URL('../../../build/skiff.wasm', import.meta.url));

let compiled: WebAssembly.Module | undefined;

export function compileModule(): WebAssembly.Module {
  compiled ??= new WebAssembly.Module(readFileSync(WASM_PATH));
  return compiled;
}

/** The raw exports: numbers in, numbers out. Each area declares the exports it adds. */
export type WasmExports = Record<string, any> & {
  thread_init(base: number, len: number): number;
  thread_scratch(): number;
  thread_scratch_len(): number;
  heap_base(): number;
};

export interface WasmInstance {
  readonly exports: WasmExports;
  readonly memory: WebAssembly.Memory;
  /** Byte view over the whole shared memory (never re-created: the memory does not grow). */
  readonly u8: Uint8Array;
  readonly view: DataView;
  readonly map: MemoryMap;
  readonly threadIndex: number;
  /** This thread's scratch region. */
  readonly scratchBase: number;
  readonly scratchLen: number;
}

export class WasmAbiError extends Error {
  readonly code = 'SKIFF_WASM_ABI';
}

export function instantiate(memory: WebAssembly.Memory, threadIndex: number, module = compileModule()): WasmInstance {
  const instance = new WebAssembly.Instance(module, {
    env: {
      memory,
      abort(msg: number, file: number, line: number, col: number): never {
        throw new WasmAbiError(`wasm abort at ${line}:${col} (msg ${msg}, file ${file})`);
      },
      seed: () => Date.now(),
    },
    skiff: {
      regex_match: (id: number, ptr: number, len: number): number => hostCallbacks.regexMatch(id, ptr, len),
    },
  });
  const exports = instance.exports as unknown as WasmExports;
  const map = memoryMap(exports.heap_base());
  const scratch = map.scratch[threadIndex];
  if (!scratch) throw new WasmAbiError(`thread index ${threadIndex} out of range`);
  const abi = exports.thread_init(scratch.base, scratch.len);
  if (abi !== ABI_VERSION) throw new WasmAbiError(`wasm ABI ${abi}, JS expects ${ABI_VERSION}`);
  const buffer = memory.buffer as unknown as ArrayBuffer;
  return {
    exports, memory, map, threadIndex,
    u8: new Uint8Array(buffer), view: new DataView(buffer),
    scratchBase: scratch.base, scratchLen: scratch.len,
  };
}
