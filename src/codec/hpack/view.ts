/**
 * HTTP/2 heads as the stream layer reads them: the decoder writes the HTTP/1 head record, so the HTTP/1
 * views read it; these wrappers add what HTTP/2 changes: the scheme, and body framing that comes from
 * END_STREAM and content-length rather than from Transfer-Encoding.
 */
import type { BodyKind, HeaderList, RequestHead, ResponseHead } from '../../types/http.js';
import type { WasmInstance } from '../../wasm/module.js';
import * as L from '../../wasm/layout.js';
import { requestHeadView, responseHeadView, memoryBuffer } from '../http1/view.js';

export interface Http2RequestHead extends RequestHead {
  /** :scheme as received. */
  readonly scheme: string;
}

/**
 * Body framing of an HTTP/2 message for an HTTP/1 peer: none when the HEADERS frame ended the stream,
 * the content-length when given, else chunked (HTTP/2 DATA frames carry no total length).
 */
function h2BodyKind(endStream: boolean, hasLength: boolean): 'none' | 'length' | 'chunked' {
  if (endStream) return 'none';
  return hasLength ? 'length' : 'chunked';
}

class Http2RequestView implements Http2RequestHead {
  private readonly h1: RequestHead;
  private schemeText: string | undefined;
  readonly bodyKind: 'none' | 'length' | 'chunked';

  constructor(private readonly wasm: WasmInstance, readonly recordPtr: number, endStream: boolean) {
    this.h1 = requestHeadView(wasm, recordPtr);
    const flags = wasm.view.getInt32(recordPtr + L.HEAD_FLAGS, true);
    const connect = wasm.view.getInt32(recordPtr + L.HEAD_METHOD_ID, true) === L.METHOD_CONNECT;
    this.bodyKind = connect ? 'none' : h2BodyKind(endStream, (flags & L.FLAG_CONTENT_LENGTH) !== 0);
  }

  get method(): string { return this.h1.method; }
  get target(): string { return this.h1.target; }
  get path(): string { return this.h1.path; }
  get host(): string { return this.h1.host; }
  get versionMinor(): number { return 1; }
  get headers(): HeaderList { return this.h1.headers; }
  get keepAlive(): boolean { return true; }
  get expectContinue(): boolean { return this.h1.expectContinue; }
  get upgrade(): boolean { return false; }
  get contentLength(): number {
    return this.bodyKind === 'length' ? this.wasm.view.getFloat64(this.recordPtr + L.HEAD_CONTENT_LENGTH, true) : -1;
  }
  get scheme(): string {
    if (this.schemeText === undefined) {
      const p = this.wasm.view.getUint32(this.recordPtr + L.HEAD_SCHEME_PTR, true);
      this.schemeText = memoryBuffer(this.wasm).toString('latin1', p, p + this.wasm.view.getInt32(this.recordPtr + L.HEAD_SCHEME_LEN, true));
    }
    return this.schemeText;
  }
}

class Http2ResponseView implements ResponseHead {
  private readonly h1: ResponseHead;
  readonly bodyKind: BodyKind;

  constructor(private readonly wasm: WasmInstance, readonly recordPtr: number, endStream: boolean, requestMethod: string) {
    this.h1 = responseHeadView(wasm, recordPtr, requestMethod);
    const status = this.h1.status;
    const flags = wasm.view.getInt32(recordPtr + L.HEAD_FLAGS, true);
    const noBody = requestMethod === 'HEAD' || status < 200 || status === 204 || status === 304 ||
      (requestMethod === 'CONNECT' && status < 300);
    this.bodyKind = noBody ? 'none' : h2BodyKind(endStream, (flags & L.FLAG_CONTENT_LENGTH) !== 0);
  }

  get status(): number { return this.h1.status; }
  /** HTTP/2 has no reason phrase: the standard one for the status (RFC 9110 §15), '' when there is none. */
  get reason(): string { return this.h1.reason; }
  get versionMinor(): number { return 1; }
  get headers(): HeaderList { return this.h1.headers; }
  get keepAlive(): boolean { return true; }
  get contentLength(): number {
    return this.bodyKind === 'length' ? this.wasm.view.getFloat64(this.recordPtr + L.HEAD_CONTENT_LENGTH, true) : -1;
  }
}

/** The request head decoded (HPACK_MODE_REQUEST) into `rec`; `endStream`: the HEADERS frame carried END_STREAM. */
export function http2RequestHeadView(wasm: WasmInstance, rec: number, endStream: boolean): Http2RequestHead {
  return new Http2RequestView(wasm, rec, endStream);
}

/** The response head decoded (HPACK_MODE_RESPONSE) into `rec`. */
export function http2ResponseHeadView(wasm: WasmInstance, rec: number, endStream: boolean, requestMethod: string): ResponseHead {
  return new Http2ResponseView(wasm, rec, endStream, requestMethod);
}

/** The fields of a block decoded with HPACK_MODE_TRAILERS or HPACK_MODE_RAW. */
export function headerListView(wasm: WasmInstance, rec: number): HeaderList {
  return requestHeadView(wasm, rec).headers;
}
