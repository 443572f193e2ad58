// HTTP/2 frame serializers for the frames Skiff sends (RFC 9113 §6): each writes one whole frame, or
// for DATA/HEADERS/CONTINUATION the 9-byte frame header in front of a payload the caller places, at
// `out` and returns the bytes written. The caller sizes `out` (every control frame is at most 9 + 48 bytes).
import {
  H2_RST_STREAM, H2_SETTINGS, H2_PING, H2_GOAWAY, H2_WINDOW_UPDATE, H2_FLAG_ACK, H2_FRAME_HEADER_SIZE,
} from "../../abi/layout";

@inline function putU32(p: usize, v: u32): void {
  store<u32>(p, bswap<u32>(v));
}

/** The 9-byte frame header. */
export function writeFrameHeader(out: usize, length: i32, type: i32, flags: i32, streamId: i32): i32 {
  store<u8>(out, <u8>(length >>> 16));
  store<u8>(out + 1, <u8>(length >>> 8));
  store<u8>(out + 2, <u8>length);
  store<u8>(out + 3, <u8>type);
  store<u8>(out + 4, <u8>flags);
  putU32(out + 5, <u32>streamId & 0x7fffffff);
  return H2_FRAME_HEADER_SIZE;
}

/**
 * SETTINGS with the parameters whose bit (1 << id) is set in `mask`, values read as u32 from
 * `values + (id - 1) * 4` (the H2F_SETTINGS layout). `ack`: an empty SETTINGS ACK instead.
 */
export function writeSettings(out: usize, mask: i32, values: usize, ack: i32): i32 {
  if (ack != 0) return writeFrameHeader(out, 0, H2_SETTINGS, H2_FLAG_ACK, 0);
  let p = out + H2_FRAME_HEADER_SIZE;
  for (let id = 1; id <= 8; id++) {
    if ((mask & (1 << id)) == 0) continue;
    store<u8>(p, 0);
    store<u8>(p + 1, <u8>id);
    putU32(p + 2, load<u32>(values + <usize>((id - 1) * 4)));
    p += 6;
  }
  const length = <i32>(p - out) - H2_FRAME_HEADER_SIZE;
  writeFrameHeader(out, length, H2_SETTINGS, 0, 0);
  return length + H2_FRAME_HEADER_SIZE;
}

/** PING with the 8 opaque bytes at `data` (copied before the header is written, so `data` may be `out + 9`). */
export function writePing(out: usize, data: usize, ack: i32): i32 {
  const opaque = load<u64>(data);
  writeFrameHeader(out, 8, H2_PING, ack != 0 ? H2_FLAG_ACK : 0, 0);
  store<u64>(out + H2_FRAME_HEADER_SIZE, opaque);
  return H2_FRAME_HEADER_SIZE + 8;
}

export function writeRstStream(out: usize, streamId: i32, code: i32): i32 {
  writeFrameHeader(out, 4, H2_RST_STREAM, 0, streamId);
  putU32(out + H2_FRAME_HEADER_SIZE, <u32>code);
  return H2_FRAME_HEADER_SIZE + 4;
}

export function writeGoaway(out: usize, lastStreamId: i32, code: i32): i32 {
  writeFrameHeader(out, 8, H2_GOAWAY, 0, 0);
  putU32(out + H2_FRAME_HEADER_SIZE, <u32>lastStreamId & 0x7fffffff);
  putU32(out + H2_FRAME_HEADER_SIZE + 4, <u32>code);
  return H2_FRAME_HEADER_SIZE + 8;
}

export function writeWindowUpdate(out: usize, streamId: i32, increment: i32): i32 {
  writeFrameHeader(out, 4, H2_WINDOW_UPDATE, 0, streamId);
  putU32(out + H2_FRAME_HEADER_SIZE, <u32>increment & 0x7fffffff);
  return H2_FRAME_HEADER_SIZE + 4;
}
