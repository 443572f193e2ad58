// Feeding a head byte by byte (each call passing the previous length as scanFrom) ends exactly where parsing it
// in one call does: same status and record for an accepted head, same error at the same offset for a rejected
// one (a rejection may come before the head is complete).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as L from '../../../../src/wasm/layout.js';
import { parseRequestHead, parseResponseHead } from '../../../../src/codec/http1/index.js';
import { wasm, buf, rec, load, snapshot, LIMITS } from './harness.js';

const REQUESTS = [
  'GET / HTTP/1.1\r\nHost: a\r\n\r\n',
  '\r\nPOST /api/v1/items?limit=10 HTTP/1.1\r\nHost: api.example\r\nContent-Type: application/json\r\nContent-Length: 27\r\nConnection: keep-alive\r\n\r\n',
  'GET http://proxy.example/x HTTP/1.1\r\nHost: a\r\nUser-Agent: curl/8.5.0\r\nAccept: */*\r\n\r\n',
  'PUT /u HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nExpect: 100-continue\r\n\r\n',
  'GET / HTTP/1.1\r\nHost: a\r\nX: 1\rY: 2\r\n\r\n',
  'GET / HTTP/1.1\nHost: a\n\n',
  'GET / HTTP/1.1\r\nHost: a\r\n folded\r\n\r\n',
  'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n',
  'GET / HTTP/1.1\r\nHost: a\r\n\r\r\n',
  'GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1x\r\nX: y\r\n\r\n',
  'GET / HTTP/1.1\r\nHost: a\r\nBad Name: 1\r\nX: y\r\n\r\n',
  'GET / HTTP/1.1\r\nHost: a\r\nX: a\x01b\r\nX: y\r\n\r\n',
];

const RESPONSES = [
  'HTTP/1.1 200 OK\r\nContent-Length: 5\r\nServer: x\r\n\r\n',
  'HTTP/1.1 301 Moved Permanently\r\nLocation: /x\r\nTransfer-Encoding: chunked\r\n\r\n',
  'HTTP/1.1 200 OK\r\nX: a\nY: b\r\n\r\n',
];

/** What must agree: the whole record when accepted, the code and offset when rejected. */
function outcome(status: number): Record<string, unknown> {
  if (status === L.HEAD_NEED_MORE) return {};
  const s = snapshot();
  return status === L.HEAD_OK ? s : { status: s.status, at: s.length };
}

function feed(text: string, parse: typeof parseRequestHead): { status: number; record: Record<string, unknown> } {
  const len = load(text);
  let prev = 0;
  for (let n = 1; n <= len; n++) {
    const r = parse(wasm, buf, n, prev, rec, LIMITS);
    if (r !== L.HEAD_NEED_MORE) return { status: r, record: outcome(r) };
    prev = n;
  }
  return { status: L.HEAD_NEED_MORE, record: {} };
}

function oneShot(text: string, parse: typeof parseRequestHead): { status: number; record: Record<string, unknown> } {
  const len = load(text);
  const r = parse(wasm, buf, len, 0, rec, LIMITS);
  return { status: r, record: outcome(r) };
}

function assertByteByByteEqualsOneShot(texts: readonly string[], parse: typeof parseRequestHead): void {
  for (const text of texts) {
    const a = feed(text, parse);
    const b = oneShot(text, parse);
    assert.equal(a.status, b.status, JSON.stringify(text));
    assert.deepEqual(a.record, b.record, JSON.stringify(text));
  }
}

test('requests: byte by byte equals one shot', () => assertByteByByteEqualsOneShot(REQUESTS, parseRequestHead));

test('responses: byte by byte equals one shot', () => assertByteByByteEqualsOneShot(RESPONSES, parseResponseHead));

test('a valid head is found at the exact byte that completes it', () => {
  const text = REQUESTS[1];
  const len = load(text + 'body');
  assert.equal(parseRequestHead(wasm, buf, text.length - 1, 0, rec, LIMITS), L.HEAD_NEED_MORE);
  assert.equal(parseRequestHead(wasm, buf, text.length, text.length - 1, rec, LIMITS), L.HEAD_OK);
  assert.equal(parseRequestHead(wasm, buf, len, 0, rec, LIMITS), L.HEAD_OK);
  assert.equal(snapshot().length, text.length);
});

test('a large head arriving one byte per call costs linear time in total (no rescanning per call)', () => {
  const limits = { maxHeaders: 16, maxHeadBytes: 200_000 };
  const heads = [
    `GET /${'a'.repeat(120_000)} HTTP/1.1\r\nHost: a\r\n\r\n`,         // a long request line
    `GET / HTTP/1.1\r\nHost: a\r\nX-Big: ${'b'.repeat(120_000)}\r\n\r\n`, // a long header value
  ];
  for (const text of heads) {
    const len = load(text);
    const started = Date.now();
    let prev = 0;
    let r = L.HEAD_NEED_MORE;
    for (let n = 1; n <= len && r === L.HEAD_NEED_MORE; n++) {
      r = parseRequestHead(wasm, buf, n, prev, rec, limits);
      prev = n;
    }
    const ms = Date.now() - started;
    assert.equal(r, L.HEAD_OK);
    // Rescanning from the start on every call would be ~7e9 byte steps (tens of seconds); linear is ~120k calls.
    assert.ok(ms < 5000, `${ms} ms for ${len} one-byte calls`);
  }
});

test('heads of two connections parsed in turns (one instance, and two instances over one memory) do not mix', async () => {
  const { instantiate } = await import('../../../../src/wasm/module.js');
  const { slabPool } = await import('../../../../src/wasm/slab.js');
  const { recordBytes, requestHeadView } = await import('../../../../src/codec/http1/index.js');
  const other = instantiate(wasm.memory, 1);
  const pool = slabPool(wasm);
  const bufB = pool.lease(4096), recB = pool.lease(recordBytes(16));
  const a = 'GET /first HTTP/1.1\r\nHost: a.example\r\nX-A: 1\r\n\r\n';
  const b = 'POST /second HTTP/1.1\r\nHost: b.example\r\nContent-Length: 3\r\n\r\n';
  for (const [name, instB] of [['same instance', wasm], ['second instance', other]] as const) {
    load(a);
    wasm.u8.set(Buffer.from(b), bufB);
    let prevA = 0, prevB = 0, doneA = false, doneB = false;
    for (let step = 1; step <= Math.max(a.length, b.length) && !(doneA && doneB); step++) {
      if (!doneA && step <= a.length) {
        const r = parseRequestHead(wasm, buf, step, prevA, rec, LIMITS);
        prevA = step;
        if (r !== L.HEAD_NEED_MORE) { assert.equal(r, L.HEAD_OK, name); doneA = true; }
      }
      if (!doneB && step <= b.length) {
        const r = parseRequestHead(instB, bufB, step, prevB, recB, LIMITS);
        prevB = step;
        if (r !== L.HEAD_NEED_MORE) { assert.equal(r, L.HEAD_OK, name); doneB = true; }
      }
    }
    assert.ok(doneA && doneB);
    const ha = requestHeadView(wasm, rec), hb = requestHeadView(instB, recB);
    assert.deepEqual([ha.method, ha.path, ha.host, ha.headers.get('x-a'), ha.bodyKind], ['GET', '/first', 'a.example', '1', 'none'], name);
    assert.deepEqual([hb.method, hb.path, hb.host, hb.contentLength, hb.bodyKind], ['POST', '/second', 'b.example', 3, 'length'], name);
  }
  pool.release(bufB);
  pool.release(recB);
});
