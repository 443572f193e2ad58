// The wasm HTTP/2 frame layer: every frame type parsed from hand-built bytes, every serializer round-tripped
// through the parser, and every RFC 9113 §4-§6 validation error the parser owns.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mainInstance } from '../../../../src/wasm/runtime.js';
import { slabPool } from '../../../../src/wasm/slab.js';
import * as L from '../../../../src/wasm/layout.js';
import { FrameCodec, H2_CONN_ERR, H2_NEED_MORE, H2_OK, H2_STREAM_ERR } from '../../../../src/codec/http2/index.js';

const wasm = mainInstance();
const pool = slabPool(wasm);

function frame(type: number, flags: number, sid: number, payload: number[] | Uint8Array): Buffer {
  const p = Buffer.from(payload);
  const h = Buffer.alloc(9);
  h.writeUIntBE(p.length, 0, 3);
  h[3] = type; h[4] = flags;
  h.writeUInt32BE(sid >>> 0, 5);
  return Buffer.concat([h, p]);
}

/** Copies `bytes` into a slab and parses them; the slab is returned before the assertions run. */
function withParsed<T>(bytes: Uint8Array, fn: (codec: FrameCodec, rc: number) => T, opts: { max?: number; open?: number } = {}): T {
  const codec = new FrameCodec(wasm, pool);
  const buf = pool.lease(65536);
  try {
    wasm.u8.set(bytes, buf);
    const rc = codec.parse(buf, bytes.length, opts.max ?? 16384, opts.open ?? 0);
    return fn(codec, rc);
  } finally {
    pool.release(buf);
    codec.release();
  }
}

const u32 = (v: number): number[] => [(v >>> 24) & 255, (v >>> 16) & 255, (v >>> 8) & 255, v & 255];

test('DATA: plain and padded content offsets', () => {
  withParsed(frame(L.H2_DATA, L.H2_FLAG_END_STREAM, 3, [1, 2, 3]), (c, rc) => {
    assert.equal(rc, H2_OK);
    assert.deepEqual([c.type, c.flags, c.streamId, c.length, c.dataOffset, c.dataLength], [0, 1, 3, 3, 9, 3]);
  });
  withParsed(frame(L.H2_DATA, L.H2_FLAG_PADDED, 5, [2, 7, 7, 0, 0]), (c, rc) => {
    assert.equal(rc, H2_OK);
    assert.deepEqual([c.length, c.dataOffset, c.dataLength], [5, 10, 2]);
  });
});

test('DATA: padding as long as the payload, stream 0 and a missing pad byte are connection errors', () => {
  withParsed(frame(L.H2_DATA, L.H2_FLAG_PADDED, 1, [4, 0, 0, 0]), (c, rc) => {
    assert.equal(rc, H2_CONN_ERR); assert.equal(c.error, L.H2E_PROTOCOL_ERROR);
  });
  withParsed(frame(L.H2_DATA, 0, 0, [1]), (c, rc) => { assert.equal(rc, H2_CONN_ERR); assert.equal(c.error, L.H2E_PROTOCOL_ERROR); });
  withParsed(frame(L.H2_DATA, L.H2_FLAG_PADDED, 1, []), (c, rc) => { assert.equal(rc, H2_CONN_ERR); assert.equal(c.error, L.H2E_FRAME_SIZE_ERROR); });
});

test('HEADERS: padding and priority fields stripped, priority read', () => {
  const payload = [3, ...u32(0x80000001), 15, 0xaa, 0xbb, 0, 0, 0];
  withParsed(frame(L.H2_HEADERS, L.H2_FLAG_PADDED | L.H2_FLAG_PRIORITY | L.H2_FLAG_END_HEADERS, 3, payload), (c, rc) => {
    assert.equal(rc, H2_OK);
    assert.deepEqual([c.dataOffset, c.dataLength, c.value, c.exclusive, c.weight], [15, 2, 1, true, 16]);
  });
  withParsed(frame(L.H2_HEADERS, L.H2_FLAG_PRIORITY, 3, [...u32(3), 1]), (c, rc) => {
    assert.equal(rc, H2_STREAM_ERR); assert.equal(c.error, L.H2E_PROTOCOL_ERROR);
  });
  withParsed(frame(L.H2_HEADERS, L.H2_FLAG_PRIORITY, 3, [0, 0]), (c, rc) => {
    assert.equal(rc, H2_CONN_ERR); assert.equal(c.error, L.H2E_FRAME_SIZE_ERROR);
  });
  withParsed(frame(L.H2_HEADERS, 0, 0, [0x82]), (c, rc) => { assert.equal(rc, H2_CONN_ERR); assert.equal(c.error, L.H2E_PROTOCOL_ERROR); });
});

test('PRIORITY: wrong length is a stream error, stream 0 a connection error', () => {
  withParsed(frame(L.H2_PRIORITY, 0, 3, [...u32(1), 255]), (c, rc) => { assert.equal(rc, H2_OK); assert.equal(c.weight, 256); });
  withParsed(frame(L.H2_PRIORITY, 0, 3, [0, 0, 0, 1]), (c, rc) => { assert.equal(rc, H2_STREAM_ERR); assert.equal(c.error, L.H2E_FRAME_SIZE_ERROR); });
  withParsed(frame(L.H2_PRIORITY, 0, 0, [...u32(1), 1]), (c, rc) => { assert.equal(rc, H2_CONN_ERR); assert.equal(c.error, L.H2E_PROTOCOL_ERROR); });
});

test('RST_STREAM: error code read; length and stream 0 checked', () => {
  withParsed(frame(L.H2_RST_STREAM, 0, 7, u32(8)), (c, rc) => { assert.equal(rc, H2_OK); assert.equal(c.error, L.H2E_CANCEL); });
  withParsed(frame(L.H2_RST_STREAM, 0, 7, [0, 0, 8]), (c, rc) => { assert.equal(rc, H2_CONN_ERR); assert.equal(c.error, L.H2E_FRAME_SIZE_ERROR); });
  withParsed(frame(L.H2_RST_STREAM, 0, 0, u32(8)), (c, rc) => { assert.equal(rc, H2_CONN_ERR); assert.equal(c.error, L.H2E_PROTOCOL_ERROR); });
});

test('SETTINGS: serializer round trip, unknown ids ignored, last value wins', () => {
  const codec = new FrameCodec(wasm, pool);
  const bytes = codec.settingsFrame({ maxConcurrentStreams: 100, initialWindowSize: 1 << 20, maxFrameSize: 16384, enablePush: 0, headerTableSize: 4096, maxHeaderListSize: 61440 });
  codec.release();
  assert.equal(bytes.length, 9 + 36);
  withParsed(bytes, (c, rc) => {
    assert.equal(rc, H2_OK);
    assert.deepEqual(c.settings(), { headerTableSize: 4096, enablePush: 0, maxConcurrentStreams: 100, initialWindowSize: 1 << 20, maxFrameSize: 16384, maxHeaderListSize: 61440 });
  });
  withParsed(frame(L.H2_SETTINGS, 0, 0, [0, 0x33, 0, 0, 0, 1, 0, 3, 0, 0, 0, 5, 0, 3, 0, 0, 0, 9]), (c, rc) => {
    assert.equal(rc, H2_OK); assert.deepEqual(c.settings(), { maxConcurrentStreams: 9 });
  });
});

test('SETTINGS: ACK, length, stream and every parameter validated', () => {
  withParsed(frame(L.H2_SETTINGS, L.H2_FLAG_ACK, 0, []), (c, rc) => { assert.equal(rc, H2_OK); assert.equal(c.flags, 1); });
  const cases: [number, number[], number][] = [
    [L.H2_FLAG_ACK, [0, 3, 0, 0, 0, 1], L.H2E_FRAME_SIZE_ERROR],
    [0, [0, 3, 0, 0, 1], L.H2E_FRAME_SIZE_ERROR],
    [0, [0, 2, 0, 0, 0, 2], L.H2E_PROTOCOL_ERROR],
    [0, [0, 4, 0x80, 0, 0, 0], L.H2E_FLOW_CONTROL_ERROR],
    [0, [0, 5, 0, 0, 0x3f, 0xff], L.H2E_PROTOCOL_ERROR],
    [0, [0, 5, 1, 0, 0, 0], L.H2E_PROTOCOL_ERROR],
    [0, [0, 8, 0, 0, 0, 2], L.H2E_PROTOCOL_ERROR],
  ];
  for (const [flags, payload, code] of cases) {
    withParsed(frame(L.H2_SETTINGS, flags, 0, payload), (c, rc) => {
      assert.equal(rc, H2_CONN_ERR, JSON.stringify(payload)); assert.equal(c.error, code, JSON.stringify(payload));
    });
  }
  withParsed(frame(L.H2_SETTINGS, 0, 1, []), (c, rc) => { assert.equal(rc, H2_CONN_ERR); assert.equal(c.error, L.H2E_PROTOCOL_ERROR); });
});

test('PUSH_PROMISE is always a connection PROTOCOL_ERROR (push is never enabled)', () => {
  withParsed(frame(L.H2_PUSH_PROMISE, L.H2_FLAG_END_HEADERS, 1, [...u32(2), 0x82]), (c, rc) => {
    assert.equal(rc, H2_CONN_ERR); assert.equal(c.error, L.H2E_PROTOCOL_ERROR);
  });
});

test('PING: serializer round trip with ACK; length and stream checked', () => {
  const codec = new FrameCodec(wasm, pool);
  const bytes = codec.ping(Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8), true);
  codec.release();
  assert.deepEqual([...bytes], [0, 0, 8, 6, 1, 0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8]);
  withParsed(bytes, (c, rc) => { assert.equal(rc, H2_OK); assert.equal(c.flags, L.H2_FLAG_ACK); assert.equal(c.dataOffset, 9); });
  withParsed(frame(L.H2_PING, 0, 0, [1, 2, 3]), (c, rc) => { assert.equal(rc, H2_CONN_ERR); assert.equal(c.error, L.H2E_FRAME_SIZE_ERROR); });
  withParsed(frame(L.H2_PING, 0, 1, [0, 0, 0, 0, 0, 0, 0, 0]), (c, rc) => { assert.equal(rc, H2_CONN_ERR); assert.equal(c.error, L.H2E_PROTOCOL_ERROR); });
});

test('GOAWAY: serializer round trip with debug data; short and stream-bound ones rejected', () => {
  const codec = new FrameCodec(wasm, pool);
  const bytes = codec.goaway(0x7fffffff, L.H2E_ENHANCE_YOUR_CALM);
  codec.release();
  withParsed(bytes, (c, rc) => { assert.equal(rc, H2_OK); assert.deepEqual([c.value, c.error, c.dataLength], [0x7fffffff, 11, 0]); });
  withParsed(frame(L.H2_GOAWAY, 0, 0, [...u32(5), ...u32(2), 0x68, 0x69]), (c, rc) => {
    assert.equal(rc, H2_OK); assert.deepEqual([c.value, c.error, c.dataOffset, c.dataLength], [5, 2, 17, 2]);
  });
  withParsed(frame(L.H2_GOAWAY, 0, 0, [0, 0, 0, 1]), (c, rc) => { assert.equal(rc, H2_CONN_ERR); assert.equal(c.error, L.H2E_FRAME_SIZE_ERROR); });
  withParsed(frame(L.H2_GOAWAY, 0, 3, [...u32(5), ...u32(2)]), (c, rc) => { assert.equal(rc, H2_CONN_ERR); assert.equal(c.error, L.H2E_PROTOCOL_ERROR); });
});

test('WINDOW_UPDATE: round trip; zero increment on a stream and on the connection', () => {
  const codec = new FrameCodec(wasm, pool);
  const bytes = codec.windowUpdate(9, 0x7fffffff);
  const rst = codec.rstStream(9, L.H2E_REFUSED_STREAM);
  codec.release();
  withParsed(bytes, (c, rc) => { assert.equal(rc, H2_OK); assert.deepEqual([c.streamId, c.value], [9, 0x7fffffff]); });
  withParsed(rst, (c, rc) => { assert.equal(rc, H2_OK); assert.deepEqual([c.streamId, c.error], [9, L.H2E_REFUSED_STREAM]); });
  withParsed(frame(L.H2_WINDOW_UPDATE, 0, 3, u32(0)), (c, rc) => { assert.equal(rc, H2_STREAM_ERR); assert.equal(c.error, L.H2E_PROTOCOL_ERROR); });
  withParsed(frame(L.H2_WINDOW_UPDATE, 0, 0, u32(0)), (c, rc) => { assert.equal(rc, H2_CONN_ERR); assert.equal(c.error, L.H2E_PROTOCOL_ERROR); });
  withParsed(frame(L.H2_WINDOW_UPDATE, 0, 0, [0, 0, 1]), (c, rc) => { assert.equal(rc, H2_CONN_ERR); assert.equal(c.error, L.H2E_FRAME_SIZE_ERROR); });
});

test('CONTINUATION sequencing: only the open block\'s CONTINUATION may follow', () => {
  withParsed(frame(L.H2_CONTINUATION, L.H2_FLAG_END_HEADERS, 3, [0x82]), (c, rc) => { assert.equal(rc, H2_OK); assert.equal(c.dataLength, 1); }, { open: 3 });
  withParsed(frame(L.H2_CONTINUATION, 0, 5, [0x82]), (c, rc) => { assert.equal(rc, H2_CONN_ERR); assert.equal(c.error, L.H2E_PROTOCOL_ERROR); }, { open: 3 });
  withParsed(frame(L.H2_DATA, 0, 3, [1]), (c, rc) => { assert.equal(rc, H2_CONN_ERR); assert.equal(c.error, L.H2E_PROTOCOL_ERROR); }, { open: 3 });
  withParsed(frame(L.H2_CONTINUATION, 0, 3, [0x82]), (c, rc) => { assert.equal(rc, H2_CONN_ERR); assert.equal(c.error, L.H2E_PROTOCOL_ERROR); });
});

test('frame size: above SETTINGS_MAX_FRAME_SIZE is rejected from the header alone; partial frames need more', () => {
  const big = frame(L.H2_DATA, 0, 1, new Uint8Array(16385));
  withParsed(big.subarray(0, 9), (c, rc) => { assert.equal(rc, H2_CONN_ERR); assert.equal(c.error, L.H2E_FRAME_SIZE_ERROR); });
  withParsed(big, (_c, rc) => assert.equal(rc, H2_OK), { max: 32768 });
  withParsed(big.subarray(0, 100), (c, rc) => { assert.equal(rc, H2_NEED_MORE); assert.equal(c.length, 16385); }, { max: 32768 });
  withParsed(big.subarray(0, 8), (_c, rc) => assert.equal(rc, H2_NEED_MORE));
});

test('unknown frame types are accepted for the caller to skip; the reserved stream bit is cleared', () => {
  withParsed(frame(0xfa, 0xff, 0x80000003, [1, 2]), (c, rc) => {
    assert.equal(rc, H2_OK); assert.deepEqual([c.type, c.streamId, c.length], [0xfa, 3, 2]);
  });
});

test('frame header serializer', () => {
  const codec = new FrameCodec(wasm, pool);
  const h = codec.frameHeader(0x123456, L.H2_HEADERS, L.H2_FLAG_END_HEADERS | L.H2_FLAG_END_STREAM, 0x7fffffff);
  codec.release();
  assert.deepEqual([...h], [0x12, 0x34, 0x56, 1, 5, 0x7f, 0xff, 0xff, 0xff]);
});
