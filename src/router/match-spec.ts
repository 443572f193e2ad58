/**
 * Validates the match half of a route configuration and turns it into plain match specs (bytes, kinds,
 * flags, regex ids) that table-blob.ts lays out for the wasm matcher. Field paths in errors are relative to
 * the RouteConfiguration, e.g. `virtual_hosts[1].routes[3].match.safe_regex.regex`.
 */
import { ConfigError, UnsupportedConfigError } from '../common/errors.js';
import type { HeaderMatcher, QueryParameterMatcher, RouteMatch, StringMatcher, VirtualHost } from '../types/envoy.js';
import {
  PK_PREFIX, PK_PATH, PK_SEPARATED_PREFIX, PK_REGEX, PK_CONNECT, MT_PRESENT, MT_EXACT, MT_PREFIX, MT_SUFFIX, MT_CONTAINS, MT_REGEX,
  HSRC_HEADER, HSRC_METHOD, HSRC_AUTHORITY, HSRC_PATH,
} from '../wasm/layout.js';
import { bool, checkFields, requireString } from '../config/values.js';
import { foldAscii, utf8 } from './bytes.js';
import { compileFullMatch, literalPrefix } from './regex.js';

/** The regexes of one table; a matcher refers to one by its index. */
export class RegexRegistry {
  readonly patterns: string[] = [];
  readonly compiled: RegExp[] = [];
  private readonly ids = new Map<string, number>();

  add(pattern: string, path: string): number {
    const known = this.ids.get(pattern);
    if (known !== undefined) return known;
    const re = compileFullMatch(pattern, path);
    const id = this.patterns.length;
    this.patterns.push(pattern);
    this.compiled.push(re);
    this.ids.set(pattern, id);
    return id;
  }
}

export interface StringMatchSpec {
  readonly type: number;          // MT_*
  readonly value: Uint8Array;     // lowercase when ignoreCase
  readonly ignoreCase: boolean;
  readonly regexId: number;
}

export interface HeaderMatchSpec extends StringMatchSpec {
  readonly name: Uint8Array;
  readonly source: number;        // HSRC_*
  readonly invert: boolean;
  readonly presentValue: boolean;
  readonly missingAsEmpty: boolean;
}

export interface QueryMatchSpec extends StringMatchSpec {
  readonly name: Uint8Array;
}

export interface RouteMatchSpec {
  readonly kind: number;          // PK_*
  readonly caseInsensitive: boolean;
  /** Prefix or path bytes, lowercase when caseInsensitive; for a regex, the literal its matches start with. */
  readonly str: Uint8Array;
  readonly regexId: number;
  readonly headers: readonly HeaderMatchSpec[];
  readonly queries: readonly QueryMatchSpec[];
}

const ROUTE_MATCH_FIELDS = ['prefix', 'path', 'safe_regex', 'path_separated_prefix', 'connect_matcher', 'case_sensitive', 'headers', 'query_parameters'];
const HEADER_MATCHER_FIELDS = ['name', 'string_match', 'exact_match', 'prefix_match', 'suffix_match', 'contains_match',
  'safe_regex_match', 'present_match', 'invert_match', 'treat_missing_header_as_empty'];
const PSEUDO_HEADERS: Record<string, number> = { ':method': HSRC_METHOD, ':authority': HSRC_AUTHORITY, ':path': HSRC_PATH };

function regexOf(v: { regex: string } | undefined, path: string, regexes: RegexRegistry): number {
  checkFields(v as object, ['regex', 'google_re2'], path);
  return regexes.add(requireString(v!.regex, `${path}.regex`), `${path}.regex`);
}

/** A StringMatcher: exactly one of exact, prefix, suffix, contains, safe_regex. */
function stringMatch(m: StringMatcher, path: string, regexes: RegexRegistry): StringMatchSpec {
  checkFields(m, ['exact', 'prefix', 'suffix', 'contains', 'safe_regex', 'ignore_case'], path);
  const ignoreCase = m.ignore_case === true;
  const kinds = (['exact', 'prefix', 'suffix', 'contains', 'safe_regex'] as const).filter((k) => m[k] !== undefined);
  if (kinds.length !== 1) throw new ConfigError(path, 'exactly one of exact, prefix, suffix, contains, safe_regex is required');
  const literal = (s: unknown, at: string): Uint8Array => {
    if (typeof s !== 'string') throw new ConfigError(at, 'must be a string');
    const b = utf8(s);
    return ignoreCase ? foldAscii(b) : b;
  };
  switch (kinds[0]) {
    case 'exact': return { type: MT_EXACT, value: literal(m.exact, `${path}.exact`), ignoreCase, regexId: 0 };
    case 'prefix': return { type: MT_PREFIX, value: literal(m.prefix, `${path}.prefix`), ignoreCase, regexId: 0 };
    case 'suffix': return { type: MT_SUFFIX, value: literal(m.suffix, `${path}.suffix`), ignoreCase, regexId: 0 };
    case 'contains': return { type: MT_CONTAINS, value: literal(m.contains, `${path}.contains`), ignoreCase, regexId: 0 };
    default:
      // Envoy: ignore_case has no effect on safe_regex.
      return { type: MT_REGEX, value: new Uint8Array(0), ignoreCase: false, regexId: regexOf(m.safe_regex, `${path}.safe_regex`, regexes) };
  }
}

function headerMatch(h: HeaderMatcher, path: string, regexes: RegexRegistry): HeaderMatchSpec {
  checkFields(h, HEADER_MATCHER_FIELDS, path);
  const nameStr = requireString(h.name, `${path}.name`).toLowerCase();
  let source = HSRC_HEADER;
  if (nameStr.startsWith(':')) {
    const s = PSEUDO_HEADERS[nameStr];
    if (s === undefined) throw new UnsupportedConfigError(`${path}.name`, `pseudo-header ${nameStr}`);
    source = s;
  }
  const forms = (['string_match', 'exact_match', 'prefix_match', 'suffix_match', 'contains_match', 'safe_regex_match', 'present_match'] as const)
    .filter((k) => h[k] !== undefined);
  if (forms.length > 1) throw new ConfigError(path, `only one of ${forms.join(', ')} may be set`);
  let sm: StringMatchSpec;
  let presentValue = true;
  const form = forms[0];
  if (form === undefined) {
    // No matcher: Envoy matches on presence.
    sm = { type: MT_PRESENT, value: new Uint8Array(0), ignoreCase: false, regexId: 0 };
  } else if (form === 'present_match') {
    presentValue = h.present_match === true;
    sm = { type: MT_PRESENT, value: new Uint8Array(0), ignoreCase: false, regexId: 0 };
  } else if (form === 'string_match') {
    sm = stringMatch(h.string_match!, `${path}.string_match`, regexes);
  } else if (form === 'safe_regex_match') {
    sm = { type: MT_REGEX, value: new Uint8Array(0), ignoreCase: false, regexId: regexOf(h.safe_regex_match, `${path}.safe_regex_match`, regexes) };
  } else {
    const type = { exact_match: MT_EXACT, prefix_match: MT_PREFIX, suffix_match: MT_SUFFIX, contains_match: MT_CONTAINS }[form];
    const v = h[form];
    if (typeof v !== 'string') throw new ConfigError(`${path}.${form}`, 'must be a string');
    sm = { type, value: utf8(v), ignoreCase: false, regexId: 0 };
  }
  return {
    ...sm, name: utf8(nameStr), source,
    invert: h.invert_match === true, presentValue, missingAsEmpty: h.treat_missing_header_as_empty === true,
  };
}

function queryMatch(q: QueryParameterMatcher, path: string, regexes: RegexRegistry): QueryMatchSpec {
  checkFields(q, ['name', 'string_match', 'present_match'], path);
  const name = utf8(requireString(q.name, `${path}.name`));
  if (q.string_match !== undefined && q.present_match !== undefined) throw new ConfigError(path, 'string_match and present_match are exclusive');
  if (q.present_match === false) throw new ConfigError(`${path}.present_match`, 'must be true when set');
  const sm = q.string_match !== undefined
    ? stringMatch(q.string_match, `${path}.string_match`, regexes)
    : { type: MT_PRESENT, value: new Uint8Array(0), ignoreCase: false, regexId: 0 };
  return { ...sm, name };
}

/** One route's match. */
export function routeMatchSpec(m: RouteMatch | undefined, path: string, regexes: RegexRegistry): RouteMatchSpec {
  if (m === undefined || m === null || typeof m !== 'object') throw new ConfigError(path, 'is required');
  checkFields(m, ROUTE_MATCH_FIELDS, path);
  const kinds = (['prefix', 'path', 'safe_regex', 'path_separated_prefix', 'connect_matcher'] as const).filter((k) => m[k] !== undefined);
  if (kinds.length !== 1) throw new ConfigError(path, 'exactly one of prefix, path, safe_regex, path_separated_prefix, connect_matcher is required');
  const caseInsensitive = !bool(m.case_sensitive, true);
  let kind = PK_PREFIX;
  let str: Uint8Array = new Uint8Array(0);
  let regexId = 0;
  const kindName = kinds[0];
  if (kindName === 'connect_matcher') {
    // Matches CONNECT requests only (they carry no path); path matchers in turn never match a CONNECT.
    checkFields(m.connect_matcher!, [], `${path}.connect_matcher`);
    kind = PK_CONNECT;
  } else if (kindName === 'safe_regex') {
    kind = PK_REGEX;
    regexId = regexOf(m.safe_regex, `${path}.safe_regex`, regexes);
    str = utf8(literalPrefix(m.safe_regex!.regex));
  } else {
    const s = m[kindName];
    if (typeof s !== 'string') throw new ConfigError(`${path}.${kindName}`, 'must be a string');
    if (kindName === 'path_separated_prefix') {
      kind = PK_SEPARATED_PREFIX;
      if (!s.startsWith('/') || (s.length > 1 && s.endsWith('/')) || /[?#]/.test(s)) {
        throw new ConfigError(`${path}.path_separated_prefix`, 'must start with "/", not end with "/" and hold no "?" or "#"');
      }
    } else if (kindName === 'path') {
      kind = PK_PATH;
    }
    str = caseInsensitive ? foldAscii(utf8(s)) : utf8(s);
  }
  const headers = (m.headers ?? []).map((h, i) => headerMatch(h, `${path}.headers[${i}]`, regexes));
  const queries = (m.query_parameters ?? []).map((q, i) => queryMatch(q, `${path}.query_parameters[${i}]`, regexes));
  return { kind, caseInsensitive: caseInsensitive && kind !== PK_REGEX, str, regexId, headers, queries };
}

export interface DomainSpec {
  readonly exact: Map<string, number>;
  /** "*.a.com" / "*-a.com" as ".a.com" / "-a.com". */
  readonly suffixes: { str: Uint8Array; vhost: number }[];
  /** "a.*" / "a-*" as "a." / "a-". */
  readonly prefixes: { str: Uint8Array; vhost: number }[];
  readonly star: number;
}

/** Domains of every virtual host, validated (wildcard forms, no duplicates across the configuration). */
export function domainSpec(vhosts: readonly VirtualHost[]): DomainSpec {
  const exact = new Map<string, number>();
  const suffixes: { str: Uint8Array; vhost: number }[] = [];
  const prefixes: { str: Uint8Array; vhost: number }[] = [];
  const seen = new Map<string, string>();
  let star = -1;
  vhosts.forEach((vh, v) => {
    if (!Array.isArray(vh.domains) || vh.domains.length === 0) throw new ConfigError(`virtual_hosts[${v}].domains`, 'must list at least one domain');
    vh.domains.forEach((d, j) => {
      const at = `virtual_hosts[${v}].domains[${j}]`;
      const domain = requireString(d, at).toLowerCase();
      const first = seen.get(domain);
      if (first !== undefined) throw new ConfigError(at, `duplicate domain ${JSON.stringify(domain)} (also ${first})`);
      seen.set(domain, at);
      const stars = domain.split('*').length - 1;
      if (domain === '*') { star = v; return; }
      if (stars === 0) { exact.set(domain, v); return; }
      if (stars === 1 && domain.startsWith('*')) { suffixes.push({ str: utf8(domain.slice(1)), vhost: v }); return; }
      if (stars === 1 && domain.endsWith('*')) { prefixes.push({ str: utf8(domain.slice(0, -1)), vhost: v }); return; }
      throw new ConfigError(at, `wildcard must be a whole prefix or suffix: ${JSON.stringify(domain)}`);
    });
  });
  return { exact, suffixes, prefixes, star };
}
