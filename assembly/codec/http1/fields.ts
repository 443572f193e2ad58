// Meaning of the header fields that decide framing and connection handling: well-known ids,
// Content-Length (RFC 9110 §8.6), Transfer-Encoding (RFC 9112 §6.1), Connection tokens (RFC 9110 §7.6.1).
// All functions read a value already trimmed of OWS and already checked to hold field-value bytes only.
import {
  H_HOST, H_CONTENT_LENGTH, H_TRANSFER_ENCODING, H_CONNECTION, H_KEEP_ALIVE, H_PROXY_CONNECTION, H_UPGRADE,
  H_TE, H_EXPECT, H_TRAILER, H_X_FORWARDED_FOR, H_X_FORWARDED_PROTO, H_X_REQUEST_ID, H_PROXY_AUTHENTICATE,
  H_PROXY_AUTHORIZATION,
} from "../../abi/layout";
import { eqLiteral, eqLowerLiteral, isTchar, isWs, charClass, C_DIGIT } from "../../util/ascii";

/** WellKnownHeader id of a lowercase header name, 0 when not well known. */
export function headerId(name: usize, len: i32): i32 {
  switch (len) {
    case 2: return eqLiteral(name, len, "te") ? H_TE : 0;
    case 4: return eqLiteral(name, len, "host") ? H_HOST : 0;
    case 6: return eqLiteral(name, len, "expect") ? H_EXPECT : 0;
    case 7: {
      const c = <u32>load<u8>(name);
      if (c == 0x75) return eqLiteral(name, len, "upgrade") ? H_UPGRADE : 0;
      if (c == 0x74) return eqLiteral(name, len, "trailer") ? H_TRAILER : 0;
      return 0;
    }
    case 10: {
      const c = <u32>load<u8>(name);
      if (c == 0x63) return eqLiteral(name, len, "connection") ? H_CONNECTION : 0;
      if (c == 0x6b) return eqLiteral(name, len, "keep-alive") ? H_KEEP_ALIVE : 0;
      return 0;
    }
    case 12: return eqLiteral(name, len, "x-request-id") ? H_X_REQUEST_ID : 0;
    case 14: return eqLiteral(name, len, "content-length") ? H_CONTENT_LENGTH : 0;
    case 15: return eqLiteral(name, len, "x-forwarded-for") ? H_X_FORWARDED_FOR : 0;
    case 16: return eqLiteral(name, len, "proxy-connection") ? H_PROXY_CONNECTION : 0;
    case 17: {
      const c = <u32>load<u8>(name);
      if (c == 0x74) return eqLiteral(name, len, "transfer-encoding") ? H_TRANSFER_ENCODING : 0;
      if (c == 0x78) return eqLiteral(name, len, "x-forwarded-proto") ? H_X_FORWARDED_PROTO : 0;
      return 0;
    }
    case 18: return eqLiteral(name, len, "proxy-authenticate") ? H_PROXY_AUTHENTICATE : 0;
    case 19: return eqLiteral(name, len, "proxy-authorization") ? H_PROXY_AUTHORIZATION : 0;
  }
  return 0;
}

/** Largest Content-Length an f64 holds exactly. */
const MAX_CONTENT_LENGTH: f64 = 9007199254740991.0;
/** Content-Length malformed. */
export const CL_INVALID: f64 = -1.0;
/** Content-Length a list whose members differ. */
export const CL_DIFFERING: f64 = -2.0;

/**
 * Content-Length = 1*DIGIT, or a list of identical values ("42, 42", RFC 9110 §8.6 lets a recipient accept
 * it as one). Returns the value, CL_INVALID or CL_DIFFERING.
 */
export function parseContentLength(v: usize, len: i32): f64 {
  let result: f64 = -1.0;
  let i = 0;
  // Each round consumes at least one digit, so the loop ends within len rounds.
  while (i <= len) {
    let n: f64 = 0.0;
    const first = i;
    while (i < len) {
      const c = <u32>load<u8>(v + <usize>i);
      if ((charClass(c) & C_DIGIT) == 0) break;
      n = n * 10.0 + <f64>(c - 48);
      if (n > MAX_CONTENT_LENGTH) return CL_INVALID;
      i++;
    }
    if (i == first) return CL_INVALID;
    if (result >= 0.0 && n != result) return CL_DIFFERING;
    result = n;
    while (i < len && isWs(<u32>load<u8>(v + <usize>i))) i++;
    if (i == len) return result;
    if (<u32>load<u8>(v + <usize>i) != 0x2c) return CL_INVALID;
    i++;
    while (i < len && isWs(<u32>load<u8>(v + <usize>i))) i++;
  }
  return CL_INVALID;
}

// Transfer-Encoding state of one head, accumulated over every Transfer-Encoding line (duplicates combine
// into one list, RFC 9110 §5.3). Per instance globals, reset by teReset().
/** The last coding seen so far is exactly `chunked`. */
export let teChunkedLast: bool = false;
/** `chunked` appeared before another coding (chunked must be final and applied once). */
export let teChunkedNotLast: bool = false;
/** A coding other than chunked appeared. */
export let teOther: bool = false;
/** A coding other than chunked and identity appeared (identity is the obsolete no-op coding). */
export let teEncoded: bool = false;
/** An element was not `token *( OWS ";" OWS token "=" ( token / quoted-string ) )`. */
export let teMalformed: bool = false;

export function teReset(): void {
  teChunkedLast = false;
  teChunkedNotLast = false;
  teOther = false;
  teEncoded = false;
  teMalformed = false;
}

/** Adds one Transfer-Encoding value (a comma list; empty elements are ignored as RFC 9110 §5.6.1 allows). */
export function teAdd(v: usize, len: i32): void {
  let i = 0;
  while (i < len) {
    // One list element: OWS coding [params] OWS
    while (i < len && isWs(<u32>load<u8>(v + <usize>i))) i++;
    if (i == len) break;
    if (<u32>load<u8>(v + <usize>i) == 0x2c) { i++; continue; }
    const name = i;
    while (i < len && isTchar(<u32>load<u8>(v + <usize>i))) i++;
    const nameLen = i - name;
    if (nameLen == 0) { teMalformed = true; return; }
    let hasParams = false;
    while (i < len && isWs(<u32>load<u8>(v + <usize>i))) i++;
    if (i < len && <u32>load<u8>(v + <usize>i) == 0x3b) {
      hasParams = true;
      // Parameters make the coding one Skiff does not implement; skip them to the next comma outside quotes.
      let quoted = false;
      while (i < len) {
        const c = <u32>load<u8>(v + <usize>i);
        if (quoted) {
          if (c == 0x5c) i++;
          else if (c == 0x22) quoted = false;
        } else if (c == 0x22) quoted = true;
        else if (c == 0x2c) break;
        i++;
      }
      if (quoted) { teMalformed = true; return; }
    }
    if (i < len && <u32>load<u8>(v + <usize>i) != 0x2c) { teMalformed = true; return; }
    if (teChunkedLast) teChunkedNotLast = true;
    if (!hasParams && eqLowerLiteral(v + <usize>name, nameLen, "chunked")) {
      teChunkedLast = true;
    } else {
      teChunkedLast = false;
      teOther = true;
      if (hasParams || !eqLowerLiteral(v + <usize>name, nameLen, "identity")) teEncoded = true;
    }
  }
}

/** Connection tokens that change how the connection is handled. */
export const CONN_CLOSE: i32 = 1;
export const CONN_KEEP_ALIVE: i32 = 2;
export const CONN_UPGRADE: i32 = 4;

/** CONN_* bits of one Connection value (comma list of tokens, case-insensitive). */
export function connectionTokens(v: usize, len: i32): i32 {
  let bits = 0;
  let i = 0;
  while (i < len) {
    while (i < len && (isWs(<u32>load<u8>(v + <usize>i)) || <u32>load<u8>(v + <usize>i) == 0x2c)) i++;
    const t = i;
    while (i < len && <u32>load<u8>(v + <usize>i) != 0x2c) i++;
    let e = i;
    while (e > t && isWs(<u32>load<u8>(v + <usize>e - 1))) e--;
    const tl = e - t;
    if (tl == 5 && eqLowerLiteral(v + <usize>t, tl, "close")) bits |= CONN_CLOSE;
    else if (tl == 10 && eqLowerLiteral(v + <usize>t, tl, "keep-alive")) bits |= CONN_KEEP_ALIVE;
    else if (tl == 7 && eqLowerLiteral(v + <usize>t, tl, "upgrade")) bits |= CONN_UPGRADE;
  }
  return bits;
}
