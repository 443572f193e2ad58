/**
 * The HTTP/2 frame layer as the stream layer (src/stream/http2) calls it: parse one frame that sits in
 * wasm memory into a frame record and read the record; serialize the frames Skiff sends.
 *
 * Memory: a FrameCodec leases one small slab for its frame record, its SETTINGS values and the bytes of the
 * control frames it serializes; `release()` returns it. Input frames are parsed where they lie (`buf` is an
 * absolute address in the shared memory); the record gives offsets relative to `buf`.
 * Threads: any thread, with its own WasmInstance.
 *
 * Typical use by a connection:
 *   const rc = codec.parse(buf, len, maxFrameSize, openBlock);
 *   if (rc === H2_NEED_MORE) wait for more bytes (codec.length tells how many the frame needs once 9 are in);
 *   else if (rc === H2_CONN_ERR) send codec.goaway(lastId, codec.error) and close;
 *   else if (rc === H2_STREAM_ERR) send codec.rstStream(codec.streamId, codec.error), skip 9 + codec.length;
 *   else handle codec.type ... and skip 9 + codec.length bytes.
 */
import type { WasmInstance } from '../../wasm/module.js';
import type { SlabPool } from '../../wasm/slab.js';
import * as L from '../../wasm/layout.js';
import { SkiffError } from '../../common/errors.js';

export {
  H2_NEED_MORE, H2_OK, H2_STREAM_ERR, H2_CONN_ERR, H2_DATA, H2_HEADERS, H2_PRIORITY, H2_RST_STREAM, H2_SETTINGS,
  H2_PUSH_PROMISE, H2_PING, H2_GOAWAY, H2_WINDOW_UPDATE, H2_CONTINUATION, H2_FLAG_END_STREAM, H2_FLAG_ACK,
  H2_FLAG_END_HEADERS, H2_FLAG_PADDED, H2_FLAG_PRIORITY, H2_FRAME_HEADER_SIZE, H2_DEFAULT_MAX_FRAME_SIZE,
  H2_MAX_WINDOW,
} from '../../wasm/layout.js';

/** The client connection preface (RFC 9113 §3.4), before its SETTINGS frame. */
export const CLIENT_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

/** RFC 9113 §7 error code names, for logs and error messages. */
export const H2_ERROR_NAMES: readonly string[] = [
  'NO_ERROR', 'PROTOCOL_ERROR', 'INTERNAL_ERROR', 'FLOW_CONTROL_ERROR', 'SETTINGS_TIMEOUT', 'STREAM_CLOSED',
  'FRAME_SIZE_ERROR', 'REFUSED_STREAM', 'CANCEL', 'COMPRESSION_ERROR', 'CONNECT_ERROR', 'ENHANCE_YOUR_CALM',
  'INADEQUATE_SECURITY', 'HTTP_1_1_REQUIRED',
];

export function errorName(code: number): string {
  return H2_ERROR_NAMES[code] ?? `0x${code.toString(16)}`;
}

/** SETTINGS parameters by id; a missing key is not sent / was not received. */
export interface Settings {
  headerTableSize?: number;
  enablePush?: number;
  maxConcurrentStreams?: number;
  initialWindowSize?: number;
  maxFrameSize?: number;
  maxHeaderListSize?: number;
}

const SETTING_IDS: readonly [keyof Settings, number][] = [
  ['headerTableSize', L.H2S_HEADER_TABLE_SIZE], ['enablePush', L.H2S_ENABLE_PUSH],
  ['maxConcurrentStreams', L.H2S_MAX_CONCURRENT_STREAMS], ['initialWindowSize', L.H2S_INITIAL_WINDOW_SIZE],
  ['maxFrameSize', L.H2S_MAX_FRAME_SIZE], ['maxHeaderListSize', L.H2S_MAX_HEADER_LIST_SIZE],
];

/** Slab layout: frame record, SETTINGS values to send, then the output area for control frames. */
const REC_OFF = 0;
const SETTINGS_OFF = 128;
const OUT_OFF = 192;
const SLAB_BYTES = 1024;

interface FrameExports {
  h2_parse_frame(buf: number, len: number, rec: number, maxFrameSize: number, openBlock: number): number;
  h2_write_frame_header(out: number, length: number, type: number, flags: number, streamId: number): number;
  h2_write_settings(out: number, mask: number, values: number, ack: number): number;
  h2_write_ping(out: number, data: number, ack: number): number;
  h2_write_rst_stream(out: number, streamId: number, code: number): number;
  h2_write_goaway(out: number, lastStreamId: number, code: number): number;
  h2_write_window_update(out: number, streamId: number, increment: number): number;
}

/** One connection's frame parser and control-frame serializer. */
export class FrameCodec {
  private readonly x: FrameExports;
  private readonly view: DataView;
  /** The record read as i32 words (index = address / 4): one typed-array load per field, no DataView call. */
  private readonly words: Int32Array;
  private slab: number;
  private readonly rec: number;
  private readonly w: number;

  /**
   * `views`: the serializers return views over the codec's slab, valid until its next serializer call (for a
   * caller that copies them at once); otherwise each returns a Buffer of its own.
   */
  constructor(private readonly wasm: WasmInstance, private readonly pool: SlabPool, private readonly views = false) {
    this.x = wasm.exports as unknown as FrameExports;
    this.view = wasm.view;
    this.slab = pool.lease(SLAB_BYTES);
    if (this.slab === 0) throw new SkiffError('SKIFF_H2_OUT_OF_SLABS', 'no slab for an HTTP/2 frame record', 'internal', true);
    this.rec = this.slab + REC_OFF;
    this.words = new Int32Array(wasm.memory.buffer as ArrayBuffer);
    this.w = this.rec >> 2;
  }

  /** Returns the slab (idempotent); the codec is unusable afterwards. */
  release(): void {
    if (this.slab !== 0) { this.pool.release(this.slab); this.slab = 0; }
  }

  /** Parses the frame at [buf, buf+len): H2_NEED_MORE, H2_OK, H2_STREAM_ERR or H2_CONN_ERR. */
  parse(buf: number, len: number, maxFrameSize: number, openBlock: number): number {
    return this.x.h2_parse_frame(buf, len, this.rec, maxFrameSize, openBlock);
  }

  get type(): number { return this.words[this.w + (L.H2F_TYPE >> 2)]; }
  get flags(): number { return this.words[this.w + (L.H2F_FLAGS >> 2)]; }
  get streamId(): number { return this.words[this.w + (L.H2F_STREAM_ID >> 2)]; }
  /** Payload length; the frame takes 9 + length bytes. */
  get length(): number { return this.words[this.w + (L.H2F_LENGTH >> 2)]; }
  /** Offset of the content (padding and priority fields removed) from the frame's first byte. */
  get dataOffset(): number { return this.words[this.w + (L.H2F_DATA_OFF >> 2)]; }
  get dataLength(): number { return this.words[this.w + (L.H2F_DATA_LEN >> 2)]; }
  /** RST_STREAM/GOAWAY error code, or the code of a parse error. */
  get error(): number { return this.words[this.w + (L.H2F_ERROR >> 2)] >>> 0; }
  /** WINDOW_UPDATE increment, GOAWAY last-stream-id, priority dependency. */
  get value(): number { return this.words[this.w + (L.H2F_VALUE >> 2)]; }
  get weight(): number { return this.words[this.w + (L.H2F_WEIGHT >> 2)]; }
  get exclusive(): boolean { return this.words[this.w + (L.H2F_EXCLUSIVE >> 2)] !== 0; }

  /** The parameters of the SETTINGS frame just parsed. */
  settings(): Settings {
    const mask = this.view.getInt32(this.rec + L.H2F_SETTINGS_MASK, true);
    const out: Settings = {};
    for (const [key, id] of SETTING_IDS) {
      if ((mask & (1 << id)) !== 0) out[key] = this.view.getUint32(this.rec + L.H2F_SETTINGS + (id - 1) * 4, true);
    }
    return out;
  }

  // ---- serializers: a fresh Buffer each, or a view (see the constructor) ----

  settingsFrame(s: Settings): Uint8Array {
    let mask = 0;
    const values = this.slab + SETTINGS_OFF;
    for (const [key, id] of SETTING_IDS) {
      const v = s[key];
      if (v === undefined) continue;
      mask |= 1 << id;
      this.view.setUint32(values + (id - 1) * 4, v, true);
    }
    return this.copyOut(this.x.h2_write_settings(this.out, mask, values, 0));
  }

  settingsAck(): Uint8Array {
    return this.copyOut(this.x.h2_write_settings(this.out, 0, 0, 1));
  }

  /** PING (or its ACK) carrying the 8 opaque bytes at wasm address `data`. */
  pingAt(data: number, ack: boolean): Uint8Array {
    return this.copyOut(this.x.h2_write_ping(this.out, data, ack ? 1 : 0));
  }

  ping(opaque: Uint8Array, ack: boolean): Uint8Array {
    this.wasm.u8.set(opaque.subarray(0, 8), this.out + L.H2_FRAME_HEADER_SIZE);
    return this.pingAt(this.out + L.H2_FRAME_HEADER_SIZE, ack);
  }

  rstStream(streamId: number, code: number): Uint8Array {
    return this.copyOut(this.x.h2_write_rst_stream(this.out, streamId, code));
  }

  goaway(lastStreamId: number, code: number): Uint8Array {
    return this.copyOut(this.x.h2_write_goaway(this.out, lastStreamId, code));
  }

  windowUpdate(streamId: number, increment: number): Uint8Array {
    return this.copyOut(this.x.h2_write_window_update(this.out, streamId, increment));
  }

  /** The 9-byte header of a frame whose payload the caller writes after it. */
  frameHeader(length: number, type: number, flags: number, streamId: number): Uint8Array {
    return this.copyOut(this.x.h2_write_frame_header(this.out, length, type, flags, streamId));
  }

  /** Writes a frame header at wasm address `at` (in front of a payload already there). */
  frameHeaderAt(at: number, length: number, type: number, flags: number, streamId: number): void {
    this.x.h2_write_frame_header(at, length, type, flags, streamId);
  }

  private get out(): number { return this.slab + OUT_OFF; }

  private copyOut(n: number): Uint8Array {
    const view = this.wasm.u8.subarray(this.out, this.out + n);
    return this.views ? view : Buffer.from(view);
  }
}
