/** The x-protocol codec as src/upstream/mux_pool.ts sees it: frames by kind and id. */
import type { SkiffError } from '../common/errors.js';
import type { WasmInstance } from '../wasm/module.js';
import type { SlabPool } from '../wasm/slab.js';
import * as L from '../wasm/layout.js';
import type { XProtocolSpec } from '../codec/xprotocol/spec.js';
import type { MuxCodec, MuxFrame, MuxReader } from '../upstream/mux_pool.js';
import { FrameReader, type Frame } from './frame_reader.js';
import { heartbeat, heartbeatReply } from './local_reply.js';

export class UpstreamFrame implements MuxFrame {
  readonly kind: MuxFrame['kind'];
  readonly requestId: number;
  constructor(readonly frame: Frame) {
    const k = frame.view.kindCode;
    this.kind = k === L.XK_RESPONSE ? 'response' : k === L.XK_HEARTBEAT_REPLY ? 'heartbeat_reply' : k === L.XK_HEARTBEAT ? 'heartbeat'
      : k === L.XK_GOAWAY ? 'goaway' : 'other';
    this.requestId = frame.view.requestId;
  }
  release(): void { this.frame.release(); }
}

export function upstreamCodec(wasm: WasmInstance, slabs: SlabPool, spec: XProtocolSpec, maxFrameBytes: number): MuxCodec<UpstreamFrame> {
  const proto = spec.protoIds[0];
  return {
    pingPong: spec.poolMode === 'ping-pong',
    reader(onFrame: (f: UpstreamFrame) => void, onError: (err: SkiffError) => void): MuxReader {
      return new FrameReader({ wasm, slabs, proto, maxFrameBytes, onFrame: (f) => onFrame(new UpstreamFrame(f)), onError });
    },
    heartbeat: (id) => (spec.heartbeat ? heartbeat(wasm, slabs, proto, id) : null),
    heartbeatReply: (f) => (spec.heartbeat ? heartbeatReply(wasm, slabs, f.frame.view.proto, f.frame.rec) : null),
  };
}
