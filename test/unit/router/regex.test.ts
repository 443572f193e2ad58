// RE2 patterns as full-match JavaScript regexes: translation of RE2-only syntax, refusal of what RE2 refuses.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError } from '../../../src/common/errors.js';
import { compileFullMatch, literalPrefix } from '../../../src/router/regex.js';

test('patterns match the whole subject only', () => {
  const re = compileFullMatch('/v[0-9]+', 'p');
  assert.ok(re.test('/v12'));
  assert.ok(!re.test('/v12/x'));
  assert.ok(!re.test('x/v12'));
  const alt = compileFullMatch('a|bc', 'p');
  assert.ok(alt.test('bc'));
  assert.ok(!alt.test('abc'));
});

test('RE2 named groups (?P<name>...) are accepted', () => {
  assert.ok(compileFullMatch('/(?P<id>[0-9]+)/x', 'p').test('/42/x'));
});

test('lookaround, backreferences and invalid patterns are config errors naming the field', () => {
  for (const bad of ['(?=a)a', '(?!a)b', '(?<=a)b', '(a)\\1', '[', 'a)|(b']) {
    assert.throws(() => compileFullMatch(bad, 'x.safe_regex.regex'), (e: unknown) => e instanceof ConfigError && e.path === 'x.safe_regex.regex', bad);
  }
  // An escaped backslash before a digit is a literal, not a backreference.
  assert.ok(compileFullMatch('a\\\\1', 'p').test('a\\1'));
});

test('literalPrefix: the literal every match starts with, conservatively', () => {
  assert.equal(literalPrefix('/users/[0-9]+'), '/users/');
  assert.equal(literalPrefix('/api/v1/items'), '/api/v1/items');
  assert.equal(literalPrefix('/ab?c'), '/a');
  assert.equal(literalPrefix('/ab*'), '/a');
  assert.equal(literalPrefix('/ab{2}'), '/a');
  assert.equal(literalPrefix('/ab+'), '/a');
  assert.equal(literalPrefix('/a|/b'), '');
  assert.equal(literalPrefix('(?i)/admin'), '');
  assert.equal(literalPrefix('^/x'), '');
  assert.equal(literalPrefix('/caf\u00e9/x'), '/caf');
  assert.equal(literalPrefix('\\d+'), '');
});
