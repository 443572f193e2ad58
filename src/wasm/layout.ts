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
export const HEAD_RESUME = 60;         // parser-private while HEAD_NEED_MORE: bytes of the head already checked
export const HEAD_CONTENT_LENGTH = 64; // f64: Content-Length value, -1 when absent
export const HEAD_HEADER_COUNT = 72;
export const HEAD_SCHEME_PTR = 80;     // :scheme of an HTTP/2 request (len 0 for HTTP/1 heads)
export const HEAD_SCHEME_LEN = 84;
export const HEAD_HEADERS = 96;        // first header entry (16-byte aligned)
export const HEAD_RECORD_FIXED = 96;
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
// ---- Route table (written by src/router/compile.ts into the route arena, read by assembly/router) ----
// Every offset inside a table is relative to the table's base (the blob is position independent); strings
// are byte runs inside the blob. u32 fields unless noted.
export const RT_MAGIC_VALUE = 0x52544231;  // "RTB1"
export const RT_MAGIC = 0;
export const RT_VERSION = 4;            // table version (unique per compiled table; tags cache entries)
export const RT_VHOST_COUNT = 8;
export const RT_VHOSTS = 12;            // offset of VH_SIZE records
export const RT_DOMAIN_EXACT = 16;      // offset of a hash table (HT_*) over lowercase exact domains
export const RT_DOMAIN_SUFFIX = 20;     // hash table over "*suffix" domains, stored as the suffix ("*.a.com" -> ".a.com")
export const RT_DOMAIN_SUFFIX_LENS = 24; // list of the distinct suffix lengths, longest first
export const RT_DOMAIN_PREFIX = 28;     // hash table over "prefix*" domains, stored as the prefix ("a.*" -> "a.")
export const RT_DOMAIN_PREFIX_LENS = 32; // list of the distinct prefix lengths, longest first
export const RT_DOMAIN_STAR = 36;       // vhost index of "*", -1 when none
export const RT_ROUTES = 40;            // offset of RR_SIZE records, global route index order
export const RT_ROUTE_COUNT = 44;
export const RT_KEY_HEADER_COUNT = 48;  // headers whose values are part of the cache key
export const RT_KEY_HEADERS = 52;       // offset of KH_SIZE records
export const RT_CACHE_BASE = 56;        // absolute address of the route cache, 0 = no cache
export const RT_CACHE_ENTRIES = 60;     // power of two
export const RT_FLAGS = 64;             // RTF_* bits
export const RT_SIZE = 68;              // bytes of the whole blob
export const RT_HEADER_SIZE = 72;
export const RTF_IGNORE_PORT = 1;       // route_config.ignore_port_in_host_matching
export const RTF_KEY_METHOD = 2;        // a matcher reads :method, so the cache key holds the method


// Virtual host: its routes are RT_ROUTES[first .. first+count); candidate lists hold local indices.
export const VH_FIRST_ROUTE = 0;
export const VH_ROUTE_COUNT = 4;
export const VH_EXACT = 8;              // hash table: exact paths, case-sensitive (0 = none)
export const VH_EXACT_CI = 12;          // hash table: exact paths, case-insensitive (keys lowercase)
export const VH_PREFIX = 16;            // hash table: prefixes (incl. path_separated_prefix), case-sensitive
export const VH_PREFIX_CI = 20;         // hash table: prefixes, case-insensitive
export const VH_PREFIX_LENS = 24;       // bitmap of indexed prefix lengths (RT_MAX_INDEXED_PREFIX bits)
export const VH_OTHERS = 28;            // candidate list of routes no index covers (regex, long prefixes)
export const VH_MAX_PREFIX = 32;        // longest indexed prefix (bytes), -1 when none
export const VH_SIZE = 36;
export const RT_MAX_INDEXED_PREFIX = 512;  // prefixes this long or longer go to VH_OTHERS

// Hash table: HT_MASK then (mask+1) slots; a slot's value is the offset of a candidate list
// (u32 count, then u32 values ascending), 0 = empty slot. Hash: FNV-1a 32 (lowercased for CI tables).
export const HT_MASK = 0;
export const HT_SLOTS = 4;
export const HS_HASH = 0;
export const HS_STR = 4;
export const HS_LEN = 8;
export const HS_LIST = 12;
export const HS_SIZE = 16;

// Route record.
export const RR_KIND = 0;               // PK_*
export const RR_FLAGS = 4;              // RRF_*
export const RR_STR = 8;                // prefix / path (lowercase when case-insensitive)
export const RR_LEN = 12;
export const RR_REGEX = 16;             // regex id for PK_REGEX
export const RR_HDR_COUNT = 20;
export const RR_HDRS = 24;              // offset of HM_SIZE records
export const RR_QRY_COUNT = 28;
export const RR_QRYS = 32;              // offset of QM_SIZE records
export const RR_SIZE = 36;
export const PK_PREFIX = 1;
export const PK_PATH = 2;
export const PK_SEPARATED_PREFIX = 3;
export const PK_REGEX = 4;
export const PK_CONNECT = 5;           // connect_matcher: CONNECT requests only
export const RRF_CASE_INSENSITIVE = 1;

// Header matcher record; also the query parameter matcher record (HM_SOURCE unused there).
export const HM_NAME = 0;               // lowercase name
export const HM_NAME_LEN = 4;
export const HM_SOURCE = 8;             // HSRC_*
export const HM_TYPE = 12;              // MT_*
export const HM_FLAGS = 16;             // HMF_*
export const HM_VALUE = 20;             // lowercase when HMF_IGNORE_CASE
export const HM_VALUE_LEN = 24;
export const HM_REGEX = 28;
export const HM_SIZE = 32;
export const HSRC_HEADER = 0;
export const HSRC_METHOD = 1;           // ":method"
export const HSRC_AUTHORITY = 2;        // ":authority"
export const HSRC_PATH = 3;             // ":path" (with the query, as Envoy's)
export const MT_PRESENT = 0;
export const MT_EXACT = 1;
export const MT_PREFIX = 2;
export const MT_SUFFIX = 3;
export const MT_CONTAINS = 4;
export const MT_REGEX = 5;
export const HMF_IGNORE_CASE = 1;
export const HMF_INVERT = 2;
export const HMF_PRESENT_VALUE = 4;     // present_match's value (true = must be present)
export const HMF_MISSING_AS_EMPTY = 8;  // treat_missing_header_as_empty

// Cache key header: a lowercase header name whose values join the cache key.
export const KH_NAME = 0;
export const KH_LEN = 4;
export const KH_SIZE = 8;

// ---- Route cache (src/wasm/memory.ts routeCache region; shared by every thread) ----
// Fixed-size entries, two-way set associative; each entry is guarded by a seqlock (odd = being written).
// Every field is read and written with atomics, so the seqlock is sound in the wasm memory model.
export const RC_SEQ = 0;
export const RC_VERSION = 4;
export const RC_HASH = 8;
export const RC_KEY_LEN = 12;
export const RC_RESULT = 16;            // global route index or -1
export const RC_KEY = 24;              // 8-aligned: the key is read and written as u64 atomics
export const RC_ENTRY_SIZE = 256;
export const RC_MAX_KEY = 232;

// The router's working area: the top ROUTER_SCRATCH_BYTES of each thread's scratch region.
export const ROUTER_SCRATCH_BYTES = 98304;
export const RS_CURSORS = 0;            // candidate-list cursors (8 bytes each)
export const RS_CURSORS_BYTES = 16384;
export const RS_JOIN = 16384;           // joined multi-value header
export const RS_JOIN_BYTES = 40960;
export const RS_KEY = 57344;            // cache key under construction
export const RS_KEY_BYTES = 4096;
export const RS_BATCH = 61440;          // route_match_batch record addresses, then results (attachTable)
export const RS_BATCH_BYTES = 36864;
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
export const H1E_INVALID_HOST = 22;         // Host or target authority holds a byte an authority cannot
export const H1E_MAX = 22;

// Parse options (last argument of h1_parse_request).
export const H1_OPT_ALLOW_MISSING_HOST = 1; // accept HTTP/1.1 requests without Host (conformance runs only)

// Body framing of a serialized head (h1_encode_*), matches BodyKind in src/types/http.ts.
export const BODY_KIND_NONE = 0;
export const BODY_KIND_LENGTH = 1;
export const BODY_KIND_CHUNKED = 2;
export const BODY_KIND_CLOSE = 3;
// ---- HTTP/2 frames (assembly/codec/http2, src/codec/http2) ----
// Frame record written by h2_parse_frame (4-byte slots, numbers only).
export const H2F_TYPE = 0;                       // frame type (also for unknown types, which the caller ignores)
export const H2F_FLAGS = 4;                      // flags byte
export const H2F_STREAM_ID = 8;                  // stream identifier, reserved bit cleared
export const H2F_LENGTH = 12;                    // payload length (flow-controlled length for DATA)
export const H2F_DATA_OFF = 16;                  // offset from buf of the content: DATA data, header block fragment, GOAWAY debug data, PING opaque data
export const H2F_DATA_LEN = 20;                  // content length after padding and the priority fields are removed
export const H2F_ERROR = 24;                     // RST_STREAM/GOAWAY error code; on an H2_STREAM_ERR/H2_CONN_ERR result the error to send
export const H2F_VALUE = 28;                     // WINDOW_UPDATE increment, GOAWAY last-stream-id, PRIORITY/HEADERS dependency, PUSH_PROMISE promised id
export const H2F_WEIGHT = 32;                    // priority weight 1..256, 0 when the frame carries none
export const H2F_EXCLUSIVE = 36;                 // priority exclusive bit
export const H2F_SETTINGS_MASK = 40;             // bit (1 << id) set for each SETTINGS parameter id 1..8 present (last value wins)
export const H2F_SETTINGS = 44;                  // u32 value of SETTINGS id n at H2F_SETTINGS + (n - 1) * 4, ids 1..8
export const H2F_RECORD_SIZE = 80;
// h2_parse_frame results.
export const H2_NEED_MORE = -1;                  // fewer bytes than one whole frame (H2F_LENGTH set once the 9-byte header is in)
export const H2_OK = 0;                          // a valid frame of 9 + H2F_LENGTH bytes
export const H2_STREAM_ERR = 1;                  // the frame is consumed; reset its stream with H2F_ERROR
export const H2_CONN_ERR = 2;                    // GOAWAY with H2F_ERROR and close
// Frame types (RFC 9113 §6).
export const H2_DATA = 0;
export const H2_HEADERS = 1;
export const H2_PRIORITY = 2;
export const H2_RST_STREAM = 3;
export const H2_SETTINGS = 4;
export const H2_PUSH_PROMISE = 5;
export const H2_PING = 6;
export const H2_GOAWAY = 7;
export const H2_WINDOW_UPDATE = 8;
export const H2_CONTINUATION = 9;
// Flags.
export const H2_FLAG_END_STREAM = 1;             // DATA, HEADERS
export const H2_FLAG_ACK = 1;                    // SETTINGS, PING
export const H2_FLAG_END_HEADERS = 4;            // HEADERS, PUSH_PROMISE, CONTINUATION
export const H2_FLAG_PADDED = 8;                 // DATA, HEADERS, PUSH_PROMISE
export const H2_FLAG_PRIORITY = 32;              // HEADERS
// SETTINGS parameters (RFC 9113 §6.5.2, RFC 8441).
export const H2S_HEADER_TABLE_SIZE = 1;
export const H2S_ENABLE_PUSH = 2;
export const H2S_MAX_CONCURRENT_STREAMS = 3;
export const H2S_INITIAL_WINDOW_SIZE = 4;
export const H2S_MAX_FRAME_SIZE = 5;
export const H2S_MAX_HEADER_LIST_SIZE = 6;
export const H2S_ENABLE_CONNECT_PROTOCOL = 8;
// Error codes (RFC 9113 §7).
export const H2E_NO_ERROR = 0;
export const H2E_PROTOCOL_ERROR = 1;
export const H2E_INTERNAL_ERROR = 2;
export const H2E_FLOW_CONTROL_ERROR = 3;
export const H2E_SETTINGS_TIMEOUT = 4;
export const H2E_STREAM_CLOSED = 5;
export const H2E_FRAME_SIZE_ERROR = 6;
export const H2E_REFUSED_STREAM = 7;
export const H2E_CANCEL = 8;
export const H2E_COMPRESSION_ERROR = 9;
export const H2E_CONNECT_ERROR = 10;
export const H2E_ENHANCE_YOUR_CALM = 11;
export const H2E_INADEQUATE_SECURITY = 12;
export const H2E_HTTP_1_1_REQUIRED = 13;
export const H2_FRAME_HEADER_SIZE = 9;
export const H2_DEFAULT_MAX_FRAME_SIZE = 16384;
export const H2_MAX_WINDOW = 2147483647;         // 2^31 - 1

// ---- HPACK (assembly/codec/hpack, src/codec/hpack) ----
// Decode modes: which pseudo-headers a block may carry and how it maps onto the head record.
export const HPACK_MODE_REQUEST = 0;       // :method :scheme :authority :path -> HEAD_* fields
export const HPACK_MODE_RESPONSE = 1;      // :status -> HEAD_STATUS_CODE
export const HPACK_MODE_TRAILERS = 2;      // no pseudo-headers allowed
export const HPACK_MODE_RAW = 3;           // every field as an entry in order, no HTTP checks (conformance, tests)
// Decode status (HEAD_STATUS and the return value). 1..31: HPACK decoding failed, the connection's table is
// out of sync (HTTP/2 COMPRESSION_ERROR, connection error). 32..63: malformed message (stream PROTOCOL_ERROR;
// the rest of the block was still decoded, so the table stays in sync). 64..: over the caller's limits.
export const HPACK_OK = 0;
export const HPACK_E_TRUNCATED = 1;               // block ends inside a representation
export const HPACK_E_INTEGER_OVERFLOW = 2;        // integer above 2^31-1 or too many continuation bytes
export const HPACK_E_INDEX = 3;                   // index 0 or past the end of the tables
export const HPACK_E_HUFFMAN = 4;                 // EOS in a string, padding over 7 bits or not all ones
export const HPACK_E_SIZE_UPDATE = 5;             // dynamic table size update above the SETTINGS limit
export const HPACK_E_SIZE_UPDATE_POSITION = 6;    // size update after the first header field
export const HPACK_E_SIZE_UPDATE_MISSING = 7;     // limit lowered below the table size, block did not start with an update
export const HPACK_E_COMPRESSION_MAX = 31;
export const HPACK_E_UPPERCASE_NAME = 32;         // RFC 9113 §8.2: names are lowercase
export const HPACK_E_INVALID_NAME = 33;           // empty name or a byte that is not a token character
export const HPACK_E_INVALID_VALUE = 34;          // §8.2.1: NUL/CR/LF/CTL/DEL, or leading/trailing SP/HTAB
export const HPACK_E_CONNECTION_HEADER = 35;      // §8.2.2: connection, keep-alive, proxy-connection, transfer-encoding, upgrade
export const HPACK_E_TE = 36;                     // te other than "trailers"
export const HPACK_E_PSEUDO_AFTER_REGULAR = 37;   // §8.3: pseudo-headers come first
export const HPACK_E_UNKNOWN_PSEUDO = 38;         // pseudo-header not defined for this message kind
export const HPACK_E_DUPLICATE_PSEUDO = 39;
export const HPACK_E_MISSING_PSEUDO = 40;         // a required pseudo-header is absent (or CONNECT carries :scheme/:path)
export const HPACK_E_PSEUDO_IN_TRAILERS = 41;
export const HPACK_E_INVALID_PSEUDO_VALUE = 42;   // bad :method token, :path, :authority bytes, :status (3 digits, not 101)
export const HPACK_E_INVALID_CONTENT_LENGTH = 43; // not digits, or values that differ
export const HPACK_E_INVALID_HOST = 44;           // host duplicated, or differs from :authority
export const HPACK_E_MALFORMED_MAX = 63;
export const HPACK_E_HEADER_LIST_TOO_LARGE = 64;  // decoded names + values above maxListBytes, or out buffer full (431)
export const HPACK_E_TOO_MANY_HEADERS = 65;       // more than maxHeaders fields (431)
// Encoder return values below 0.
// Encoder kinds (hpack_encode_record): which pseudo-headers lead the block.
export const HPACK_ENC_REQUEST = 0;           // :method :scheme :authority :path
export const HPACK_ENC_RESPONSE = 1;          // :status
export const HPACK_ENC_TRAILERS = 2;          // fields only
export const HPACK_ENC_E_OUTPUT = -1;             // output buffer too small (nothing was changed)
export const HPACK_ENC_E_INPUT = -2;              // malformed input list
// Encoder header list entries (local lists, rewrite add lists): u16 name length, u16 flags, u32 value length,
// then the name and value bytes; the next entry follows directly.
export const HPACK_FIELD_NAME_LEN = 0;
export const HPACK_FIELD_FLAGS = 2;
export const HPACK_FIELD_VALUE_LEN = 4;
export const HPACK_FIELD_BYTES = 8;
export const HPACK_FIELD_NEVER_INDEX = 1;         // flags: encode as never-indexed (sensitive value)
export const HPACK_FIELD_NO_INDEX = 2;            // flags: encode without indexing
// ---- X-protocol frame record (assembly/xprotocol, src/codec/xprotocol) ----
// xp_decode fills one record per frame. Pointers are absolute addresses into the frame bytes (nothing is
// copied); a length of 0 means absent. The request id is a u64 split in two u32 halves; XF_ID_OFFSET and
// XF_ID_WIDTH say where it sits inside the frame so xp_set_request_id patches it in place.
export const XF_PROTO = 0;              // XP_* protocol id of the frame (Bolt v1/v2 share a decoder)
export const XF_KIND = 4;               // XK_* below
export const XF_FRAME_LEN = 8;          // whole frame in bytes; on XP_NEED_MORE the length needed when known, else 0
export const XF_FLAGS = 12;             // XFF_* bits
export const XF_ID_LO = 16;             // request id, low 32 bits
export const XF_ID_HI = 20;             // request id, high 32 bits (Dubbo only; Bolt ids are u32)
export const XF_ID_OFFSET = 24;         // offset of the id inside the frame
export const XF_ID_WIDTH = 28;          // 4 (Bolt) or 8 (Dubbo), big-endian
export const XF_STATUS = 32;            // response status as on the wire (Bolt ResponseStatus, Dubbo status byte)
export const XF_TIMEOUT = 36;           // timeout in ms carried by the frame, 0 when none
export const XF_CODEC = 40;             // serialization id (Bolt codec byte, Dubbo serialization id)
export const XF_VERSION = 44;           // protocol version (Bolt v2 ver1, else 1)
export const XF_SWITCH = 48;            // Bolt v2 switch byte, else 0
export const XF_RESPONSE_TYPE = 52;     // Dubbo response type (hessian int at the body start), -1 when unknown
export const XF_CLASS_PTR = 56;         // Bolt class name
export const XF_CLASS_LEN = 60;
export const XF_SERVICE_PTR = 64;       // Bolt service signature, Dubbo path (interface)
export const XF_SERVICE_LEN = 68;
export const XF_METHOD_PTR = 72;        // method name
export const XF_METHOD_LEN = 76;
export const XF_SVC_VERSION_PTR = 80;   // service version (Dubbo version; Bolt: after ':' in the signature)
export const XF_SVC_VERSION_LEN = 84;
export const XF_GROUP_PTR = 88;         // service group (Dubbo attachment "group")
export const XF_GROUP_LEN = 92;
export const XF_RPC_VERSION_PTR = 96;   // Dubbo framework version ("2.0.2")
export const XF_RPC_VERSION_LEN = 100;
export const XF_HEADER_PTR = 104;       // raw header region (Bolt header map), 0 when none
export const XF_HEADER_LEN = 108;
export const XF_PAYLOAD_PTR = 112;      // content / body
export const XF_PAYLOAD_LEN = 116;
export const XF_HEADER_COUNT = 120;     // entries at XF_HEADERS (HDR_* layout, HDR_ID = 0)
export const XF_ERROR_AT = 124;         // on an error: offset inside the frame where it was found
export const XF_ARGS_PTR = 128;         // Dubbo hessian2 request: the arguments region (read one with xp_read_arg)
export const XF_ARGS_LEN = 132;
export const XF_ARGS_COUNT = 136;       // parameters in the descriptor
export const XF_ARG_TYPE = 140;         // written by xp_read_arg: XA_* below
export const XF_ARG_PTR = 144;          // XA_STRING: the UTF-8 bytes
export const XF_ARG_LEN = 148;
export const XF_ARG_NUM = 152;          // f64: XA_INT (ints and longs), XA_DOUBLE, XA_BOOL (0 or 1)
export const XF_HEADERS = 160;
export const XF_MAX_HEADERS = 64;       // entries beyond this are not recorded (XFF_HEADERS_TRUNCATED)
export const XF_CLASS_DEFS = 1184;      // decoder work area: Hessian2 class definitions seen (u32 field counts)
export const XF_MAX_CLASS_DEFS = 64;
export const XF_CLASS_DEF_COUNT = 1440;
export const XF_RECORD_SIZE = 1448;

// Argument types (xp_read_arg's result and XF_ARG_TYPE).
export const XA_NULL = 1;
export const XA_BOOL = 2;
export const XA_INT = 3;
export const XA_DOUBLE = 4;
export const XA_STRING = 5;
export const XA_OTHER = 6;              // a list, map, object, binary, date or chunked string (skipped, not read)

// Protocol ids (the first argument of every xp_* export).
export const XP_BOLT_V1 = 1;
export const XP_BOLT_V2 = 2;
export const XP_DUBBO = 3;
export const XP_EXAMPLE = 4;            // the recipe's echo protocol (assembly/xprotocol/example)
export const XP_PROTO_MAX = 4;

// Frame kinds (XF_KIND).
export const XK_REQUEST = 1;            // two-way request
export const XK_RESPONSE = 2;
export const XK_ONEWAY = 3;             // request expecting no response
export const XK_HEARTBEAT = 4;          // heartbeat request (the sidecar answers it)
export const XK_HEARTBEAT_REPLY = 5;
export const XK_GOAWAY = 6;             // peer asks to stop sending on this connection (Dubbo READONLY event)
export const XK_EVENT = 7;              // another protocol event (Dubbo event with unknown data)

// Frame flags (XF_FLAGS).
export const XFF_CRC = 1;               // Bolt v2 frame carries a CRC32 trailer (verified)
export const XFF_PEEKED = 2;            // the body was peeked (Hessian2): service/method/attachments are filled
export const XFF_TWOWAY = 4;            // the sender expects a reply (requests and heartbeats that are not one-way)
export const XFF_HEADERS_TRUNCATED = 8;  // more header/attachment entries than XF_MAX_HEADERS: the record holds the first ones

// Results: xp_match returns XP_MATCH / XP_NO / XP_NEED_MORE; xp_decode a frame length (> 0), XP_NEED_MORE
// or an XPE_* error (< -1); encoders the bytes written or an XPE_* error.
export const XP_NO = 0;
export const XP_MATCH = 1;
export const XP_NEED_MORE = -1;
export const XPE_UNKNOWN_PROTO = -2;    // protocol id not registered in the wasm dispatch
export const XPE_BAD_MAGIC = -3;        // wrong magic / proto code
export const XPE_BAD_VERSION = -4;      // unknown protocol version
export const XPE_BAD_KIND = -5;         // unknown type / command code / flags
export const XPE_TOO_LARGE = -6;        // length field past maxFrameBytes (found from the fixed header alone)
export const XPE_MALFORMED = -7;        // lengths inconsistent with each other
export const XPE_CRC = -8;              // Bolt v2 CRC32 mismatch
export const XPE_HEADERS = -9;          // Bolt header map malformed
export const XPE_HESSIAN = -11;         // Hessian2 body malformed (or nested deeper than XP_HESSIAN_MAX_DEPTH)
export const XPE_OUT_TOO_SMALL = -12;   // encoder output capacity too small
export const XPE_UNSUPPORTED = -13;     // the protocol has no such frame (e.g. Bolt goaway)
export const XP_HESSIAN_MAX_DEPTH = 32;
export const XP_DEFAULT_MAX_FRAME = 16777216;

// Bolt v1/v2 wire constants (sofa-bolt).
export const BOLT_TYPE_RESPONSE = 0;
export const BOLT_TYPE_REQUEST = 1;
export const BOLT_TYPE_ONEWAY = 2;
export const BOLT_CMD_HEARTBEAT = 0;
export const BOLT_CMD_REQUEST = 1;
export const BOLT_CMD_RESPONSE = 2;
export const BOLT_CMD_GOAWAY = 100;          // MOSN's control command: stop sending on this connection (opt-in)
export const BOLT_CODEC_HESSIAN2 = 1;
export const BOLT_CODEC_PROTOBUF = 11;
export const BOLT_STATUS_SUCCESS = 0;
export const BOLT_STATUS_ERROR = 1;
export const BOLT_STATUS_SERVER_EXCEPTION = 2;
export const BOLT_STATUS_UNKNOWN = 3;
export const BOLT_STATUS_SERVER_THREADPOOL_BUSY = 4;
export const BOLT_STATUS_ERROR_COMM = 5;
export const BOLT_STATUS_NO_PROCESSOR = 6;
export const BOLT_STATUS_TIMEOUT = 7;
export const BOLT_STATUS_CLIENT_SEND_ERROR = 8;
export const BOLT_STATUS_CODEC_EXCEPTION = 9;
export const BOLT_STATUS_CONNECTION_CLOSED = 16;
export const BOLT_STATUS_SERVER_SERIAL_EXCEPTION = 17;
export const BOLT_STATUS_SERVER_DESERIAL_EXCEPTION = 18;

// Dubbo wire constants (ExchangeCodec).
export const DUBBO_HEADER_LEN = 16;
export const DUBBO_FLAG_REQUEST = 128;
export const DUBBO_FLAG_TWOWAY = 64;
export const DUBBO_FLAG_EVENT = 32;
export const DUBBO_SERIALIZATION_MASK = 31;
export const DUBBO_SERIALIZATION_HESSIAN2 = 2;
export const DUBBO_STATUS_OK = 20;
export const DUBBO_STATUS_CLIENT_TIMEOUT = 30;
export const DUBBO_STATUS_SERVER_TIMEOUT = 31;
export const DUBBO_STATUS_BAD_REQUEST = 40;
export const DUBBO_STATUS_BAD_RESPONSE = 50;
export const DUBBO_STATUS_SERVICE_NOT_FOUND = 60;
export const DUBBO_STATUS_SERVICE_ERROR = 70;
export const DUBBO_STATUS_SERVER_ERROR = 80;
export const DUBBO_STATUS_CLIENT_ERROR = 90;
export const DUBBO_STATUS_THREADPOOL_EXHAUSTED = 100;
