// Auto-detection from the first bytes of a connection (one listener serving HTTP/1.1, HTTP/2, TLS, Bolt and
// Dubbo): xp_detect names the RPC protocol, says 0 for everything else, and asks for more bytes only while
// an RPC magic is still possible.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  XP_BOLT_V1, XP_BOLT_V2, XP_DUBBO, XP_EXAMPLE, XP_NEED_MORE, XP_NO, detectProtocol,
} from '../../../../src/codec/xprotocol/index.js';
import { harness, hex } from './harness.js';

function detect(bytes: Buffer): number {
  const h = harness();
  return detectProtocol(h.wasm, h.buf, h.load(bytes));
}

test('RPC protocols are told apart by their first bytes', () => {
  assert.equal(detect(hex('0101000101000000010100000bb8')), XP_BOLT_V1);
  assert.equal(detect(hex('020201000101000000060101')), XP_BOLT_V2);
  assert.equal(detect(hex('dabbc200')), XP_DUBBO);
  assert.equal(detect(Buffer.from('ECHO\x01')), XP_EXAMPLE);
});

test('HTTP/1.1, the HTTP/2 preface and a TLS ClientHello are no RPC protocol', () => {
  assert.equal(detect(Buffer.from('GET / HTTP/1.1\r\nHost: a\r\n\r\n')), XP_NO);
  assert.equal(detect(Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n')), XP_NO);
  assert.equal(detect(hex('160301020001')), XP_NO);
  assert.equal(detect(Buffer.from('EXTEND / HTTP/1.1\r\n')), XP_NO, 'an extension method sharing the echo magic\'s first letter');
});

test('too few bytes to decide: need more, but only while some magic still matches', () => {
  assert.equal(detect(Buffer.alloc(0)), XP_NEED_MORE);
  assert.equal(detect(hex('01')), XP_NEED_MORE);
  assert.equal(detect(hex('0202')), XP_NEED_MORE);
  assert.equal(detect(hex('da')), XP_NEED_MORE);
  assert.equal(detect(Buffer.from('EC')), XP_NEED_MORE);
  assert.equal(detect(Buffer.from('G')), XP_NO);
  assert.equal(detect(hex('dac0')), XP_NO);
  assert.equal(detect(hex('0103')), XP_NEED_MORE, 'type checked once the cmdcode is in');
  assert.equal(detect(hex('01030001')), XP_NO, 'unknown Bolt type');
});
