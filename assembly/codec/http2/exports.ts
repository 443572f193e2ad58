// HTTP/2 frame layer entry points: numbers in, numbers out (see parse.ts, encode.ts).
import { parseFrame } from "./parse";
import {
  writeFrameHeader, writeSettings, writePing, writeRstStream, writeGoaway, writeWindowUpdate,
} from "./encode";

/**
 * Parses one frame at [buf, buf+len) into the record at `rec` (H2F_*). Returns H2_NEED_MORE, H2_OK,
 * H2_STREAM_ERR or H2_CONN_ERR; see parse.ts.
 */
export function h2_parse_frame(buf: usize, len: i32, rec: usize, maxFrameSize: i32, openBlock: i32): i32 {
  return parseFrame(buf, len, rec, maxFrameSize, openBlock);
}

export function h2_write_frame_header(out: usize, length: i32, type: i32, flags: i32, streamId: i32): i32 {
  return writeFrameHeader(out, length, type, flags, streamId);
}

export function h2_write_settings(out: usize, mask: i32, values: usize, ack: i32): i32 {
  return writeSettings(out, mask, values, ack);
}

export function h2_write_ping(out: usize, data: usize, ack: i32): i32 {
  return writePing(out, data, ack);
}

export function h2_write_rst_stream(out: usize, streamId: i32, code: i32): i32 {
  return writeRstStream(out, streamId, code);
}

export function h2_write_goaway(out: usize, lastStreamId: i32, code: i32): i32 {
  return writeGoaway(out, lastStreamId, code);
}

export function h2_write_window_update(out: usize, streamId: i32, increment: i32): i32 {
  return writeWindowUpdate(out, streamId, increment);
}
