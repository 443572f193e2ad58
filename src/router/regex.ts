/**
 * Regexes for route matching. Envoy's safe_regex is RE2 with full-match semantics; Skiff runs it as a
 * JavaScript RegExp anchored at both ends. RE2 features JavaScript spells differently are translated
 * ((?P<name>...)); features RE2 rejects (lookaround, backreferences) are rejected here too, so a config
 * Envoy refuses is refused by Skiff as well.
 *
 * The wasm matcher calls `host_regex_match(id, ptr, len)` with the id of a regex in the table it is
 * matching; each thread points the host callback at the regex list of the table it is about to match on
 * (`activateRegexes`), so several tables (old and new during a swap) can live side by side.
 */
import { ConfigError } from '../common/errors.js';
import { hostCallbacks } from '../wasm/host.js';

const LOOKAROUND = /\(\?<?[=!]/;
const BACKREFERENCE = /\\[1-9]/;

/** Compiles an RE2 pattern to a full-match RegExp; ConfigError naming `path` when it is invalid. */
export function compileFullMatch(pattern: string, path: string): RegExp {
  if (typeof pattern !== 'string') throw new ConfigError(path, 'regex must be a string');
  if (LOOKAROUND.test(pattern)) throw new ConfigError(path, `lookaround is not supported by RE2: ${pattern}`);
  if (BACKREFERENCE.test(pattern.replace(/\\\\/g, ''))) throw new ConfigError(path, `backreferences are not supported by RE2: ${pattern}`);
  const source = pattern.replace(/\(\?P</g, '(?<');
  try {
    // Compile alone first: wrapping an unbalanced pattern such as "a)|(b" could make it valid.
    new RegExp(source);
    return new RegExp(`^(?:${source})$`);
  } catch (err) {
    throw new ConfigError(path, `invalid regex ${JSON.stringify(pattern)}: ${(err as Error).message}`, { cause: err });
  }
}

const META = new Set(['.', '[', ']', '(', ')', '{', '}', '*', '+', '?', '^', '$', '\\', '|']);

/**
 * The ASCII literal every full match of `pattern` must start with ('' when none is certain), so a regex
 * route can be indexed under it like a prefix and the regex runs only for paths that start with it.
 * Conservative: any alternation gives up, and a quantified last literal is dropped.
 */
export function literalPrefix(pattern: string): string {
  if (pattern.includes('|')) return '';
  let out = '';
  for (const c of pattern) {
    if (META.has(c)) {
      if (c === '*' || c === '?' || c === '{' || c === '+') out = out.slice(0, -1);
      return out;
    }
    if (c.charCodeAt(0) > 0x7e || c.charCodeAt(0) < 0x20) return out;
    out += c;
  }
  return out;
}

let activeRegexes: readonly RegExp[] = [];
let activeBuffer: SharedArrayBuffer | ArrayBuffer | undefined;
let installed = false;

function regexMatch(id: number, ptr: number, len: number): number {
  const re = activeRegexes[id];
  if (!re || !activeBuffer) return 0;
  const subject = Buffer.from(activeBuffer, ptr, len).toString('utf8');
  return re.test(subject) ? 1 : 0;
}

/** Points this thread's host callback at `regexes` (ids as the table numbered them) over `memory`. */
export function activateRegexes(memory: WebAssembly.Memory, regexes: readonly RegExp[]): void {
  if (!installed) { hostCallbacks.regexMatch = regexMatch; installed = true; }
  activeRegexes = regexes;
  activeBuffer = memory.buffer as SharedArrayBuffer | ArrayBuffer;
}
