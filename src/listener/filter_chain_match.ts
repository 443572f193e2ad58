/**
 * Envoy's filter_chain_match: picks one of a listener's filter chains for a connection. The criteria are
 * looked at in Envoy's documented order, and at each step only the chains with the most specific match go on
 * (a chain that leaves the criterion empty matches anything, but loses to one that names a value that matches):
 *   1. destination_port  2. prefix_ranges (destination IP, longest prefix)  3. server_names (exact, then the
 *   longest `*.suffix` wildcard)  4. transport_protocol  5. application_protocols  6. direct_source_prefix_ranges
 *   7. source_type  8. source_prefix_ranges  9. source_ports.
 * As in Envoy, there is no backtracking: once a step narrowed the candidates, a later mismatch means no chain
 * (the listener's default_filter_chain, if any). Two chains with the same match are a config error.
 */
import net from 'node:net';
import { ConfigError, UnsupportedConfigError } from '../common/errors.js';
import type { FilterState } from '../types/network.js';

export interface FilterChainMatchConfig {
  destination_port?: { value?: number };
  prefix_ranges?: CidrRangeConfig[];
  direct_source_prefix_ranges?: CidrRangeConfig[];
  source_type?: 'ANY' | 'SAME_IP_OR_LOOPBACK' | 'EXTERNAL';
  source_prefix_ranges?: CidrRangeConfig[];
  source_ports?: number[];
  server_names?: string[];
  transport_protocol?: string;
  application_protocols?: string[];
  [field: string]: unknown;
}

/** prefix_len is a UInt32Value (envoy.config.core.v3.CidrRange) or, in xds.core.v3.CidrRange JSON, a bare number. */
export interface CidrRangeConfig { address_prefix?: string; prefix_len?: { value?: number } | number }

/** What the listener knows about a connection when it picks a chain. */
export interface ConnectionFacts {
  readonly localAddress: string;
  readonly localPort: number;
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly transportProtocol: string;
  /** SNI, lower case; '' when none. */
  readonly serverName: string;
  /** ALPN protocols the client offered (tls_inspector) or the one http_inspector detected. */
  readonly applicationProtocols: readonly string[];
  /** The connection's filter state, when it carries one (filter_chain_matcher's filter_state input). */
  readonly filterState?: FilterState;
}

/**
 * How a listener picks a filter chain: one interface, two implementations, filter_chain_match
 * (FilterChainSelector, below) and filter_chain_matcher (src/listener/filter_chain_matcher.ts).
 */
export interface ChainSelector<T> {
  /** How many chains it picks from. */
  readonly size: number;
  /** The chain for a connection, or undefined when none matches (the listener's default_filter_chain then). */
  select(facts: ConnectionFacts): T | undefined;
}

export interface Cidr { readonly v6: boolean; readonly bits: bigint; readonly len: number }

interface CompiledMatch {
  readonly destinationPort: number | undefined;
  readonly prefixRanges: readonly Cidr[];
  readonly serverNames: readonly string[];
  readonly transportProtocol: string;
  readonly applicationProtocols: readonly string[];
  readonly directSourcePrefixRanges: readonly Cidr[];
  readonly sourceType: 'ANY' | 'SAME_IP_OR_LOOPBACK' | 'EXTERNAL';
  readonly sourcePrefixRanges: readonly Cidr[];
  readonly sourcePorts: readonly number[];
}

const KNOWN = new Set([
  'destination_port', 'prefix_ranges', 'direct_source_prefix_ranges', 'source_type', 'source_prefix_ranges',
  'source_ports', 'server_names', 'transport_protocol', 'application_protocols',
]);

/** An address as (family, 32- or 128-bit value); IPv4-mapped IPv6 counts as IPv4. undefined when not an IP. */
function parseIp(address: string): { v6: boolean; bits: bigint } | undefined {
  let a = address;
  if (a.startsWith('::ffff:') && net.isIPv4(a.slice(7))) a = a.slice(7);
  if (net.isIPv4(a)) {
    const parts = a.split('.').map(Number);
    return { v6: false, bits: BigInt(((parts[0]! << 24) >>> 0) + (parts[1]! << 16) + (parts[2]! << 8) + parts[3]!) };
  }
  if (!net.isIPv6(a)) return undefined;
  const zone = a.indexOf('%');
  if (zone >= 0) a = a.slice(0, zone);
  const [head, tail] = a.includes('::') ? a.split('::') as [string, string] : [a, undefined];
  const hs = head === '' ? [] : head.split(':');
  const ts = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups = tail === undefined ? hs : [...hs, ...Array<string>(8 - hs.length - ts.length).fill('0'), ...ts];
  let bits = 0n;
  for (const g of groups) bits = (bits << 16n) | BigInt(parseInt(g, 16));
  return { v6: true, bits };
}

/** One CIDR range; `path` names it in errors. */
export function compileCidr(c: CidrRangeConfig, path: string): Cidr {
  const ip = parseIp(c.address_prefix ?? '');
  if (ip === undefined) throw new ConfigError(`${path}.address_prefix`, `not an IP address: ${JSON.stringify(c.address_prefix)}`);
  const max = ip.v6 ? 128 : 32;
  const len = typeof c.prefix_len === 'number' ? c.prefix_len : c.prefix_len?.value ?? 0;
  if (!Number.isInteger(len) || len < 0 || len > max) throw new ConfigError(`${path}.prefix_len`, `must be in 0..${max}`);
  const width = BigInt(max);
  const mask = len === 0 ? 0n : ((1n << BigInt(len)) - 1n) << (width - BigInt(len));
  return { v6: ip.v6, bits: ip.bits & mask, len };
}

function compileCidrs(list: CidrRangeConfig[] | undefined, path: string): Cidr[] {
  return (list ?? []).map((c, i) => compileCidr(c, `${path}[${i}]`));
}

/** The range's prefix length when `address` is in it, else -1 (not an IP, other family, outside). */
export function cidrMatchLength(r: Cidr, address: string): number {
  const ip = parseIp(address);
  if (ip === undefined || ip.v6 !== r.v6) return -1;
  const width = BigInt(r.v6 ? 128 : 32);
  const mask = r.len === 0 ? 0n : ((1n << BigInt(r.len)) - 1n) << (width - BigInt(r.len));
  return (ip.bits & mask) === r.bits ? r.len : -1;
}

/** Longest matching prefix length + 1; 0 when no ranges are configured; -1 when none matches. */
function cidrScore(ranges: readonly Cidr[], address: string): number {
  if (ranges.length === 0) return 0;
  const ip = parseIp(address);
  if (ip === undefined) return -1;
  let best = -1;
  for (const r of ranges) {
    if (r.v6 !== ip.v6) continue;
    const width = BigInt(r.v6 ? 128 : 32);
    const mask = r.len === 0 ? 0n : ((1n << BigInt(r.len)) - 1n) << (width - BigInt(r.len));
    if ((ip.bits & mask) === r.bits && r.len + 1 > best) best = r.len + 1;
  }
  return best;
}

/** Exact name beats any wildcard; a longer wildcard suffix beats a shorter one. */
function serverNameScore(names: readonly string[], sni: string): number {
  if (names.length === 0) return 0;
  let best = -1;
  for (const n of names) {
    if (n === sni) return 100_000;
    if (n.startsWith('*.') && sni.length > n.length - 1 && sni.endsWith(n.slice(1)) && n.length > best) best = n.length;
  }
  return best;
}

function isLoopback(address: string): boolean {
  return address === '::1' || address.startsWith('127.') || address.startsWith('::ffff:127.');
}

function sourceTypeScore(type: CompiledMatch['sourceType'], facts: ConnectionFacts): number {
  if (type === 'ANY') return 0;
  const local = isLoopback(facts.remoteAddress) || facts.remoteAddress === facts.localAddress;
  return (type === 'SAME_IP_OR_LOOPBACK') === local ? 1 : -1;
}

/** Each step of Envoy's order: how well a chain matches one criterion (-1 no, 0 wildcard, higher is more specific). */
const STEPS: ReadonlyArray<(m: CompiledMatch, f: ConnectionFacts) => number> = [
  (m, f) => (m.destinationPort === undefined ? 0 : m.destinationPort === f.localPort ? 1 : -1),
  (m, f) => cidrScore(m.prefixRanges, f.localAddress),
  (m, f) => serverNameScore(m.serverNames, f.serverName),
  (m, f) => (m.transportProtocol === '' ? 0 : m.transportProtocol === f.transportProtocol ? 1 : -1),
  (m, f) => (m.applicationProtocols.length === 0 ? 0 : m.applicationProtocols.some((p) => f.applicationProtocols.includes(p)) ? 1 : -1),
  (m, f) => cidrScore(m.directSourcePrefixRanges, f.remoteAddress),
  (m, f) => sourceTypeScore(m.sourceType, f),
  (m, f) => cidrScore(m.sourcePrefixRanges, f.remoteAddress),
  (m, f) => (m.sourcePorts.length === 0 ? 0 : m.sourcePorts.includes(f.remotePort) ? 1 : -1),
];

/** Validates one filter_chain_match; `path` names it. */
export function compileFilterChainMatch(m: FilterChainMatchConfig | undefined, path: string): CompiledMatch {
  const c = m ?? {};
  for (const key of Object.keys(c)) if (!KNOWN.has(key)) throw new UnsupportedConfigError(`${path}.${key}`, 'field');
  const serverNames = (c.server_names ?? []).map((n, i) => {
    const name = n.toLowerCase();
    const star = name.indexOf('*');
    if (name === '' || (star >= 0 && (star !== 0 || !name.startsWith('*.') || name.indexOf('*', 1) >= 0))) {
      throw new ConfigError(`${path}.server_names[${i}]`, `${JSON.stringify(n)}: a name or a leading "*." wildcard`);
    }
    return name;
  });
  const port = c.destination_port?.value;
  if (port !== undefined && (!Number.isInteger(port) || port < 1 || port > 65535)) throw new ConfigError(`${path}.destination_port`, 'must be in 1..65535');
  (c.source_ports ?? []).forEach((p, i) => {
    if (!Number.isInteger(p) || p < 1 || p > 65535) throw new ConfigError(`${path}.source_ports[${i}]`, 'must be in 1..65535');
  });
  return {
    destinationPort: port,
    prefixRanges: compileCidrs(c.prefix_ranges, `${path}.prefix_ranges`),
    serverNames,
    transportProtocol: c.transport_protocol ?? '',
    applicationProtocols: c.application_protocols ?? [],
    directSourcePrefixRanges: compileCidrs(c.direct_source_prefix_ranges, `${path}.direct_source_prefix_ranges`),
    sourceType: c.source_type ?? 'ANY',
    sourcePrefixRanges: compileCidrs(c.source_prefix_ranges, `${path}.source_prefix_ranges`),
    sourcePorts: c.source_ports ?? [],
  };
}

/** Whether the match needs what tls_inspector learns (SNI, ALPN, TLS or not). */
export function needsTlsFacts(m: FilterChainMatchConfig | undefined): boolean {
  return (m?.server_names?.length ?? 0) > 0 || (m?.application_protocols?.length ?? 0) > 0 || m?.transport_protocol !== undefined;
}

/** A listener's chains, ready to pick from. */
export class FilterChainSelector<T> implements ChainSelector<T> {
  private readonly chains: { match: CompiledMatch; value: T }[] = [];

  /** `configs[i].path` names chain i in errors. */
  constructor(configs: readonly { match: FilterChainMatchConfig | undefined; path: string; value: T }[]) {
    const seen = new Map<string, string>();
    for (const c of configs) {
      const match = compileFilterChainMatch(c.match, `${c.path}.filter_chain_match`);
      const key = JSON.stringify(match, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
      const other = seen.get(key);
      if (other !== undefined) throw new ConfigError(`${c.path}.filter_chain_match`, `the same match as ${other} (Envoy: multiple filter chains with the same matching rules)`);
      seen.set(key, c.path);
      this.chains.push({ match, value: c.value });
    }
  }

  get size(): number { return this.chains.length; }

  /** The chain for a connection, or undefined when none matches. */
  select(facts: ConnectionFacts): T | undefined {
    let candidates = this.chains;
    for (const step of STEPS) {
      if (candidates.length === 0) return undefined;
      let best = -1;
      const scores = candidates.map((c) => { const s = step(c.match, facts); if (s > best) best = s; return s; });
      if (best < 0) return undefined;
      candidates = candidates.filter((_c, i) => scores[i] === best);
    }
    return candidates[0]?.value;
  }
}
