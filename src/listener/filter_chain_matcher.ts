/**
 * A listener's `filter_chain_matcher`: the generic matcher API (xds.type.matcher.v3.Matcher) picking a filter
 * chain by name, the second implementation of ChainSelector beside filter_chain_match. As Envoy documents it:
 *   - matcher_tree: one input, then exact_match_map, prefix_match_map (longest prefix first, shorter ones when
 *     a nested matcher finds nothing) or custom_match xds.type.matcher.v3.IPMatcher (longest range first);
 *   - matcher_list: the first matcher whose predicate holds (single_predicate with a StringMatcher, or_matcher,
 *     and_matcher, not_matcher) and whose on_match gives a result;
 *   - on_no_match when nothing above gave a result; a nested matcher that finds nothing and has no
 *     on_no_match of its own counts as no match;
 *   - actions are google.protobuf.StringValue naming a filter chain; a name no chain has means no match (the
 *     listener's default_filter_chain, else the connection is closed). Chain names must be unique, and the
 *     chains' own filter_chain_match is ignored.
 * Inputs: envoy.matching.inputs.{destination_ip, destination_port, source_ip, source_port, direct_source_ip,
 * source_type, server_name, transport_protocol, application_protocol, filter_state}. An input without a value
 * (no SNI, a remote source for source_type) matches nothing but a nested on_no_match.
 */
import { ConfigError, UnsupportedConfigError } from '../common/errors.js';
import type { Logger } from '../common/logger.js';
import { cidrMatchLength, compileCidr, type Cidr, type ChainSelector, type ConnectionFacts } from './filter_chain_match.js';

const INPUT_PREFIX = 'type.googleapis.com/envoy.extensions.matching.common_inputs.network.v3.';
const STRING_VALUE = 'type.googleapis.com/google.protobuf.StringValue';
const IP_MATCHER = 'type.googleapis.com/xds.type.matcher.v3.IPMatcher';

/** What a connection offers an input; undefined when the input has no value. */
type Input = (f: ConnectionFacts) => string | undefined;

function isLocal(f: ConnectionFacts): boolean {
  const r = f.remoteAddress;
  return r === '::1' || r.startsWith('127.') || r.startsWith('::ffff:127.') || r === f.localAddress;
}

function unmapped(a: string): string {
  return a.startsWith('::ffff:') && a.includes('.') ? a.slice(7) : a;
}

/** Input type name -> how it reads a connection. */
const INPUTS: Readonly<Record<string, (cfg: Record<string, unknown>, path: string) => Input>> = {
  DestinationIPInput: () => (f) => unmapped(f.localAddress) || undefined,
  DestinationPortInput: () => (f) => String(f.localPort),
  SourceIPInput: () => (f) => unmapped(f.remoteAddress) || undefined,
  SourcePortInput: () => (f) => String(f.remotePort),
  // Skiff reads no PROXY protocol header: the direct source is the source.
  DirectSourceIPInput: () => (f) => unmapped(f.remoteAddress) || undefined,
  SourceTypeInput: () => (f) => (isLocal(f) ? 'local' : undefined),
  ServerNameInput: () => (f) => f.serverName || undefined,
  TransportProtocolInput: () => (f) => f.transportProtocol || undefined,
  // Envoy's form: each protocol in single quotes, comma-joined ('h2','http/1.1').
  ApplicationProtocolInput: () => (f) => (f.applicationProtocols.length === 0 ? undefined : f.applicationProtocols.map((p) => `'${p}'`).join(',')),
  FilterStateInput: (cfg, path) => {
    const key = cfg.key;
    if (typeof key !== 'string' || key === '') throw new ConfigError(`${path}.key`, 'required');
    return (f) => f.filterState?.get(key)?.value;
  },
};

interface TypedExtension { name?: string; typed_config?: Record<string, unknown> & { '@type'?: string } }
interface StringMatcherConfig {
  exact?: string; prefix?: string; suffix?: string; contains?: string; safe_regex?: { regex?: string }; ignore_case?: boolean;
}
interface PredicateConfig {
  single_predicate?: { input?: TypedExtension; value_match?: StringMatcherConfig; custom_match?: TypedExtension };
  or_matcher?: { predicate?: PredicateConfig[] };
  and_matcher?: { predicate?: PredicateConfig[] };
  not_matcher?: PredicateConfig;
}
interface OnMatchConfig { matcher?: MatcherConfig; action?: TypedExtension; keep_matching?: boolean }
export interface MatcherConfig {
  matcher_list?: { matchers?: { predicate?: PredicateConfig; on_match?: OnMatchConfig }[] };
  matcher_tree?: {
    input?: TypedExtension;
    exact_match_map?: { map?: Record<string, OnMatchConfig> };
    prefix_match_map?: { map?: Record<string, OnMatchConfig> };
    custom_match?: TypedExtension;
  };
  on_no_match?: OnMatchConfig;
}

/** A compiled matcher: the chain name it picks, or undefined. */
type Match = (f: ConnectionFacts) => string | undefined;
type Predicate = (f: ConnectionFacts) => boolean;

function compileInput(ext: TypedExtension | undefined, path: string): Input {
  const url = ext?.typed_config?.['@type'];
  if (url === undefined) throw new ConfigError(`${path}.typed_config`, 'an input needs a typed_config');
  const make = url.startsWith(INPUT_PREFIX) ? INPUTS[url.slice(INPUT_PREFIX.length)] : undefined;
  if (make === undefined) throw new UnsupportedConfigError(`${path}.typed_config`, `matching input ${url}`);
  return make(ext!.typed_config!, `${path}.typed_config`);
}

function compileStringMatcher(m: StringMatcherConfig | undefined, path: string): (v: string) => boolean {
  if (m === undefined) throw new ConfigError(path, 'required');
  const fold = m.ignore_case === true;
  const norm = (s: string): string => (fold ? s.toLowerCase() : s);
  if (m.exact !== undefined) { const w = norm(m.exact); return (v) => norm(v) === w; }
  if (m.prefix !== undefined) { const w = norm(m.prefix); return (v) => norm(v).startsWith(w); }
  if (m.suffix !== undefined) { const w = norm(m.suffix); return (v) => norm(v).endsWith(w); }
  if (m.contains !== undefined) { const w = norm(m.contains); return (v) => norm(v).includes(w); }
  if (m.safe_regex?.regex !== undefined) {
    let re: RegExp;
    try { re = new RegExp(`^(?:${m.safe_regex.regex})$`, 'u'); } catch (e) { throw new ConfigError(`${path}.safe_regex.regex`, (e as Error).message); }
    return (v) => re.test(v);
  }
  throw new ConfigError(path, 'one of exact, prefix, suffix, contains, safe_regex is required');
}

function compilePredicate(p: PredicateConfig | undefined, path: string, depth: number): Predicate {
  if (p === undefined) throw new ConfigError(path, 'required');
  if (depth > MAX_DEPTH) throw new ConfigError(path, `nested deeper than ${MAX_DEPTH}`);
  if (p.single_predicate !== undefined) {
    const sp = p.single_predicate;
    const at = `${path}.single_predicate`;
    const input = compileInput(sp.input, `${at}.input`);
    if (sp.custom_match !== undefined) throw new UnsupportedConfigError(`${at}.custom_match`, 'custom matchers in a predicate');
    const test = compileStringMatcher(sp.value_match, `${at}.value_match`);
    return (f) => { const v = input(f); return v !== undefined && test(v); };
  }
  const list = (items: PredicateConfig[] | undefined, at: string): Predicate[] => {
    if (items === undefined || items.length < 2) throw new ConfigError(`${at}.predicate`, 'at least two predicates');
    return items.map((q, i) => compilePredicate(q, `${at}.predicate[${i}]`, depth + 1));
  };
  if (p.or_matcher !== undefined) { const ps = list(p.or_matcher.predicate, `${path}.or_matcher`); return (f) => ps.some((q) => q(f)); }
  if (p.and_matcher !== undefined) { const ps = list(p.and_matcher.predicate, `${path}.and_matcher`); return (f) => ps.every((q) => q(f)); }
  if (p.not_matcher !== undefined) { const q = compilePredicate(p.not_matcher, `${path}.not_matcher`, depth + 1); return (f) => !q(f); }
  throw new ConfigError(path, 'one of single_predicate, or_matcher, and_matcher, not_matcher is required');
}

const MAX_DEPTH = 32;

class Compiler {
  /** Chain names the actions use (checked against the listener's chains by the caller). */
  readonly actionNames = new Set<string>();

  onMatch(m: OnMatchConfig | undefined, path: string, depth: number): Match {
    if (m === undefined) throw new ConfigError(path, 'required');
    if (m.keep_matching === true) throw new UnsupportedConfigError(`${path}.keep_matching`, 'keep_matching (filter chains take one action)');
    if (m.matcher !== undefined) return this.matcher(m.matcher, `${path}.matcher`, depth + 1);
    const action = m.action;
    if (action === undefined) throw new ConfigError(path, 'one of matcher, action is required');
    const url = action.typed_config?.['@type'];
    // The JSON form carries the string itself; the decoded config the wrapper's {value}.
    const raw = action.typed_config?.value as string | { value?: unknown } | undefined;
    const name = typeof raw === 'string' ? raw : raw?.value;
    if (url !== STRING_VALUE || typeof name !== 'string') {
      throw new UnsupportedConfigError(`${path}.action.typed_config`, `action ${url ?? '(none)'} (a google.protobuf.StringValue naming a filter chain)`);
    }
    this.actionNames.add(name);
    return () => name;
  }

  matcher(m: MatcherConfig, path: string, depth: number): Match {
    if (depth > MAX_DEPTH) throw new ConfigError(path, `nested deeper than ${MAX_DEPTH}`);
    const noMatch: Match | undefined = m.on_no_match === undefined ? undefined : this.onMatch(m.on_no_match, `${path}.on_no_match`, depth);
    const first = m.matcher_list !== undefined ? this.list(m.matcher_list, `${path}.matcher_list`, depth)
      : m.matcher_tree !== undefined ? this.tree(m.matcher_tree, `${path}.matcher_tree`, depth)
        : undefined;
    if (first === undefined) {
      if (noMatch === undefined) throw new ConfigError(path, 'one of matcher_list, matcher_tree, on_no_match is required');
      return noMatch;
    }
    return noMatch === undefined ? first : (f) => first(f) ?? noMatch(f);
  }

  private list(l: NonNullable<MatcherConfig['matcher_list']>, path: string, depth: number): Match {
    const items = (l.matchers ?? []).map((fm, i) => ({
      predicate: compilePredicate(fm.predicate, `${path}.matchers[${i}].predicate`, depth),
      onMatch: this.onMatch(fm.on_match, `${path}.matchers[${i}].on_match`, depth),
    }));
    if (items.length === 0) throw new ConfigError(`${path}.matchers`, 'at least one matcher');
    return (f) => {
      for (const it of items) {
        if (!it.predicate(f)) continue;
        const r = it.onMatch(f);
        if (r !== undefined) return r;
      }
      return undefined;
    };
  }

  private tree(t: NonNullable<MatcherConfig['matcher_tree']>, path: string, depth: number): Match {
    const input = compileInput(t.input, `${path}.input`);
    if (t.exact_match_map !== undefined) {
      const map = new Map(Object.entries(t.exact_match_map.map ?? {}).map(([k, v]) => [k, this.onMatch(v, `${path}.exact_match_map.map[${JSON.stringify(k)}]`, depth)]));
      return (f) => { const v = input(f); return v === undefined ? undefined : map.get(v)?.(f); };
    }
    if (t.prefix_match_map !== undefined) {
      const entries = Object.entries(t.prefix_match_map.map ?? {})
        .map(([k, v]) => ({ prefix: k, onMatch: this.onMatch(v, `${path}.prefix_match_map.map[${JSON.stringify(k)}]`, depth) }))
        .sort((a, b) => b.prefix.length - a.prefix.length);
      return (f) => {
        const v = input(f);
        if (v === undefined) return undefined;
        for (const e of entries) {
          if (!v.startsWith(e.prefix)) continue;
          const r = e.onMatch(f);
          if (r !== undefined) return r;
        }
        return undefined;
      };
    }
    if (t.custom_match !== undefined) return this.ipMatcher(input, t.custom_match, `${path}.custom_match`, depth);
    throw new ConfigError(path, 'one of exact_match_map, prefix_match_map, custom_match is required');
  }

  /** xds.type.matcher.v3.IPMatcher: the most specific range first; a nested matcher with no result falls back to less specific ones. */
  private ipMatcher(input: Input, ext: TypedExtension, path: string, depth: number): Match {
    const cfg = ext.typed_config as { '@type'?: string; range_matchers?: { ranges?: unknown[]; on_match?: OnMatchConfig; exclusive?: boolean }[] } | undefined;
    if (cfg?.['@type'] !== IP_MATCHER) throw new UnsupportedConfigError(`${path}.typed_config`, `custom matcher ${cfg?.['@type'] ?? '(none)'}`);
    const ranges: { cidr: Cidr; onMatch: Match; exclusive: boolean }[] = [];
    (cfg.range_matchers ?? []).forEach((rm, i) => {
      const at = `${path}.typed_config.range_matchers[${i}]`;
      const onMatch = this.onMatch(rm.on_match, `${at}.on_match`, depth);
      if ((rm.ranges ?? []).length === 0) throw new ConfigError(`${at}.ranges`, 'at least one range');
      (rm.ranges ?? []).forEach((r, j) => ranges.push({ cidr: compileCidr(r as never, `${at}.ranges[${j}]`), onMatch, exclusive: rm.exclusive === true }));
    });
    return (f) => {
      const v = input(f);
      if (v === undefined) return undefined;
      const hits = ranges.map((r) => ({ r, len: cidrMatchLength(r.cidr, v) })).filter((h) => h.len >= 0).sort((a, b) => b.len - a.len);
      for (const { r } of hits) {
        const out = r.onMatch(f);
        if (out !== undefined || r.exclusive) return out;
      }
      return undefined;
    };
  }
}

/** The chains of a listener picked by its filter_chain_matcher. */
export class FilterChainMatcherSelector<T> implements ChainSelector<T> {
  private readonly match: Match;

  /** `chains`: the listener's filter chains by their (unique) names; `path` names the listener. */
  constructor(config: MatcherConfig, private readonly chains: ReadonlyMap<string, T>, path: string, log?: Logger) {
    const c = new Compiler();
    this.match = c.matcher(config, `${path}.filter_chain_matcher`, 0);
    for (const name of c.actionNames) {
      if (!chains.has(name)) log?.warn(`${path}.filter_chain_matcher: no filter chain is named ${JSON.stringify(name)}: connections it picks get the default chain`);
    }
  }

  get size(): number { return this.chains.size; }

  select(facts: ConnectionFacts): T | undefined {
    const name = this.match(facts);
    return name === undefined ? undefined : this.chains.get(name);
  }
}
