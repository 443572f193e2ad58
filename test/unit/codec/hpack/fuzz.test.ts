// Bounded random fuzzing with a fixed seed: 20 000 mutated header blocks never trap and always return a
// defined status; accepted blocks satisfy the record invariants, and accepted requests survive a
// re-encode/decode round trip.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as L from '../../../../src/wasm/layout.js';
import { HpackDecoder, HpackEncoder, hpackErrorInfo, type HpackDecodeMode } from '../../../../src/codec/hpack/index.js';
import { seededRandom } from '../../../helpers/random.js';
import { readStories } from '../../../conformance/hpack/stories.js';
import { buffers, decodeBytes, entries, request, lit, litIdx, idx } from './harness.js';

const ITERATIONS = 20_000;
const TIME_BUDGET_MS = 60_000;
const MAX_HEADERS = 32;

const b = buffers(MAX_HEADERS);
const KNOWN = new Set<number>([
  L.HPACK_OK, L.HPACK_E_TRUNCATED, L.HPACK_E_INTEGER_OVERFLOW, L.HPACK_E_INDEX, L.HPACK_E_HUFFMAN, L.HPACK_E_SIZE_UPDATE,
  L.HPACK_E_SIZE_UPDATE_POSITION, L.HPACK_E_SIZE_UPDATE_MISSING, L.HPACK_E_UPPERCASE_NAME, L.HPACK_E_INVALID_NAME,
  L.HPACK_E_INVALID_VALUE, L.HPACK_E_CONNECTION_HEADER, L.HPACK_E_TE, L.HPACK_E_PSEUDO_AFTER_REGULAR,
  L.HPACK_E_UNKNOWN_PSEUDO, L.HPACK_E_DUPLICATE_PSEUDO, L.HPACK_E_MISSING_PSEUDO, L.HPACK_E_PSEUDO_IN_TRAILERS,
  L.HPACK_E_INVALID_PSEUDO_VALUE, L.HPACK_E_INVALID_CONTENT_LENGTH, L.HPACK_E_INVALID_HOST,
  L.HPACK_E_HEADER_LIST_TOO_LARGE, L.HPACK_E_TOO_MANY_HEADERS,
]);

function seeds(): Buffer[] {
  const out: Buffer[] = [
    Buffer.from(request([...lit('content-length', '3'), ...litIdx('x-a', 'b'), ...lit('cookie', 'a=1'), ...lit('cookie', 'b=2')], '/a?b', 'h:1')),
    Buffer.from([...idx(8), ...litIdx('server', 'x'), ...idx(62)]),
    Buffer.from([0x3f, 0xe1, 0x1f, ...idx(2), ...idx(6), ...idx(4), ...lit(':authority', 'x')]),
  ];
  for (const story of readStories('nghttp2').slice(0, 6)) for (const c of story.cases.slice(0, 4)) out.push(c.wire!);
  for (const story of readStories('go-hpack').slice(10, 14)) for (const c of story.cases.slice(0, 3)) out.push(c.wire!);
  return out;
}

function mutate(seed: Buffer, r: () => number): Buffer {
  let m = Buffer.from(seed);
  const rounds = 1 + Math.floor(r() * 4);
  for (let k = 0; k < rounds; k++) {
    const at = Math.floor(r() * (m.length + 1));
    const op = Math.floor(r() * 6);
    const byte = Math.floor(r() * 256);
    if (op === 0 && at < m.length) m[at] ^= 1 << Math.floor(r() * 8);
    else if (op === 1 && at < m.length) m[at] = byte;
    else if (op === 2) m = Buffer.concat([m.subarray(0, at), Buffer.from([byte]), m.subarray(at)]);
    else if (op === 3) m = Buffer.concat([m.subarray(0, at), m.subarray(at + 1 + Math.floor(r() * 4))]);
    else if (op === 4) m = m.subarray(0, at);
    else m = Buffer.concat([m.subarray(0, at), m.subarray(at, at + 8), m.subarray(at)]);
  }
  return m;
}

/** Every entry points into the output buffer or the module's static data, and the counts are bounded. */
function checkRecord(mode: number): void {
  const v = b.wasm.view;
  const count = v.getInt32(b.rec + L.HEAD_HEADER_COUNT, true);
  assert.ok(count >= 0 && count <= MAX_HEADERS + 1, `count ${count}`);
  const used = v.getInt32(b.rec + L.HEAD_LENGTH, true);
  assert.ok(used >= 0 && used <= b.outCap);
  const heapBase = b.wasm.map.heapBase;
  const inside = (p: number, len: number): boolean => (p >= b.out && p + len <= b.out + used) || p + len <= heapBase;
  for (let i = 0; i < count; i++) {
    const e = b.rec + L.HEAD_HEADERS + i * L.HEADER_ENTRY_SIZE;
    assert.ok(inside(v.getUint32(e + L.HDR_NAME_PTR, true), v.getUint16(e + L.HDR_NAME_LEN, true)), 'name pointer');
    assert.ok(inside(v.getUint32(e + L.HDR_VALUE_PTR, true), v.getUint32(e + L.HDR_VALUE_LEN, true)), 'value pointer');
  }
  if (mode === L.HPACK_MODE_REQUEST) {
    assert.ok(inside(v.getUint32(b.rec + L.HEAD_METHOD_PTR, true), v.getInt32(b.rec + L.HEAD_METHOD_LEN, true)));
    assert.ok(v.getInt32(b.rec + L.HEAD_METHOD_LEN, true) > 0);
  }
}

test(`${ITERATIONS} mutated blocks: defined statuses, valid records, round trips`, () => {
  const r = seededRandom(0x4b7ac);
  const corpus = seeds();
  const modes: HpackDecodeMode[] = [L.HPACK_MODE_REQUEST, L.HPACK_MODE_RESPONSE, L.HPACK_MODE_TRAILERS, L.HPACK_MODE_RAW];
  let dec = new HpackDecoder(b.wasm);
  const tally = new Map<string, number>();
  let roundTrips = 0;
  const started = Date.now();
  let i = 0;
  try {
    for (; i < ITERATIONS && Date.now() - started < TIME_BUDGET_MS; i++) {
      const mode = modes[i % modes.length];
      const input = mutate(corpus[Math.floor(r() * corpus.length)], r);
      // a connection that saw a compression error would be closed: start a new context then
      let status: number;
      try {
        status = decodeBytes(b, dec, mode, input, { maxListBytes: 8192, outCap: 16384 });
      } catch (err) {
        assert.fail(`iteration ${i}: threw ${String(err)} on ${input.toString('hex')}`);
      }
      assert.ok(KNOWN.has(status), `iteration ${i}: status ${status}`);
      const name = status === L.HPACK_OK ? 'ok' : hpackErrorInfo(status).code;
      tally.set(name, (tally.get(name) ?? 0) + 1);
      if (status !== L.HPACK_OK && hpackErrorInfo(status).scope === 'connection') {
        dec.dispose();
        dec = new HpackDecoder(b.wasm);
        continue;
      }
      if (status !== L.HPACK_OK) continue;
      checkRecord(mode);
      if (mode === L.HPACK_MODE_RAW || mode === L.HPACK_MODE_TRAILERS) {
        const fields = entries(b.wasm, b.rec);
        const enc = new HpackEncoder(b.wasm);
        const fresh = new HpackDecoder(b.wasm);
        try {
          const n = enc.encodeLocal(fields, b.block, b.blockCap, { raw: true });
          assert.ok(n >= 0);
          assert.equal(fresh.decode(L.HPACK_MODE_RAW, b.block, n, b.rec, MAX_HEADERS, b.out, b.outCap, 1 << 20), L.HPACK_OK);
          assert.deepEqual(entries(b.wasm, b.rec), fields, `iteration ${i}`);
          roundTrips++;
        } finally {
          enc.dispose();
          fresh.dispose();
        }
      }
    }
  } finally {
    dec.dispose();
  }
  assert.equal(i, ITERATIONS, `time budget ran out after ${i} iterations`);
  assert.ok((tally.get('ok') ?? 0) > 100, 'the mutations leave enough valid blocks');
  console.log(`hpack fuzz: ${i} blocks, ${roundTrips} round trips, ${JSON.stringify(Object.fromEntries(tally))}`);
});

test.after(() => b.release());
