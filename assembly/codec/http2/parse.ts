// HTTP/2 frame parser (RFC 9113 §4, §6): one frame from [buf, buf+len) into a frame record (H2F_*).
//
//  +-----------------------------------------------+
//  |                 Length (24)                   |
//  +---------------+---------------+---------------+
//  |   Type (8)    |   Flags (8)   |
//  +-+-------------+---------------+-------------------------------+
//  |R|                 Stream Identifier (31)                      |
//  +=+=============================================================+
//  |                   Frame Payload (0...)                      ...
//  +---------------------------------------------------------------+
//
// The parser validates what a frame says about itself: its length against its type and the local
// SETTINGS_MAX_FRAME_SIZE, its stream id against its type, padding, SETTINGS values, a zero window
// increment, and CONTINUATION sequencing (the caller passes the stream whose header block is open).
// Connection state (stream states, windows, floods) is the caller's. Padding and priority fields are
// stripped: H2F_DATA_OFF/H2F_DATA_LEN give the content.
import {
  H2F_TYPE, H2F_FLAGS, H2F_STREAM_ID, H2F_LENGTH, H2F_DATA_OFF, H2F_DATA_LEN, H2F_ERROR, H2F_VALUE, H2F_WEIGHT,
  H2F_EXCLUSIVE, H2F_SETTINGS_MASK, H2F_SETTINGS, H2_NEED_MORE, H2_OK, H2_STREAM_ERR, H2_CONN_ERR,
  H2_DATA, H2_HEADERS, H2_PRIORITY, H2_RST_STREAM, H2_SETTINGS, H2_PUSH_PROMISE, H2_PING, H2_GOAWAY,
  H2_WINDOW_UPDATE, H2_CONTINUATION, H2_FLAG_ACK, H2_FLAG_PADDED, H2_FLAG_PRIORITY, H2S_ENABLE_PUSH,
  H2S_INITIAL_WINDOW_SIZE, H2S_MAX_FRAME_SIZE, H2S_ENABLE_CONNECT_PROTOCOL, H2E_PROTOCOL_ERROR,
  H2E_FLOW_CONTROL_ERROR, H2E_FRAME_SIZE_ERROR, H2_FRAME_HEADER_SIZE, H2_DEFAULT_MAX_FRAME_SIZE,
} from "../../abi/layout";

@inline function u24(p: usize): u32 {
  return (<u32>load<u8>(p) << 16) | (<u32>load<u8>(p + 1) << 8) | <u32>load<u8>(p + 2);
}

@inline function u32be(p: usize): u32 {
  return bswap<u32>(load<u32>(p));
}

@inline function u16be(p: usize): u32 {
  return (<u32>load<u8>(p) << 8) | <u32>load<u8>(p + 1);
}

@inline function fail(rec: usize, result: i32, code: i32): i32 {
  store<i32>(rec + H2F_ERROR, code);
  return result;
}

/**
 * Parses the frame at `buf`. `maxFrameSize` is the SETTINGS_MAX_FRAME_SIZE this side advertised;
 * `openBlock` the stream whose header block awaits CONTINUATION (0 when none).
 * Returns H2_NEED_MORE, H2_OK, H2_STREAM_ERR or H2_CONN_ERR (error code in H2F_ERROR). A connection
 * error can be reported from the 9-byte header alone (an oversized frame is never waited for).
 */
export function parseFrame(buf: usize, len: i32, rec: usize, maxFrameSize: i32, openBlock: i32): i32 {
  if (len < H2_FRAME_HEADER_SIZE) return H2_NEED_MORE;
  const length = <i32>u24(buf);
  const type = <i32>load<u8>(buf + 3);
  const flags = <i32>load<u8>(buf + 4);
  const sid = <i32>(u32be(buf + 5) & 0x7fffffff);
  store<i32>(rec + H2F_TYPE, type);
  store<i32>(rec + H2F_FLAGS, flags);
  store<i32>(rec + H2F_STREAM_ID, sid);
  store<i32>(rec + H2F_LENGTH, length);
  store<i32>(rec + H2F_DATA_OFF, H2_FRAME_HEADER_SIZE);
  store<i32>(rec + H2F_DATA_LEN, length);
  store<i32>(rec + H2F_ERROR, 0);
  store<i32>(rec + H2F_VALUE, 0);
  store<i32>(rec + H2F_WEIGHT, 0);
  store<i32>(rec + H2F_EXCLUSIVE, 0);

  // §6.10: while a header block is open only its CONTINUATION frames may arrive; a CONTINUATION
  // outside an open block is equally a connection error.
  if (openBlock != 0) {
    if (type != H2_CONTINUATION || sid != openBlock) return fail(rec, H2_CONN_ERR, H2E_PROTOCOL_ERROR);
  } else if (type == H2_CONTINUATION) {
    return fail(rec, H2_CONN_ERR, H2E_PROTOCOL_ERROR);
  }
  // §4.2: a frame above the advertised maximum; always a connection error here (the header block
  // or the connection state it might carry cannot be skipped safely).
  const limit = maxFrameSize < H2_DEFAULT_MAX_FRAME_SIZE ? H2_DEFAULT_MAX_FRAME_SIZE : maxFrameSize;
  if (length > limit) return fail(rec, H2_CONN_ERR, H2E_FRAME_SIZE_ERROR);
  // Fixed-size frames are checked before their payload arrives.
  switch (type) {
    case H2_RST_STREAM: if (length != 4) return fail(rec, H2_CONN_ERR, H2E_FRAME_SIZE_ERROR); break;
    case H2_PING: if (length != 8) return fail(rec, H2_CONN_ERR, H2E_FRAME_SIZE_ERROR); break;
    case H2_WINDOW_UPDATE: if (length != 4) return fail(rec, H2_CONN_ERR, H2E_FRAME_SIZE_ERROR); break;
    case H2_SETTINGS:
      if (sid != 0) return fail(rec, H2_CONN_ERR, H2E_PROTOCOL_ERROR);
      if ((flags & H2_FLAG_ACK) != 0 ? length != 0 : length % 6 != 0) return fail(rec, H2_CONN_ERR, H2E_FRAME_SIZE_ERROR);
      break;
    default: break;
  }
  if (len < H2_FRAME_HEADER_SIZE + length) return H2_NEED_MORE;

  const p = buf + H2_FRAME_HEADER_SIZE;
  switch (type) {
    case H2_DATA: return parsePadded(p, length, flags, sid, rec, 0);
    case H2_HEADERS: {
      if (sid == 0) return fail(rec, H2_CONN_ERR, H2E_PROTOCOL_ERROR);
      const prio = (flags & H2_FLAG_PRIORITY) != 0 ? 5 : 0;
      const r = parsePadded(p, length, flags, sid, rec, prio);
      if (r != H2_OK || prio == 0) return r;
      const pad = (flags & H2_FLAG_PADDED) != 0 ? 1 : 0;
      return parsePriority(p + <usize>pad, sid, rec);
    }
    case H2_PRIORITY:
      if (sid == 0) return fail(rec, H2_CONN_ERR, H2E_PROTOCOL_ERROR);
      if (length != 5) return fail(rec, H2_STREAM_ERR, H2E_FRAME_SIZE_ERROR);
      store<i32>(rec + H2F_DATA_LEN, 0);
      return parsePriority(p, sid, rec);
    case H2_RST_STREAM:
      if (sid == 0) return fail(rec, H2_CONN_ERR, H2E_PROTOCOL_ERROR);
      store<i32>(rec + H2F_ERROR, <i32>u32be(p));
      return H2_OK;
    case H2_SETTINGS: return parseSettings(p, length, rec);
    case H2_PUSH_PROMISE:
      // §8.4: a client cannot push, and a server cannot either once SETTINGS_ENABLE_PUSH = 0, which
      // Skiff always sends.
      return fail(rec, H2_CONN_ERR, H2E_PROTOCOL_ERROR);
    case H2_PING:
      if (sid != 0) return fail(rec, H2_CONN_ERR, H2E_PROTOCOL_ERROR);
      return H2_OK;
    case H2_GOAWAY:
      if (sid != 0) return fail(rec, H2_CONN_ERR, H2E_PROTOCOL_ERROR);
      if (length < 8) return fail(rec, H2_CONN_ERR, H2E_FRAME_SIZE_ERROR);
      store<i32>(rec + H2F_VALUE, <i32>(u32be(p) & 0x7fffffff));
      store<i32>(rec + H2F_ERROR, <i32>u32be(p + 4));
      store<i32>(rec + H2F_DATA_OFF, H2_FRAME_HEADER_SIZE + 8);
      store<i32>(rec + H2F_DATA_LEN, length - 8);
      return H2_OK;
    case H2_WINDOW_UPDATE: {
      const inc = <i32>(u32be(p) & 0x7fffffff);
      store<i32>(rec + H2F_VALUE, inc);
      // §6.9: a zero increment is a stream error on a stream, a connection error on the connection.
      if (inc == 0) return fail(rec, sid == 0 ? H2_CONN_ERR : H2_STREAM_ERR, H2E_PROTOCOL_ERROR);
      return H2_OK;
    }
    case H2_CONTINUATION: return H2_OK; // sequencing checked above
    default: return H2_OK; // §5.5: unknown frame types are ignored
  }
}

/** DATA and HEADERS: strips the Pad Length byte, `fixed` bytes of fields and the padding. */
function parsePadded(p: usize, length: i32, flags: i32, sid: i32, rec: usize, fixed: i32): i32 {
  if (sid == 0) return fail(rec, H2_CONN_ERR, H2E_PROTOCOL_ERROR);
  let off = 0;
  let pad = 0;
  if ((flags & H2_FLAG_PADDED) != 0) {
    if (length < 1) return fail(rec, H2_CONN_ERR, H2E_FRAME_SIZE_ERROR);
    pad = <i32>load<u8>(p);
    off = 1;
  }
  if (length < off + fixed) return fail(rec, H2_CONN_ERR, H2E_FRAME_SIZE_ERROR);
  // §6.1: padding as long as the payload or longer is a connection error.
  if (pad > length - off - fixed) return fail(rec, H2_CONN_ERR, H2E_PROTOCOL_ERROR);
  store<i32>(rec + H2F_DATA_OFF, H2_FRAME_HEADER_SIZE + off + fixed);
  store<i32>(rec + H2F_DATA_LEN, length - off - fixed - pad);
  return H2_OK;
}

/** The 5-byte priority fields (deprecated by RFC 9113 but still parsed); a self-dependency is a stream error. */
function parsePriority(p: usize, sid: i32, rec: usize): i32 {
  const dep = u32be(p);
  const depId = <i32>(dep & 0x7fffffff);
  store<i32>(rec + H2F_VALUE, depId);
  store<i32>(rec + H2F_EXCLUSIVE, <i32>(dep >>> 31));
  store<i32>(rec + H2F_WEIGHT, <i32>load<u8>(p + 4) + 1);
  if (depId == sid) return fail(rec, H2_STREAM_ERR, H2E_PROTOCOL_ERROR);
  return H2_OK;
}

/** SETTINGS parameters: validated per §6.5.2, values of ids 1..8 stored, unknown ids ignored. */
function parseSettings(p: usize, length: i32, rec: usize): i32 {
  let mask: i32 = 0;
  const n = length / 6;
  for (let i = 0; i < n; i++) {
    const q = p + <usize>(i * 6);
    const id = <i32>u16be(q);
    const value = u32be(q + 2);
    if (id == H2S_ENABLE_PUSH || id == H2S_ENABLE_CONNECT_PROTOCOL) {
      if (value > 1) return fail(rec, H2_CONN_ERR, H2E_PROTOCOL_ERROR);
    } else if (id == H2S_INITIAL_WINDOW_SIZE) {
      if (value > 0x7fffffff) return fail(rec, H2_CONN_ERR, H2E_FLOW_CONTROL_ERROR);
    } else if (id == H2S_MAX_FRAME_SIZE) {
      if (value < 16384 || value > 16777215) return fail(rec, H2_CONN_ERR, H2E_PROTOCOL_ERROR);
    }
    if (id >= 1 && id <= 8) {
      mask |= 1 << id;
      store<u32>(rec + H2F_SETTINGS + <usize>((id - 1) * 4), value);
    }
  }
  store<i32>(rec + H2F_SETTINGS_MASK, mask);
  return H2_OK;
}
