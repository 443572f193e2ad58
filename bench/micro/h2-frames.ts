/**
 * HTTP/2 frame parsing: Skiff's wasm frame parser (assembly/codec/http2, one h2_parse_frame call per frame,
 * reading the record fields the connection reads) against a plain-JS parser of the same frame header and
 * per-type checks over a Buffer (what a JS codec would do; no library exposes frame parsing alone).
 *
 * The input is a realistic mix laid out back to back in one buffer: HEADERS, DATA (plain and padded),
 * WINDOW_UPDATE, SETTINGS, PING. Each task call walks the whole buffer frame by frame.
 *
 * Run: node dist/bench/micro/h2-frames.js   (after npm run build)
 */
import { Bench } from 'tinybench';
import { mainInstance } from '../../src/wasm/runtime.js';
import { slabPool } from '../../src/wasm/slab.js';
import * as L from '../../src/wasm/layout.js';
import { FrameCodec } from '../../src/codec/http2/index.js';

function frame(type: number, flags: number, sid: number, payload: Buffer): Buffer {
  const h = Buffer.alloc(9);
  h.writeUIntBE(payload.length, 0, 3);
  h[3] = type; h[4] = flags;
  h.writeUInt32BE(sid, 5);
  return Buffer.concat([h, payload]);
}

const frames: Buffer[] = [];
for (let i = 0; i < 32; i++) {
  const sid = 1 + 2 * i;
  frames.push(frame(L.H2_HEADERS, L.H2_FLAG_END_HEADERS, sid, Buffer.alloc(60, 0x82)));
  frames.push(frame(L.H2_DATA, 0, sid, Buffer.alloc(1024, 1)));
  frames.push(frame(L.H2_DATA, L.H2_FLAG_PADDED | L.H2_FLAG_END_STREAM, sid, Buffer.concat([Buffer.from([8]), Buffer.alloc(200, 2), Buffer.alloc(8)])));
  frames.push(frame(L.H2_WINDOW_UPDATE, 0, 0, Buffer.from([0, 1, 0, 0])));
}
frames.push(frame(L.H2_SETTINGS, 0, 0, Buffer.from([0, 3, 0, 0, 0, 100, 0, 4, 0, 1, 0, 0])));
frames.push(frame(L.H2_PING, 0, 0, Buffer.alloc(8)));
const input = Buffer.concat(frames);
const FRAMES = frames.length;

const wasm = mainInstance();
const pool = slabPool(wasm);
const buf = pool.lease(input.length);
wasm.u8.set(input, buf);
const codec = new FrameCodec(wasm, pool);

function skiffWalk(): number {
  let off = 0;
  let sum = 0;
  // Bounded by the input: each pass consumes one whole frame.
  while (off < input.length) {
    const rc = codec.parse(buf + off, input.length - off, 16384, 0);
    if (rc !== L.H2_OK) throw new Error(`parse failed: ${rc}`);
    sum += codec.type + codec.dataLength + codec.streamId;
    off += 9 + codec.length;
  }
  return sum;
}

/** The same checks in JS over the Buffer. */
function jsWalk(): number {
  let off = 0;
  let sum = 0;
  while (off < input.length) {
    const len = (input[off] << 16) | (input[off + 1] << 8) | input[off + 2];
    const type = input[off + 3];
    const flags = input[off + 4];
    const sid = input.readUInt32BE(off + 5) & 0x7fffffff;
    if (len > 16384) throw new Error('frame size');
    let dataLen = len;
    if (type === L.H2_DATA || type === L.H2_HEADERS) {
      if (sid === 0) throw new Error('stream 0');
      if ((flags & L.H2_FLAG_PADDED) !== 0) {
        const pad = input[off + 9];
        if (pad >= len) throw new Error('padding');
        dataLen = len - 1 - pad;
      }
    } else if (type === L.H2_WINDOW_UPDATE) {
      if (len !== 4) throw new Error('size');
      if ((input.readUInt32BE(off + 9) & 0x7fffffff) === 0) throw new Error('zero increment');
    } else if (type === L.H2_SETTINGS) {
      if (len % 6 !== 0) throw new Error('size');
      for (let p = off + 9; p < off + 9 + len; p += 6) {
        const id = input.readUInt16BE(p);
        const v = input.readUInt32BE(p + 2);
        if (id === 4 && v > 0x7fffffff) throw new Error('window');
      }
    } else if (type === L.H2_PING && len !== 8) throw new Error('size');
    sum += type + dataLen + sid;
    off += 9 + len;
  }
  return sum;
}

if (skiffWalk() !== jsWalk()) throw new Error('the two parsers disagree');

const bench = new Bench({ time: Number(process.env.BENCH_TIME_MS ?? 1500) });
let sink = 0;
bench.add(`skiff wasm (${FRAMES} frames)`, () => { sink += skiffWalk(); });
bench.add(`plain JS (${FRAMES} frames)`, () => { sink += jsWalk(); });
await bench.run();
const rows = bench.tasks.map((t) => {
  const r = t.result as unknown as { period?: number; latency?: { mean: number } } | undefined;
  const mean = r?.latency?.mean ?? r?.period ?? NaN;
  return { task: t.name, 'ns/frame': Math.round((mean * 1e6) / FRAMES), 'frames/s (M)': (FRAMES / (mean / 1000) / 1e6).toFixed(1) };
});
console.table(rows);
codec.release();
pool.release(buf);
if (sink === 42) console.log('');
