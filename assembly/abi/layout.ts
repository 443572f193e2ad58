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

// ---- Slab pool (assembly/mem/slab.ts) ----
export const SLAB_CLASS_COUNT: i32 = 5;        // classes 1 KiB x 4^c: 1, 4, 16, 64, 256 KiB
export const SLAB_INIT_DONE: i32 = 1;          // slab_init: this call initialised the region
export const SLAB_INIT_ATTACHED: i32 = 0;      // slab_init: already initialised; this instance attached
export const SLAB_ERR_TOO_SMALL: i32 = -1;     // slab_init: region cannot hold one chunk
export const SLAB_ERR_MISMATCH: i32 = -2;      // slab_init: initialised earlier with another base/len
export const SLAB_ERR_TIMEOUT: i32 = -3;       // slab_init: another thread's initialisation did not finish
export const SLAB_RELEASED: i32 = 0;           // slab_release: ok
export const SLAB_ERR_NOT_SLAB: i32 = -1;      // slab_release: not the start of a carved slab
export const SLAB_ERR_NOT_LEASED: i32 = -2;    // slab_release: slab not leased (double release)
