// The Hessian2 walker (assembly/xprotocol/hessian.ts) against hessian.js's encoder: random nested values of
// every type, carried as Dubbo arguments, are walked exactly (the attachments after them are found intact).
// A walker that misjudged one value's length would land inside the arguments and fail or misread the map.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as L from '../../../../src/wasm/layout.js';
import { XP_DUBBO, detectProtocol } from '../../../../src/codec/xprotocol/index.js';
import { seededRandom } from '../../../helpers/random.js';
import { harness, require } from './harness.js';

const DubboEncoder = (require('dubbo2.js/es6/encode.js') as { default: new (ctx: object) => { encode(): Buffer } }).default;

const CASES = 500;

function randomValue(rnd: () => number, depth: number, shared: object[]): unknown {
  const pick = Math.floor(rnd() * (depth >= 4 ? 9 : 14));
  const int = (range: number) => Math.floor(rnd() * range * 2) - range;
  switch (pick) {
    case 0: return null;
    case 1: return rnd() < 0.5;
    case 2: return int([16, 2048, 262144, 2 ** 31][Math.floor(rnd() * 4)]);
    case 3: return { $class: 'long', $: int([8, 2048, 262144, 2 ** 40][Math.floor(rnd() * 4)]) };
    case 4: return [0, 1, -2.5, 127, 1e-9, 32767.5, 3.14159, -1e300][Math.floor(rnd() * 8)];
    case 5: {
      const alphabet = ['a', 'Z', '0', ' ', 'é', 'ß', '→', '中', '😀', '\u0000'];
      const n = [0, 1, 31, 32, 100, 1023, 1024, 40000][Math.floor(rnd() * 8)];
      let s = '';
      for (let i = 0; i < n; i++) s += alphabet[Math.floor(rnd() * alphabet.length)];
      return s;
    }
    case 6: return Buffer.alloc([0, 15, 16, 1023, 1024, 70000][Math.floor(rnd() * 6)], 0xab);
    case 7: return new Date(1_600_000_000_000 + int(1e9) * 60_000);
    case 8: return shared.length > 0 ? shared[Math.floor(rnd() * shared.length)] : 'no-ref';
    case 9: case 10: {
      const list: unknown[] = [];
      const n = Math.floor(rnd() * 10);
      for (let i = 0; i < n; i++) list.push(randomValue(rnd, depth + 1, shared));
      return rnd() < 0.5 ? list : { $class: 'java.util.ArrayList', $: list };
    }
    case 11: {
      const map: Record<string, unknown> = {};
      const n = Math.floor(rnd() * 6);
      for (let i = 0; i < n; i++) map[`k${i}`] = randomValue(rnd, depth + 1, shared);
      return rnd() < 0.5 ? map : { $class: 'java.util.HashMap', $: map };
    }
    default: {
      const fields: Record<string, unknown> = {};
      const cls = ['org.demo.A', 'org.demo.B', 'org.demo.C'][Math.floor(rnd() * 3)];
      for (const f of ['x', 'y', 'z']) fields[f] = randomValue(rnd, depth + 1, shared);
      const obj = { $class: cls, $: fields };
      shared.push(obj);
      return obj;
    }
  }
}

test(`${CASES} random Hessian2 values are walked exactly`, () => {
  const h = harness();
  const rnd = seededRandom(0x4e55);
  let bytesWalked = 0;
  for (let i = 0; i < CASES; i++) {
    const shared: object[] = [];
    const args = [];
    const n = 1 + Math.floor(rnd() * 3);
    for (let a = 0; a < n; a++) args.push({ $class: 'org.demo.Bag', $: { v: randomValue(rnd, 0, shared), w: randomValue(rnd, 0, shared) } });
    let frame: Buffer;
    try {
      frame = new DubboEncoder({
        requestId: i + 1, dubboVersion: '2.0.2', dubboInterface: 'a.B', path: 'a.B', version: '1.0', methodName: 'm',
        methodArgs: args, group: 'grp', timeout: 1234, application: { name: 'fuzz' }, attachments: { marker: `m${i}` },
      }).encode();
    } catch (e) {
      assert.fail(`case ${i}: hessian.js could not encode: ${String(e)}`);
    }
    if (frame.length > 250_000) continue; // the harness buffer is one 256 KiB slab
    const { n: got, frame: f } = h.decode(XP_DUBBO, frame);
    assert.equal(got, frame.length, `case ${i}`);
    assert.equal(f.header('marker'), `m${i}`, `case ${i}: attachments found after the arguments`);
    assert.equal(f.group, 'grp');
    assert.equal(f.timeoutMs, 1234);
    assert.ok(f.flags & L.XFF_PEEKED);
    bytesWalked += frame.length;
  }
  assert.ok(bytesWalked > CASES * 100);
  h.load(Buffer.from([0xda, 0xbb]));
  assert.equal(detectProtocol(h.wasm, h.buf, 2), XP_DUBBO);
});
