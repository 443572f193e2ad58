// Bolt v1/v2 in wasm: every frame kind, the header map and routing fields, CRC32, the request id patch,
// the frames Skiff writes itself, bad input, and frames from sofa-bolt-node's own encoder.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as L from '../../../../src/wasm/layout.js';
import {
  XP_BOLT_V1, XP_BOLT_V2, XP_NEED_MORE, XP_MATCH, XP_NO, matchFrame, detectProtocol, neededBytes, errorOffset,
  setRequestId, encodeHeartbeat, encodeHeartbeatReply, encodeErrorReply, encodeGoaway, XProtocolError, boltSpec,
  replyContext, writeReplyContext,
} from '../../../../src/codec/xprotocol/index.js';
import { harness, require } from './harness.js';

interface BoltProtocol {
  requestEncode(id: number, req: object, options: object): Buffer;
  responseEncode(id: number, res: object, options: object): Buffer;
  heartbeatEncode(id: number, hb: object, options: object): Buffer;
  heartbeatAckEncode(id: number, options: object): Buffer;
  decode(buf: Buffer, options?: object): { packetId: number; packetType: string; data?: any; options: any };
}
const bolt = require('sofa-bolt-node/lib/protocol') as BoltProtocol;
const SimpleMapSerializer = require('sofa-bolt-node/lib/simple_map_serializer') as { encode(o: object): Buffer };

const V1 = { protocolType: 'bolt', codecType: 'hessian2' };
const V2CRC = { protocolType: 'bolt2', boltVersion: 2, crcEnable: true, codecType: 'hessian2' };
const V2 = { protocolType: 'bolt2', boltVersion: 1, crcEnable: false, codecType: 'hessian2' };

function request(overrides: object = {}): object {
  return {
    serverSignature: 'com.alipay.test.EchoService:2.1',
    methodName: 'echo',
    args: [{ $class: 'java.lang.String', $: 'hi' }],
    requestProps: { tenant: 'blue' },
    timeout: 1500,
    ...overrides,
  };
}

test('a v1 hessian2 request from sofa-bolt-node decodes to its service, method, timeout and headers', () => {
  const h = harness();
  const bytes = bolt.requestEncode(42, request(), V1);
  const { n, frame } = h.decode(XP_BOLT_V1, bytes);
  assert.equal(n, bytes.length);
  assert.equal(frame.kind, 'request');
  assert.equal(frame.proto, XP_BOLT_V1);
  assert.equal(frame.requestId, 42);
  assert.equal(frame.timeoutMs, 1500);
  assert.equal(frame.codec, L.BOLT_CODEC_HESSIAN2);
  assert.equal(frame.className, 'com.alipay.sofa.rpc.core.request.SofaRequest');
  assert.equal(frame.service, 'com.alipay.test.EchoService:2.1');
  assert.equal(frame.serviceVersion, '2.1');
  assert.equal(frame.method, 'echo', 'method peeked from the hessian SofaRequest');
  assert.ok(frame.flags & L.XFF_PEEKED);
  assert.deepEqual(frame.headers(), [['service', 'com.alipay.test.EchoService:2.1']]);
  assert.equal(frame.idOffset, 5);
  assert.equal(frame.idWidth, 4);
  const payload = h.bytesAt(frame.payloadPtr, frame.payloadLength);
  assert.deepEqual(payload, bytes.subarray(bytes.length - frame.payloadLength));
});

test('oneway, response, heartbeat and heartbeat ack map to their kinds in v1 and v2', () => {
  const h = harness();
  for (const opts of [V1, V2, V2CRC]) {
    const proto = opts.protocolType === 'bolt' ? XP_BOLT_V1 : XP_BOLT_V2;
    const cases: Array<[Buffer, string, number]> = [
      [bolt.requestEncode(7, { ...request(), oneway: true }, opts), 'oneway', 7],
      [bolt.responseEncode(8, { isError: false, appResponse: { $class: 'java.lang.Integer', $: 3 } }, opts), 'response', 8],
      [bolt.heartbeatEncode(9, { timeout: 1000 }, opts), 'heartbeat', 9],
      [bolt.heartbeatAckEncode(10, opts), 'heartbeat_reply', 10],
    ];
    for (const [bytes, kind, id] of cases) {
      const { n, frame } = h.decode(proto, bytes);
      assert.equal(n, bytes.length, `${opts.protocolType} ${kind}`);
      assert.equal(frame.kind, kind);
      assert.equal(frame.requestId, id);
      assert.equal(frame.proto, proto);
      assert.equal(Boolean(frame.flags & L.XFF_CRC), opts === V2CRC);
      assert.equal(Boolean(frame.flags & L.XFF_TWOWAY), kind === 'heartbeat', `${kind} expects a reply`);
    }
  }
});

test('a server-exception response carries its status', () => {
  const h = harness();
  const bytes = bolt.responseEncode(3, { isError: true, errorMsg: 'boom' }, V1);
  const { n, frame } = h.decode(XP_BOLT_V1, bytes);
  assert.equal(n, bytes.length);
  assert.equal(frame.kind, 'response');
  assert.equal(frame.status, L.BOLT_STATUS_SERVER_EXCEPTION);
});

test('sofa_head_* header keys give service and method (protobuf-style requests)', () => {
  const h = harness();
  const headerMap = SimpleMapSerializer.encode({
    service: 'old.Service:1.0', sofa_head_target_service: 'com.x.Echo:3.0', sofa_head_method_name: 'say', k: '', emoji: 'a😀b→',
  });
  const cls = Buffer.from('com.alipay.sofa.rpc.core.request.SofaRequest');
  const content = Buffer.from([1, 2, 3]);
  const fixed = Buffer.alloc(22);
  fixed.writeUInt8(1, 0); fixed.writeUInt8(1, 1); fixed.writeUInt16BE(1, 2); fixed.writeUInt8(1, 4);
  fixed.writeUInt32BE(77, 5); fixed.writeUInt8(11, 9); fixed.writeUInt32BE(250, 10);
  fixed.writeUInt16BE(cls.length, 14); fixed.writeUInt16BE(headerMap.length, 16); fixed.writeUInt32BE(content.length, 18);
  const bytes = Buffer.concat([fixed, cls, headerMap, content]);
  const { n, frame } = h.decode(XP_BOLT_V1, bytes);
  assert.equal(n, bytes.length);
  assert.equal(frame.service, 'com.x.Echo:3.0');
  assert.equal(frame.serviceVersion, '3.0');
  assert.equal(frame.method, 'say');
  assert.equal(frame.codec, L.BOLT_CODEC_PROTOBUF);
  assert.equal(frame.header('k'), '');
  assert.equal(frame.header('emoji'), 'a😀b→', 'standard 4-byte UTF-8');
  assert.equal(frame.headers().length, 5);
});

test('a frame split anywhere is NEED_MORE until its last byte, and tells its length once the header is in', () => {
  const h = harness();
  const bytes = bolt.requestEncode(5, request(), V2CRC);
  for (let cut = 0; cut < bytes.length; cut++) {
    const { n } = h.decode(XP_BOLT_V2, bytes.subarray(0, cut));
    assert.equal(n, XP_NEED_MORE, `cut ${cut}`);
    if (cut >= 24) assert.equal(neededBytes(h.wasm, h.rec), bytes.length);
  }
  assert.equal(h.decode(XP_BOLT_V2, bytes).n, bytes.length);
});

test('two frames back to back decode one at a time', () => {
  const h = harness();
  const a = bolt.requestEncode(1, request(), V1);
  const b = bolt.heartbeatEncode(2, { timeout: 1000 }, V1);
  const both = Buffer.concat([a, b]);
  const len = h.load(both);
  const n1 = h.wasm.exports.xp_decode(XP_BOLT_V1, h.buf, len, h.rec, 1 << 24);
  assert.equal(n1, a.length);
  const n2 = h.wasm.exports.xp_decode(XP_BOLT_V1, h.buf + n1, len - n1, h.rec, 1 << 24);
  assert.equal(n2, b.length);
});

test('match and detect tell Bolt v1 and v2 apart from each other and from other bytes', () => {
  const h = harness();
  const v1 = bolt.requestEncode(1, request(), V1);
  const v2 = bolt.requestEncode(1, request(), V2CRC);
  h.load(v1);
  assert.equal(matchFrame(h.wasm, XP_BOLT_V1, h.buf, v1.length), XP_MATCH);
  assert.equal(matchFrame(h.wasm, XP_BOLT_V2, h.buf, v1.length), XP_NO);
  assert.equal(detectProtocol(h.wasm, h.buf, v1.length), XP_BOLT_V1);
  assert.equal(matchFrame(h.wasm, XP_BOLT_V1, h.buf, 2), XP_NEED_MORE);
  h.load(v2);
  assert.equal(detectProtocol(h.wasm, h.buf, v2.length), XP_BOLT_V2);
  h.load(Buffer.from('GET / HTTP/1.1\r\n'));
  assert.equal(detectProtocol(h.wasm, h.buf, 16), XP_NO);
  h.load(Buffer.from([1, 1, 0, 9]));
  assert.equal(matchFrame(h.wasm, XP_BOLT_V1, h.buf, 4), XP_NO, 'unknown cmdcode');
});

test('wrong proto code, unknown type or version, and bad header maps are errors with their offset', () => {
  const h = harness();
  const good = bolt.requestEncode(1, request(), V1);
  const wrongProto = Buffer.from(good); wrongProto[0] = 9;
  assert.equal(h.decode(XP_BOLT_V1, wrongProto).n, L.XPE_BAD_MAGIC);
  const wrongType = Buffer.from(good); wrongType[1] = 5;
  assert.equal(h.decode(XP_BOLT_V1, wrongType).n, L.XPE_BAD_KIND);
  const v2 = bolt.requestEncode(1, request(), V2);
  const wrongVer = Buffer.from(v2); wrongVer[1] = 7;
  assert.equal(h.decode(XP_BOLT_V2, wrongVer).n, L.XPE_BAD_VERSION);
  // header map whose key length runs past the header region
  const badMap = Buffer.from(good); badMap.writeInt32BE(1000, 22 + 44);
  const r = h.decode(XP_BOLT_V1, badMap);
  assert.equal(r.n, L.XPE_HEADERS);
  assert.equal(errorOffset(h.wasm, h.rec), 22 + 44);
  const e = new XProtocolError(r.n, errorOffset(h.wasm, h.rec));
  assert.equal(e.code, 'SKIFF_XPROTO_HEADERS');
});

test('a length past maxFrameBytes is an error from the fixed header alone', () => {
  const h = harness();
  const fixed = Buffer.from(bolt.requestEncode(1, request(), V1).subarray(0, 22));
  fixed.writeUInt32BE(0x7fffffff, 18);
  assert.equal(h.decode(XP_BOLT_V1, fixed).n, L.XPE_TOO_LARGE);
  const small = bolt.requestEncode(1, request(), V1);
  assert.equal(h.decode(XP_BOLT_V1, small, small.length - 1).n, L.XPE_TOO_LARGE);
  assert.equal(h.decode(XP_BOLT_V1, small, small.length).n, small.length);
});

test('a v2 CRC mismatch is an error; ver1 1 frames carry no CRC', () => {
  const h = harness();
  const bytes = Buffer.from(bolt.requestEncode(1, request(), V2CRC));
  assert.equal(h.decode(XP_BOLT_V2, bytes).n, bytes.length);
  bytes[bytes.length - 10] ^= 0x01;
  assert.equal(h.decode(XP_BOLT_V2, bytes).n, L.XPE_CRC);
  assert.equal(errorOffset(h.wasm, h.rec), bytes.length - 4);
  const plain = bolt.requestEncode(1, request(), V2);
  assert.equal(h.decode(XP_BOLT_V2, plain).n, plain.length);
  assert.equal(h.wasm.view.getInt32(h.rec + L.XF_FLAGS, true) & L.XFF_CRC, 0);
});

test('patching the request id rewrites it in place and recomputes the v2 CRC', () => {
  const h = harness();
  for (const opts of [V1, V2, V2CRC]) {
    const proto = opts.protocolType === 'bolt' ? XP_BOLT_V1 : XP_BOLT_V2;
    const bytes = bolt.requestEncode(11, request(), opts);
    const { n } = h.decode(proto, bytes);
    assert.equal(n, bytes.length);
    setRequestId(h.wasm, proto, h.buf, h.rec, 0xfedcba98);
    const patched = h.bytesAt(h.buf, n);
    const decoded = bolt.decode(patched, {});
    assert.equal(decoded.packetId | 0, 0xfedcba98 | 0, 'sofa-bolt-node reads the new id (and accepts the CRC)');
    assert.equal(decoded.data.methodName, 'echo');
    const again = h.decode(proto, patched);
    assert.equal(again.n, bytes.length);
    assert.equal(again.frame.requestId, 0xfedcba98);
    // only the id bytes (and the CRC) changed
    let diff = 0;
    for (let i = 0; i < n; i++) if (patched[i] !== bytes[i]) diff++;
    assert.ok(diff <= 8, `${diff} bytes changed`);
  }
});

test('heartbeats Skiff sends and answers decode in sofa-bolt-node as heartbeat and heartbeat_ack', () => {
  const h = harness();
  for (const proto of [XP_BOLT_V1, XP_BOLT_V2]) {
    const n = encodeHeartbeat(h.wasm, proto, 12345, h.out, h.outCap);
    assert.ok(n > 0);
    const hb = h.bytesAt(h.out, n);
    const d = bolt.decode(hb, {});
    assert.equal(d.packetType, 'heartbeat');
    assert.equal(d.packetId, 12345);
  }
  for (const opts of [V1, V2CRC]) {
    const proto = opts.protocolType === 'bolt' ? XP_BOLT_V1 : XP_BOLT_V2;
    const hb = bolt.heartbeatEncode(99, { timeout: 1000 }, opts);
    assert.equal(h.decode(proto, hb).n, hb.length);
    const n = encodeHeartbeatReply(h.wasm, proto, h.rec, h.out, h.outCap);
    const ack = h.bytesAt(h.out, n);
    const d = bolt.decode(ack, {});
    assert.equal(d.packetType, 'heartbeat_ack');
    assert.equal(d.packetId, 99);
    assert.equal(d.options.crcEnable ?? false, opts === V2CRC);
    assert.deepEqual(ack, bolt.heartbeatAckEncode(99, opts), 'byte-identical to sofa-bolt-node\'s ack');
  }
  assert.equal(encodeHeartbeat(h.wasm, XP_BOLT_V1, 1, h.out, 10), L.XPE_OUT_TOO_SMALL);
});

test('error replies are responses with the ResponseStatus that sofa-bolt-node reports as errors', () => {
  const h = harness();
  const msg = Buffer.from('upstream timed out');
  for (const opts of [V1, V2CRC]) {
    const proto = opts.protocolType === 'bolt' ? XP_BOLT_V1 : XP_BOLT_V2;
    const req = bolt.requestEncode(31, request(), opts);
    assert.equal(h.decode(proto, req).n, req.length);
    for (const status of [L.BOLT_STATUS_TIMEOUT, L.BOLT_STATUS_SERVER_THREADPOOL_BUSY, L.BOLT_STATUS_NO_PROCESSOR]) {
      const n = encodeErrorReply(h.wasm, proto, h.rec, status, h.put(msg), msg.length, h.out, h.outCap);
      assert.ok(n > 0);
      const reply = h.bytesAt(h.out, n);
      const d = bolt.decode(reply, {});
      assert.equal(d.packetType, 'response');
      assert.equal(d.packetId, 31);
      assert.ok(d.data.error instanceof Error);
      // and Skiff decodes it back with the status and the message header
      h.wasm.u8.set(reply, h.buf);
      const back = h.decode(proto, reply);
      assert.equal(back.n, reply.length);
      assert.equal(back.frame.status, status);
      assert.equal(back.frame.header('skiff_error'), 'upstream timed out');
    }
  }
});

test('goaway: MOSN\'s command code 100, decoded back as goaway', () => {
  const h = harness();
  for (const proto of [XP_BOLT_V1, XP_BOLT_V2]) {
    const n = encodeGoaway(h.wasm, proto, 0, h.out, h.outCap);
    assert.equal(n, proto === XP_BOLT_V1 ? 22 : 24);
    const bytes = h.bytesAt(h.out, n);
    const at = proto === XP_BOLT_V1 ? 0 : 1;
    assert.equal(bytes[at + 1], L.BOLT_TYPE_REQUEST);
    assert.equal(bytes.readUInt16BE(at + 2), 100);
    const back = h.decode(proto, bytes);
    assert.equal(back.n, n);
    assert.equal(back.frame.kind, 'goaway');
    assert.equal(back.frame.timeoutMs, 0);
  }
  assert.equal(boltSpec.goaway && boltSpec.goawayOptIn, true);
});

test('the captured Java frames from sofa-bolt-node\'s tests decode (v2 with CRC, v1 server exception)', async () => {
  const { readFileSync } = await import('node:fs');
  const dir = new URL('../../../../../../shared/conformance/sofa-bolt/upstream-test-vectors/', import.meta.url);
  const h = harness();
  const v2 = readFileSync(new URL('decoder-L9.bin', dir));
  const a = h.decode(XP_BOLT_V2, v2);
  assert.equal(a.n, v2.length);
  assert.equal(a.frame.kind, 'response');
  assert.equal(a.frame.requestId, 1);
  assert.ok(a.frame.flags & L.XFF_CRC);
  const v1 = readFileSync(new URL('decoder-L53.bin', dir));
  const b = h.decode(XP_BOLT_V1, v1);
  assert.equal(b.n, v1.length);
  assert.equal(b.frame.status, L.BOLT_STATUS_SERVER_EXCEPTION);
  assert.equal(b.frame.className, 'com.alipay.remoting.rpc.exception.RpcServerException');
});

test('a protobuf request from sofa-bolt-node: routing keys and request props come from the header map', () => {
  const h = harness();
  const protobuf = require('protobufjs') as { parse(text: string): { root: object } };
  const { root } = protobuf.parse('syntax = "proto3"; package skiff.test; service Echo { rpc say (SayRequest) returns (SayReply) {} } '
    + 'message SayRequest { string name = 1; } message SayReply { string text = 1; }');
  const bytes = bolt.requestEncode(9, {
    serverSignature: 'skiff.test.Echo:1.0', methodName: 'say', args: [{ name: 'ada' }], timeout: 500,
    requestProps: { tenant: 'blue', rpc_trace_context: { sofaTraceId: 'abc' } },
  }, { protocolType: 'bolt', codecType: 'protobuf', proto: root });
  const { n, frame } = h.decode(XP_BOLT_V1, bytes);
  assert.equal(n, bytes.length);
  assert.equal(frame.codec, L.BOLT_CODEC_PROTOBUF);
  assert.equal(frame.service, 'skiff.test.Echo:1.0');
  assert.equal(frame.serviceVersion, '1.0');
  assert.equal(frame.method, 'say');
  assert.equal(frame.flags & L.XFF_PEEKED, 0, 'from the header, not the content');
  assert.equal(frame.timeoutMs, 500);
  assert.equal(frame.header('tenant'), 'blue');
  assert.equal(frame.header('rpc_trace_context.sofaTraceId'), 'abc');
  assert.equal(frame.header('sofa_head_target_app'), '');
});

test('more header entries than the record holds: the first ones are recorded, the frame still decodes', () => {
  const h = harness();
  const props: Record<string, string> = {};
  for (let i = 0; i < 100; i++) props[`k${i}`] = `v${i}`;
  props.sofa_head_method_name = 'late';  // past the record's capacity, still picked
  const map = SimpleMapSerializer.encode(props);
  const fixed = Buffer.alloc(22);
  fixed.writeUInt8(1, 0); fixed.writeUInt8(1, 1); fixed.writeUInt16BE(1, 2); fixed.writeUInt8(1, 4);
  fixed.writeUInt32BE(5, 5); fixed.writeUInt8(11, 9); fixed.writeUInt32BE(100, 10);
  fixed.writeUInt16BE(0, 14); fixed.writeUInt16BE(map.length, 16); fixed.writeUInt32BE(0, 18);
  const bytes = Buffer.concat([fixed, map]);
  const { n, frame } = h.decode(XP_BOLT_V1, bytes);
  assert.equal(n, bytes.length);
  assert.ok(frame.flags & L.XFF_HEADERS_TRUNCATED);
  assert.equal(frame.headerCount, L.XF_MAX_HEADERS);
  assert.equal(frame.method, 'late');
  const all = frame.headers();
  assert.equal(all.length, 101, 'the JS view reads the whole map from the frame bytes');
  assert.equal(frame.header('k99'), 'v99');
});

test('a reply context (six numbers) replaces the request record when replying later', () => {
  const h = harness();
  const req = bolt.requestEncode(77, request(), V2CRC);
  assert.equal(h.decode(XP_BOLT_V2, req).n, req.length);
  const ctx = replyContext(h.wasm, h.rec);
  const msg = Buffer.from('late');
  const direct = h.bytesAt(h.out, encodeErrorReply(h.wasm, XP_BOLT_V2, h.rec, L.BOLT_STATUS_TIMEOUT, h.put(msg), msg.length, h.out, h.outCap));
  // the record is reused for other frames meanwhile
  h.decode(XP_BOLT_V1, bolt.heartbeatEncode(1, { timeout: 1 }, V1));
  h.wasm.u8.fill(0xee, h.rec, h.rec + L.XF_RECORD_SIZE);
  writeReplyContext(h.wasm, ctx, h.rec);
  const later = h.bytesAt(h.out, encodeErrorReply(h.wasm, ctx.proto, h.rec, L.BOLT_STATUS_TIMEOUT, h.put(msg), msg.length, h.out, h.outCap));
  assert.deepEqual(later, direct);
  assert.equal(bolt.decode(later, {}).packetId, 77);
});
