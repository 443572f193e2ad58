/**
 * llhttp fixtures where Skiff deliberately differs from llhttp, keyed by `file > heading` (with ` #n` for a
 * repeated heading). `kind` is the direction of the difference; the test checks it stays exactly that.
 */
export interface Deliberate {
  kind: 'skiff-rejects' | 'skiff-accepts' | 'differs';
  why: string;
}

const EXTENSION_METHOD = 'RFC 9110 §9.1: a method is any token; Skiff forwards extension methods, llhttp knows a fixed list';
const HTTP_ONLY = 'Skiff speaks HTTP/1.0 and HTTP/1.1 only; RTSP and ICE are not HTTP';
const NO_HTTP09 = 'HTTP/0.9 (no version, no headers) is not supported by a proxy';
const CODINGS = 'Skiff re-frames bodies and would forward other transfer codings undeclared, so it answers 501 ' +
  '(RFC 9112 §6.1 allows it; Envoy does the same)';

const RESPONSE_CODINGS = 'a response body in a coding other than chunked would be forwarded re-framed with the coding ' +
  'undeclared, so Skiff refuses it (the proxy answers 502) rather than read it to close as llhttp does';

export const DELIBERATE: Record<string, Deliberate> = {
  'response/transfer-encoding.md > `chunked` before other transfer-encoding': { kind: 'skiff-rejects', why: RESPONSE_CODINGS },
  'response/transfer-encoding.md > multiple transfer-encoding where chunked is not the last one': { kind: 'skiff-rejects', why: RESPONSE_CODINGS },
  'response/transfer-encoding.md > `chunkedchunked` transfer-encoding does not enable chunked enconding': { kind: 'skiff-rejects', why: RESPONSE_CODINGS },
  'request/invalid.md > HTTP protocol and ANNOUNCE method': { kind: 'skiff-accepts', why: EXTENSION_METHOD },
  'request/invalid.md > Invalid method': { kind: 'skiff-accepts', why: EXTENSION_METHOD },
  'request/method.md > SOURCE request with ICE': { kind: 'skiff-rejects', why: HTTP_ONLY },
  'request/method.md > OPTIONS request with RTSP': { kind: 'skiff-rejects', why: HTTP_ONLY },
  'request/method.md > ANNOUNCE request with RTSP': { kind: 'skiff-rejects', why: HTTP_ONLY },
  'response/sample.md > RTSP response': { kind: 'skiff-rejects', why: HTTP_ONLY },
  'response/sample.md > ICE response': { kind: 'skiff-rejects', why: HTTP_ONLY },
  'request/method.md > PRI request HTTP2': {
    kind: 'skiff-rejects',
    why: 'PRI * HTTP/2.0 is the HTTP/2 preface: protocol detection hands it to the h2 codec before the HTTP/1 codec',
  },
  'request/sample.md > No HTTP version': { kind: 'skiff-rejects', why: NO_HTTP09 },
  'response/sample.md > HTTP version 0.9': { kind: 'skiff-rejects', why: NO_HTTP09 },
  'request/transfer-encoding.md > POST with `chunked` as last transfer-encoding': { kind: 'skiff-rejects', why: CODINGS },
  'request/transfer-encoding.md > POST with `chunked` as last transfer-encoding (multiple headers)': { kind: 'skiff-rejects', why: CODINGS },
};
