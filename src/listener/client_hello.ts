/**
 * Reads SNI and ALPN out of the first bytes of a connection when they are a TLS ClientHello (RFC 8446 §4.1.2,
 * SNI RFC 6066 §3, ALPN RFC 7301 §3.1), as Envoy's tls_inspector does. The ClientHello may span several
 * handshake records; the bytes are untrusted, so every length is checked against what is there and the whole
 * hello is bounded (MAX_CLIENT_HELLO_BYTES).
 */

/** Envoy's tls_inspector reads at most 16 KiB (plus record headers) before it gives up. */
export const MAX_CLIENT_HELLO_BYTES = 16 * 1024 + 5 * 4;

export type ClientHelloResult =
  | { kind: 'need-more' }
  /** Not a TLS handshake (plain text). */
  | { kind: 'not-tls' }
  /** A TLS handshake whose ClientHello is malformed or too large: TLS, nothing learned. */
  | { kind: 'invalid' }
  | { kind: 'hello'; serverName: string; alpn: string[] };

const NEED_MORE: ClientHelloResult = { kind: 'need-more' };
const NOT_TLS: ClientHelloResult = { kind: 'not-tls' };
const INVALID: ClientHelloResult = { kind: 'invalid' };

const RECORD_HANDSHAKE = 0x16;
const HANDSHAKE_CLIENT_HELLO = 0x01;
const EXT_SERVER_NAME = 0;
const EXT_ALPN = 16;

/** Inspects the bytes read so far from the start of a connection. */
export function inspectClientHello(bytes: Uint8Array): ClientHelloResult {
  if (bytes.length === 0) return NEED_MORE;
  if (bytes[0] !== RECORD_HANDSHAKE) return NOT_TLS;
  if (bytes.length < 3) return NEED_MORE;
  if (bytes[1] !== 3 || bytes[2]! > 4) return NOT_TLS; // record versions 3.0 .. 3.4
  // Gather the handshake bytes of consecutive handshake records until the ClientHello is whole.
  const hs: number[] = [];
  let at = 0;
  let needed = -1;
  for (let records = 0; records < 64; records++) {
    if (at + 5 > bytes.length) return bytes.length >= MAX_CLIENT_HELLO_BYTES ? INVALID : NEED_MORE;
    if (bytes[at] !== RECORD_HANDSHAKE) return INVALID;
    const len = (bytes[at + 3]! << 8) | bytes[at + 4]!;
    if (len === 0 || len > 16384 + 256) return INVALID;
    if (at + 5 + len > bytes.length) return at + 5 + len > MAX_CLIENT_HELLO_BYTES ? INVALID : NEED_MORE;
    for (let i = at + 5; i < at + 5 + len; i++) hs.push(bytes[i]!);
    at += 5 + len;
    if (needed < 0 && hs.length >= 4) {
      if (hs[0] !== HANDSHAKE_CLIENT_HELLO) return INVALID;
      needed = 4 + ((hs[1]! << 16) | (hs[2]! << 8) | hs[3]!);
      if (needed > MAX_CLIENT_HELLO_BYTES) return INVALID;
    }
    if (needed >= 0 && hs.length >= needed) return parseClientHello(Uint8Array.from(hs.slice(4, needed)));
  }
  return INVALID;
}

/** Parses a ClientHello body (after the 4-byte handshake header). */
function parseClientHello(b: Uint8Array): ClientHelloResult {
  let p = 2 + 32; // legacy_version, random
  if (p + 1 > b.length) return INVALID;
  p += 1 + b[p]!; // session id
  if (p + 2 > b.length) return INVALID;
  p += 2 + ((b[p]! << 8) | b[p + 1]!); // cipher suites
  if (p + 1 > b.length) return INVALID;
  p += 1 + b[p]!; // compression methods
  if (p === b.length) return { kind: 'hello', serverName: '', alpn: [] }; // no extensions
  if (p + 2 > b.length) return INVALID;
  const extEnd = p + 2 + ((b[p]! << 8) | b[p + 1]!);
  if (extEnd > b.length) return INVALID;
  p += 2;
  let serverName = '';
  let alpn: string[] = [];
  while (p + 4 <= extEnd) {
    const type = (b[p]! << 8) | b[p + 1]!;
    const len = (b[p + 2]! << 8) | b[p + 3]!;
    const start = p + 4;
    const end = start + len;
    if (end > extEnd) return INVALID;
    if (type === EXT_SERVER_NAME) {
      const name = readServerName(b, start, end);
      if (name === undefined) return INVALID;
      serverName = name;
    } else if (type === EXT_ALPN) {
      const list = readAlpn(b, start, end);
      if (list === undefined) return INVALID;
      alpn = list;
    }
    p = end;
  }
  return { kind: 'hello', serverName, alpn };
}

function readServerName(b: Uint8Array, start: number, end: number): string | undefined {
  if (start + 2 > end) return undefined;
  const listEnd = start + 2 + ((b[start]! << 8) | b[start + 1]!);
  if (listEnd > end) return undefined;
  let p = start + 2;
  while (p + 3 <= listEnd) {
    const nameType = b[p]!;
    const len = (b[p + 1]! << 8) | b[p + 2]!;
    if (p + 3 + len > listEnd) return undefined;
    // host_name (0) is the only type defined; SNI is case-insensitive and compared lower-cased.
    if (nameType === 0) return Buffer.from(b.buffer, b.byteOffset + p + 3, len).toString('latin1').toLowerCase();
    p += 3 + len;
  }
  return '';
}

function readAlpn(b: Uint8Array, start: number, end: number): string[] | undefined {
  if (start + 2 > end) return undefined;
  const listEnd = start + 2 + ((b[start]! << 8) | b[start + 1]!);
  if (listEnd > end) return undefined;
  const out: string[] = [];
  let p = start + 2;
  while (p < listEnd) {
    const len = b[p]!;
    if (len === 0 || p + 1 + len > listEnd) return undefined;
    out.push(Buffer.from(b.buffer, b.byteOffset + p + 1, len).toString('latin1'));
    p += 1 + len;
  }
  return out;
}
