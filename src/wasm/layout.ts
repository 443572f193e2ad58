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

// ---- Slab pool (assembly/mem/slab.ts) ----
export const SLAB_CLASS_COUNT = 5;        // classes 1 KiB x 4^c: 1, 4, 16, 64, 256 KiB
export const SLAB_INIT_DONE = 1;          // slab_init: this call initialised the region
export const SLAB_INIT_ATTACHED = 0;      // slab_init: already initialised; this instance attached
export const SLAB_ERR_TOO_SMALL = -1;     // slab_init: region cannot hold one chunk
export const SLAB_ERR_MISMATCH = -2;      // slab_init: initialised earlier with another base/len
export const SLAB_ERR_TIMEOUT = -3;       // slab_init: another thread's initialisation did not finish
export const SLAB_RELEASED = 0;           // slab_release: ok
export const SLAB_ERR_NOT_SLAB = -1;      // slab_release: not the start of a carved slab
export const SLAB_ERR_NOT_LEASED = -2;    // slab_release: slab not leased (double release)
