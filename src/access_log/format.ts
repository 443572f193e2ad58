/**
 * Envoy's access-log text format (`%OPERATOR%` command operators between literal text), compiled once at
 * config time into a list of parts so a log line is a concatenation, not a parse. The operators are those a
 * connection-level (TCP) log can fill; the HTTP ones Envoy's default format uses (%REQ(...)%, %PROTOCOL%,
 * %RESPONSE_CODE%) are accepted and print what Envoy prints for a TCP connection ("-", 0).
 */
import { ConfigError } from '../common/errors.js';
import type { FilterState } from '../types/network.js';
import type { HeaderList } from '../types/http.js';

/** The request an entry describes, when it describes one (HTTP set_filter_state; a TCP entry has none). */
export interface AccessLogRequest {
  readonly method: string;
  readonly path: string;
  readonly host: string;
  readonly headers: HeaderList;
}

/** What one access-log entry knows about a connection; filled by the filter that logs it. */
export interface AccessLogEntry {
  /** Epoch ms when the downstream connection was accepted. */
  readonly startMs: number;
  /** Epoch ms when it ended. */
  readonly endMs: number;
  readonly downstreamRemoteAddress: string;
  readonly downstreamRemotePort: number;
  readonly downstreamLocalAddress: string;
  readonly downstreamLocalPort: number;
  /** '' when no upstream host was chosen. */
  readonly upstreamHost: string;
  readonly upstreamCluster: string;
  /** Bytes read from the downstream. */
  readonly bytesReceived: number;
  /** Bytes written to the downstream. */
  readonly bytesSent: number;
  /** Envoy's short response flags (UF, UO, UH, NC, SI...), comma-joined by the formatter; empty when none. */
  readonly responseFlags: readonly string[];
  /** '' when none. */
  readonly terminationDetails: string;
  /** The request, for %REQ(...)% (absent on connection-level entries: "-"). */
  readonly request?: AccessLogRequest;
  /** For %FILTER_STATE(key)%: the stream's or the connection's filter state. */
  readonly filterState?: FilterState;
  /** URI SANs of the downstream peer's certificate and of Skiff's own on that connection (mTLS). */
  readonly downstreamPeerUriSans?: readonly string[];
  readonly downstreamLocalUriSans?: readonly string[];
}

export type AccessLogFormatter = (e: AccessLogEntry) => string;

/** Envoy's default format (used when a logger has no log_format); a TCP connection prints "-" for HTTP fields. */
export const DEFAULT_FORMAT = '[%START_TIME%] "%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL%" '
  + '%RESPONSE_CODE% %RESPONSE_FLAGS% %BYTES_RECEIVED% %BYTES_SENT% %DURATION% %RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)% '
  + '"%REQ(X-FORWARDED-FOR)%" "%REQ(USER-AGENT)%" "%REQ(X-REQUEST-ID)%" "%REQ(:AUTHORITY)%" "%UPSTREAM_HOST%"\n';

type Part = string | AccessLogFormatter;

const dash = (s: string): string => (s === '' ? '-' : s);
const hostPort = (a: string, p: number): string => (a === '' ? '-' : a.includes(':') ? `[${a}]:${p}` : `${a}:${p}`);

/** Operators without an argument. */
const OPERATORS: Readonly<Record<string, AccessLogFormatter>> = {
  START_TIME: (e) => new Date(e.startMs).toISOString(),
  DURATION: (e) => String(Math.max(0, e.endMs - e.startMs)),
  DOWNSTREAM_REMOTE_ADDRESS: (e) => hostPort(e.downstreamRemoteAddress, e.downstreamRemotePort),
  DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT: (e) => dash(e.downstreamRemoteAddress),
  DOWNSTREAM_REMOTE_PORT: (e) => String(e.downstreamRemotePort),
  DOWNSTREAM_LOCAL_ADDRESS: (e) => hostPort(e.downstreamLocalAddress, e.downstreamLocalPort),
  DOWNSTREAM_LOCAL_ADDRESS_WITHOUT_PORT: (e) => dash(e.downstreamLocalAddress),
  DOWNSTREAM_LOCAL_PORT: (e) => String(e.downstreamLocalPort),
  UPSTREAM_HOST: (e) => dash(e.upstreamHost),
  UPSTREAM_CLUSTER: (e) => dash(e.upstreamCluster),
  BYTES_RECEIVED: (e) => String(e.bytesReceived),
  BYTES_SENT: (e) => String(e.bytesSent),
  RESPONSE_FLAGS: (e) => (e.responseFlags.length === 0 ? '-' : e.responseFlags.join(',')),
  CONNECTION_TERMINATION_DETAILS: (e) => dash(e.terminationDetails),
  // HTTP fields: a connection-level entry has none (Envoy prints "-" and 0).
  PROTOCOL: () => '-',
  RESPONSE_CODE: () => '0',
  RESPONSE_CODE_DETAILS: () => '-',
  DOWNSTREAM_PEER_URI_SAN: (e) => dash((e.downstreamPeerUriSans ?? []).join(',')),
  DOWNSTREAM_LOCAL_URI_SAN: (e) => dash((e.downstreamLocalUriSans ?? []).join(',')),
};

/** %REQ(name)% / %REQ(name?alt)%: a request header (or :method, :path, :authority), "-" when absent. */
function requestHeader(arg: string): AccessLogFormatter {
  const names = arg.split('?').map((n) => n.toLowerCase());
  const read = (r: AccessLogRequest, n: string): string | undefined => {
    switch (n) {
      case ':method': return r.method;
      case ':path': return r.path;
      case ':authority': case 'host': return r.host || r.headers.get('host');
      default: return r.headers.get(n);
    }
  };
  return (e) => {
    const r = e.request;
    if (r === undefined) return '-';
    for (const n of names) {
      const v = read(r, n);
      if (v !== undefined && v !== '') return v;
    }
    return '-';
  };
}

/** %FILTER_STATE(key)% (the object as JSON: a string object prints quoted), `key:PLAIN` (as text), `key:TYPED`. */
function filterStateOperator(arg: string, path: string): AccessLogFormatter {
  const colon = arg.lastIndexOf(':');
  const mode = colon > 0 ? arg.slice(colon + 1) : '';
  const key = mode === 'PLAIN' || mode === 'TYPED' ? arg.slice(0, colon) : arg;
  if (key === '') throw new ConfigError(path, '%FILTER_STATE()% needs a key');
  const plain = mode === 'PLAIN';
  return (e) => {
    const o = e.filterState?.get(key);
    if (o === undefined) return '-';
    return plain ? o.value : JSON.stringify(o.value);
  };
}
/** Operators that take an argument (`%REQ(X)%`, `%REQ(X):N%`); for a TCP entry they print "-". */
const HTTP_ARG_OPERATORS = new Set(['REQ', 'RESP', 'TRAILER']);

const OPERATOR_RE = /%([A-Z_]+)(?:\(([^)]*)\))?(?::(\d+))?%/y;

/** Compiles `format`; an unknown operator or a stray `%` is a ConfigError at `path`. */
export function compileFormat(format: string, path: string): AccessLogFormatter {
  const parts: Part[] = [];
  let literal = '';
  let i = 0;
  while (i < format.length) {
    const pct = format.indexOf('%', i);
    if (pct < 0) { literal += format.slice(i); break; }
    literal += format.slice(i, pct);
    if (format[pct + 1] === '%') { literal += '%'; i = pct + 2; continue; } // %% is a literal percent sign
    OPERATOR_RE.lastIndex = pct;
    const m = OPERATOR_RE.exec(format);
    if (m === null) throw new ConfigError(path, `malformed command operator at offset ${pct}: ${JSON.stringify(format.slice(pct, pct + 32))}`);
    const [whole, name, arg, maxLen] = m;
    let fn: AccessLogFormatter | undefined;
    if (arg !== undefined) {
      if (name === 'REQ') fn = requestHeader(arg);
      else if (name === 'FILTER_STATE') fn = filterStateOperator(arg, path);
      else if (HTTP_ARG_OPERATORS.has(name)) fn = () => '-';
      else if (name === 'START_TIME' && arg === '') fn = OPERATORS.START_TIME;
    } else {
      fn = OPERATORS[name];
    }
    if (fn === undefined) throw new ConfigError(path, `unknown or unsupported command operator %${name}${arg !== undefined ? `(${arg})` : ''}%`);
    if (maxLen !== undefined) {
      const n = Number(maxLen);
      const inner = fn;
      fn = (e) => inner(e).slice(0, n);
    }
    if (literal !== '') { parts.push(literal); literal = ''; }
    parts.push(fn);
    i = pct + whole.length;
  }
  if (literal !== '') parts.push(literal);
  return (e) => {
    let out = '';
    for (const p of parts) out += typeof p === 'string' ? p : p(e);
    return out;
  };
}
