// SOFARPC Bolt v1 and v2 (sofa-bolt's RpcProtocol / RpcProtocolV2): matching and decoding into a frame record.
//
// v1 request (22 bytes)                                   v1 response (20 bytes)
// 0     1     2     3     4     5..8       9     10..13    0     1     2..3     4     5..8       9     10..11
// +-----+-----+-----------+-----+----------+-----+--------+ +-----+-----+--------+-----+----------+-----+--------+
// |proto|type | cmdcode   |ver2 | requestId|codec|timeout | |proto|type |cmdcode |ver2 | requestId|codec|status  |
// +-----+-----+-----------+-----+----------+-----+--------+ +-----+-----+--------+-----+----------+-----+--------+
// |classLen(2)|headerLen(2)|contentLen(4)| class | header map | content |
//
// v2 inserts ver1 after proto and a switch byte after codec (request 24 bytes, response 22), and appends a
// CRC32 of everything before it when ver1 > 1 and switch bit 0 is set. The header map is SimpleMapSerializer:
// (i32 keyLen, key, i32 valueLen, value)*, a length of -1 meaning null.
import {
  XF_PROTO, XF_KIND, XF_FRAME_LEN, XF_FLAGS, XF_ID_LO, XF_ID_OFFSET, XF_ID_WIDTH, XF_STATUS, XF_TIMEOUT,
  XF_CODEC, XF_VERSION, XF_SWITCH, XF_CLASS_PTR, XF_CLASS_LEN, XF_SERVICE_PTR, XF_SERVICE_LEN, XF_METHOD_PTR,
  XF_METHOD_LEN, XF_SVC_VERSION_PTR, XF_SVC_VERSION_LEN, XF_HEADER_PTR, XF_HEADER_LEN, XF_PAYLOAD_PTR,
  XF_PAYLOAD_LEN, XF_ERROR_AT, XFF_CRC, XFF_PEEKED, XFF_TWOWAY,
  XK_REQUEST, XK_RESPONSE, XK_ONEWAY, XK_HEARTBEAT, XK_HEARTBEAT_REPLY, XK_GOAWAY,
  XP_BOLT_V1, XP_BOLT_V2, XP_NO, XP_MATCH, XP_NEED_MORE,
  XPE_BAD_MAGIC, XPE_BAD_VERSION, XPE_BAD_KIND, XPE_TOO_LARGE, XPE_CRC, XPE_HEADERS,
  BOLT_TYPE_RESPONSE, BOLT_TYPE_REQUEST, BOLT_TYPE_ONEWAY, BOLT_CMD_HEARTBEAT, BOLT_CMD_REQUEST,
  BOLT_CMD_RESPONSE, BOLT_CMD_GOAWAY, BOLT_CODEC_HESSIAN2,
} from "../../abi/layout";
import { be16, be32, resetRecord, addHeader, eqAscii } from "../bytes";
import { crc32 } from "../crc32";
import { readClassDef, readString, readInt, skipN, skipCharsExported, strPtr, strLen, strNull, intValue, defFields } from "../hessian";

/** Fixed header length of a Bolt frame of `version` (1 or 2) and wire `type`. */
export function boltHeaderLen(version: i32, type: i32): i32 {
  const base = type == BOLT_TYPE_RESPONSE ? 20 : 22;
  return version == 2 ? base + 2 : base;
}

/** Frame kind for a type/cmdcode pair, 0 when the pair is not one Bolt sends. */
function boltKind(type: i32, cmd: i32): i32 {
  if (cmd == BOLT_CMD_HEARTBEAT) {
    if (type == BOLT_TYPE_RESPONSE) return XK_HEARTBEAT_REPLY;
    return type == BOLT_TYPE_REQUEST || type == BOLT_TYPE_ONEWAY ? XK_HEARTBEAT : 0;
  }
  if (cmd == BOLT_CMD_REQUEST) {
    if (type == BOLT_TYPE_REQUEST) return XK_REQUEST;
    return type == BOLT_TYPE_ONEWAY ? XK_ONEWAY : 0;
  }
  if (cmd == BOLT_CMD_RESPONSE) return type == BOLT_TYPE_RESPONSE ? XK_RESPONSE : 0;
  if (cmd == BOLT_CMD_GOAWAY) return type == BOLT_TYPE_REQUEST || type == BOLT_TYPE_ONEWAY ? XK_GOAWAY : 0;
  return 0;
}

/** xp_match for Bolt v1 (proto 1) or v2 (proto 2): the proto code, then a known version, type and cmdcode. */
export function boltMatch(proto: i32, buf: usize, len: i32): i32 {
  if (len < 1) return XP_NEED_MORE;
  const code = <i32>load<u8>(buf);
  if (code != proto) return XP_NO;
  const at = proto == XP_BOLT_V2 ? 1 : 0;
  if (len < at + 4) return XP_NEED_MORE;
  if (proto == XP_BOLT_V2) {
    const ver1 = <i32>load<u8>(buf + 1);
    if (ver1 < 1 || ver1 > 2) return XP_NO;
  }
  const type = <i32>load<u8>(buf + at + 1);
  const cmd = <i32>be16(buf + at + 2);
  return boltKind(type, cmd) != 0 ? XP_MATCH : XP_NO;
}

function fail(rec: usize, at: i32, code: i32): i32 {
  store<i32>(rec + XF_ERROR_AT, at);
  return code;
}

/**
 * Decodes one Bolt frame (v1 or v2, chosen by its first byte) at [buf, buf+len) into `rec`. Returns the frame
 * length, XP_NEED_MORE (XF_FRAME_LEN = bytes needed once the fixed header is in) or an XPE_* error. The length
 * fields are checked against maxFrameBytes as soon as the fixed header is in, before any body is buffered.
 */
export function boltDecode(buf: usize, len: i32, rec: usize, maxFrameBytes: i32): i32 {
  resetRecord(rec);
  if (len < 1) return XP_NEED_MORE;
  const code = <i32>load<u8>(buf);
  if (code != XP_BOLT_V1 && code != XP_BOLT_V2) return fail(rec, 0, XPE_BAD_MAGIC);
  const v2 = code == XP_BOLT_V2;
  const at: usize = v2 ? 1 : 0;
  let ver1 = 1;
  if (v2) {
    if (len < 2) return XP_NEED_MORE;
    ver1 = <i32>load<u8>(buf + 1);
    if (ver1 < 1 || ver1 > 2) return fail(rec, 1, XPE_BAD_VERSION);
  }
  if (len < <i32>at + 4) return XP_NEED_MORE;
  const type = <i32>load<u8>(buf + at + 1);
  const kind = boltKind(type, <i32>be16(buf + at + 2));
  if (kind == 0) return fail(rec, <i32>at + 1, XPE_BAD_KIND);
  const hdr = boltHeaderLen(v2 ? 2 : 1, type);
  if (len < hdr) return XP_NEED_MORE;

  // Offsets of the fields after the id, shifted by one for v2's ver1 and once more for its switch byte.
  const idAt = at + 5;
  const codecAt = idAt + 4;
  const afterCodec: usize = codecAt + (v2 ? 2 : 1);
  const lensAt = afterCodec + (type == BOLT_TYPE_RESPONSE ? 2 : 4);
  const classLen = <u64>be16(buf + lensAt);
  const headerLen = <u64>be16(buf + lensAt + 2);
  const contentLen = <u64>be32(buf + lensAt + 4);
  const sw = v2 ? <i32>load<u8>(buf + codecAt + 1) : 0;
  const hasCrc = v2 && ver1 > 1 && (sw & 1) != 0;
  const total = <u64>hdr + classLen + headerLen + contentLen + (hasCrc ? 4 : 0);
  if (total > <u64>maxFrameBytes) return fail(rec, <i32>lensAt, XPE_TOO_LARGE);
  if (<u64>len < total) {
    store<i32>(rec + XF_FRAME_LEN, <i32>total);
    return XP_NEED_MORE;
  }
  const frameLen = <i32>total;
  if (hasCrc) {
    if (crc32(buf, frameLen - 4) != be32(buf + <usize>(frameLen - 4))) return fail(rec, frameLen - 4, XPE_CRC);
  }

  store<i32>(rec + XF_PROTO, code);
  store<i32>(rec + XF_KIND, kind);
  store<i32>(rec + XF_FRAME_LEN, frameLen);
  store<i32>(rec + XF_FLAGS, (hasCrc ? XFF_CRC : 0) | (type == BOLT_TYPE_REQUEST ? XFF_TWOWAY : 0));
  store<u32>(rec + XF_ID_LO, be32(buf + idAt));
  store<i32>(rec + XF_ID_OFFSET, <i32>idAt);
  store<i32>(rec + XF_ID_WIDTH, 4);
  store<i32>(rec + XF_CODEC, <i32>load<u8>(buf + codecAt));
  store<i32>(rec + XF_VERSION, ver1);
  store<i32>(rec + XF_SWITCH, sw);
  if (type == BOLT_TYPE_RESPONSE) store<i32>(rec + XF_STATUS, <i32>be16(buf + afterCodec));
  else store<i32>(rec + XF_TIMEOUT, <i32>be32(buf + afterCodec));

  const classPtr = buf + <usize>hdr;
  const headerPtr = classPtr + <usize>classLen;
  const contentPtr = headerPtr + <usize>headerLen;
  store<u32>(rec + XF_CLASS_PTR, <u32>classPtr);
  store<u32>(rec + XF_CLASS_LEN, <u32>classLen);
  store<u32>(rec + XF_HEADER_PTR, <u32>headerPtr);
  store<u32>(rec + XF_HEADER_LEN, <u32>headerLen);
  store<u32>(rec + XF_PAYLOAD_PTR, <u32>contentPtr);
  store<u32>(rec + XF_PAYLOAD_LEN, <u32>contentLen);

  const r = decodeHeaderMap(buf, headerPtr, headerPtr + <usize>headerLen, rec);
  if (r < 0) return r;
  if ((kind == XK_REQUEST || kind == XK_ONEWAY) && load<u32>(rec + XF_METHOD_LEN) == 0
    && load<i32>(rec + XF_CODEC) == BOLT_CODEC_HESSIAN2
    && eqAscii(classPtr, <i32>classLen, "com.alipay.sofa.rpc.core.request.SofaRequest")) {
    peekSofaRequestMethod(contentPtr, contentPtr + <usize>contentLen, rec);
  }
  return frameLen;
}

/**
 * Walks the SimpleMapSerializer header map into header entries and picks the routing keys SOFARPC sets:
 * service (sofa_head_target_service, else service), method (sofa_head_method_name). The version is the part
 * of the service signature "interface:version[:uniqueId]" after the first ':'.
 */
function decodeHeaderMap(buf: usize, p: usize, end: usize, rec: usize): i32 {
  let serviceKeyIsTarget = false;
  // Each entry consumes at least 8 bytes, so the loop ends within headerLen / 8 rounds.
  while (p < end) {
    if (p + 4 > end) return fail(rec, <i32>(p - buf), XPE_HEADERS);
    const keyLen = <i32>be32(p);
    if (keyLen < 0 || keyLen > 0xffff || p + 4 + <usize>keyLen + 4 > end) return fail(rec, <i32>(p - buf), XPE_HEADERS);
    const key = p + 4;
    p = key + <usize>keyLen;
    let valueLen = <i32>be32(p);
    if (valueLen == -1) valueLen = 0;
    if (valueLen < 0 || p + 4 + <usize>valueLen > end) return fail(rec, <i32>(p - buf), XPE_HEADERS);
    const value = p + 4;
    p = value + <usize>valueLen;
    addHeader(rec, key, keyLen, value, valueLen);
    if (eqAscii(key, keyLen, "sofa_head_target_service") || (!serviceKeyIsTarget && eqAscii(key, keyLen, "service"))) {
      serviceKeyIsTarget = keyLen > 7;
      store<u32>(rec + XF_SERVICE_PTR, <u32>value);
      store<u32>(rec + XF_SERVICE_LEN, <u32>valueLen);
    } else if (eqAscii(key, keyLen, "sofa_head_method_name")) {
      store<u32>(rec + XF_METHOD_PTR, <u32>value);
      store<u32>(rec + XF_METHOD_LEN, <u32>valueLen);
    }
  }
  const svc = <usize>load<u32>(rec + XF_SERVICE_PTR);
  const svcLen = <i32>load<u32>(rec + XF_SERVICE_LEN);
  for (let i = 0; i < svcLen; i++) {
    if (load<u8>(svc + <usize>i) == 0x3a) {
      let j = i + 1;
      while (j < svcLen && load<u8>(svc + <usize>j) != 0x3a) j++;
      store<u32>(rec + XF_SVC_VERSION_PTR, <u32>(svc + <usize>i + 1));
      store<u32>(rec + XF_SVC_VERSION_LEN, <u32>(j - i - 1));
      break;
    }
  }
  return 0;
}

/**
 * Hessian2 SofaRequest content without a sofa_head_method_name header (sofa-rpc-node's hessian requests):
 * reads the class definition, finds the methodName field, and points XF_METHOD at that field of the
 * instance. Two dialects occur: Hessian 2.0 final ('C' definition, 'O' / 0x60+ instance: Java hessian 4,
 * sofa-hessian-node v4) and the Hessian 2.0 draft of Hessian 3.x ('O' len type fieldCount names, 'o' instance:
 * sofa-bolt-node's default). The draft walk supports methodName as the first field only (where both SofaRequest
 * encoders put it). Best effort: the header is what Bolt routes on, so content the peek cannot read is no error.
 */
function peekSofaRequestMethod(p: usize, end: usize, rec: usize): void {
  if (p >= end) return;
  const draft = load<u8>(p) == 0x4f;
  let afterDef: usize;
  let q: usize;
  let fields: i32;
  if (draft) {
    q = readInt(p + 1, end);                    // type name length in chars, then the raw name
    if (q == 0 || intValue < 0 || intValue > 0xffff) return;
    q = skipCharsExported(q, end, <i32>intValue);
    if (q == 0) return;
    q = readInt(q, end);
    if (q == 0 || intValue < 0) return;
    fields = <i32>intValue;
    afterDef = 0;
  } else {
    afterDef = readClassDef(p, end, rec);
    if (afterDef == 0) return;
    fields = <i32>intValue;
    q = defFields;
  }
  let index = -1;
  for (let i = 0; i < fields; i++) {
    q = readString(q, end);
    if (q == 0 || strNull) return;
    if (eqAscii(strPtr, strLen, "methodName")) { index = i; break; }
    if (draft) return;                          // the draft walk reads field 0 only
  }
  if (index < 0) return;
  let v: usize;
  if (draft) {
    for (let i = index + 1; i < fields; i++) { q = readString(q, end); if (q == 0) return; }
    if (q >= end || load<u8>(q) != 0x6f) return;   // 'o' instance of definition 0
    v = readInt(q + 1, end);
    if (v == 0 || intValue != 0) return;
  } else {
    if (afterDef >= end) return;
    const tag = <u32>load<u8>(afterDef);
    if (tag == 0x4f) { v = readInt(afterDef + 1, end); if (v == 0 || intValue != 0) return; }
    else if (tag == 0x60) v = afterDef + 1;
    else return;
    v = skipN(v, end, rec, <i64>index);
    if (v == 0) return;
  }
  v = readString(v, end);
  if (v == 0 || strNull) return;
  store<u32>(rec + XF_METHOD_PTR, <u32>strPtr);
  store<u32>(rec + XF_METHOD_LEN, <u32>strLen);
  store<i32>(rec + XF_FLAGS, load<i32>(rec + XF_FLAGS) | XFF_PEEKED);
}
