// Bounded fuzzing with a fixed seed: 20 000 mutated frames per codec never trap, always return a defined
// result, and every accepted frame satisfies the record invariants (every pointer inside the frame), survives
// an id patch, and can be answered. Half of the mutants get their length fields (and Bolt v2 CRC) repaired so
// the mutations reach the header map and the Hessian2 walker instead of stopping at the framing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as L from '../../../../src/wasm/layout.js';
import {
  XP_BOLT_V1, XP_BOLT_V2, XP_DUBBO, XP_NEED_MORE, decodeFrame, neededBytes, setRequestId,
  encodeErrorReply, encodeHeartbeatReply,
} from '../../../../src/codec/xprotocol/index.js';
import { mutateBytes, seededRandom } from '../../../helpers/random.js';
import { harness, require } from './harness.js';

const ITERATIONS = 20_000;
const TIME_BUDGET_MS = 60_000;
const MAX_FRAME = 1 << 20;
const INTERESTING = [0, 1, 2, 0x0a, 0x1f, 0x20, 0x30, 0x43, 0x48, 0x4d, 0x4e, 0x4f, 0x51, 0x52, 0x53, 0x55, 0x56,
  0x57, 0x58, 0x5a, 0x60, 0x6f, 0x70, 0x78, 0x7f, 0x80, 0x90, 0xbf, 0xc8, 0xd4, 0xd7, 0xe0, 0xf0, 0xff];
const ERRORS = new Set([L.XPE_BAD_MAGIC, L.XPE_BAD_VERSION, L.XPE_BAD_KIND, L.XPE_TOO_LARGE, L.XPE_MALFORMED,
  L.XPE_CRC, L.XPE_HEADERS, L.XPE_HESSIAN]);
const PTR_FIELDS: Array<[number, number]> = [
  [L.XF_CLASS_PTR, L.XF_CLASS_LEN], [L.XF_SERVICE_PTR, L.XF_SERVICE_LEN], [L.XF_METHOD_PTR, L.XF_METHOD_LEN],
  [L.XF_SVC_VERSION_PTR, L.XF_SVC_VERSION_LEN], [L.XF_GROUP_PTR, L.XF_GROUP_LEN],
  [L.XF_RPC_VERSION_PTR, L.XF_RPC_VERSION_LEN], [L.XF_HEADER_PTR, L.XF_HEADER_LEN], [L.XF_PAYLOAD_PTR, L.XF_PAYLOAD_LEN],
  [L.XF_ARGS_PTR, L.XF_ARGS_LEN],
];

const crc32 = (require('sofa-bolt-node/lib/utils') as { crc32(b: Buffer): number }).crc32;

function boltSeeds(): Buffer[] {
  const bolt = require('sofa-bolt-node/lib/protocol') as any;
  const req = {
    serverSignature: 'com.a.S:1.0', methodName: 'm', timeout: 100, requestProps: { a: 'b', c: 'd' },
    args: [{ $class: 'java.util.Map', $: { k: { $class: 'java.lang.String', $: 'v' } } }, { $class: 'long', $: 5 }],
  };
  const out: Buffer[] = [];
  for (const o of [{ protocolType: 'bolt', codecType: 'hessian2' }, { protocolType: 'bolt2', boltVersion: 2, crcEnable: true, codecType: 'hessian2' }]) {
    out.push(bolt.requestEncode(1, req, o), bolt.responseEncode(2, { isError: false, appResponse: { $class: 'java.lang.String', $: 'x' } }, o),
      bolt.responseEncode(3, { isError: true, errorMsg: 'e' }, o), bolt.heartbeatEncode(4, { timeout: 1 }, o), bolt.heartbeatAckEncode(5, o));
  }
  return out;
}

function dubboSeeds(): Buffer[] {
  const DubboEncoder = (require('dubbo2.js/es6/encode.js') as any).default;
  const remoting = require('dubbo-remoting/lib/protocol') as any;
  const user = { $class: 'org.U', $: { n: { $class: 'java.lang.String', $: 'a' }, l: { $class: 'java.util.List', $: [{ $class: 'int', $: 1 }] } } };
  const enc = (args: unknown[]) => new DubboEncoder({
    requestId: 1, dubboVersion: '2.0.2', dubboInterface: 'a.B', path: 'a.B', version: '1', methodName: 'm',
    methodArgs: args, group: 'g', timeout: 10, application: { name: 'x' }, attachments: { t: 'u' },
  }).encode();
  return [
    enc([user, user, { $class: 'java.lang.String', $: 'é'.repeat(40) }]),
    enc([{ $class: 'byte[]', $: Buffer.alloc(20, 1) }, { $class: 'double', $: 1.5 }, { $class: 'java.util.Date', $: new Date(0) }]),
    remoting.requestEncode(2, { serverSignature: 'c.D:2', methodName: 'n', args: [{ $class: 'int', $: 3 }], requestProps: { p: 'q' } }, {}),
    remoting.responseEncode(3, { isError: false, appResponse: user }, {}),
    Buffer.from('dabb021400000000000000070000001094934805647562626f05322e302e325a', 'hex'),
    Buffer.from('dabbe2000000000000000000000000014e', 'hex'),
  ];
}

/** Makes the framing consistent again so the mutation is judged by the layers behind it. */
function repair(proto: number, b: Buffer): Buffer {
  if (proto === XP_DUBBO) {
    if (b.length >= 16) b.writeUInt32BE(b.length - 16, 12);
    return b;
  }
  const v2 = b[0] === 2;
  const at = v2 ? 1 : 0;
  if (b.length < at + 4) return b;
  const type = b[at + 1];
  const hdr = (type === 0 ? 20 : 22) + (v2 ? 2 : 0);
  if (b.length < hdr) return b;
  const crc = v2 && b[1] > 1 && (b[at + 10] & 1) === 1 ? 4 : 0;
  const lensAt = at + 10 + (v2 ? 1 : 0) + (type === 0 ? 2 : 4);
  const content = b.length - hdr - b.readUInt16BE(lensAt) - b.readUInt16BE(lensAt + 2) - crc;
  if (content < 0) return b;
  b.writeUInt32BE(content, lensAt + 4);
  if (crc) b.writeInt32BE(crc32(b.subarray(0, b.length - 4)), b.length - 4);
  return b;
}

function fuzz(protoOf: (b: Buffer) => number, seeds: Buffer[], seed: number): { accepted: number; errors: number; needMore: number } {
  const h = harness();
  const rnd = seededRandom(seed);
  const started = Date.now();
  let accepted = 0, errors = 0, needMore = 0;
  for (let i = 0; i < ITERATIONS && Date.now() - started < TIME_BUDGET_MS; i++) {
    const base = seeds[Math.floor(rnd() * seeds.length)];
    const proto = protoOf(base);
    let b = mutateBytes(base, rnd, { mutations: ['set', 'set', 'insert', 'delete', 'truncate', 'duplicate'], interesting: INTERESTING });
    if (rnd() < 0.5) b = repair(proto, Buffer.from(b));
    const len = h.load(b);
    const n = decodeFrame(h.wasm, proto, h.buf, len, h.rec, MAX_FRAME);
    if (n === XP_NEED_MORE) {
      needMore++;
      const need = neededBytes(h.wasm, h.rec);
      assert.ok(need === 0 || (need > len && need <= MAX_FRAME), `need ${need} of ${len} (case ${i})`);
      continue;
    }
    if (n < 0) {
      errors++;
      assert.ok(ERRORS.has(n), `unknown result ${n} (case ${i})`);
      continue;
    }
    accepted++;
    const v = h.wasm.view;
    assert.ok(n <= len, `frame ${n} longer than ${len}`);
    assert.equal(v.getInt32(h.rec + L.XF_FRAME_LEN, true), n);
    const kind = v.getInt32(h.rec + L.XF_KIND, true);
    assert.ok(kind >= L.XK_REQUEST && kind <= L.XK_EVENT, `kind ${kind}`);
    const inside = (ptr: number, plen: number, what: string) => {
      if (plen === 0) return;
      assert.ok(ptr >= h.buf && ptr + plen <= h.buf + n, `${what} [${ptr - h.buf}, +${plen}) outside the frame of ${n} (case ${i})`);
    };
    for (const [p, l] of PTR_FIELDS) inside(v.getUint32(h.rec + p, true), v.getUint32(h.rec + l, true), `field ${p}`);
    const count = v.getInt32(h.rec + L.XF_HEADER_COUNT, true);
    assert.ok(count >= 0 && count <= L.XF_MAX_HEADERS);
    for (let e = 0; e < count; e++) {
      const at = h.rec + L.XF_HEADERS + e * L.HEADER_ENTRY_SIZE;
      inside(v.getUint32(at + L.HDR_NAME_PTR, true), v.getUint16(at + L.HDR_NAME_LEN, true), 'header name');
      inside(v.getUint32(at + L.HDR_VALUE_PTR, true), v.getUint32(at + L.HDR_VALUE_LEN, true), 'header value');
    }
    const args = Math.min(v.getInt32(h.rec + L.XF_ARGS_COUNT, true), 8);
    for (let a = 0; a < args; a++) {
      const t = h.wasm.exports.xp_read_arg(proto, h.rec, a);
      assert.ok((t >= L.XA_NULL && t <= L.XA_OTHER) || t === L.XPE_HESSIAN, `xp_read_arg ${t}`);
      if (t === L.XA_STRING) inside(v.getUint32(h.rec + L.XF_ARG_PTR, true), v.getUint32(h.rec + L.XF_ARG_LEN, true), 'argument');
    }
    const idAt = v.getInt32(h.rec + L.XF_ID_OFFSET, true);
    assert.ok(idAt + v.getInt32(h.rec + L.XF_ID_WIDTH, true) <= n);
    const frameProto = v.getInt32(h.rec + L.XF_PROTO, true);
    const reply = kind === L.XK_HEARTBEAT
      ? encodeHeartbeatReply(h.wasm, frameProto, h.rec, h.out, h.outCap)
      : encodeErrorReply(h.wasm, frameProto, h.rec, 7, h.buf, Math.min(n, 200), h.out, h.outCap);
    assert.ok(reply > 0, `reply ${reply}`);
    setRequestId(h.wasm, frameProto, h.buf, h.rec, i + 1);
    assert.equal(decodeFrame(h.wasm, proto, h.buf, len, h.rec, MAX_FRAME), n, 'the patched frame decodes again');
  }
  return { accepted, errors, needMore };
}

test('Bolt: 20 000 mutated frames', () => {
  const r = fuzz((b) => (b[0] === 2 ? XP_BOLT_V2 : XP_BOLT_V1), boltSeeds(), 0x5eed_b017);
  assert.ok(r.accepted > 1000 && r.errors > 1000 && r.needMore > 1000, JSON.stringify(r));
});

test('Dubbo: 20 000 mutated frames', () => {
  const r = fuzz(() => XP_DUBBO, dubboSeeds(), 0x5eed_dbb0);
  assert.ok(r.accepted > 1000 && r.errors > 1000 && r.needMore > 1000, JSON.stringify(r));
});
