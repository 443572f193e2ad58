// Bounded random fuzzing with a fixed seed: 20 000 mutated heads never trap, always return a defined status,
// and every accepted head satisfies the record invariants and serializes to a head that parses again.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as L from '../../../../src/wasm/layout.js';
import {
  parseRequestHead, parseResponseHead, requestHeadView, responseHeadView, encodeRequestHead, encodeResponseHead,
  type HeadLimits,
} from '../../../../src/codec/http1/index.js';
import { seededRandom } from '../../../helpers/random.js';
import { wasm, buf, rec, out, load, BUF_BYTES } from './harness.js';

const ITERATIONS = 20_000;
const TIME_BUDGET_MS = 60_000;

const SEEDS_REQ = [
  'GET /index.html?x=1 HTTP/1.1\r\nHost: www.example.com\r\nUser-Agent: fuzz\r\nAccept: */*\r\n\r\n',
  'POST /p HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\nConnection: keep-alive, x-a\r\nX-A: 1\r\n\r\n',
  'PUT /c HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nExpect: 100-continue\r\n\r\n',
  'GET http://u@h:1/p?q HTTP/1.0\r\nConnection: keep-alive\r\nUpgrade: websocket\r\n\r\n',
  'CONNECT h:443 HTTP/1.1\r\nHost: h:443\r\n\r\n',
  '\r\nOPTIONS * HTTP/1.1\r\nHost: [::1]:80\r\nContent-Length: 0, 0\r\n\r\n',
];
const SEEDS_RES = [
  'HTTP/1.1 200 OK\r\nContent-Length: 3\r\nServer: s\r\n\r\n',
  'HTTP/1.1 404 Not Found\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n',
  'HTTP/1.0 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n',
  '\r\nHTTP/1.1 204 \r\nX-Empty:\r\n\r\n',
];
const INTERESTING = [13, 10, 32, 9, 58, 44, 59, 0, 11, 12, 127, 255, 128, 34, 47, 63, 35, 64, 48, 57, 65, 97, 45];

function mutate(seed: string, r: () => number): Buffer {
  let b = Buffer.from(seed, 'latin1');
  const rounds = 1 + Math.floor(r() * 4);
  for (let k = 0; k < rounds; k++) {
    const at = Math.floor(r() * (b.length + 1));
    const op = Math.floor(r() * 6);
    const byte = r() < 0.6 ? INTERESTING[Math.floor(r() * INTERESTING.length)] : Math.floor(r() * 256);
    if (op === 0 && at < b.length) b[at] = byte;
    else if (op === 1) b = Buffer.concat([b.subarray(0, at), Buffer.from([byte]), b.subarray(at)]);
    else if (op === 2 && at < b.length) b = Buffer.concat([b.subarray(0, at), b.subarray(at + 1)]);
    else if (op === 3) b = b.subarray(0, at); // truncation
    else if (op === 4) {
      // duplicate a line
      const s = b.toString('latin1');
      const lines = s.split('\r\n');
      const i = Math.floor(r() * lines.length);
      lines.splice(i, 0, lines[i]);
      b = Buffer.from(lines.join('\r\n'), 'latin1');
    } else if (at < b.length) b[at] = b[at] ^ 0x20; // case flip
  }
  return b;
}

function checkRecord(len: number, limits: HeadLimits): void {
  const v = wasm.view;
  const headLen = v.getInt32(rec + L.HEAD_LENGTH, true);
  assert.ok(headLen > 0 && headLen <= len && headLen <= limits.maxHeadBytes);
  const count = v.getInt32(rec + L.HEAD_HEADER_COUNT, true);
  assert.ok(count >= 0 && count <= limits.maxHeaders);
  for (let i = 0; i < count; i++) {
    const e = rec + L.HEAD_HEADERS + i * L.HEADER_ENTRY_SIZE;
    const np = v.getUint32(e + L.HDR_NAME_PTR, true), nl = v.getUint16(e + L.HDR_NAME_LEN, true);
    const vp = v.getUint32(e + L.HDR_VALUE_PTR, true), vl = v.getUint32(e + L.HDR_VALUE_LEN, true);
    assert.ok(nl > 0 && np >= buf && np + nl <= buf + headLen);
    assert.ok(vp >= buf && vp + vl <= buf + headLen);
    for (let j = 0; j < nl; j++) {
      const c = wasm.u8[np + j];
      assert.ok(!(c >= 65 && c <= 90) && c > 32 && c < 127 && c !== 58, 'names are lowercase tokens');
    }
  }
}

/**
 * The same bytes arriving in three pieces: every call before the last says NEED_MORE or rejects, and the
 * outcome agrees with one call (both accept with the same record, or both reject; an early rejection may name
 * an earlier fault than the one-shot parse reports first).
 */
function checkSplitAgrees(bytes: Buffer, oneShot: number, limits: HeadLimits, r: () => number, parse: typeof parseRequestHead): void {
  const oneShotRecord = oneShot === L.HEAD_OK ? Buffer.from(wasm.u8.subarray(rec, rec + 80)) : undefined;
  const cuts = [Math.floor(r() * bytes.length), Math.floor(r() * bytes.length)].sort((a, b) => a - b);
  const len = load(Buffer.from(bytes)); // fresh copy: the one-shot parse lowercased names in place
  let prev = 0;
  let status = L.HEAD_NEED_MORE;
  for (const n of [...cuts, len]) {
    status = parse(wasm, buf, n, prev, rec, limits);
    prev = n;
    if (status !== L.HEAD_NEED_MORE) break;
  }
  if (oneShot === L.HEAD_OK) {
    assert.equal(status, L.HEAD_OK, `split parse of an accepted head gave ${status}: ${JSON.stringify(bytes.toString('latin1'))}`);
    assert.deepEqual(Buffer.from(wasm.u8.subarray(rec, rec + 80)), oneShotRecord);
  } else if (oneShot === L.HEAD_NEED_MORE) {
    assert.ok(status === L.HEAD_NEED_MORE || status > 0, `an incomplete head gave ${status} when split`);
  } else {
    assert.ok(status > 0, `one call rejected (${oneShot}), the split parse gave ${status}`);
  }
}

test('20 000 mutated heads: defined statuses, sound records, serializable output', () => {
  const r = seededRandom(0x5eed);
  const started = Date.now();
  const counts = new Map<number, number>();
  for (let i = 0; i < ITERATIONS && Date.now() - started < TIME_BUDGET_MS; i++) {
    const isRequest = i % 3 !== 2;
    const seeds = isRequest ? SEEDS_REQ : SEEDS_RES;
    const bytes = mutate(seeds[i % seeds.length], r);
    const limits: HeadLimits = i % 7 === 0 ? { maxHeaders: 2, maxHeadBytes: 48 } : { maxHeaders: 16, maxHeadBytes: 4096 };
    const len = load(bytes);
    const status = isRequest
      ? parseRequestHead(wasm, buf, len, 0, rec, { ...limits, allowMissingHost: i % 2 === 0 })
      : parseResponseHead(wasm, buf, len, 0, rec, limits);
    counts.set(status, (counts.get(status) ?? 0) + 1);
    if (i % 5 === 0) {
      checkSplitAgrees(bytes, status, isRequest ? { ...limits, allowMissingHost: i % 2 === 0 } : limits, r,
        isRequest ? parseRequestHead : parseResponseHead);
    }
    assert.ok(status === L.HEAD_NEED_MORE || status === L.HEAD_OK || (status >= 1 && status <= L.H1E_MAX), `status ${status}`);
    if (status !== L.HEAD_OK) continue;
    checkRecord(len, limits);
    const n = isRequest
      ? encodeRequestHead(wasm, requestHeadView(wasm, rec), { bodyKind: requestHeadView(wasm, rec).bodyKind }, out, BUF_BYTES)
      : encodeResponseHead(wasm, responseHeadView(wasm, rec, 'GET'), { bodyKind: 'none' }, out, BUF_BYTES);
    assert.ok(n > 0);
    const again = isRequest
      ? parseRequestHead(wasm, out, n, 0, rec, { maxHeaders: 64, maxHeadBytes: BUF_BYTES, allowMissingHost: true })
      : parseResponseHead(wasm, out, n, 0, rec, { maxHeaders: 64, maxHeadBytes: BUF_BYTES });
    assert.equal(again, L.HEAD_OK, `serialized head does not parse: ${JSON.stringify(Buffer.from(wasm.u8.subarray(out, out + n)).toString('latin1'))}`);
  }
  // The corpus must exercise both outcomes, or the fuzzer tests nothing.
  assert.ok((counts.get(L.HEAD_OK) ?? 0) > 1000, `accepted ${counts.get(L.HEAD_OK)}`);
  assert.ok([...counts.keys()].filter((k) => k > 0).length >= 10, `distinct errors ${[...counts.keys()]}`);
});
