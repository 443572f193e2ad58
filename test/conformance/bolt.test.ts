// ../shared/conformance/sofa-bolt: every frame decodes to its golden fields (sofa-bolt-node's own decode of
// the same bytes) and, with the request id patched to itself, is re-sent byte-identical. The captured Java
// frames decode; the header map and CRC32 vectors give the values sofa-bolt-node's tests expect.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as L from '../../src/wasm/layout.js';
import { XP_BOLT_V1, XP_BOLT_V2, detectProtocol, setRequestId, crc32 } from '../../src/codec/xprotocol/index.js';
import { harness } from '../unit/codec/xprotocol/harness.js';
import { readGoldenFrames } from '../helpers/golden_frames.js';

const root = fileURLToPath(new URL('../../../../shared/conformance/sofa-bolt/', import.meta.url));

interface Golden {
  hex: string;
  length: number;
  decoded: {
    packetId: number;
    packetType: 'request' | 'response' | 'heartbeat' | 'heartbeat_ack';
    className?: string;
    data?: { methodName?: string; serverSignature?: string };
    options: { protocolType: string; codecType: string; timeout?: number; boltVersion?: number; crcEnable?: boolean };
  };
}

const KIND: Record<string, string> = { request: 'request', response: 'response', heartbeat: 'heartbeat', heartbeat_ack: 'heartbeat_reply' };

test('every generated Bolt frame decodes to its golden fields and re-sends byte-identical', () => {
  const h = harness();
  let checked = 0;
  for (const { name, golden: g, bytes } of readGoldenFrames<Golden>(root)) {
    const len = h.load(bytes);
    const proto = detectProtocol(h.wasm, h.buf, len);
    assert.equal(proto, g.decoded.options.protocolType === 'bolt2' ? XP_BOLT_V2 : XP_BOLT_V1, name);
    const { n, frame } = h.decode(proto, bytes);
    assert.equal(n, g.length, name);
    const d = g.decoded;
    // sofa-bolt-node reports a oneway request as 'request'; the frame's type byte says oneway
    const kind = name.includes('oneway') ? 'oneway' : KIND[d.packetType];
    assert.equal(frame.kind, kind, name);
    assert.equal(frame.requestId, d.packetId, name);
    assert.equal(frame.className, d.className ?? '', name);
    assert.equal(frame.codec, d.options.codecType === 'hessian2' ? L.BOLT_CODEC_HESSIAN2 : L.BOLT_CODEC_PROTOBUF, name);
    assert.equal(frame.timeoutMs, d.options.timeout ?? 0, name);
    if (proto === XP_BOLT_V2) {
      assert.equal(frame.version, d.options.boltVersion, name);
      assert.equal(Boolean(frame.flags & L.XFF_CRC), Boolean(d.options.crcEnable), name);
    }
    if (d.data?.serverSignature) assert.equal(frame.service, d.data.serverSignature, name);
    if (d.data?.methodName) assert.equal(frame.method, d.data.methodName, name);
    setRequestId(h.wasm, proto, h.buf, h.rec, frame.requestId);
    assert.deepEqual(h.bytesAt(h.buf, n), bytes, `${name} re-sent byte-identical`);
    checked++;
  }
  assert.equal(checked, 9);
});

test('the captured Java SOFARPC responses decode and re-send byte-identical', () => {
  const h = harness();
  const cases: Array<[string, number, number, string]> = [
    ['decoder-L9.bin', XP_BOLT_V2, L.BOLT_STATUS_SUCCESS, 'com.alipay.sofa.rpc.core.response.SofaResponse'],
    ['decoder-L53.bin', XP_BOLT_V1, L.BOLT_STATUS_SERVER_EXCEPTION, 'com.alipay.remoting.rpc.exception.RpcServerException'],
  ];
  for (const [file, proto, status, cls] of cases) {
    const bytes = readFileSync(`${root}upstream-test-vectors/${file}`);
    const { n, frame } = h.decode(proto, bytes);
    assert.equal(n, bytes.length, file);
    assert.equal(frame.kind, 'response');
    assert.equal(frame.requestId, 1);
    assert.equal(frame.status, status);
    assert.equal(frame.className, cls);
    setRequestId(h.wasm, proto, h.buf, h.rec, 1);
    assert.deepEqual(h.bytesAt(h.buf, n), bytes, file);
  }
});

test('the SimpleMapSerializer vector decodes as a request header map', () => {
  const h = harness();
  const map = readFileSync(`${root}upstream-test-vectors/simple_map_serializer-L39.bin`);
  const fixed = Buffer.alloc(22);
  fixed.writeUInt8(1, 0); fixed.writeUInt8(1, 1); fixed.writeUInt16BE(1, 2); fixed.writeUInt8(1, 4);
  fixed.writeUInt32BE(1, 5); fixed.writeUInt8(11, 9); fixed.writeUInt32BE(3000, 10);
  fixed.writeUInt16BE(0, 14); fixed.writeUInt16BE(map.length, 16); fixed.writeUInt32BE(0, 18);
  const bytes = Buffer.concat([fixed, map]);
  const { n, frame } = h.decode(XP_BOLT_V1, bytes);
  assert.equal(n, bytes.length);
  assert.equal(frame.service, 'com.alipay.sofa.rpc.protobuf.ProtoService:1.0');
  assert.equal(frame.method, frame.header('sofa_head_method_name'));
  assert.ok(frame.method.length > 0);
  assert.ok(frame.headerCount >= 3);
});

test('CRC32 matches sofa-bolt-node\'s expected values', () => {
  const h = harness();
  const input = readFileSync(`${root}upstream-test-vectors/utils-L21.bin`);
  h.load(input);
  assert.equal(crc32(h.wasm, h.buf, input.length), 903305630);
  h.load(Buffer.from('hello'));
  assert.equal(crc32(h.wasm, h.buf, 5), 907060870);
});
