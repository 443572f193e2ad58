// The recipe's "echo" protocol: it plugs into the same contract (match, decode, id patch, heartbeats, error
// replies) and the registry by name, and survives bounded fuzzing like the built-in codecs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as L from '../../../../src/wasm/layout.js';
import {
  XP_EXAMPLE, XP_NEED_MORE, XP_MATCH, XP_NO, matchFrame, detectProtocol, setRequestId, encodeHeartbeat,
  encodeHeartbeatReply, encodeErrorReply, encodeGoaway, getXProtocol, xProtocolForId,
} from '../../../../src/codec/xprotocol/index.js';
import { exampleSpec, registerExampleProtocol } from '../../../../src/codec/xprotocol/example.js';
import { mutateBytes, seededRandom } from '../../../helpers/random.js';
import { harness } from './harness.js';

/** An echo frame, written here independently of the wasm encoder. */
function echoFrame(kind: number, id: number, service: string, method: string, payload: Buffer, status = 0): Buffer {
  const s = Buffer.from(service), m = Buffer.from(method);
  const head = Buffer.alloc(16);
  head.write('ECHO', 0, 'latin1');
  head[4] = kind; head[5] = status;
  head.writeUInt32BE(id, 6);
  head.writeUInt32BE(s.length + m.length + payload.length, 10);
  head[14] = s.length; head[15] = m.length;
  return Buffer.concat([head, s, m, payload]);
}

test('echo registers by name and protocol id', () => {
  registerExampleProtocol();
  assert.equal(getXProtocol('echo'), exampleSpec);
  assert.equal(xProtocolForId(XP_EXAMPLE), exampleSpec);
  assert.equal(exampleSpec.statusToHttp(exampleSpec.httpToStatus(504)), 504);
});

test('an echo request decodes to its id, service, method and payload; split frames need more', () => {
  const h = harness();
  const bytes = echoFrame(1, 0xabcdef, 'demo.Echo', 'say', Buffer.from('hello'));
  h.load(bytes);
  assert.equal(matchFrame(h.wasm, XP_EXAMPLE, h.buf, 2), XP_NEED_MORE);
  assert.equal(matchFrame(h.wasm, XP_EXAMPLE, h.buf, 4), XP_MATCH);
  assert.equal(detectProtocol(h.wasm, h.buf, bytes.length), XP_EXAMPLE);
  const { n, frame } = h.decode(XP_EXAMPLE, bytes);
  assert.equal(n, bytes.length);
  assert.equal(frame.kind, 'request');
  assert.equal(frame.requestId, 0xabcdef);
  assert.equal(frame.service, 'demo.Echo');
  assert.equal(frame.method, 'say');
  assert.equal(h.bytesAt(frame.payloadPtr, frame.payloadLength).toString(), 'hello');
  for (let cut = 0; cut < bytes.length; cut++) assert.equal(h.decode(XP_EXAMPLE, bytes.subarray(0, cut)).n, XP_NEED_MORE);
  // the last decode left NEED_MORE: the record holds no frame, so the patch writes nothing
  assert.equal(h.wasm.exports.xp_set_request_id(XP_EXAMPLE, h.buf, h.rec, 7), L.XPE_MALFORMED);
  assert.deepEqual(h.bytesAt(h.buf, bytes.length), bytes);
  h.decode(XP_EXAMPLE, bytes);
  // an id offset outside the frame (a record not describing these bytes) is refused as well
  h.wasm.view.setInt32(h.rec + L.XF_ID_OFFSET, 1 << 20, true);
  assert.equal(h.wasm.exports.xp_set_request_id(XP_EXAMPLE, h.buf, h.rec, 7), L.XPE_MALFORMED);
  h.decode(XP_EXAMPLE, bytes);
  setRequestId(h.wasm, XP_EXAMPLE, h.buf, h.rec, 7);
  h.decode(XP_EXAMPLE, h.bytesAt(h.buf, n));
  assert.equal(frame.requestId, 7);
});

test('echo heartbeats, error replies and bad input', () => {
  const h = harness();
  const hb = h.bytesAt(h.out, encodeHeartbeat(h.wasm, XP_EXAMPLE, 5, h.out, h.outCap));
  assert.deepEqual(hb, echoFrame(4, 5, '', '', Buffer.alloc(0)));
  assert.equal(h.decode(XP_EXAMPLE, hb).frame.kind, 'heartbeat');
  const ack = h.bytesAt(h.out, encodeHeartbeatReply(h.wasm, XP_EXAMPLE, h.rec, h.out, h.outCap));
  assert.deepEqual(ack, echoFrame(5, 5, '', '', Buffer.alloc(0)));
  h.decode(XP_EXAMPLE, echoFrame(1, 9, 's', 'm', Buffer.alloc(0)));
  const msg = Buffer.from('no upstream');
  const reply = h.bytesAt(h.out, encodeErrorReply(h.wasm, XP_EXAMPLE, h.rec, exampleSpec.httpToStatus(503), h.put(msg), msg.length, h.out, h.outCap));
  assert.deepEqual(reply, echoFrame(2, 9, '', '', msg, 2));
  assert.equal(encodeGoaway(h.wasm, XP_EXAMPLE, 1, h.out, h.outCap), L.XPE_UNSUPPORTED);
  h.load(Buffer.from('ECHX'));
  assert.equal(matchFrame(h.wasm, XP_EXAMPLE, h.buf, 4), XP_NO);
  assert.equal(h.decode(XP_EXAMPLE, Buffer.from('ECHX0000000000000000')).n, L.XPE_BAD_MAGIC);
  const badKind = echoFrame(9, 1, 's', 'm', Buffer.alloc(0));
  assert.equal(h.decode(XP_EXAMPLE, badKind).n, L.XPE_BAD_KIND);
  const bad = echoFrame(1, 1, 'svc', 'm', Buffer.alloc(0)); bad[14] = 200;
  assert.equal(h.decode(XP_EXAMPLE, bad).n, L.XPE_MALFORMED);
  const huge = echoFrame(1, 1, 's', 'm', Buffer.alloc(0)); huge.writeUInt32BE(0xfffffff0, 10);
  assert.equal(h.decode(XP_EXAMPLE, huge.subarray(0, 16)).n, L.XPE_TOO_LARGE);
});

test('echo: 5 000 mutated frames never trap and keep every span inside the frame', () => {
  const h = harness();
  const rnd = seededRandom(0xec40);
  const seeds = [echoFrame(1, 1, 'demo.Echo', 'say', Buffer.from('payload')), echoFrame(2, 2, '', '', Buffer.from('x'), 3)];
  for (let i = 0; i < 5000; i++) {
    const b = mutateBytes(seeds[i % 2], rnd, { mutations: ['set', 'insert', 'delete', 'truncate'], interesting: [0, 1, 5, 16, 255] });
    const { n, frame } = h.decode(XP_EXAMPLE, b);
    assert.ok(n === XP_NEED_MORE || n < -1 || (n > 0 && n <= b.length), `result ${n}`);
    if (n > 0) {
      for (const [p, l] of [[frame.payloadPtr, frame.payloadLength]]) assert.ok(p >= h.buf && p + l <= h.buf + n);
      assert.ok(frame.service.length + frame.method.length <= n - 16);
    }
  }
});
