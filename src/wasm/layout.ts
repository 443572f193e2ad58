/**
 * Record layouts shared with assembly/abi/layout.ts (read that file for the meaning of each field).
 * test/unit/wasm/layout.test.ts checks every constant here against the global the module exports.
 */
export const ABI_VERSION = 1;

// ---- HTTP/1.1 head record (written by the head parsers, read by JS and by the router) ----
export const HEAD_STATUS = 0;          // HeadStatus below (or a parse error code > 0)
export const HEAD_LENGTH = 4;          // bytes of the head including the final CRLF CRLF
export const HEAD_METHOD_ID = 8;       // MethodId below (requests)
export const HEAD_STATUS_CODE = 8;     // response status code (responses), same slot
export const HEAD_METHOD_PTR = 12;     // method token (requests) / reason phrase (responses)
export const HEAD_METHOD_LEN = 16;
export const HEAD_TARGET_PTR = 20;     // request-target as received
export const HEAD_TARGET_LEN = 24;
export const HEAD_PATH_PTR = 28;       // path + query (origin-form part; for absolute-form the part after the authority)
export const HEAD_PATH_LEN = 32;
export const HEAD_QUERY_PTR = 36;      // query without '?', len 0 when none
export const HEAD_QUERY_LEN = 40;
export const HEAD_HOST_PTR = 44;       // authority: absolute-form authority, else the Host header value
export const HEAD_HOST_LEN = 48;
export const HEAD_VERSION_MINOR = 52;  // 0 or 1
export const HEAD_FLAGS = 56;          // HeadFlags bits below
export const HEAD_CONTENT_LENGTH = 64; // f64: Content-Length value, -1 when absent
export const HEAD_HEADER_COUNT = 72;
export const HEAD_HEADERS = 80;        // first header entry
export const HEAD_RECORD_FIXED = 80;
export const HDR_NAME_PTR = 0;
export const HDR_NAME_LEN = 4;         // u16
export const HDR_ID = 6;               // u16 WellKnownHeader id, 0 when not well known
export const HDR_VALUE_PTR = 8;        // value with leading/trailing OWS trimmed
export const HDR_VALUE_LEN = 12;
export const HEADER_ENTRY_SIZE = 16;
export const HEAD_NEED_MORE = -1;      // no complete head yet
export const HEAD_OK = 0;
export const FLAG_KEEP_ALIVE = 1;        // connection persists after this message
export const FLAG_CHUNKED = 2;           // Transfer-Encoding ends in chunked
export const FLAG_CONTENT_LENGTH = 4;    // Content-Length present
export const FLAG_EXPECT_CONTINUE = 8;   // Expect: 100-continue
export const FLAG_UPGRADE = 16;          // Connection: upgrade with an Upgrade header
export const FLAG_CONNECTION_CLOSE = 32;  // Connection: close seen
export const FLAG_ABSOLUTE_FORM = 64;    // request-target in absolute-form
export const FLAG_TRANSFER_ENCODING = 128; // Transfer-Encoding present (chunked or not)
export const METHOD_OTHER = 0;
export const METHOD_GET = 1;
export const METHOD_HEAD = 2;
export const METHOD_POST = 3;
export const METHOD_PUT = 4;
export const METHOD_DELETE = 5;
export const METHOD_CONNECT = 6;
export const METHOD_OPTIONS = 7;
export const METHOD_TRACE = 8;
export const METHOD_PATCH = 9;
export const H_HOST = 1;
export const H_CONTENT_LENGTH = 2;
export const H_TRANSFER_ENCODING = 3;
export const H_CONNECTION = 4;
export const H_KEEP_ALIVE = 5;
export const H_PROXY_CONNECTION = 6;
export const H_UPGRADE = 7;
export const H_TE = 8;
export const H_EXPECT = 9;
export const H_TRAILER = 10;
export const H_X_FORWARDED_FOR = 11;
export const H_X_FORWARDED_PROTO = 12;
export const H_X_REQUEST_ID = 13;
export const H_PROXY_AUTHENTICATE = 14;
export const H_PROXY_AUTHORIZATION = 15;

// ---- HTTP/1 codec (assembly/codec/http1, src/codec/http1) ----
// Parse error codes (HEAD_STATUS > 0). On an error HEAD_LENGTH holds the offset where it was found.
export const H1E_INVALID_METHOD = 1;        // method is not a token
export const H1E_INVALID_TARGET = 2;        // request-target malformed or holds a forbidden byte
export const H1E_INVALID_VERSION = 3;       // HTTP/x.y other than 1.0 and 1.1 (505)
export const H1E_INVALID_REQUEST_LINE = 4;  // request line not "method SP target SP HTTP/1.x CRLF"
export const H1E_INVALID_TOKEN = 5;         // header name empty or holds a non-token byte
export const H1E_WS_BEFORE_COLON = 6;       // whitespace between a header name and its colon
export const H1E_INVALID_HEADER_VALUE = 7;  // a CTL (other than HTAB) or DEL in a header value
export const H1E_BARE_CR = 8;               // CR not followed by LF
export const H1E_BARE_LF = 9;               // LF not preceded by CR
export const H1E_OBS_FOLD = 10;             // a header line starting with SP or HTAB (obsolete line folding)
export const H1E_CL_AND_TE = 11;            // Content-Length together with Transfer-Encoding
export const H1E_DUPLICATE_CL = 12;         // Content-Length values that differ
export const H1E_INVALID_CL = 13;           // Content-Length not 1*DIGIT (or above 2^53-1)
export const H1E_BAD_TE = 14;               // Transfer-Encoding malformed, or its final coding is not chunked
export const H1E_UNSUPPORTED_TE = 15;       // a transfer coding other than chunked (501)
export const H1E_HEADERS_TOO_LARGE = 16;    // head longer than maxHeadBytes (431)
export const H1E_TOO_MANY_HEADERS = 17;     // more than maxHeaders header lines (431)
export const H1E_MISSING_HOST = 18;         // HTTP/1.1 request without Host
export const H1E_DUPLICATE_HOST = 19;       // more than one Host header
export const H1E_INVALID_STATUS_LINE = 20;  // response status line malformed (status not 3 digits, bad reason)
export const H1E_INVALID_CONNECT = 21;      // CONNECT without an authority-form target
export const H1E_MAX = 21;

// Parse options (last argument of h1_parse_request).
export const H1_OPT_ALLOW_MISSING_HOST = 1; // accept HTTP/1.1 requests without Host (conformance runs only)

// Body framing of a serialized head (h1_encode_*), matches BodyKind in src/types/http.ts.
export const BODY_KIND_NONE = 0;
export const BODY_KIND_LENGTH = 1;
export const BODY_KIND_CHUNKED = 2;
export const BODY_KIND_CLOSE = 3;
