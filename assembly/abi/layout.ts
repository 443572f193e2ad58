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
export const HEAD_RESUME: i32 = 60;         // parser-private while HEAD_NEED_MORE: bytes of the head already checked
export const HEAD_CONTENT_LENGTH: i32 = 64; // f64: Content-Length value, -1 when absent
export const HEAD_HEADER_COUNT: i32 = 72;
export const HEAD_SCHEME_PTR: i32 = 80;     // :scheme of an HTTP/2 request (len 0 for HTTP/1 heads)
export const HEAD_SCHEME_LEN: i32 = 84;
export const HEAD_HEADERS: i32 = 96;        // first header entry (16-byte aligned)
export const HEAD_RECORD_FIXED: i32 = 96;

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
// ---- Route table (written by src/router/compile.ts into the route arena, read by assembly/router) ----
// Every offset inside a table is relative to the table's base (the blob is position independent); strings
// are byte runs inside the blob. u32 fields unless noted.
export const RT_MAGIC_VALUE: i32 = 0x52544231;  // "RTB1"
export const RT_MAGIC: i32 = 0;
export const RT_VERSION: i32 = 4;            // table version (unique per compiled table; tags cache entries)
export const RT_VHOST_COUNT: i32 = 8;
export const RT_VHOSTS: i32 = 12;            // offset of VH_SIZE records
export const RT_DOMAIN_EXACT: i32 = 16;      // offset of a hash table (HT_*) over lowercase exact domains
export const RT_DOMAIN_SUFFIX: i32 = 20;     // hash table over "*suffix" domains, stored as the suffix ("*.a.com" -> ".a.com")
export const RT_DOMAIN_SUFFIX_LENS: i32 = 24; // list of the distinct suffix lengths, longest first
export const RT_DOMAIN_PREFIX: i32 = 28;     // hash table over "prefix*" domains, stored as the prefix ("a.*" -> "a.")
export const RT_DOMAIN_PREFIX_LENS: i32 = 32; // list of the distinct prefix lengths, longest first
export const RT_DOMAIN_STAR: i32 = 36;       // vhost index of "*", -1 when none
export const RT_ROUTES: i32 = 40;            // offset of RR_SIZE records, global route index order
export const RT_ROUTE_COUNT: i32 = 44;
export const RT_KEY_HEADER_COUNT: i32 = 48;  // headers whose values are part of the cache key
export const RT_KEY_HEADERS: i32 = 52;       // offset of KH_SIZE records
export const RT_CACHE_BASE: i32 = 56;        // absolute address of the route cache, 0 = no cache
export const RT_CACHE_ENTRIES: i32 = 60;     // power of two
export const RT_FLAGS: i32 = 64;             // RTF_* bits
export const RT_SIZE: i32 = 68;              // bytes of the whole blob
export const RT_HEADER_SIZE: i32 = 72;
export const RTF_IGNORE_PORT: i32 = 1;       // route_config.ignore_port_in_host_matching
export const RTF_KEY_METHOD: i32 = 2;        // a matcher reads :method, so the cache key holds the method


// Virtual host: its routes are RT_ROUTES[first .. first+count); candidate lists hold local indices.
export const VH_FIRST_ROUTE: i32 = 0;
export const VH_ROUTE_COUNT: i32 = 4;
export const VH_EXACT: i32 = 8;              // hash table: exact paths, case-sensitive (0 = none)
export const VH_EXACT_CI: i32 = 12;          // hash table: exact paths, case-insensitive (keys lowercase)
export const VH_PREFIX: i32 = 16;            // hash table: prefixes (incl. path_separated_prefix), case-sensitive
export const VH_PREFIX_CI: i32 = 20;         // hash table: prefixes, case-insensitive
export const VH_PREFIX_LENS: i32 = 24;       // bitmap of indexed prefix lengths (RT_MAX_INDEXED_PREFIX bits)
export const VH_OTHERS: i32 = 28;            // candidate list of routes no index covers (regex, long prefixes)
export const VH_MAX_PREFIX: i32 = 32;        // longest indexed prefix (bytes), -1 when none
export const VH_SIZE: i32 = 36;
export const RT_MAX_INDEXED_PREFIX: i32 = 512;  // prefixes this long or longer go to VH_OTHERS

// Hash table: HT_MASK then (mask+1) slots; a slot's value is the offset of a candidate list
// (u32 count, then u32 values ascending), 0 = empty slot. Hash: FNV-1a 32 (lowercased for CI tables).
export const HT_MASK: i32 = 0;
export const HT_SLOTS: i32 = 4;
export const HS_HASH: i32 = 0;
export const HS_STR: i32 = 4;
export const HS_LEN: i32 = 8;
export const HS_LIST: i32 = 12;
export const HS_SIZE: i32 = 16;

// Route record.
export const RR_KIND: i32 = 0;               // PK_*
export const RR_FLAGS: i32 = 4;              // RRF_*
export const RR_STR: i32 = 8;                // prefix / path (lowercase when case-insensitive)
export const RR_LEN: i32 = 12;
export const RR_REGEX: i32 = 16;             // regex id for PK_REGEX
export const RR_HDR_COUNT: i32 = 20;
export const RR_HDRS: i32 = 24;              // offset of HM_SIZE records
export const RR_QRY_COUNT: i32 = 28;
export const RR_QRYS: i32 = 32;              // offset of QM_SIZE records
export const RR_SIZE: i32 = 36;
export const PK_PREFIX: i32 = 1;
export const PK_PATH: i32 = 2;
export const PK_SEPARATED_PREFIX: i32 = 3;
export const PK_REGEX: i32 = 4;
export const PK_CONNECT: i32 = 5;           // connect_matcher: CONNECT requests only
export const RRF_CASE_INSENSITIVE: i32 = 1;

// Header matcher record; also the query parameter matcher record (HM_SOURCE unused there).
export const HM_NAME: i32 = 0;               // lowercase name
export const HM_NAME_LEN: i32 = 4;
export const HM_SOURCE: i32 = 8;             // HSRC_*
export const HM_TYPE: i32 = 12;              // MT_*
export const HM_FLAGS: i32 = 16;             // HMF_*
export const HM_VALUE: i32 = 20;             // lowercase when HMF_IGNORE_CASE
export const HM_VALUE_LEN: i32 = 24;
export const HM_REGEX: i32 = 28;
export const HM_SIZE: i32 = 32;
export const HSRC_HEADER: i32 = 0;
export const HSRC_METHOD: i32 = 1;           // ":method"
export const HSRC_AUTHORITY: i32 = 2;        // ":authority"
export const HSRC_PATH: i32 = 3;             // ":path" (with the query, as Envoy's)
export const MT_PRESENT: i32 = 0;
export const MT_EXACT: i32 = 1;
export const MT_PREFIX: i32 = 2;
export const MT_SUFFIX: i32 = 3;
export const MT_CONTAINS: i32 = 4;
export const MT_REGEX: i32 = 5;
export const HMF_IGNORE_CASE: i32 = 1;
export const HMF_INVERT: i32 = 2;
export const HMF_PRESENT_VALUE: i32 = 4;     // present_match's value (true = must be present)
export const HMF_MISSING_AS_EMPTY: i32 = 8;  // treat_missing_header_as_empty

// Cache key header: a lowercase header name whose values join the cache key.
export const KH_NAME: i32 = 0;
export const KH_LEN: i32 = 4;
export const KH_SIZE: i32 = 8;

// ---- Route cache (src/wasm/memory.ts routeCache region; shared by every thread) ----
// Fixed-size entries, two-way set associative; each entry is guarded by a seqlock (odd = being written).
// Every field is read and written with atomics, so the seqlock is sound in the wasm memory model.
export const RC_SEQ: i32 = 0;
export const RC_VERSION: i32 = 4;
export const RC_HASH: i32 = 8;
export const RC_KEY_LEN: i32 = 12;
export const RC_RESULT: i32 = 16;            // global route index or -1
export const RC_KEY: i32 = 24;              // 8-aligned: the key is read and written as u64 atomics
export const RC_ENTRY_SIZE: i32 = 256;
export const RC_MAX_KEY: i32 = 232;

// The router's working area: the top ROUTER_SCRATCH_BYTES of each thread's scratch region.
export const ROUTER_SCRATCH_BYTES: i32 = 98304;
export const RS_CURSORS: i32 = 0;            // candidate-list cursors (8 bytes each)
export const RS_CURSORS_BYTES: i32 = 16384;
export const RS_JOIN: i32 = 16384;           // joined multi-value header
export const RS_JOIN_BYTES: i32 = 40960;
export const RS_KEY: i32 = 57344;            // cache key under construction
export const RS_KEY_BYTES: i32 = 4096;
export const RS_BATCH: i32 = 61440;          // route_match_batch record addresses, then results (attachTable)
export const RS_BATCH_BYTES: i32 = 36864;
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
export const H1E_INVALID_HOST: i32 = 22;         // Host or target authority holds a byte an authority cannot
export const H1E_MAX: i32 = 22;

// Parse options (last argument of h1_parse_request).
export const H1_OPT_ALLOW_MISSING_HOST: i32 = 1; // accept HTTP/1.1 requests without Host (conformance runs only)

// Body framing of a serialized head (h1_encode_*), matches BodyKind in src/types/http.ts.
export const BODY_KIND_NONE: i32 = 0;
export const BODY_KIND_LENGTH: i32 = 1;
export const BODY_KIND_CHUNKED: i32 = 2;
export const BODY_KIND_CLOSE: i32 = 3;
// ---- HTTP/2 frames (assembly/codec/http2, src/codec/http2) ----
// Frame record written by h2_parse_frame (4-byte slots, numbers only).
export const H2F_TYPE: i32 = 0;                  // frame type (also for unknown types, which the caller ignores)
export const H2F_FLAGS: i32 = 4;                 // flags byte
export const H2F_STREAM_ID: i32 = 8;             // stream identifier, reserved bit cleared
export const H2F_LENGTH: i32 = 12;               // payload length (flow-controlled length for DATA)
export const H2F_DATA_OFF: i32 = 16;             // offset from buf of the content: DATA data, header block fragment, GOAWAY debug data, PING opaque data
export const H2F_DATA_LEN: i32 = 20;             // content length after padding and the priority fields are removed
export const H2F_ERROR: i32 = 24;                // RST_STREAM/GOAWAY error code; on an H2_STREAM_ERR/H2_CONN_ERR result the error to send
export const H2F_VALUE: i32 = 28;                // WINDOW_UPDATE increment, GOAWAY last-stream-id, PRIORITY/HEADERS dependency, PUSH_PROMISE promised id
export const H2F_WEIGHT: i32 = 32;               // priority weight 1..256, 0 when the frame carries none
export const H2F_EXCLUSIVE: i32 = 36;            // priority exclusive bit
export const H2F_SETTINGS_MASK: i32 = 40;        // bit (1 << id) set for each SETTINGS parameter id 1..8 present (last value wins)
export const H2F_SETTINGS: i32 = 44;             // u32 value of SETTINGS id n at H2F_SETTINGS + (n - 1) * 4, ids 1..8
export const H2F_RECORD_SIZE: i32 = 80;
// h2_parse_frame results.
export const H2_NEED_MORE: i32 = -1;             // fewer bytes than one whole frame (H2F_LENGTH set once the 9-byte header is in)
export const H2_OK: i32 = 0;                     // a valid frame of 9 + H2F_LENGTH bytes
export const H2_STREAM_ERR: i32 = 1;             // the frame is consumed; reset its stream with H2F_ERROR
export const H2_CONN_ERR: i32 = 2;               // GOAWAY with H2F_ERROR and close
// Frame types (RFC 9113 §6).
export const H2_DATA: i32 = 0;
export const H2_HEADERS: i32 = 1;
export const H2_PRIORITY: i32 = 2;
export const H2_RST_STREAM: i32 = 3;
export const H2_SETTINGS: i32 = 4;
export const H2_PUSH_PROMISE: i32 = 5;
export const H2_PING: i32 = 6;
export const H2_GOAWAY: i32 = 7;
export const H2_WINDOW_UPDATE: i32 = 8;
export const H2_CONTINUATION: i32 = 9;
// Flags.
export const H2_FLAG_END_STREAM: i32 = 1;        // DATA, HEADERS
export const H2_FLAG_ACK: i32 = 1;               // SETTINGS, PING
export const H2_FLAG_END_HEADERS: i32 = 4;       // HEADERS, PUSH_PROMISE, CONTINUATION
export const H2_FLAG_PADDED: i32 = 8;            // DATA, HEADERS, PUSH_PROMISE
export const H2_FLAG_PRIORITY: i32 = 32;         // HEADERS
// SETTINGS parameters (RFC 9113 §6.5.2, RFC 8441).
export const H2S_HEADER_TABLE_SIZE: i32 = 1;
export const H2S_ENABLE_PUSH: i32 = 2;
export const H2S_MAX_CONCURRENT_STREAMS: i32 = 3;
export const H2S_INITIAL_WINDOW_SIZE: i32 = 4;
export const H2S_MAX_FRAME_SIZE: i32 = 5;
export const H2S_MAX_HEADER_LIST_SIZE: i32 = 6;
export const H2S_ENABLE_CONNECT_PROTOCOL: i32 = 8;
// Error codes (RFC 9113 §7).
export const H2E_NO_ERROR: i32 = 0;
export const H2E_PROTOCOL_ERROR: i32 = 1;
export const H2E_INTERNAL_ERROR: i32 = 2;
export const H2E_FLOW_CONTROL_ERROR: i32 = 3;
export const H2E_SETTINGS_TIMEOUT: i32 = 4;
export const H2E_STREAM_CLOSED: i32 = 5;
export const H2E_FRAME_SIZE_ERROR: i32 = 6;
export const H2E_REFUSED_STREAM: i32 = 7;
export const H2E_CANCEL: i32 = 8;
export const H2E_COMPRESSION_ERROR: i32 = 9;
export const H2E_CONNECT_ERROR: i32 = 10;
export const H2E_ENHANCE_YOUR_CALM: i32 = 11;
export const H2E_INADEQUATE_SECURITY: i32 = 12;
export const H2E_HTTP_1_1_REQUIRED: i32 = 13;
export const H2_FRAME_HEADER_SIZE: i32 = 9;
export const H2_DEFAULT_MAX_FRAME_SIZE: i32 = 16384;
export const H2_MAX_WINDOW: i32 = 2147483647;    // 2^31 - 1

// ---- HPACK (assembly/codec/hpack, src/codec/hpack) ----
// Decode modes: which pseudo-headers a block may carry and how it maps onto the head record.
export const HPACK_MODE_REQUEST: i32 = 0;       // :method :scheme :authority :path -> HEAD_* fields
export const HPACK_MODE_RESPONSE: i32 = 1;      // :status -> HEAD_STATUS_CODE
export const HPACK_MODE_TRAILERS: i32 = 2;      // no pseudo-headers allowed
export const HPACK_MODE_RAW: i32 = 3;           // every field as an entry in order, no HTTP checks (conformance, tests)
// Decode status (HEAD_STATUS and the return value). 1..31: HPACK decoding failed, the connection's table is
// out of sync (HTTP/2 COMPRESSION_ERROR, connection error). 32..63: malformed message (stream PROTOCOL_ERROR;
// the rest of the block was still decoded, so the table stays in sync). 64..: over the caller's limits.
export const HPACK_OK: i32 = 0;
export const HPACK_E_TRUNCATED: i32 = 1;               // block ends inside a representation
export const HPACK_E_INTEGER_OVERFLOW: i32 = 2;        // integer above 2^31-1 or too many continuation bytes
export const HPACK_E_INDEX: i32 = 3;                   // index 0 or past the end of the tables
export const HPACK_E_HUFFMAN: i32 = 4;                 // EOS in a string, padding over 7 bits or not all ones
export const HPACK_E_SIZE_UPDATE: i32 = 5;             // dynamic table size update above the SETTINGS limit
export const HPACK_E_SIZE_UPDATE_POSITION: i32 = 6;    // size update after the first header field
export const HPACK_E_SIZE_UPDATE_MISSING: i32 = 7;     // limit lowered below the table size, block did not start with an update
export const HPACK_E_COMPRESSION_MAX: i32 = 31;
export const HPACK_E_UPPERCASE_NAME: i32 = 32;         // RFC 9113 §8.2: names are lowercase
export const HPACK_E_INVALID_NAME: i32 = 33;           // empty name or a byte that is not a token character
export const HPACK_E_INVALID_VALUE: i32 = 34;          // §8.2.1: NUL/CR/LF/CTL/DEL, or leading/trailing SP/HTAB
export const HPACK_E_CONNECTION_HEADER: i32 = 35;      // §8.2.2: connection, keep-alive, proxy-connection, transfer-encoding, upgrade
export const HPACK_E_TE: i32 = 36;                     // te other than "trailers"
export const HPACK_E_PSEUDO_AFTER_REGULAR: i32 = 37;   // §8.3: pseudo-headers come first
export const HPACK_E_UNKNOWN_PSEUDO: i32 = 38;         // pseudo-header not defined for this message kind
export const HPACK_E_DUPLICATE_PSEUDO: i32 = 39;
export const HPACK_E_MISSING_PSEUDO: i32 = 40;         // a required pseudo-header is absent (or CONNECT carries :scheme/:path)
export const HPACK_E_PSEUDO_IN_TRAILERS: i32 = 41;
export const HPACK_E_INVALID_PSEUDO_VALUE: i32 = 42;   // bad :method token, :path, :authority bytes, :status (3 digits, not 101)
export const HPACK_E_INVALID_CONTENT_LENGTH: i32 = 43; // not digits, or values that differ
export const HPACK_E_INVALID_HOST: i32 = 44;           // host duplicated, or differs from :authority
export const HPACK_E_MALFORMED_MAX: i32 = 63;
export const HPACK_E_HEADER_LIST_TOO_LARGE: i32 = 64;  // decoded names + values above maxListBytes, or out buffer full (431)
export const HPACK_E_TOO_MANY_HEADERS: i32 = 65;       // more than maxHeaders fields (431)
// Encoder return values below 0.
// Encoder kinds (hpack_encode_record): which pseudo-headers lead the block.
export const HPACK_ENC_REQUEST: i32 = 0;           // :method :scheme :authority :path
export const HPACK_ENC_RESPONSE: i32 = 1;          // :status
export const HPACK_ENC_TRAILERS: i32 = 2;          // fields only
export const HPACK_ENC_E_OUTPUT: i32 = -1;             // output buffer too small (nothing was changed)
export const HPACK_ENC_E_INPUT: i32 = -2;              // malformed input list
// Encoder header list entries (local lists, rewrite add lists): u16 name length, u16 flags, u32 value length,
// then the name and value bytes; the next entry follows directly.
export const HPACK_FIELD_NAME_LEN: i32 = 0;
export const HPACK_FIELD_FLAGS: i32 = 2;
export const HPACK_FIELD_VALUE_LEN: i32 = 4;
export const HPACK_FIELD_BYTES: i32 = 8;
export const HPACK_FIELD_NEVER_INDEX: i32 = 1;         // flags: encode as never-indexed (sensitive value)
export const HPACK_FIELD_NO_INDEX: i32 = 2;            // flags: encode without indexing
// ---- X-protocol frame record (assembly/xprotocol, src/codec/xprotocol) ----
// xp_decode fills one record per frame. Pointers are absolute addresses into the frame bytes (nothing is
// copied); a length of 0 means absent. The request id is a u64 split in two u32 halves; XF_ID_OFFSET and
// XF_ID_WIDTH say where it sits inside the frame so xp_set_request_id patches it in place.
export const XF_PROTO: i32 = 0;              // XP_* protocol id of the frame (Bolt v1/v2 share a decoder)
export const XF_KIND: i32 = 4;               // XK_* below
export const XF_FRAME_LEN: i32 = 8;          // whole frame in bytes; on XP_NEED_MORE the length needed when known, else 0
export const XF_FLAGS: i32 = 12;             // XFF_* bits
export const XF_ID_LO: i32 = 16;             // request id, low 32 bits
export const XF_ID_HI: i32 = 20;             // request id, high 32 bits (Dubbo only; Bolt ids are u32)
export const XF_ID_OFFSET: i32 = 24;         // offset of the id inside the frame
export const XF_ID_WIDTH: i32 = 28;          // 4 (Bolt) or 8 (Dubbo), big-endian
export const XF_STATUS: i32 = 32;            // response status as on the wire (Bolt ResponseStatus, Dubbo status byte)
export const XF_TIMEOUT: i32 = 36;           // timeout in ms carried by the frame, 0 when none
export const XF_CODEC: i32 = 40;             // serialization id (Bolt codec byte, Dubbo serialization id)
export const XF_VERSION: i32 = 44;           // protocol version (Bolt v2 ver1, else 1)
export const XF_SWITCH: i32 = 48;            // Bolt v2 switch byte, else 0
export const XF_RESPONSE_TYPE: i32 = 52;     // Dubbo response type (hessian int at the body start), -1 when unknown
export const XF_CLASS_PTR: i32 = 56;         // Bolt class name
export const XF_CLASS_LEN: i32 = 60;
export const XF_SERVICE_PTR: i32 = 64;       // Bolt service signature, Dubbo path (interface)
export const XF_SERVICE_LEN: i32 = 68;
export const XF_METHOD_PTR: i32 = 72;        // method name
export const XF_METHOD_LEN: i32 = 76;
export const XF_SVC_VERSION_PTR: i32 = 80;   // service version (Dubbo version; Bolt: after ':' in the signature)
export const XF_SVC_VERSION_LEN: i32 = 84;
export const XF_GROUP_PTR: i32 = 88;         // service group (Dubbo attachment "group")
export const XF_GROUP_LEN: i32 = 92;
export const XF_RPC_VERSION_PTR: i32 = 96;   // Dubbo framework version ("2.0.2")
export const XF_RPC_VERSION_LEN: i32 = 100;
export const XF_HEADER_PTR: i32 = 104;       // raw header region (Bolt header map), 0 when none
export const XF_HEADER_LEN: i32 = 108;
export const XF_PAYLOAD_PTR: i32 = 112;      // content / body
export const XF_PAYLOAD_LEN: i32 = 116;
export const XF_HEADER_COUNT: i32 = 120;     // entries at XF_HEADERS (HDR_* layout, HDR_ID = 0)
export const XF_ERROR_AT: i32 = 124;         // on an error: offset inside the frame where it was found
export const XF_ARGS_PTR: i32 = 128;         // Dubbo hessian2 request: the arguments region (read one with xp_read_arg)
export const XF_ARGS_LEN: i32 = 132;
export const XF_ARGS_COUNT: i32 = 136;       // parameters in the descriptor
export const XF_ARG_TYPE: i32 = 140;         // written by xp_read_arg: XA_* below
export const XF_ARG_PTR: i32 = 144;          // XA_STRING: the UTF-8 bytes
export const XF_ARG_LEN: i32 = 148;
export const XF_ARG_NUM: i32 = 152;          // f64: XA_INT (ints and longs), XA_DOUBLE, XA_BOOL (0 or 1)
export const XF_HEADERS: i32 = 160;
export const XF_MAX_HEADERS: i32 = 64;       // entries beyond this are not recorded (XFF_HEADERS_TRUNCATED)
export const XF_CLASS_DEFS: i32 = 1184;      // decoder work area: Hessian2 class definitions seen (u32 field counts)
export const XF_MAX_CLASS_DEFS: i32 = 64;
export const XF_CLASS_DEF_COUNT: i32 = 1440;
export const XF_RECORD_SIZE: i32 = 1448;

// Argument types (xp_read_arg's result and XF_ARG_TYPE).
export const XA_NULL: i32 = 1;
export const XA_BOOL: i32 = 2;
export const XA_INT: i32 = 3;
export const XA_DOUBLE: i32 = 4;
export const XA_STRING: i32 = 5;
export const XA_OTHER: i32 = 6;              // a list, map, object, binary, date or chunked string (skipped, not read)

// Protocol ids (the first argument of every xp_* export).
export const XP_BOLT_V1: i32 = 1;
export const XP_BOLT_V2: i32 = 2;
export const XP_DUBBO: i32 = 3;
export const XP_EXAMPLE: i32 = 4;            // the recipe's echo protocol (assembly/xprotocol/example)
export const XP_PROTO_MAX: i32 = 4;

// Frame kinds (XF_KIND).
export const XK_REQUEST: i32 = 1;            // two-way request
export const XK_RESPONSE: i32 = 2;
export const XK_ONEWAY: i32 = 3;             // request expecting no response
export const XK_HEARTBEAT: i32 = 4;          // heartbeat request (the sidecar answers it)
export const XK_HEARTBEAT_REPLY: i32 = 5;
export const XK_GOAWAY: i32 = 6;             // peer asks to stop sending on this connection (Dubbo READONLY event)
export const XK_EVENT: i32 = 7;              // another protocol event (Dubbo event with unknown data)

// Frame flags (XF_FLAGS).
export const XFF_CRC: i32 = 1;               // Bolt v2 frame carries a CRC32 trailer (verified)
export const XFF_PEEKED: i32 = 2;            // the body was peeked (Hessian2): service/method/attachments are filled
export const XFF_TWOWAY: i32 = 4;            // the sender expects a reply (requests and heartbeats that are not one-way)
export const XFF_HEADERS_TRUNCATED: i32 = 8;  // more header/attachment entries than XF_MAX_HEADERS: the record holds the first ones

// Results: xp_match returns XP_MATCH / XP_NO / XP_NEED_MORE; xp_decode a frame length (> 0), XP_NEED_MORE
// or an XPE_* error (< -1); encoders the bytes written or an XPE_* error.
export const XP_NO: i32 = 0;
export const XP_MATCH: i32 = 1;
export const XP_NEED_MORE: i32 = -1;
export const XPE_UNKNOWN_PROTO: i32 = -2;    // protocol id not registered in the wasm dispatch
export const XPE_BAD_MAGIC: i32 = -3;        // wrong magic / proto code
export const XPE_BAD_VERSION: i32 = -4;      // unknown protocol version
export const XPE_BAD_KIND: i32 = -5;         // unknown type / command code / flags
export const XPE_TOO_LARGE: i32 = -6;        // length field past maxFrameBytes (found from the fixed header alone)
export const XPE_MALFORMED: i32 = -7;        // lengths inconsistent with each other
export const XPE_CRC: i32 = -8;              // Bolt v2 CRC32 mismatch
export const XPE_HEADERS: i32 = -9;          // Bolt header map malformed
export const XPE_HESSIAN: i32 = -11;         // Hessian2 body malformed (or nested deeper than XP_HESSIAN_MAX_DEPTH)
export const XPE_OUT_TOO_SMALL: i32 = -12;   // encoder output capacity too small
export const XPE_UNSUPPORTED: i32 = -13;     // the protocol has no such frame (e.g. Bolt goaway)
export const XP_HESSIAN_MAX_DEPTH: i32 = 32;
export const XP_DEFAULT_MAX_FRAME: i32 = 16777216;

// Bolt v1/v2 wire constants (sofa-bolt).
export const BOLT_TYPE_RESPONSE: i32 = 0;
export const BOLT_TYPE_REQUEST: i32 = 1;
export const BOLT_TYPE_ONEWAY: i32 = 2;
export const BOLT_CMD_HEARTBEAT: i32 = 0;
export const BOLT_CMD_REQUEST: i32 = 1;
export const BOLT_CMD_RESPONSE: i32 = 2;
export const BOLT_CMD_GOAWAY: i32 = 100;          // MOSN's control command: stop sending on this connection (opt-in)
export const BOLT_CODEC_HESSIAN2: i32 = 1;
export const BOLT_CODEC_PROTOBUF: i32 = 11;
export const BOLT_STATUS_SUCCESS: i32 = 0;
export const BOLT_STATUS_ERROR: i32 = 1;
export const BOLT_STATUS_SERVER_EXCEPTION: i32 = 2;
export const BOLT_STATUS_UNKNOWN: i32 = 3;
export const BOLT_STATUS_SERVER_THREADPOOL_BUSY: i32 = 4;
export const BOLT_STATUS_ERROR_COMM: i32 = 5;
export const BOLT_STATUS_NO_PROCESSOR: i32 = 6;
export const BOLT_STATUS_TIMEOUT: i32 = 7;
export const BOLT_STATUS_CLIENT_SEND_ERROR: i32 = 8;
export const BOLT_STATUS_CODEC_EXCEPTION: i32 = 9;
export const BOLT_STATUS_CONNECTION_CLOSED: i32 = 16;
export const BOLT_STATUS_SERVER_SERIAL_EXCEPTION: i32 = 17;
export const BOLT_STATUS_SERVER_DESERIAL_EXCEPTION: i32 = 18;

// Dubbo wire constants (ExchangeCodec).
export const DUBBO_HEADER_LEN: i32 = 16;
export const DUBBO_FLAG_REQUEST: i32 = 128;
export const DUBBO_FLAG_TWOWAY: i32 = 64;
export const DUBBO_FLAG_EVENT: i32 = 32;
export const DUBBO_SERIALIZATION_MASK: i32 = 31;
export const DUBBO_SERIALIZATION_HESSIAN2: i32 = 2;
export const DUBBO_STATUS_OK: i32 = 20;
export const DUBBO_STATUS_CLIENT_TIMEOUT: i32 = 30;
export const DUBBO_STATUS_SERVER_TIMEOUT: i32 = 31;
export const DUBBO_STATUS_BAD_REQUEST: i32 = 40;
export const DUBBO_STATUS_BAD_RESPONSE: i32 = 50;
export const DUBBO_STATUS_SERVICE_NOT_FOUND: i32 = 60;
export const DUBBO_STATUS_SERVICE_ERROR: i32 = 70;
export const DUBBO_STATUS_SERVER_ERROR: i32 = 80;
export const DUBBO_STATUS_CLIENT_ERROR: i32 = 90;
export const DUBBO_STATUS_THREADPOOL_EXHAUSTED: i32 = 100;
