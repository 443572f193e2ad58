// Dubbo in wasm: the 16-byte header, events, the Hessian2 peek (walking arguments of every type to reach the
// attachments), responses, the frames Skiff writes itself, bad input, and frames from dubbo2.js and
// dubbo-remoting.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as L from '../../../../src/wasm/layout.js';
import {
  XP_DUBBO, XP_NEED_MORE, XP_MATCH, XP_NO, matchFrame, detectProtocol, neededBytes, setRequestId,
  encodeHeartbeat, encodeHeartbeatReply, encodeErrorReply, encodeErrorReplyText, encodeGoaway, dubboSpec,
} from '../../../../src/codec/xprotocol/index.js';
import { harness, require, hex } from './harness.js';

const DubboEncoder = (require('dubbo2.js/es6/encode.js') as { default: new (ctx: object) => { encode(): Buffer } }).default;
const dubbo2Decode = (require('dubbo2.js/es6/decode.js') as { decode(b: Buffer): any }).decode;
const HeartBeat = (require('dubbo2.js/es6/heartbeat.js') as { default: { encode(): Buffer; isHeartBeat(b: Buffer): boolean } }).default;
const remoting = require('dubbo-remoting/lib/protocol') as {
  requestEncode(id: number, data: object, options: object): Buffer;
  responseEncode(id: number, data: object, options: object): Buffer;
  decode(buf: Buffer, options?: object): any;
};

function dubbo2Request(overrides: object = {}): Buffer {
  return new DubboEncoder({
    requestId: 21,
    dubboVersion: '2.0.2',
    dubboInterface: 'org.apache.dubbo.demo.UserService',
    path: 'org.apache.dubbo.demo.UserService',
    version: '1.2.0',
    methodName: 'findUser',
    methodArgs: [{ $class: 'java.lang.String', $: 'ada' }],
    group: 'canary',
    timeout: 2500,
    application: { name: 'skiff-test' },
    attachments: { traceId: 't-1', note: 'ünï→😀' },
    ...overrides,
  }).encode();
}

test('a dubbo2.js request decodes to its id, service, version, method, group, timeout and attachments', () => {
  const h = harness();
  const bytes = dubbo2Request();
  const { n, frame } = h.decode(XP_DUBBO, bytes);
  assert.equal(n, bytes.length);
  assert.equal(frame.kind, 'request');
  assert.equal(frame.requestId, 21);
  assert.equal(frame.rpcVersion, '2.0.2');
  assert.equal(frame.service, 'org.apache.dubbo.demo.UserService');
  assert.equal(frame.serviceVersion, '1.2.0');
  assert.equal(frame.method, 'findUser');
  assert.equal(frame.group, 'canary');
  assert.equal(frame.timeoutMs, 2500);
  assert.equal(frame.codec, L.DUBBO_SERIALIZATION_HESSIAN2);
  assert.equal(frame.header('traceId'), 't-1');
  assert.equal(frame.header('note'), 'ünï→😀', 'UTF-8 values, a surrogate pair counted as two units');
  assert.equal(frame.header('application'), 'skiff-test');
  assert.ok(frame.flags & L.XFF_PEEKED);
  assert.ok(frame.flags & L.XFF_TWOWAY);
  assert.equal(frame.idOffset, 4);
  assert.equal(frame.idWidth, 8);
});

test('the peek walks arguments of every Hessian2 shape to reach the attachments', () => {
  const h = harness();
  const user = (name: string) => ({
    $class: 'org.demo.User',
    $: {
      name: { $class: 'java.lang.String', $: name },
      age: { $class: 'int', $: 37 },
      score: { $class: 'double', $: 12.75 },
      id: { $class: 'long', $: 9007199254740 },
      tags: { $class: 'java.util.List', $: [{ $class: 'java.lang.String', $: 'a' }, { $class: 'java.lang.String', $: 'béta→😀' }] },
      meta: { $class: 'java.util.Map', $: { k: { $class: 'java.lang.String', $: 'v' } } },
      born: { $class: 'java.util.Date', $: new Date(1700000000000) },
      photo: { $class: 'byte[]', $: Buffer.alloc(300, 7) },
      nothing: null,
      ok: { $class: 'boolean', $: true },
    },
  });
  const longText = 'x'.repeat(70000);
  const args = [
    user('ada'),
    { $class: 'java.util.List', $: [user('bob'), user('cy')] },
    { $class: 'java.lang.String', $: longText },
    { $class: 'long', $: -5 },
    { $class: 'double', $: 0 },
    { $class: '[int', $: [1, 2, 300000] },
    { $class: 'java.util.HashMap', $: { a: { $class: 'int', $: 1 }, b: { $class: 'java.lang.String', $: 'c' } } },
  ];
  const bytes = dubbo2Request({ methodArgs: args });
  const { n, frame } = h.decode(XP_DUBBO, bytes);
  assert.equal(n, bytes.length);
  // the shapes the walk had to cross: class definition, compact object, chunked string, binary, date, long
  for (const tag of [0x43, 0x60, 0x52, 0x4a, 0x5b]) assert.ok(bytes.includes(tag), `tag 0x${tag.toString(16)}`);
  assert.equal(frame.method, 'findUser');
  assert.equal(frame.group, 'canary');
  assert.equal(frame.header('traceId'), 't-1');
  assert.equal(frame.timeoutMs, 2500);
});

test('dubbo-remoting requests (typed attachment map, version split from the signature) decode', () => {
  const h = harness();
  const bytes = remoting.requestEncode(5, {
    serverSignature: 'com.demo.Echo:2.0',
    methodName: 'echo',
    args: [{ $class: 'java.lang.String', $: 'x' }, { $class: 'int', $: 4 }],
    requestProps: { tenant: 'red' },
    group: 'g2',
  }, {});
  const { n, frame } = h.decode(XP_DUBBO, bytes);
  assert.equal(n, bytes.length);
  assert.equal(frame.service, 'com.demo.Echo');
  assert.equal(frame.serviceVersion, '2.0');
  assert.equal(frame.method, 'echo');
  assert.equal(frame.group, 'g2');
  assert.equal(frame.header('tenant'), 'red');
});

test('responses: status, response type and attachments; errors carry their status', () => {
  const h = harness();
  const ok = remoting.responseEncode(9, { isError: false, appResponse: { $class: 'java.lang.String', $: 'hi' } }, {});
  const a = h.decode(XP_DUBBO, ok);
  assert.equal(a.n, ok.length);
  assert.equal(a.frame.kind, 'response');
  assert.equal(a.frame.requestId, 9);
  assert.equal(a.frame.status, L.DUBBO_STATUS_OK);
  assert.ok([1, 4].includes(a.frame.responseType));
  const withAtt = hex('dabb021400000000000000070000001094934805647562626f05322e302e325a');
  const b = h.decode(XP_DUBBO, withAtt);
  assert.equal(b.frame.responseType, 4);
  assert.equal(b.frame.header('dubbo'), '2.0.2');
  const err = remoting.responseEncode(10, { isError: true, errorMsg: 'bad' }, {});
  const c = h.decode(XP_DUBBO, err);
  assert.equal(c.n, err.length);
  assert.equal(c.frame.kind, 'response');
  assert.equal(dubboSpec.statusToHttp(c.frame.status), 500);
});

test('events: heartbeat request and reply, READONLY, one-way requests', () => {
  const h = harness();
  const hb = HeartBeat.encode();
  const a = h.decode(XP_DUBBO, hb);
  assert.equal(a.n, hb.length);
  assert.equal(a.frame.kind, 'heartbeat');
  const n = encodeHeartbeatReply(h.wasm, XP_DUBBO, h.rec, h.out, h.outCap);
  const reply = h.bytesAt(h.out, n);
  assert.equal(h.decode(XP_DUBBO, reply).frame.kind, 'heartbeat_reply');
  assert.equal(reply[3], L.DUBBO_STATUS_OK);
  const sent = encodeHeartbeat(h.wasm, XP_DUBBO, 2 ** 40 + 3, h.out, h.outCap);
  const ours = h.bytesAt(h.out, sent);
  assert.ok(HeartBeat.isHeartBeat(ours), 'dubbo2.js sees our heartbeat as one');
  const back = h.decode(XP_DUBBO, ours);
  assert.equal(back.frame.kind, 'heartbeat');
  assert.equal(back.frame.requestId, 2 ** 40 + 3);
  const g = encodeGoaway(h.wasm, XP_DUBBO, 77, h.out, h.outCap);
  const ro = h.decode(XP_DUBBO, h.bytesAt(h.out, g));
  assert.equal(ro.frame.kind, 'goaway');
  assert.equal(ro.frame.flags & L.XFF_TWOWAY, 0);
  const oneway = Buffer.from(dubbo2Request());
  oneway[2] &= ~L.DUBBO_FLAG_TWOWAY;
  assert.equal(h.decode(XP_DUBBO, oneway).frame.kind, 'oneway');
});

test('error replies decode in dubbo2.js as errors with the message', () => {
  const h = harness();
  const req = dubbo2Request();
  assert.equal(h.decode(XP_DUBBO, req).n, req.length);
  for (const status of [30, 31, 50, 60, 70, 80, 90]) {
    const msg = Buffer.from(`Skiff: no healthy upstream (${status}) — ünïcode ✓`);
    const n = encodeErrorReply(h.wasm, XP_DUBBO, h.rec, status, h.put(msg), msg.length, h.out, h.outCap);
    assert.ok(n > 16);
    const reply = h.bytesAt(h.out, n);
    assert.equal(reply[3], status);
    const d = dubbo2Decode(reply);
    assert.equal(d.requestId, 21);
    assert.ok(d.err instanceof Error);
    assert.match(d.err.message, /no healthy upstream/);
    assert.match(d.err.message, /ünïcode ✓/);
  }
});

test('an error reply from a JS string stages the message in the output area', () => {
  const h = harness();
  const req = dubbo2Request();
  assert.equal(h.decode(XP_DUBBO, req).n, req.length);
  const n = encodeErrorReplyText(h.wasm, XP_DUBBO, h.rec, L.DUBBO_STATUS_SERVER_TIMEOUT, 'upstream timed out ⏱', h.out, 256);
  const d = dubbo2Decode(h.bytesAt(h.out, n));
  assert.equal(d.requestId, 21);
  assert.match(d.err.message, /upstream timed out ⏱/);
  assert.equal(encodeErrorReplyText(h.wasm, XP_DUBBO, h.rec, 80, 'x'.repeat(200), h.out, 256), L.XPE_OUT_TOO_SMALL);
});

test('patching the 8-byte id leaves the rest unchanged', () => {
  const h = harness();
  const bytes = dubbo2Request();
  const { n } = h.decode(XP_DUBBO, bytes);
  setRequestId(h.wasm, XP_DUBBO, h.buf, h.rec, 2 ** 52 + 1);
  const patched = h.bytesAt(h.buf, n);
  assert.equal(patched.readBigUInt64BE(4), 2n ** 52n + 1n);
  assert.deepEqual(patched.subarray(12), bytes.subarray(12));
  assert.deepEqual(patched.subarray(0, 4), bytes.subarray(0, 4));
  assert.equal(h.decode(XP_DUBBO, patched).frame.requestIdBig, 2n ** 52n + 1n);
});

test('match, truncation, max frame size, bad magic and Hessian2 garbage', () => {
  const h = harness();
  const bytes = dubbo2Request();
  h.load(bytes);
  assert.equal(matchFrame(h.wasm, XP_DUBBO, h.buf, 1), XP_NEED_MORE);
  assert.equal(matchFrame(h.wasm, XP_DUBBO, h.buf, 2), XP_MATCH);
  assert.equal(detectProtocol(h.wasm, h.buf, 2), XP_DUBBO);
  for (let cut = 0; cut < bytes.length; cut++) {
    assert.equal(h.decode(XP_DUBBO, bytes.subarray(0, cut)).n, XP_NEED_MORE);
    if (cut >= 16) assert.equal(neededBytes(h.wasm, h.rec), bytes.length);
  }
  const huge = Buffer.from(bytes.subarray(0, 16));
  huge.writeUInt32BE(0xffffffff, 12);
  assert.equal(h.decode(XP_DUBBO, huge).n, L.XPE_TOO_LARGE);
  assert.equal(h.decode(XP_DUBBO, bytes, 100).n, L.XPE_TOO_LARGE);
  const magic = Buffer.from(bytes); magic[1] = 0xbc;
  assert.equal(h.decode(XP_DUBBO, magic).n, L.XPE_BAD_MAGIC);
  h.load(magic);
  assert.equal(matchFrame(h.wasm, XP_DUBBO, h.buf, 2), XP_NO);
  // body replaced by bytes that are no Hessian2 string
  const garbage = Buffer.from(bytes); garbage.fill(0x40, 16, 40);
  assert.equal(h.decode(XP_DUBBO, garbage).n, L.XPE_HESSIAN);
  // a descriptor that is no JVM descriptor
  const badDesc = dubbo2Request({ methodArgs: [{ $class: 'int', $: 1 }] });
  const at = badDesc.indexOf(Buffer.from([0x01, 0x49])); // compact string "I"
  assert.ok(at > 0);
  const bd = Buffer.from(badDesc); bd[at + 1] = 0x51;     // "Q"
  assert.equal(h.decode(XP_DUBBO, bd).n, L.XPE_HESSIAN);
  // attachments without their 'Z' terminator
  const noZ = Buffer.from(bytes.subarray(0, bytes.length - 1));
  noZ.writeUInt32BE(noZ.length - 16, 12);
  assert.equal(h.decode(XP_DUBBO, noZ).n, L.XPE_HESSIAN);
  // nesting deeper than the walker allows: 40 nested untyped lists as the one argument
  const frame = Buffer.from(dubbo2Request({ methodArgs: [{ $class: 'java.util.List', $: [] }] }));
  const argAt = frame.indexOf(Buffer.from('java/util/List;')) + 'java/util/List;'.length;
  const listArg = Buffer.from([0x70, 0x0e, ...Buffer.from('java.util.List')]);
  assert.deepEqual(frame.subarray(argAt, argAt + 16), listArg, 'the empty typed list argument');
  const nestedLists = (depth: number): Buffer => {
    const deep = Buffer.concat([Buffer.alloc(depth, 0x79), Buffer.from([0x90])]);
    const nested = Buffer.concat([frame.subarray(0, argAt), deep, frame.subarray(argAt + 16)]);
    nested.writeUInt32BE(nested.length - 16, 12);
    return nested;
  };
  const ok = nestedLists(20);
  assert.equal(h.decode(XP_DUBBO, ok).n, ok.length, '20 levels are walked');
  assert.equal(h.decode(XP_DUBBO, nestedLists(40)).n, L.XPE_HESSIAN, '40 levels are refused');
});

test('non-hessian2 serialization is framed without a peek', () => {
  const h = harness();
  const bytes = Buffer.from(dubbo2Request());
  bytes[2] = (bytes[2] & ~L.DUBBO_SERIALIZATION_MASK) | 6; // fastjson
  const { n, frame } = h.decode(XP_DUBBO, bytes);
  assert.equal(n, bytes.length);
  assert.equal(frame.kind, 'request');
  assert.equal(frame.codec, 6);
  assert.equal(frame.method, '');
  assert.equal(frame.flags & L.XFF_PEEKED, 0);
});

test('arguments read one at a time for parameter routes: scalars by value, other shapes by type', () => {
  const h = harness();
  const bytes = dubbo2Request({
    methodArgs: [
      { $class: 'java.lang.String', $: 'ada' },
      { $class: 'int', $: -70000 },
      { $class: 'long', $: 2 ** 40 },
      { $class: 'double', $: 2.75 },
      { $class: 'boolean', $: true },
      { $class: 'org.demo.User', $: { name: { $class: 'java.lang.String', $: 'x' } } },
      { $class: 'java.lang.String', $: 'ü😀' },
      { $class: 'java.lang.String', $: null },
    ],
  });
  const { n, frame } = h.decode(XP_DUBBO, bytes);
  assert.equal(n, bytes.length);
  assert.equal(frame.argumentCount, 8);
  assert.deepEqual(frame.argument(0), { type: 'string', value: 'ada' });
  assert.deepEqual(frame.argument(1), { type: 'int', value: -70000 });
  assert.deepEqual(frame.argument(2), { type: 'int', value: 2 ** 40 });
  assert.deepEqual(frame.argument(3), { type: 'double', value: 2.75 });
  assert.deepEqual(frame.argument(4), { type: 'bool', value: true });
  assert.deepEqual(frame.argument(5), { type: 'other' });
  assert.deepEqual(frame.argument(6), { type: 'string', value: 'ü😀' });
  assert.deepEqual(frame.argument(7), { type: 'null' });
  assert.equal(frame.argument(8), undefined);
  assert.equal(frame.argument(-1), undefined);
  // reading an argument leaves the rest of the record as decoded
  assert.equal(frame.method, 'findUser');
  assert.equal(frame.header('traceId'), 't-1');
  // responses and other protocols have no arguments
  const resp = hex('dabb021400000000000000010000000d910b48656c6c6f20776f726c64');
  assert.equal(h.decode(XP_DUBBO, resp).frame.argument(0), undefined);
});
