/**
 * Dubbo decode and encode: Skiff's wasm codec (assembly/xprotocol/dubbo) against dubbo-remoting (the codec
 * sofa-rpc-node's Dubbo server uses: requests and responses) and dubbo2.js (a client: responses only).
 *
 * What each side does (the JS codecs do more, by design):
 *  - skiff-wasm decode: copies the frame into wasm memory, reads the 16-byte header, and for a hessian2 request
 *    peeks dubbo version, path, version and method, walks the arguments without materializing them, and reads
 *    the attachments map into header entries (group, timeout, ...); for a response, the response type.
 *  - skiff-wasm in place: the same decode of bytes already in wasm memory (a chunk holding many frames).
 *  - skiff-wasm decode + strings: the same, then reads service, method and group as JS strings.
 *  - dubbo-remoting / dubbo2.js decode: deserialize the whole body (arguments, values) into JS objects.
 * Encoders: heartbeats and error replies from the record vs. the libraries' encoders.
 *
 * Run: node dist/bench/micro/dubbo.js   (after npm run build)
 */
import { createRequire } from 'node:module';
import { bestOfRounds } from './lib/rounds.js';
import { xframeBench } from './lib/xframes.js';
import * as L from '../../src/wasm/layout.js';
import { decodeFrame, encodeHeartbeat, encodeErrorReply } from '../../src/codec/xprotocol/index.js';

const require = createRequire(import.meta.url);
const DubboEncoder = (require('dubbo2.js/es6/encode.js') as any).default;
const dubbo2Decode = (require('dubbo2.js/es6/decode.js') as any).decode;
const HeartBeat = (require('dubbo2.js/es6/heartbeat.js') as any).default;
const remoting = require('dubbo-remoting/lib/protocol') as any;

const request = (args: unknown[]): Buffer => new DubboEncoder({
  requestId: 1, dubboVersion: '2.0.2', dubboInterface: 'org.apache.dubbo.demo.DemoService', path: 'org.apache.dubbo.demo.DemoService',
  version: '1.0.0', methodName: 'sayHello', methodArgs: args, group: 'g1', timeout: 3000, application: { name: 'dubbo-js' },
}).encode();
const user = { $class: 'org.demo.User', $: { name: { $class: 'java.lang.String', $: 'ada' }, age: { $class: 'int', $: 37 }, tags: { $class: 'java.util.List', $: [{ $class: 'java.lang.String', $: 'a' }, { $class: 'java.lang.String', $: 'b' }] } } };
const FRAMES: Record<string, [Buffer, boolean]> = {
  'request string arg': [request([{ $class: 'java.lang.String', $: 'world' }]), false],
  'request 3 objects': [request([user, user, user]), false],
  'response string': [Buffer.from('dabb021400000000000000010000000d910b48656c6c6f20776f726c64', 'hex'), true],
};
const BATCH = 200;

const { wasm, buf, rec, out, msg, msgBytes, view } = xframeBench();
let sink = 0;

function skiffDecode(frame: Buffer): void {
  wasm.u8.set(frame, buf);
  if (decodeFrame(wasm, L.XP_DUBBO, buf, frame.length, rec) !== frame.length) throw new Error('skiff: decode failed');
}
function skiffDecodeStrings(frame: Buffer): void {
  skiffDecode(frame);
  sink += view.service.length + view.method.length + view.group.length;
}

const tasks: [string, () => void][] = [];
for (const [name, [frame, isResponse]] of Object.entries(FRAMES)) {
  skiffDecode(frame);
  remoting.decode(frame, {});
  tasks.push([`decode ${name} ${frame.length}B | skiff-wasm`, () => { for (let i = 0; i < BATCH; i++) skiffDecode(frame); }]);
  tasks.push([`decode ${name} ${frame.length}B | skiff-wasm + strings`, () => { for (let i = 0; i < BATCH; i++) skiffDecodeStrings(frame); }]);
  tasks.push([`decode ${name} ${frame.length}B | skiff-wasm in place`, () => {
    wasm.u8.set(frame, buf); // once: the frame already sits in a slab with the rest of its socket chunk
    for (let i = 0; i < BATCH; i++) sink += decodeFrame(wasm, L.XP_DUBBO, buf, frame.length, rec);
  }]);
  tasks.push([`decode ${name} ${frame.length}B | dubbo-remoting`, () => { for (let i = 0; i < BATCH; i++) sink += remoting.decode(frame, {}).meta.size; }]);
  if (isResponse) {
    dubbo2Decode(frame);
    tasks.push([`decode ${name} ${frame.length}B | dubbo2.js`, () => { for (let i = 0; i < BATCH; i++) sink += dubbo2Decode(frame).requestId; }]);
  }
}
tasks.push(['encode heartbeat | skiff-wasm', () => { for (let i = 0; i < BATCH; i++) sink += Buffer.from(wasm.u8.subarray(out, out + encodeHeartbeat(wasm, L.XP_DUBBO, i, out, 4096))).length; }]);
tasks.push(['encode heartbeat | dubbo2.js', () => { for (let i = 0; i < BATCH; i++) sink += HeartBeat.encode().length; }]);
tasks.push(['encode heartbeat | dubbo-remoting', () => { for (let i = 0; i < BATCH; i++) sink += remoting.heartbeatEncode(i, null, {}).length; }]);
skiffDecode(FRAMES['request string arg'][0]);
tasks.push(['encode error reply | skiff-wasm', () => {
  for (let i = 0; i < BATCH; i++) sink += Buffer.from(wasm.u8.subarray(out, out + encodeErrorReply(wasm, L.XP_DUBBO, rec, L.DUBBO_STATUS_SERVER_TIMEOUT, msg, msgBytes.length, out, 4096))).length;
}]);
tasks.push(['encode error reply | dubbo-remoting', () => { for (let i = 0; i < BATCH; i++) sink += remoting.responseEncode(1, { isError: true, errorMsg: 'upstream timed out' }, {}).length; }]);

// The machine is shared: a task's figure is its best of ROUNDS rounds (bench/micro/lib/rounds.ts).
const ROUNDS = 5;
const best = await bestOfRounds('dubbo', tasks, ROUNDS, BATCH);
console.log(`Dubbo, best of ${ROUNDS} rounds, ${BATCH} operations per sample:`);
console.table(tasks.map(([name]) => ({ task: name, 'ns/op': Math.round(best.get(name)!), 'ops/s': Math.round(1e9 / best.get(name)!) })));
const ratios: Record<string, string>[] = [];
for (const name of new Set(tasks.map(([n]) => n.split(' | ')[0]))) {
  const skiff = best.get(`${name} | skiff-wasm`)!;
  const row: Record<string, string> = { operation: name };
  for (const who of ['dubbo-remoting', 'dubbo2.js']) {
    const js = best.get(`${name} | ${who}`);
    if (js) row[`${who} / skiff-wasm`] = (js / skiff).toFixed(1) + 'x';
  }
  const withStrings = best.get(`${name} | skiff-wasm + strings`);
  const rem = best.get(`${name} | dubbo-remoting`);
  if (withStrings && rem) row['dubbo-remoting / (skiff + strings)'] = (rem / withStrings).toFixed(1) + 'x';
  const inPlace = best.get(`${name} | skiff-wasm in place`);
  if (inPlace && rem) row['dubbo-remoting / (skiff in place)'] = (rem / inPlace).toFixed(1) + 'x';
  ratios.push(row);
}
console.log('Speed-up of Skiff (target: decode >= 5x the JS codecs):');
console.table(ratios);
if (sink === -1) console.log(sink);
