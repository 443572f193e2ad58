/**
 * HPACK decode and encode of the hpack-test-case stories (../shared/conformance/hpack-test-case): Skiff's
 * wasm codec (assembly/codec/hpack) against hpack.js, a pure-JS HPACK from npm.
 *
 * Decode: every story of the nghttp2 directory, each with a fresh context (its dynamic table carried across
 * its cases). Skiff copies each block into wasm memory and decodes it into a head record (names and values
 * stay in wasm memory, read lazily by views); "+ JS strings" also reads every name and value as a JS string,
 * the most a consumer could ask of it; hpack.js returns {name, value} objects.
 * Encode: every raw-data story, a fresh context per story; Skiff writes the fields into wasm memory and
 * encodes in one call; hpack.js's compressor does the same from {name, value} objects.
 *
 * Run: node dist/bench/micro/hpack.js   (after npm run build)
 */
import { createRequire } from 'node:module';
import { Bench } from 'tinybench';
import { mainInstance } from '../../src/wasm/runtime.js';
import { slabPool } from '../../src/wasm/slab.js';
import * as L from '../../src/wasm/layout.js';
import { HpackDecoder, HpackEncoder, hpackRecordBytes } from '../../src/codec/hpack/index.js';
import { readStories } from '../../test/conformance/hpack/stories.js';

const require = createRequire(import.meta.url);
interface HpackJs {
  decompressor: { create(o: { table: { size: number } }): { write(b: Buffer): void; execute(): void; read(): { name: string; value: string } | null } };
  compressor: { create(o: { table: { size: number } }): { write(h: { name: string; value: string }[]): void; read(): Buffer | null } };
}
const hpackjs = require('hpack.js') as HpackJs;

const decodeStories = readStories('nghttp2');
const encodeStories = readStories('raw-data');
if (decodeStories.length === 0 || encodeStories.length === 0) throw new Error('hpack-test-case stories not found');
const blocks = decodeStories.reduce((n, s) => n + s.cases.length, 0);
const encodeBlocks = encodeStories.reduce((n, s) => n + s.cases.length, 0);

const wasm = mainInstance();
const pool = slabPool(wasm);
const MAX_HEADERS = 256;
const block = pool.lease(65536);
const rec = pool.lease(hpackRecordBytes(MAX_HEADERS));
const out = pool.lease(65536);
const mem = Buffer.from(wasm.memory.buffer as ArrayBuffer);

function skiffDecode(strings: boolean): number {
  let fields = 0;
  const v = wasm.view;
  for (const story of decodeStories) {
    const dec = new HpackDecoder(wasm);
    for (const c of story.cases) {
      const wire = c.wire!;
      wasm.u8.set(wire, block);
      if (dec.decode(L.HPACK_MODE_RAW, block, wire.length, rec, MAX_HEADERS, out, 65536, 1 << 20) !== L.HPACK_OK) throw new Error('skiff decode failed');
      const n = v.getInt32(rec + L.HEAD_HEADER_COUNT, true);
      if (strings) {
        for (let i = 0; i < n; i++) {
          const e = rec + L.HEAD_HEADERS + i * L.HEADER_ENTRY_SIZE;
          const np = v.getUint32(e + L.HDR_NAME_PTR, true);
          const vp = v.getUint32(e + L.HDR_VALUE_PTR, true);
          fields += mem.toString('latin1', np, np + v.getUint16(e + L.HDR_NAME_LEN, true)).length > 0 ? 1 : 0;
          mem.toString('latin1', vp, vp + v.getUint32(e + L.HDR_VALUE_LEN, true));
        }
      } else {
        fields += n;
      }
    }
    dec.dispose();
  }
  return fields;
}

function hpackjsDecode(): number {
  let fields = 0;
  for (const story of decodeStories) {
    const d = hpackjs.decompressor.create({ table: { size: 4096 } });
    for (const c of story.cases) {
      d.write(c.wire!);
      d.execute();
      while (d.read() !== null) fields++;
    }
  }
  return fields;
}

function skiffEncode(): number {
  let bytes = 0;
  for (const story of encodeStories) {
    const enc = new HpackEncoder(wasm);
    for (const c of story.cases) {
      const n = enc.encodeLocal(c.headers, out, 65536, { raw: true });
      if (n < 0) throw new Error('skiff encode failed');
      bytes += n;
    }
    enc.dispose();
  }
  return bytes;
}

const encodeInput = encodeStories.map((s) => s.cases.map((c) => c.headers.map(([name, value]) => ({ name, value }))));
function hpackjsEncode(): number {
  let bytes = 0;
  for (const story of encodeInput) {
    const comp = hpackjs.compressor.create({ table: { size: 4096 } });
    for (const headers of story) {
      comp.write(headers);
      bytes += comp.read()!.length;
    }
  }
  return bytes;
}

const tasks: [string, () => number][] = [
  ['decode | skiff-wasm (record)', () => skiffDecode(false)],
  ['decode | skiff-wasm + JS strings', () => skiffDecode(true)],
  ['decode | hpack.js', hpackjsDecode],
  ['encode | skiff-wasm', skiffEncode],
  ['encode | hpack.js', hpackjsEncode],
];
const check = new Map(tasks.map(([name, fn]) => [name, fn()]));
console.log(`decode: ${decodeStories.length} stories, ${blocks} blocks, fields ${check.get('decode | skiff-wasm (record)')} (skiff) / ${check.get('decode | hpack.js')} (hpack.js)`);
console.log(`encode: ${encodeStories.length} stories, ${encodeBlocks} blocks, ${check.get('encode | skiff-wasm')} bytes (skiff) / ${check.get('encode | hpack.js')} bytes (hpack.js)`);

// The machine is shared: each round measures every task once; a task's figure is its best round.
const ROUNDS = 3;
const best = new Map<string, number>();
for (let round = 0; round < ROUNDS; round++) {
  // A pass takes milliseconds: a few iterations per task are enough (tinybench's default minimum of 64 is not).
  const bench = new Bench({ name: `hpack, round ${round + 1}`, time: 400, iterations: 8, warmup: true, warmupIterations: 2, warmupTime: 50 });
  for (let k = 0; k < tasks.length; k++) {
    const [name, fn] = tasks[(k + round) % tasks.length];
    bench.add(name, fn);
  }
  await bench.run();
  for (const task of bench.tasks) {
    const r = task.result as unknown as { period?: number; latency?: { mean: number } } | undefined;
    const ms = r?.latency?.mean ?? r?.period ?? NaN;
    best.set(task.name, Math.min(best.get(task.name) ?? Infinity, ms));
  }
}
const perBlock = (name: string, n: number): number => (best.get(name)! * 1e6) / n;
console.log(`Best of ${ROUNDS} rounds:`);
console.table(tasks.map(([name]) => {
  const n = name.startsWith('decode') ? blocks : encodeBlocks;
  return { task: name, 'ms/pass': best.get(name)!.toFixed(2), 'ns/block': Math.round(perBlock(name, n)), 'blocks/s': Math.round(1e9 / perBlock(name, n)) };
}));
const ratio = (a: string, b: string): string => (best.get(a)! / best.get(b)!).toFixed(2) + 'x';
console.log('Speed-up of Skiff (hpack.js time / Skiff time; target decode >= 3x):');
console.table([
  { what: 'decode (record)', speedup: ratio('decode | hpack.js', 'decode | skiff-wasm (record)') },
  { what: 'decode + JS strings', speedup: ratio('decode | hpack.js', 'decode | skiff-wasm + JS strings') },
  { what: 'encode', speedup: ratio('encode | hpack.js', 'encode | skiff-wasm') },
]);
pool.release(block);
pool.release(rec);
pool.release(out);
