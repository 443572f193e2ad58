// Record layouts shared with src/wasm/layout.ts. assembly/index.ts re-exports this file, so every constant
// is also a wasm global export, and test/unit/wasm/layout.test.ts checks that JS uses the same numbers.
// Pointers in records are absolute addresses in the shared memory. All fields are little-endian u32
// unless noted.

/** Bumped whenever a record layout or an export's meaning changes. */
export const ABI_VERSION: i32 = 1;

// ---- HTTP/1.1 head record (written by the head parsers, read by JS and by the router) ----
// The parser lowercases header names in place (HTTP/1 names are case-insensitive; Envoy forwards them
// lowercased too), so every reader compares names byte-for-byte against lowercase literals.
export const HEAD_STATUS: i32 = 0;          // HeadStatus below (or a parse error code > 0)
export const HEAD_LENGTH: i32 = 4;          // bytes of the head including the final CRLF CRLF
export const HEAD_METHOD_ID: i32 = 8;       // MethodId below (requests)
export const HEAD_STATUS_CODE: i32 = 8;     // response status code (responses), same slot
export const HEAD_METHOD_PTR: i32 = 12;     // method token (requests) / reason phrase (responses)
export const HEAD_METHOD_LEN: i32 = 16;
export const HEAD_TARGET_PTR: i32 = 20;     // request-target as received
export const HEAD_TARGET_LEN: i32 = 24;
export const HEAD_PATH_PTR: i32 = 28;       // path + query (origin-form part; for absolute-form the part after the authority)
export const HEAD_PATH_LEN: i32 = 32;
export const HEAD_QUERY_PTR: i32 = 36;      // query without '?', len 0 when none
export const HEAD_QUERY_LEN: i32 = 40;
export const HEAD_HOST_PTR: i32 = 44;       // authority: absolute-form authority, else the Host header value
export const HEAD_HOST_LEN: i32 = 48;
export const HEAD_VERSION_MINOR: i32 = 52;  // 0 or 1
export const HEAD_FLAGS: i32 = 56;          // HeadFlags bits below
export const HEAD_CONTENT_LENGTH: i32 = 64; // f64: Content-Length value, -1 when absent
export const HEAD_HEADER_COUNT: i32 = 72;
export const HEAD_HEADERS: i32 = 80;        // first header entry
export const HEAD_RECORD_FIXED: i32 = 80;

// One header entry, HEADER_ENTRY_SIZE bytes.
export const HDR_NAME_PTR: i32 = 0;
export const HDR_NAME_LEN: i32 = 4;         // u16
export const HDR_ID: i32 = 6;               // u16 WellKnownHeader id, 0 when not well known
export const HDR_VALUE_PTR: i32 = 8;        // value with leading/trailing OWS trimmed
export const HDR_VALUE_LEN: i32 = 12;
export const HEADER_ENTRY_SIZE: i32 = 16;

// HeadStatus
export const HEAD_NEED_MORE: i32 = -1;      // no complete head yet
export const HEAD_OK: i32 = 0;

// HeadFlags
export const FLAG_KEEP_ALIVE: i32 = 1;        // connection persists after this message
export const FLAG_CHUNKED: i32 = 2;           // Transfer-Encoding ends in chunked
export const FLAG_CONTENT_LENGTH: i32 = 4;    // Content-Length present
export const FLAG_EXPECT_CONTINUE: i32 = 8;   // Expect: 100-continue
export const FLAG_UPGRADE: i32 = 16;          // Connection: upgrade with an Upgrade header
export const FLAG_CONNECTION_CLOSE: i32 = 32;  // Connection: close seen
export const FLAG_ABSOLUTE_FORM: i32 = 64;    // request-target in absolute-form
export const FLAG_TRANSFER_ENCODING: i32 = 128; // Transfer-Encoding present (chunked or not)

// MethodId (0 = other/extension method)
export const METHOD_OTHER: i32 = 0;
export const METHOD_GET: i32 = 1;
export const METHOD_HEAD: i32 = 2;
export const METHOD_POST: i32 = 3;
export const METHOD_PUT: i32 = 4;
export const METHOD_DELETE: i32 = 5;
export const METHOD_CONNECT: i32 = 6;
export const METHOD_OPTIONS: i32 = 7;
export const METHOD_TRACE: i32 = 8;
export const METHOD_PATCH: i32 = 9;

// WellKnownHeader ids (HDR_ID)
export const H_HOST: i32 = 1;
export const H_CONTENT_LENGTH: i32 = 2;
export const H_TRANSFER_ENCODING: i32 = 3;
export const H_CONNECTION: i32 = 4;
export const H_KEEP_ALIVE: i32 = 5;
export const H_PROXY_CONNECTION: i32 = 6;
export const H_UPGRADE: i32 = 7;
export const H_TE: i32 = 8;
export const H_EXPECT: i32 = 9;
export const H_TRAILER: i32 = 10;
export const H_X_FORWARDED_FOR: i32 = 11;
export const H_X_FORWARDED_PROTO: i32 = 12;
export const H_X_REQUEST_ID: i32 = 13;
export const H_PROXY_AUTHENTICATE: i32 = 14;
export const H_PROXY_AUTHORIZATION: i32 = 15;

// ---- HTTP/1 codec (assembly/codec/http1, src/codec/http1) ----
// Parse error codes (HEAD_STATUS > 0). On an error HEAD_LENGTH holds the offset where it was found.
export const H1E_INVALID_METHOD: i32 = 1;        // method is not a token
export const H1E_INVALID_TARGET: i32 = 2;        // request-target malformed or holds a forbidden byte
export const H1E_INVALID_VERSION: i32 = 3;       // HTTP/x.y other than 1.0 and 1.1 (505)
export const H1E_INVALID_REQUEST_LINE: i32 = 4;  // request line not "method SP target SP HTTP/1.x CRLF"
export const H1E_INVALID_TOKEN: i32 = 5;         // header name empty or holds a non-token byte
export const H1E_WS_BEFORE_COLON: i32 = 6;       // whitespace between a header name and its colon
export const H1E_INVALID_HEADER_VALUE: i32 = 7;  // a CTL (other than HTAB) or DEL in a header value
export const H1E_BARE_CR: i32 = 8;               // CR not followed by LF
export const H1E_BARE_LF: i32 = 9;               // LF not preceded by CR
export const H1E_OBS_FOLD: i32 = 10;             // a header line starting with SP or HTAB (obsolete line folding)
export const H1E_CL_AND_TE: i32 = 11;            // Content-Length together with Transfer-Encoding
export const H1E_DUPLICATE_CL: i32 = 12;         // Content-Length values that differ
export const H1E_INVALID_CL: i32 = 13;           // Content-Length not 1*DIGIT (or above 2^53-1)
export const H1E_BAD_TE: i32 = 14;               // Transfer-Encoding malformed, or its final coding is not chunked
export const H1E_UNSUPPORTED_TE: i32 = 15;       // a transfer coding other than chunked (501)
export const H1E_HEADERS_TOO_LARGE: i32 = 16;    // head longer than maxHeadBytes (431)
export const H1E_TOO_MANY_HEADERS: i32 = 17;     // more than maxHeaders header lines (431)
export const H1E_MISSING_HOST: i32 = 18;         // HTTP/1.1 request without Host
export const H1E_DUPLICATE_HOST: i32 = 19;       // more than one Host header
export const H1E_INVALID_STATUS_LINE: i32 = 20;  // response status line malformed (status not 3 digits, bad reason)
export const H1E_INVALID_CONNECT: i32 = 21;      // CONNECT without an authority-form target
export const H1E_MAX: i32 = 21;

// Parse options (last argument of h1_parse_request).
export const H1_OPT_ALLOW_MISSING_HOST: i32 = 1; // accept HTTP/1.1 requests without Host (conformance runs only)

// Body framing of a serialized head (h1_encode_*), matches BodyKind in src/types/http.ts.
export const BODY_KIND_NONE: i32 = 0;
export const BODY_KIND_LENGTH: i32 = 1;
export const BODY_KIND_CHUNKED: i32 = 2;
export const BODY_KIND_CLOSE: i32 = 3;
