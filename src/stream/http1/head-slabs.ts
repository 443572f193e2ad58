/**
 * The slabs one connection parses message heads with: the HeadBuffer its input bytes are copied into, and
 * the head record the wasm parser fills (HEAD_* in src/wasm/layout.ts). Both are leased when a head starts
 * arriving and returned together, so an idle connection holds neither.
 */
import type { WasmInstance } from '../../wasm/module.js';
import type { SlabPool } from '../../wasm/slab.js';
import { recordBytes, type HeadLimits } from './codec.js';
import { HeadBuffer } from './head-buffer.js';

export class HeadSlabs {
  readonly limits: HeadLimits;
  readonly buffer: HeadBuffer;
  private readonly recordSize: number;
  private record = 0;

  constructor(wasm: WasmInstance, private readonly pool: SlabPool, maxHeaders: number, maxHeadersKb: number) {
    const maxHeadBytes = maxHeadersKb * 1024;
    this.limits = { maxHeaders, maxHeadBytes };
    this.recordSize = recordBytes(maxHeaders);
    this.buffer = new HeadBuffer(wasm, pool, maxHeadBytes);
  }

  /** The head record's address; 0 while none is leased. */
  get recPtr(): number { return this.record; }

  /** Leases whichever of the two is missing; false when the pool is exhausted. */
  ensure(): boolean {
    if (!this.buffer.ensure()) return false;
    if (this.record === 0) this.record = this.pool.lease(this.recordSize);
    return this.record !== 0;
  }

  /** Returns both slabs to the pool (idempotent). */
  release(): void {
    this.buffer.release();
    if (this.record !== 0) { this.pool.release(this.record); this.record = 0; }
  }
}
