// Generates tables.ts: the HPACK static table (RFC 7541 Appendix A) and the Huffman code (Appendix B) as
// immutable memory.data tables. Run `node assembly/codec/hpack/tables_gen.mjs` after editing the facts below.
//
// The Huffman code is canonical (codes assigned in order of (length, symbol)), so the bit length of each
// of the 257 symbols is all the spec data needed; the codes are derived and checked against the RFC's
// examples (C.4.1) before anything is written.
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

// RFC 7541 Appendix B: code length in bits of symbols 0..255 and EOS (256).
const HUFFMAN_LENGTHS = [
  13, 23, 28, 28, 28, 28, 28, 28, 28, 24, 30, 28, 28, 30, 28, 28, 28, 28, 28, 28, 28, 28, 30, 28, 28, 28, 28, 28, 28, 28, 28, 28,
  6, 10, 10, 12, 13, 6, 8, 11, 10, 10, 8, 11, 8, 6, 6, 6, 5, 5, 5, 6, 6, 6, 6, 6, 6, 6, 7, 8, 15, 6, 12, 10,
  13, 6, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 8, 7, 8, 13, 19, 13, 14, 6,
  15, 5, 6, 5, 6, 5, 6, 6, 6, 5, 7, 7, 6, 6, 6, 5, 6, 7, 6, 5, 5, 6, 7, 7, 7, 7, 7, 15, 11, 14, 13, 28,
  20, 22, 20, 20, 22, 22, 22, 23, 22, 23, 23, 23, 23, 23, 24, 23, 24, 24, 22, 23, 24, 23, 23, 23, 23, 21, 22, 23, 22, 23, 23, 24,
  22, 21, 20, 22, 22, 23, 23, 21, 23, 22, 22, 24, 21, 22, 23, 23, 21, 21, 22, 21, 23, 22, 23, 23, 20, 22, 22, 22, 23, 22, 22, 23,
  26, 26, 20, 19, 22, 23, 22, 25, 26, 26, 26, 27, 27, 26, 24, 25, 19, 21, 26, 27, 27, 26, 27, 24, 21, 21, 26, 26, 28, 27, 27, 27,
  20, 24, 20, 21, 22, 21, 21, 23, 22, 22, 25, 25, 24, 24, 26, 23, 26, 27, 26, 26, 27, 27, 27, 27, 27, 28, 27, 27, 27, 27, 27, 26,
  30,
];

// RFC 7541 Appendix A: static table entries 1..61.
const STATIC_TABLE = [
  [':authority', ''], [':method', 'GET'], [':method', 'POST'], [':path', '/'], [':path', '/index.html'],
  [':scheme', 'http'], [':scheme', 'https'], [':status', '200'], [':status', '204'], [':status', '206'],
  [':status', '304'], [':status', '400'], [':status', '404'], [':status', '500'], ['accept-charset', ''],
  ['accept-encoding', 'gzip, deflate'], ['accept-language', ''], ['accept-ranges', ''], ['accept', ''],
  ['access-control-allow-origin', ''], ['age', ''], ['allow', ''], ['authorization', ''], ['cache-control', ''],
  ['content-disposition', ''], ['content-encoding', ''], ['content-language', ''], ['content-length', ''],
  ['content-location', ''], ['content-range', ''], ['content-type', ''], ['cookie', ''], ['date', ''], ['etag', ''],
  ['expect', ''], ['expires', ''], ['from', ''], ['host', ''], ['if-match', ''], ['if-modified-since', ''],
  ['if-none-match', ''], ['if-range', ''], ['if-unmodified-since', ''], ['last-modified', ''], ['link', ''],
  ['location', ''], ['max-forwards', ''], ['proxy-authenticate', ''], ['proxy-authorization', ''], ['range', ''],
  ['referer', ''], ['refresh', ''], ['retry-after', ''], ['server', ''], ['set-cookie', ''],
  ['strict-transport-security', ''], ['transfer-encoding', ''], ['user-agent', ''], ['vary', ''], ['via', ''],
  ['www-authenticate', ''],
];

// RFC 9110 §15: reason phrases, for HTTP/1 status lines of responses that came over HTTP/2 (which has none).
const REASONS = {
  100: 'Continue', 101: 'Switching Protocols', 200: 'OK', 201: 'Created', 202: 'Accepted',
  203: 'Non-Authoritative Information', 204: 'No Content', 205: 'Reset Content', 206: 'Partial Content',
  300: 'Multiple Choices', 301: 'Moved Permanently', 302: 'Found', 303: 'See Other', 304: 'Not Modified',
  305: 'Use Proxy', 307: 'Temporary Redirect', 308: 'Permanent Redirect', 400: 'Bad Request', 401: 'Unauthorized',
  402: 'Payment Required', 403: 'Forbidden', 404: 'Not Found', 405: 'Method Not Allowed', 406: 'Not Acceptable',
  407: 'Proxy Authentication Required', 408: 'Request Timeout', 409: 'Conflict', 410: 'Gone', 411: 'Length Required',
  412: 'Precondition Failed', 413: 'Content Too Large', 414: 'URI Too Long', 415: 'Unsupported Media Type',
  416: 'Range Not Satisfiable', 417: 'Expectation Failed', 421: 'Misdirected Request', 422: 'Unprocessable Content',
  426: 'Upgrade Required', 428: 'Precondition Required', 429: 'Too Many Requests',
  431: 'Request Header Fields Too Large', 500: 'Internal Server Error', 501: 'Not Implemented', 502: 'Bad Gateway',
  503: 'Service Unavailable', 504: 'Gateway Timeout', 505: 'HTTP Version Not Supported',
};

if (HUFFMAN_LENGTHS.length !== 257 || STATIC_TABLE.length !== 61) throw new Error('table sizes');

// ---- Huffman codes (canonical) ----
const codes = new Array(257);
{
  const order = [...Array(257).keys()].sort((a, b) => HUFFMAN_LENGTHS[a] - HUFFMAN_LENGTHS[b] || a - b);
  let code = 0;
  let len = HUFFMAN_LENGTHS[order[0]];
  for (const s of order) {
    code <<= HUFFMAN_LENGTHS[s] - len;
    len = HUFFMAN_LENGTHS[s];
    codes[s] = code >>> 0;
    code++;
  }
}
function huffmanEncode(str) {
  let bits = 0n, n = 0n;
  for (const c of Buffer.from(str, 'latin1')) { bits = (bits << BigInt(HUFFMAN_LENGTHS[c])) | BigInt(codes[c]); n += BigInt(HUFFMAN_LENGTHS[c]); }
  const pad = (8n - (n % 8n)) % 8n;
  bits = (bits << pad) | ((1n << pad) - 1n);
  return bits.toString(16).padStart(Number((n + pad) / 4n), '0');
}
if (huffmanEncode('www.example.com') !== 'f1e3c2e5f23a6ba0ab90f4ff') throw new Error('huffman check C.4.1');
if (huffmanEncode('no-cache') !== 'a8eb10649cbf') throw new Error('huffman check C.4.2');
if (codes[256] !== 0x3fffffff) throw new Error('EOS code');

// ---- Huffman decoding automaton: one state per internal tree node, 16 transitions (one per nibble) ----
// Transition word: bits 0-7 next state, 8-15 emitted symbol, 16 EMIT, 17 FAIL (EOS decoded), 18 ACCEPT (the
// input may end here: the next state is the root, or lies on the all-ones path at most 7 bits deep).
const nodes = [{ child: [-1, -1], depth: 0, allOnes: true }];
const leafOf = new Map(); // `${node},${bit}` -> symbol
for (let s = 0; s < 257; s++) {
  let n = 0;
  for (let b = HUFFMAN_LENGTHS[s] - 1; b >= 0; b--) {
    const bit = (codes[s] >>> b) & 1;
    if (b === 0) { leafOf.set(`${n},${bit}`, s); break; }
    if (nodes[n].child[bit] < 0) {
      nodes[n].child[bit] = nodes.length;
      nodes.push({ child: [-1, -1], depth: nodes[n].depth + 1, allOnes: nodes[n].allOnes && bit === 1 });
    }
    n = nodes[n].child[bit];
  }
}
if (nodes.length !== 256) throw new Error(`expected 256 internal nodes, got ${nodes.length}`);
const decodeTable = [];
for (let n = 0; n < 256; n++) {
  for (let nibble = 0; nibble < 16; nibble++) {
    let state = n, sym = 0, emit = 0, fail = 0;
    for (let b = 3; b >= 0 && !fail; b--) {
      const bit = (nibble >>> b) & 1;
      const leaf = leafOf.get(`${state},${bit}`);
      if (leaf !== undefined) {
        if (leaf === 256) { fail = 1; break; }
        if (emit) throw new Error('two symbols in one nibble');
        sym = leaf; emit = 1; state = 0;
      } else {
        state = nodes[state].child[bit];
        if (state < 0) throw new Error('incomplete tree');
      }
    }
    const accept = !fail && (state === 0 || (nodes[state].allOnes && nodes[state].depth <= 7)) ? 1 : 0;
    decodeTable.push((fail ? 0 : state) | (sym << 8) | (emit << 16) | (fail << 17) | (accept << 18));
  }
}

// ---- Static table blob ----
let blob = '';
const entries = [0, 0, 0, 0];
for (const [name, value] of STATIC_TABLE) {
  entries.push(blob.length, name.length);
  blob += name;
  entries.push(blob.length, value.length);
  blob += value;
}
const fnv = (s) => { let h = 0x811c9dc5; for (const c of Buffer.from(s, 'latin1')) { h ^= c; h = Math.imul(h, 0x01000193) >>> 0; } return h >>> 0; };
const NAME_SLOTS = 128;
const nameSlots = new Array(NAME_SLOTS).fill(0);
STATIC_TABLE.forEach(([name], i) => {
  if (i > 0 && STATIC_TABLE[i - 1][0] === name) return; // first index of each name only
  let slot = fnv(name) & (NAME_SLOTS - 1);
  while (nameSlots[slot] !== 0) slot = (slot + 1) & (NAME_SLOTS - 1);
  nameSlots[slot] = i + 1;
});

// ---- Reason phrases: u16 offset, u16 length per status 100..599 (length 0: none) ----
let reasonBlob = '';
const reasonIndex = [];
for (let code = 100; code < 600; code++) {
  const r = REASONS[code];
  reasonIndex.push(r ? reasonBlob.length : 0, r ? r.length : 0);
  if (r) reasonBlob += r;
}

const rows = (arr, per) => {
  const out = [];
  for (let i = 0; i < arr.length; i += per) out.push('  ' + arr.slice(i, i + per).join(', ') + ',');
  return out.join('\n');
};
const hex = (n) => '0x' + n.toString(16);
const out = `// Generated by tables_gen.mjs from RFC 7541 Appendices A and B. Do not edit by hand.
// Immutable tables in the module's static data: safe to share between instances.

/** Huffman code of symbols 0..255 (right-aligned), then EOS. */
export const HUFF_CODES: usize = memory.data<u32>([
${rows(codes.map(hex), 8)}
]);
/** Huffman code length in bits of symbols 0..255, then EOS. */
export const HUFF_LENGTHS: usize = memory.data<u8>([
${rows(HUFFMAN_LENGTHS, 32)}
]);
/**
 * Decoding automaton: word [state * 16 + nibble]; bits 0-7 next state, 8-15 symbol, then the flags below.
 */
export const HUFF_DECODE: usize = memory.data<u32>([
${rows(decodeTable.map(hex), 8)}
]);
export const HUFF_EMIT: u32 = ${1 << 16};
export const HUFF_FAIL: u32 = ${1 << 17};
export const HUFF_ACCEPT: u32 = ${1 << 18};

/** Static table bytes: name then value of each entry. */
export const STATIC_BYTES: usize = memory.data<u8>([
${rows([...Buffer.from(blob, 'latin1')], 32)}
]);
/** Per static index 1..61 (index 0 unused): u16 name offset, u16 name length, u16 value offset, u16 value length. */
export const STATIC_ENTRIES: usize = memory.data<u16>([
${rows(entries, 16)}
]);
export const STATIC_COUNT: i32 = ${STATIC_TABLE.length};
/** Open-addressed slots (FNV-1a 32 of the name & ${NAME_SLOTS - 1}, linear probing): first static index of a name, 0 = empty. */
export const STATIC_NAME_SLOTS: usize = memory.data<u8>([
${rows(nameSlots, 32)}
]);
export const STATIC_NAME_MASK: u32 = ${NAME_SLOTS - 1};

/** Reason phrase bytes (RFC 9110 §15). */
export const REASON_BYTES: usize = memory.data<u8>([
${rows([...Buffer.from(reasonBlob, 'latin1')], 32)}
]);
/** Per status 100..599: u16 offset into REASON_BYTES, u16 length (0 = no phrase). */
export const REASON_INDEX: usize = memory.data<u16>([
${rows(reasonIndex, 20)}
]);
`;
writeFileSync(fileURLToPath(new URL('./tables.ts', import.meta.url)), out);
console.log('tables.ts written');
