/**
 * Bolt v1/v2 decode and encode: Skiff's wasm codec (assembly/xprotocol/bolt) against sofa-bolt-node's
 * protocol codec on the same frames.
 *
 * What each side does (the JS codec does more, by design):
 *  - skiff-wasm decode: copies the frame into wasm memory (as a socket chunk would be), checks the framing and
 *    the v2 CRC, fills the frame record: id, kind, timeout, status, class/header/content spans, the header map
 *    entries, service/version, and the method (header, or peeked from the hessian SofaRequest).
 *  - skiff-wasm in place: the same decode of bytes already in wasm memory (a chunk holding many frames).
 *  - skiff-wasm decode + strings: the same, then reads service and method as JS strings (what routing reads).
 *  - sofa-bolt-node decode: protocol.decode, which also deserializes the whole hessian body into JS objects.
 * Encoders: Skiff writes heartbeats and error replies from the record; sofa-bolt-node builds them from objects.
 *
 * Run: node dist/bench/micro/bolt.js   (after npm run build)
 */
import { createRequire } from 'node:module';
import { bestOfRounds } from './lib/rounds.js';
import { xframeBench } from './lib/xframes.js';
import * as L from '../../src/wasm/layout.js';
import {
  decodeFrame, encodeHeartbeat, encodeErrorReply, encodeHeartbeatReply,
} from '../../src/codec/xprotocol/index.js';

const require = createRequire(import.meta.url);
const bolt = require('sofa-bolt-node/lib/protocol') as any;

const V1 = { protocolType: 'bolt', codecType: 'hessian2' };
const V2CRC = { protocolType: 'bolt2', boltVersion: 2, crcEnable: true, codecType: 'hessian2' };
const req = {
  serverSignature: 'com.alipay.test.TestService:1.0', methodName: 'plus', timeout: 3000,
  args: [{ $class: 'int', $: 1 }, { $class: 'int', $: 2 }], requestProps: { foo: 'bar' },
};
const FRAMES: Record<string, [Buffer, number]> = {
  'v1 request': [bolt.requestEncode(1, req, V1), L.XP_BOLT_V1],
  'v2 crc request': [bolt.requestEncode(2, req, V2CRC), L.XP_BOLT_V2],
  'v1 response': [bolt.responseEncode(3, { isError: false, appResponse: { $class: 'java.lang.Integer', $: 3 } }, V1), L.XP_BOLT_V1],
  'v1 heartbeat': [bolt.heartbeatEncode(4, { timeout: 3000 }, V1), L.XP_BOLT_V1],
};
const BATCH = 200;

const { wasm, buf, rec, out, msg, msgBytes, view } = xframeBench();

function skiffDecode(frame: Buffer, proto: number): void {
  wasm.u8.set(frame, buf);
  if (decodeFrame(wasm, proto, buf, frame.length, rec) !== frame.length) throw new Error('skiff: decode failed');
}
let sink = 0;
function skiffDecodeStrings(frame: Buffer, proto: number): void {
  skiffDecode(frame, proto);
  sink += view.service.length + view.method.length;
}
function jsDecode(frame: Buffer): void {
  const d = bolt.decode(frame, {});
  sink += d.packetId;
}

const tasks: [string, () => void][] = [];
for (const [name, [frame, proto]] of Object.entries(FRAMES)) {
  skiffDecode(frame, proto); jsDecode(frame);
  tasks.push([`decode ${name} ${frame.length}B | skiff-wasm`, () => { for (let i = 0; i < BATCH; i++) skiffDecode(frame, proto); }]);
  tasks.push([`decode ${name} ${frame.length}B | skiff-wasm + strings`, () => { for (let i = 0; i < BATCH; i++) skiffDecodeStrings(frame, proto); }]);
  tasks.push([`decode ${name} ${frame.length}B | skiff-wasm in place`, () => {
    wasm.u8.set(frame, buf); // once: the frame already sits in a slab with the rest of its socket chunk
    for (let i = 0; i < BATCH; i++) sink += decodeFrame(wasm, proto, buf, frame.length, rec);
  }]);
  tasks.push([`decode ${name} ${frame.length}B | sofa-bolt-node`, () => { for (let i = 0; i < BATCH; i++) jsDecode(frame); }]);
}
tasks.push(['encode heartbeat | skiff-wasm', () => { for (let i = 0; i < BATCH; i++) sink += Buffer.from(wasm.u8.subarray(out, out + encodeHeartbeat(wasm, L.XP_BOLT_V1, i, out, 4096))).length; }]);
tasks.push(['encode heartbeat | sofa-bolt-node', () => { for (let i = 0; i < BATCH; i++) sink += bolt.heartbeatEncode(i, { timeout: 1000 }, V1).length; }]);
const [reqFrame] = FRAMES['v1 request'];
skiffDecode(reqFrame, L.XP_BOLT_V1);
tasks.push(['encode error reply | skiff-wasm', () => {
  for (let i = 0; i < BATCH; i++) sink += Buffer.from(wasm.u8.subarray(out, out + encodeErrorReply(wasm, L.XP_BOLT_V1, rec, L.BOLT_STATUS_TIMEOUT, msg, msgBytes.length, out, 4096))).length;
}]);
tasks.push(['encode error reply | sofa-bolt-node', () => { for (let i = 0; i < BATCH; i++) sink += bolt.responseEncode(1, { isError: true, errorMsg: 'upstream timed out' }, V1).length; }]);
tasks.push(['encode heartbeat reply | skiff-wasm', () => {
  for (let i = 0; i < BATCH; i++) sink += Buffer.from(wasm.u8.subarray(out, out + encodeHeartbeatReply(wasm, L.XP_BOLT_V1, rec, out, 4096))).length;
}]);
tasks.push(['encode heartbeat reply | sofa-bolt-node', () => { for (let i = 0; i < BATCH; i++) sink += bolt.heartbeatAckEncode(1, V1).length; }]);

// The machine is shared: a task's figure is its best of ROUNDS rounds (bench/micro/lib/rounds.ts).
const ROUNDS = 5;
const best = await bestOfRounds('bolt', tasks, ROUNDS, BATCH);
console.log(`Bolt, best of ${ROUNDS} rounds, ${BATCH} operations per sample:`);
console.table(tasks.map(([name]) => ({ task: name, 'ns/op': Math.round(best.get(name)!), 'ops/s': Math.round(1e9 / best.get(name)!) })));
const ratios: Record<string, string>[] = [];
for (const name of new Set(tasks.map(([n]) => n.split(' | ')[0]))) {
  const skiff = best.get(`${name} | skiff-wasm`)!;
  const js = best.get(`${name} | sofa-bolt-node`)!;
  const row: Record<string, string> = { operation: name, 'sofa-bolt-node / skiff-wasm': (js / skiff).toFixed(1) + 'x' };
  const withStrings = best.get(`${name} | skiff-wasm + strings`);
  if (withStrings) row['sofa-bolt-node / (skiff + strings)'] = (js / withStrings).toFixed(1) + 'x';
  const inPlace = best.get(`${name} | skiff-wasm in place`);
  if (inPlace) row['sofa-bolt-node / (skiff in place)'] = (js / inPlace).toFixed(1) + 'x';
  ratios.push(row);
}
console.log('Speed-up of Skiff (target: decode >= 5x the JS codec):');
console.table(ratios);
if (sink === -1) console.log(sink);
