// The generic protoc-gen-validate engine, on a test proto that uses rules Envoy's supported messages do
// not (exclusive ranges, unique items, map keys, bytes, any.in, ...). The rules are read from the parsed
// options exactly as for Envoy's protos.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import protobuf from 'protobufjs';
import { ConfigError } from '../../../src/common/errors.js';
import { decodeMessage } from '../../../src/config/decode.js';
import { checkRules } from '../../../src/config/pgv.js';

const root = new protobuf.Root();
for (const f of ['duration', 'any', 'wrappers']) root.addJSON(protobuf.common.get(`google/protobuf/${f}.proto`)!.nested!);
protobuf.parse(`
syntax = "proto3";
package t;
import "google/protobuf/duration.proto";
import "google/protobuf/any.proto";
import "google/protobuf/wrappers.proto";
enum Color { RED = 0; GREEN = 1; BLUE = 2; }
message M {
  uint32 outside = 1 [(validate.rules).uint32 = {gt: 10, lt: 5}];
  int64 between = 2 [(validate.rules).int64 = {gte: -3, lte: 3}];
  repeated string tags = 3 [(validate.rules).repeated = {unique: true, max_items: 3, items {string {min_len: 2}}}];
  google.protobuf.Duration wait = 4 [(validate.rules).duration = {required: true, lt {seconds: 5}}];
  map<string, string> headers = 5 [(validate.rules).map = {min_pairs: 1, keys {string {prefix: "x-"}}}];
  oneof choice { option (validate.required) = true; string left = 6; string right = 7; }
  string mode = 8 [(validate.rules).string = {in: ["fast", "slow"], ignore_empty: true}];
  string host = 9 [(validate.rules).string = {hostname: true, ignore_empty: true}];
  string ip = 10 [(validate.rules).string = {ip: true, ignore_empty: true}];
  bytes key = 11 [(validate.rules).bytes = {min_len: 2, max_len: 4}];
  bool on = 12 [(validate.rules).bool.const = true];
  Color color = 13 [(validate.rules).enum = {not_in: [2]}];
  google.protobuf.Any ext = 14 [(validate.rules).any = {in: ["type.googleapis.com/google.protobuf.Duration"]}];
  double ratio = 15 [(validate.rules).double = {gte: 0, lte: 1}];
  google.protobuf.UInt32Value limit = 16 [(validate.rules).uint32 = {gt: 0}];
  optional string note = 17 [(validate.rules).string.min_len = 3];
  string path = 18 [(validate.rules).string = {pattern: "^/[a-z]*$", ignore_empty: true}];
  Inner inner = 19;
  message Inner { string name = 1 [(validate.rules).string.min_len = 1]; }
}
`, root, { keepCase: true });
root.resolveAll();
const M = root.lookupType('t.M');

const valid = { outside: 11, tags: ['ab'], wait: '1s', headers: { 'x-a': 'b' }, left: 'l', key: 'AAE=', on: true, color: 'GREEN', ratio: 0.5 };

function check(overrides: Record<string, unknown>, remove: string[] = []): void {
  const doc: Record<string, unknown> = { ...valid, ...overrides };
  for (const r of remove) delete doc[r];
  const { value } = decodeMessage(M, doc, 'm', { warnings: [] });
  checkRules(M, value, 'm');
}

function fails(overrides: Record<string, unknown>, message: string, remove: string[] = []): void {
  assert.throws(() => check(overrides, remove), (e: unknown) => {
    assert.ok(e instanceof ConfigError);
    assert.equal(e.message, message);
    return true;
  });
}

test('a message meeting every rule passes', () => {
  check({});
  check({ outside: 4, between: -3, mode: 'fast', host: 'a.example.com', ip: '::1', path: '/abc', limit: 1, note: 'abc', inner: { name: 'n' }, ext: { '@type': 'type.googleapis.com/google.protobuf.Duration', value: '1s' } });
});

test('exclusive ranges (gt above lt), inclusive ranges, doubles and wrapped values', () => {
  fails({ outside: 7 }, 'm.outside: must be less than 5 or greater than 10 (uint32.gt/lt)');
  fails({ between: 4 }, 'm.between: must be at most 3 (int64.lte)');
  fails({ between: '-4' }, 'm.between: must be at least -3 (int64.gte)');
  fails({ ratio: 1.5 }, 'm.ratio: must be at most 1 (double.lte)');
  fails({ limit: 0 }, 'm.limit: must be greater than 0 (uint32.gt)');
});

test('repeated: unique, max_items, per-item rules', () => {
  fails({ tags: ['ab', 'ab'] }, 'm.tags[1]: repeats an earlier item (repeated.unique)');
  fails({ tags: ['ab', 'cd', 'ef', 'gh'] }, 'm.tags: must have at most 3 items (repeated.max_items)');
  fails({ tags: ['ab', 'c'] }, 'm.tags[1]: must be at least 2 characters long (string.min_len)');
});

test('durations: required and upper bound', () => {
  fails({}, 'm.wait: is required (required)', ['wait']);
  fails({ wait: '5s' }, 'm.wait: must be less than 5s (duration.lt)');
});

test('maps: min_pairs and key rules', () => {
  fails({ headers: {} }, 'm.headers: must have at least 1 entries (map.min_pairs)');
  fails({ headers: { 'y-a': 'b' } }, 'm.headers["y-a"]: must start with "x-" (string.prefix)');
});

test('a required oneof, string in/hostname/ip/pattern, ignore_empty, optional presence', () => {
  fails({}, 'm.choice: one of left, right must be set (validate.required)', ['left']);
  fails({ mode: 'medium' }, 'm.mode: must be one of fast, slow (string.in)');
  fails({ host: 'bad_host!' }, 'm.host: must be a hostname (string.hostname)');
  fails({ ip: '1.2.3' }, 'm.ip: must be an IP address (string.ip)');
  fails({ path: '/A' }, 'm.path: does not match the pattern ^/[a-z]*$ (string.pattern)');
  // An absent `optional` field is not checked; a present one is.
  fails({ note: 'ab' }, 'm.note: must be at least 3 characters long (string.min_len)');
});

test('bytes length, bool const, enum not_in, any.in, nested messages', () => {
  fails({ key: 'AA==' }, 'm.key: must be at least 2 bytes long (bytes.min_len)');
  fails({ key: 'AAECAwQ=' }, 'm.key: must be at most 4 bytes long (bytes.max_len)');
  fails({ on: false }, 'm.on: must be true (bool.const)');
  fails({}, 'm.on: must be true (bool.const)', ['on']);
  fails({ color: 'BLUE' }, 'm.color: BLUE is not allowed here (enum.not_in)');
  fails({ ext: { '@type': 'type.googleapis.com/google.protobuf.UInt32Value', value: 3 } },
    'm.ext: type URL must be one of type.googleapis.com/google.protobuf.Duration (any.in)');
  fails({ inner: {} }, 'm.inner.name: must be at least 1 characters long (string.min_len)');
});
