// HCM path normalization: RFC 3986 §5.2.4 / §5.4 dot segments, unreserved decoding, merge_slashes and the
// escaped-slash actions, as Envoy's HCM documents them; and the in-place rewrite of a head record.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  normalizeRequestPath, pathNormalizationConfig, recordPath, removeDotSegments, rewriteRecordPath, type PathNormalizationConfig,
} from '../../../src/proxy/path_normalization.js';
import { ConfigError } from '../../../src/common/errors.js';
import { mainInstance } from '../../../src/wasm/runtime.js';
import * as L from '../../../src/wasm/layout.js';

const NORMALIZE: PathNormalizationConfig = { normalizePath: true, mergeSlashes: false, escapedSlashes: 'KEEP_UNCHANGED' };

function forwarded(path: string, cfg: PathNormalizationConfig = NORMALIZE): string {
  const v = normalizeRequestPath(path, cfg);
  if (v.kind === 'unchanged') return path;
  assert.equal(v.kind, 'forward', `${path}: ${JSON.stringify(v)}`);
  return (v as { path: string }).path;
}

test('RFC 3986 §5.4 examples (merged with the base path /b/c/d;p) lose their dot segments', () => {
  const cases: [string, string][] = [
    ['/b/c/./g', '/b/c/g'], ['/b/c/g/', '/b/c/g/'], ['/b/c/.', '/b/c/'], ['/b/c/./', '/b/c/'], ['/b/c/..', '/b/'],
    ['/b/c/../', '/b/'], ['/b/c/../g', '/b/g'], ['/b/c/../..', '/'], ['/b/c/../../', '/'], ['/b/c/../../g', '/g'],
    // §5.4.2 abnormal examples: more ".." than segments stay at the root; dots inside names are kept.
    ['/b/c/../../../g', '/g'], ['/b/c/../../../../g', '/g'], ['/./g', '/g'], ['/../g', '/g'],
    ['/b/c/g.', '/b/c/g.'], ['/b/c/.g', '/b/c/.g'], ['/b/c/g..', '/b/c/g..'], ['/b/c/..g', '/b/c/..g'],
    ['/b/c/./../g', '/b/g'], ['/b/c/./g/.', '/b/c/g/'], ['/b/c/g/./h', '/b/c/g/h'], ['/b/c/g/../h', '/b/c/h'],
    ['/b/c/g;x=1/./y', '/b/c/g;x=1/y'], ['/b/c/g;x=1/../y', '/b/c/y'],
  ];
  for (const [input, want] of cases) {
    assert.equal(removeDotSegments(input), want, input);
    assert.equal(forwarded(input), want, input);
  }
});

test('normalize_path decodes escaped unreserved characters, upper-cases other escapes and keeps the query', () => {
  assert.equal(forwarded('/%41%62%7e%2D%5f%2E'), '/Ab~-_.');
  assert.equal(forwarded('/a%2fb%3a'), '/a%2Fb%3A');
  assert.equal(forwarded('/a/%2e%2E/b'), '/b', '%2E is a dot');
  assert.equal(forwarded('/a/../b?x=/../&y=%41'), '/b?x=/../&y=%41', 'the query is left alone');
  assert.equal(forwarded('/a\\..\\b'), '/b', 'a backslash is a slash');
  assert.deepEqual(normalizeRequestPath('/already/normal?q', NORMALIZE), { kind: 'unchanged' });
  assert.deepEqual(normalizeRequestPath('/a//b', NORMALIZE), { kind: 'unchanged' }, 'no merging unless asked');
});

test('malformed escapes and relative paths are rejected (400)', () => {
  for (const bad of ['/a%', '/a%4', '/a%zz', 'a/b', '/%g1']) {
    assert.equal(normalizeRequestPath(bad, NORMALIZE).kind, 'reject', bad);
  }
  assert.deepEqual(normalizeRequestPath('?q=1', NORMALIZE), { kind: 'unchanged' }, 'absolute-form without a path means /');
});

test('merge_slashes collapses runs of slashes in the path only, after normalization', () => {
  const cfg: PathNormalizationConfig = { normalizePath: true, mergeSlashes: true, escapedSlashes: 'KEEP_UNCHANGED' };
  assert.equal(forwarded('//a///b/?u=http://x', cfg), '/a/b/?u=http://x');
  assert.equal(forwarded('/a/.//../b', cfg), '/a/b');
  assert.equal(forwarded('//x//y', { ...cfg, normalizePath: false }), '/x/y');
});

test('path_with_escaped_slashes_action: keep, reject, unescape and forward, unescape and redirect', () => {
  const base: PathNormalizationConfig = { normalizePath: false, mergeSlashes: false, escapedSlashes: 'KEEP_UNCHANGED' };
  assert.deepEqual(normalizeRequestPath('/a%2Fb', base), { kind: 'unchanged' });
  assert.equal(normalizeRequestPath('/a%2fb', { ...base, escapedSlashes: 'REJECT_REQUEST' }).kind, 'reject');
  assert.deepEqual(normalizeRequestPath('/ab?c%2F', { ...base, escapedSlashes: 'REJECT_REQUEST' }), { kind: 'unchanged' },
    'escapes in the query are not slashes of the path');
  assert.deepEqual(normalizeRequestPath('/a%2Fb%5cc', { ...base, escapedSlashes: 'UNESCAPE_AND_FORWARD' }), { kind: 'forward', path: '/a/b\\c' });
  assert.deepEqual(normalizeRequestPath('/a%2F..%2Fb?q', { ...NORMALIZE, escapedSlashes: 'UNESCAPE_AND_REDIRECT' }), { kind: 'redirect', path: '/b?q' });
  assert.deepEqual(normalizeRequestPath('/a/b', { ...base, escapedSlashes: 'UNESCAPE_AND_REDIRECT' }), { kind: 'unchanged' });
});

test('the HCM fields: all off is no normalizer; unknown actions are refused by name', () => {
  assert.equal(pathNormalizationConfig({}, 'hcm'), undefined);
  assert.equal(pathNormalizationConfig({ path_with_escaped_slashes_action: 'KEEP_UNCHANGED', normalize_path: { value: false } }, 'hcm'), undefined);
  assert.deepEqual(pathNormalizationConfig({ normalize_path: true, merge_slashes: true }, 'hcm'),
    { normalizePath: true, mergeSlashes: true, escapedSlashes: 'KEEP_UNCHANGED' });
  assert.deepEqual(pathNormalizationConfig({ path_with_escaped_slashes_action: 'UNESCAPE_AND_REDIRECT' }, 'hcm'),
    { normalizePath: false, mergeSlashes: false, escapedSlashes: 'UNESCAPE_AND_REDIRECT' });
  assert.throws(() => pathNormalizationConfig({ path_with_escaped_slashes_action: 'SOMETHING' }, 'hcm'), /hcm\.path_with_escaped_slashes_action/);
  assert.throws(() => pathNormalizationConfig({ merge_slashes: 'yes' as never }, 'hcm'), ConfigError);
});

test('rewriteRecordPath writes the shorter path over the record and moves query and target with it', () => {
  const wasm = mainInstance();
  const rec = wasm.scratchBase;
  const text = '/a/../b?q=1';
  const bytes = rec + 4096;
  for (let i = 0; i < text.length; i++) wasm.u8[bytes + i] = text.charCodeAt(i);
  const v = wasm.view;
  v.setUint32(rec + L.HEAD_PATH_PTR, bytes, true); v.setInt32(rec + L.HEAD_PATH_LEN, text.length, true);
  v.setUint32(rec + L.HEAD_TARGET_PTR, bytes, true); v.setInt32(rec + L.HEAD_TARGET_LEN, text.length, true);
  v.setUint32(rec + L.HEAD_QUERY_PTR, bytes + 7, true); v.setInt32(rec + L.HEAD_QUERY_LEN, 4, true);
  assert.equal(recordPath(wasm, rec), text);
  rewriteRecordPath(wasm, rec, '/b?q=1');
  assert.equal(recordPath(wasm, rec), '/b?q=1');
  assert.equal(v.getInt32(rec + L.HEAD_TARGET_LEN, true), 6);
  assert.equal(v.getUint32(rec + L.HEAD_QUERY_PTR, true), bytes + 2);
  assert.equal(v.getInt32(rec + L.HEAD_QUERY_LEN, true), 4);
  assert.throws(() => rewriteRecordPath(wasm, rec, '/longer/than/before'), /longer/);
});
