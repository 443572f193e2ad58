// HTTP/1.1 head parser and serializer entry points: numbers in, numbers out (see parse.ts, encode.ts).
import { parseRequest, parseResponse } from "./parse";
import { encodeRequest, encodeResponse } from "./encode";

/**
 * Parses a request head from [buf, buf+len) into the record at `rec` (HEAD_RECORD_FIXED + maxHeaders
 * entries). `scanFrom` is the `len` of the previous call on the same head (0 the first time).
 * Returns HEAD_NEED_MORE, HEAD_OK or an H1E_* error code (> 0). `opts`: H1_OPT_* bits.
 */
export function h1_parse_request(buf: usize, len: i32, scanFrom: i32, rec: usize, maxHeaders: i32, maxHeadBytes: i32, opts: i32): i32 {
  return parseRequest(buf, len, scanFrom, rec, maxHeaders, maxHeadBytes, opts);
}

/** Parses a response head; same contract as h1_parse_request. */
export function h1_parse_response(buf: usize, len: i32, scanFrom: i32, rec: usize, maxHeaders: i32, maxHeadBytes: i32): i32 {
  return parseResponse(buf, len, scanFrom, rec, maxHeaders, maxHeadBytes);
}

/**
 * Serializes the request head of record `rec` with a rewrite into [out, out+outCap).
 * pathLen < 0 keeps the received target. Returns bytes written, or -1 when outCap is too small.
 */
export function h1_encode_request(
  rec: usize, pathPtr: usize, pathLen: i32, removePtr: usize, removeLen: i32, addPtr: usize, addLen: i32,
  bodyKind: i32, contentLength: f64, close: i32, out: usize, outCap: i32,
): i32 {
  return encodeRequest(rec, pathPtr, pathLen, removePtr, removeLen, addPtr, addLen, bodyKind, contentLength, close, out, outCap);
}

/** Serializes the response head of record `rec` with a rewrite; same contract as h1_encode_request. */
export function h1_encode_response(
  rec: usize, removePtr: usize, removeLen: i32, addPtr: usize, addLen: i32,
  bodyKind: i32, contentLength: f64, close: i32, out: usize, outCap: i32,
): i32 {
  return encodeResponse(rec, removePtr, removeLen, addPtr, addLen, bodyKind, contentLength, close, out, outCap);
}
