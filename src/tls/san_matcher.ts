/**
 * match_typed_subject_alt_names: a peer certificate passes when any of its SANs of a matcher's type matches
 * that matcher's StringMatcher (Envoy's rule: any matcher, any SAN). SAN types DNS, URI (SPIFFE IDs such as
 * `spiffe://cluster.local/ns/x/sa/y`), EMAIL and IP_ADDRESS.
 */
import { ConfigError, UnsupportedConfigError } from '../common/errors.js';
import type { StringMatcher } from '../types/envoy.js';

export type SanType = 'DNS' | 'URI' | 'EMAIL' | 'IP_ADDRESS';

export interface SanMatcherConfig { san_type?: string; matcher?: StringMatcher }

/** A peer certificate's SANs by type, as read from Node's `subjectaltname` string. */
export interface PeerSans { DNS: string[]; URI: string[]; EMAIL: string[]; IP_ADDRESS: string[] }

const NODE_SAN_NAMES: Record<string, SanType> = { DNS: 'DNS', URI: 'URI', email: 'EMAIL', 'IP Address': 'IP_ADDRESS' };

/**
 * Parses Node's `subjectaltname` ("DNS:a.com, URI:spiffe://x, IP Address:10.0.0.1, email:a@b"); values with
 * special characters come JSON-quoted (Node >= 17), and are unquoted here.
 */
export function parseSubjectAltName(s: string | undefined): PeerSans {
  const out: PeerSans = { DNS: [], URI: [], EMAIL: [], IP_ADDRESS: [] };
  if (!s) return out;
  const re = /(DNS|URI|email|IP Address|[A-Za-z ]+):("(?:[^"\\]|\\.)*"|[^,]*)(?:, |$)/g;
  let guard = 0;
  for (let m = re.exec(s); m !== null && guard < 1024; m = re.exec(s), guard++) {
    const type = NODE_SAN_NAMES[m[1]!];
    if (m[0] === '') break;
    if (type === undefined) continue;
    let value = m[2]!;
    if (value.startsWith('"')) {
      try { value = JSON.parse(value) as string; } catch { continue; }
    }
    out[type].push(value);
  }
  return out;
}

type Test = (value: string) => boolean;

function compileStringMatcher(m: StringMatcher | undefined, path: string): Test {
  if (m === undefined) throw new ConfigError(path, 'required');
  const ic = m.ignore_case === true;
  const norm = (v: string): string => (ic ? v.toLowerCase() : v);
  if (m.exact !== undefined) { const e = norm(m.exact); return (v) => norm(v) === e; }
  if (m.prefix !== undefined) { const p = norm(m.prefix); return (v) => norm(v).startsWith(p); }
  if (m.suffix !== undefined) { const p = norm(m.suffix); return (v) => norm(v).endsWith(p); }
  if (m.contains !== undefined) { const p = norm(m.contains); return (v) => norm(v).includes(p); }
  if (m.safe_regex !== undefined) {
    let re: RegExp;
    try {
      re = new RegExp(`^(?:${m.safe_regex.regex})$`, 'u');
    } catch (e) {
      throw new ConfigError(`${path}.safe_regex.regex`, `invalid regex: ${(e as Error).message}`);
    }
    return (v) => re.test(v);
  }
  throw new UnsupportedConfigError(path, 'string matcher (exact, prefix, suffix, contains or safe_regex is required)');
}

export type SanCheck = (sans: PeerSans) => boolean;

/** Compiles the matchers; undefined when there are none (every verified certificate passes). */
export function compileSanMatchers(list: readonly SanMatcherConfig[] | undefined, path: string): SanCheck | undefined {
  if (list === undefined || list.length === 0) return undefined;
  const matchers = list.map((m, i) => {
    const at = `${path}[${i}]`;
    const type = m.san_type;
    if (type !== 'DNS' && type !== 'URI' && type !== 'EMAIL' && type !== 'IP_ADDRESS') {
      throw new UnsupportedConfigError(`${at}.san_type`, `SAN type ${String(type)} (supported: DNS, URI, EMAIL, IP_ADDRESS)`);
    }
    return { type: type as SanType, test: compileStringMatcher(m.matcher, `${at}.matcher`) };
  });
  return (sans) => matchers.some((m) => sans[m.type].some(m.test));
}
