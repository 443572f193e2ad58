/**
 * One HPACK decoding context (one per HTTP/2 connection and direction): the dynamic table lives in a slab
 * leased here and released by dispose(). decode() is one wasm call over bytes already in wasm memory.
 */
import type { WasmInstance } from '../../wasm/module.js';
import { slabPool, type SlabPool } from '../../wasm/slab.js';
import * as L from '../../wasm/layout.js';
import { HpackError } from './errors.js';

/** RFC 9113 §6.5.2 default SETTINGS_HEADER_TABLE_SIZE. */
export const DEFAULT_TABLE_SIZE = 4096;

export type HpackDecodeMode = typeof L.HPACK_MODE_REQUEST | typeof L.HPACK_MODE_RESPONSE | typeof L.HPACK_MODE_TRAILERS | typeof L.HPACK_MODE_RAW;

/** Bytes a head record needs for `maxHeaders` fields (one more entry is reserved for the host the decoder adds). */
export function hpackRecordBytes(maxHeaders: number): number {
  return L.HEAD_RECORD_FIXED + (maxHeaders + 1) * L.HEADER_ENTRY_SIZE;
}

interface HpackTableExports {
  hpack_table_bytes(capacity: number): number;
  hpack_table_init(t: number, capacity: number, initial: number): void;
  hpack_table_size(t: number): number;
  hpack_table_count(t: number): number;
  hpack_table_max_size(t: number): number;
}

/** Leases and lays out a dynamic table region; shared by the decoder and the encoder. */
export class TableRegion {
  readonly ptr: number;
  private released = false;

  constructor(readonly wasm: WasmInstance, readonly capacity: number, initial: number, private readonly pool: SlabPool = slabPool(wasm)) {
    if (!(Number.isInteger(capacity) && capacity >= 0 && capacity <= 1 << 20)) {
      throw new HpackError('SKIFF_HPACK_BAD_ARGUMENT', `table capacity ${capacity} out of range [0, 1 MiB]`);
    }
    const e = wasm.exports as unknown as HpackTableExports;
    const bytes = e.hpack_table_bytes(capacity) >>> 0;
    this.ptr = pool.lease(bytes);
    if (this.ptr === 0) throw new HpackError('SKIFF_HPACK_NO_MEMORY', `no slab of ${bytes} bytes for an HPACK table`);
    e.hpack_table_init(this.ptr, capacity, Math.min(initial, capacity));
  }

  private get e(): HpackTableExports { return this.wasm.exports as unknown as HpackTableExports; }
  /** Current size (name + value + 32 per entry). */
  get size(): number { this.check(); return this.e.hpack_table_size(this.ptr) >>> 0; }
  get count(): number { this.check(); return this.e.hpack_table_count(this.ptr); }
  get maxSize(): number { this.check(); return this.e.hpack_table_max_size(this.ptr) >>> 0; }

  check(): void {
    if (this.released) throw new HpackError('SKIFF_HPACK_DISPOSED', 'HPACK context used after dispose()');
  }

  release(): void {
    if (this.released) return;
    this.released = true;
    this.pool.release(this.ptr);
  }
}

export class HpackDecoder {
  private readonly region: TableRegion;
  private readonly decodeExport: (...args: number[]) => number;

  /**
   * `maxTableSize`: the largest SETTINGS_HEADER_TABLE_SIZE this connection will ever advertise (the region is
   * sized for it); the table starts at the protocol default (4096) or that, whichever is smaller.
   */
  constructor(readonly wasm: WasmInstance, maxTableSize = DEFAULT_TABLE_SIZE, pool?: SlabPool) {
    this.region = new TableRegion(wasm, maxTableSize, DEFAULT_TABLE_SIZE, pool);
    this.decodeExport = wasm.exports.hpack_decode;
  }

  /** Our SETTINGS_HEADER_TABLE_SIZE, once the peer acknowledged it. Lowering it requires a size update from the peer. */
  setMaxTableSize(n: number): void {
    this.region.check();
    if (!(Number.isInteger(n) && n >= 0 && n <= this.region.capacity)) {
      throw new HpackError('SKIFF_HPACK_BAD_ARGUMENT', `table size ${n} above the decoder's capacity ${this.region.capacity}`);
    }
    this.wasm.exports.hpack_decoder_set_limit(this.region.ptr, n);
  }

  /**
   * Decodes one complete header block [blockPtr, blockPtr+blockLen) into the head record `rec`
   * (hpackRecordBytes(maxHeaders) bytes), strings into [out, out+outCap) (they must stay there while the
   * stream lives). `maxListBytes` bounds the decoded names + values (max_request_headers_kb * 1024).
   * Returns HPACK_OK or an HPACK_E_* status (hpackErrorInfo says what to do).
   * An output buffer or record that is too small is safe: the block is still decoded to its end and the
   * dynamic table stays in step with the peer's (fields to be indexed go through the table's own staging
   * area); the status is then HPACK_E_HEADER_LIST_TOO_LARGE or HPACK_E_TOO_MANY_HEADERS (stream errors).
   */
  decode(mode: HpackDecodeMode, blockPtr: number, blockLen: number, rec: number, maxHeaders: number, out: number, outCap: number, maxListBytes: number): number {
    this.region.check();
    return this.decodeExport(this.region.ptr, mode, blockPtr, blockLen, rec, maxHeaders, out, outCap, maxListBytes);
  }

  get tableSize(): number { return this.region.size; }
  get tableCount(): number { return this.region.count; }
  get tableMaxSize(): number { return this.region.maxSize; }

  dispose(): void { this.region.release(); }
}
