/**
 * `checksum`: FNV-1a (32 bit) over byte ranges of the shared memory. Proves a worker reads what the main thread
 * wrote (no copy crosses the thread boundary, only pointers), and serves as a cheap batch task for benchmarks.
 */
import type { TaskHandler } from '../types.js';

export interface ChecksumPayload {
  /** Pairs [ptr, len] in the shared memory. */
  readonly ranges: readonly (readonly [number, number])[];
}

export function fnv1a(u8: Uint8Array, ptr: number, len: number): number {
  let h = 0x811c9dc5;
  for (let i = ptr, end = ptr + len; i < end; i++) h = Math.imul(h ^ u8[i], 0x01000193);
  return h >>> 0;
}

export const checksumHandler: TaskHandler<ChecksumPayload, number[]> = {
  kind: 'checksum',
  run(ctx, payload) {
    const u8 = ctx.wasm.u8;
    return payload.ranges.map(([ptr, len]) => {
      if (!(ptr >= 0 && len >= 0 && ptr + len <= u8.length)) throw new RangeError(`range [${ptr}, +${len}) outside memory`);
      return fnv1a(u8, ptr, len);
    });
  },
};
