/**
 * A growable little-endian byte buffer for building a route table blob. Offsets are relative to the blob's
 * start (the matcher adds the table's base address), 4-byte aligned, and offset 0 is the table header, so
 * 0 can mean "none" everywhere else.
 */
export class BlobWriter {
  private bytes = new Uint8Array(4096);
  private view = new DataView(this.bytes.buffer);
  private end = 0;
  private readonly strings = new Map<string, number>();

  get size(): number {
    return this.end;
  }

  /** Reserves `n` zeroed bytes; returns their offset. */
  alloc(n: number): number {
    const at = this.end;
    const next = (at + n + 3) & ~3;
    if (next > this.bytes.length) {
      let cap = this.bytes.length;
      while (cap < next) cap *= 2;
      const grown = new Uint8Array(cap);
      grown.set(this.bytes.subarray(0, this.end));
      this.bytes = grown;
      this.view = new DataView(grown.buffer);
    }
    this.end = next;
    return at;
  }

  u32(at: number, value: number): void {
    this.view.setUint32(at, value >>> 0, true);
  }

  i32(at: number, value: number): void {
    this.view.setInt32(at, value | 0, true);
  }

  getU32(at: number): number {
    return this.view.getUint32(at, true);
  }

  /** Stores a byte string once (identical strings share storage); returns its offset. */
  bytesAt(data: Uint8Array): number {
    const key = Buffer.from(data.buffer, data.byteOffset, data.length).toString('latin1');
    const known = this.strings.get(key);
    if (known !== undefined) return known;
    const at = this.alloc(Math.max(data.length, 1));
    this.bytes.set(data, at);
    this.strings.set(key, at);
    return at;
  }

  /** A list: u32 count, then the values. */
  list(values: readonly number[]): number {
    const at = this.alloc(4 + 4 * values.length);
    this.u32(at, values.length);
    for (let i = 0; i < values.length; i++) this.u32(at + 4 + 4 * i, values[i]);
    return at;
  }

  /** The finished blob (a view, valid until the next alloc). */
  finish(): Uint8Array {
    return this.bytes.subarray(0, this.end);
  }
}
