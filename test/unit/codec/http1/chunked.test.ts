// The strict chunked decoder: data, extensions, trailers, limits, and splitting at every byte.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ChunkedDecoder } from '../../../../src/codec/http1/index.js';
import { seededRandom } from '../../../helpers/random.js';

const bytes = (s: string): Uint8Array => Buffer.from(s, 'latin1');

function decodeAll(body: string, split = 0): { data: string; done: boolean; error?: string; consumed: number; dec: ChunkedDecoder } {
  const dec = new ChunkedDecoder({ maxSizeDigits: 8, maxExtensionBytes: 64, maxTrailerBytes: 128 });
  const input = bytes(body);
  let data = '';
  let consumed = 0;
  const step = split > 0 ? split : input.length;
  for (let i = 0; i < input.length; i += step) {
    const r = dec.push(input.subarray(i, Math.min(i + step, input.length)));
    data += r.data.map((d) => Buffer.from(d).toString('latin1')).join('');
    consumed = i + r.consumed;
    if (r.error) return { data, done: false, error: r.error, consumed, dec };
    if (r.done) return { data, done: true, consumed, dec };
  }
  return { data, done: false, consumed, dec };
}

test('chunks of mixed-case hex sizes decode to their data', () => {
  const r = decodeAll('5\r\nhello\r\nA\r\n0123456789\r\nb\r\n, world!!!!\r\n0\r\n\r\n');
  assert.equal(r.error, undefined);
  assert.equal(r.done, true);
  assert.equal(r.data, 'hello0123456789, world!!!!');
});

test('split at every byte gives the same result', () => {
  const body = '3;name=val;q="a\\"b";x\r\nabc\r\n000\r\nX-Sum: 42\r\nx-b:  2 \r\n\r\n';
  const whole = decodeAll(body);
  assert.equal(whole.done, true);
  for (let split = 1; split < 8; split++) {
    const r = decodeAll(body, split);
    assert.equal(r.data, whole.data);
    assert.equal(r.done, true);
  }
  assert.deepEqual(whole.dec.trailers, [['x-sum', '42'], ['x-b', '2']]);
});

test('bytes after the last chunk are left for the next message', () => {
  const r = decodeAll('1\r\na\r\n0\r\n\r\nGET / HTTP/1.1\r\n');
  assert.equal(r.done, true);
  assert.equal(r.consumed, '1\r\na\r\n0\r\n\r\n'.length);
});

const BAD: [string, string][] = [
  ['missing size', '\r\nabc\r\n'],
  ['non-hex size', 'g\r\n'],
  ['size with 0x prefix', '0x5\r\nhello\r\n'],
  ['space after size without extension', '5 \r\nhello\r\n'],
  ['bare LF after size', '5\nhello\r\n'],
  ['data longer than the size', '2\r\nabc\r\n'],
  ['data not followed by CRLF', '3\r\nabcXY'],
  ['bare LF after data', '3\r\nabc\n0\r\n\r\n'],
  ['extension name not a token', '3;@=1\r\nabc\r\n'],
  ['unterminated quoted extension', '3;a="x\r\nabc\r\n'],
  ['control byte in extension', '3;a=\x01\r\nabc\r\n'],
  ['too many size digits', '000000001\r\na\r\n'],
  ['extension too long', `3;${'a'.repeat(80)}\r\nabc\r\n`],
  ['trailer without colon', '0\r\nX-A\r\n\r\n'],
  ['trailer too large', `0\r\nX: ${'v'.repeat(200)}\r\n\r\n`],
  ['bare CR at the end', '0\r\n\rX'],
];

for (const [name, body] of BAD) {
  test(`rejects ${name}`, () => {
    const r = decodeAll(body);
    assert.match(r.error ?? '', /^SKIFF_HTTP1_/, `${JSON.stringify(body)} gave ${JSON.stringify(r)}`);
    assert.equal(r.done, false);
  });
}

test('after an error every push reports it again', () => {
  const dec = new ChunkedDecoder();
  const first = dec.push(bytes('z\r\n'));
  assert.ok(first.error);
  const again = dec.push(bytes('5\r\nhello\r\n'));
  assert.equal(again.error, first.error);
  assert.equal(again.data.length, 0);
});

test('large sizes are bounded by the safe integer range', () => {
  const dec = new ChunkedDecoder({ maxSizeDigits: 32 });
  assert.ok(dec.push(bytes('fffffffffffffffff\r\n')).error);
});

test('5 000 mutated chunked bodies: no throw, a defined outcome, data never beyond the input', () => {
  const rand = seededRandom(0xc0ffee);
  const base = '4;a=b\r\nWiki\r\n5\r\npedia\r\nE;q="x;y"\r\n in\r\n\r\nchunks.\r\n0\r\nX-T: 1\r\n\r\n';
  const bytesPool = [13, 10, 59, 61, 34, 92, 32, 9, 48, 70, 102, 0, 255, 58];
  let done = 0, errors = 0;
  const started = Date.now();
  for (let i = 0; i < 5000 && Date.now() - started < 30_000; i++) {
    const b = Buffer.from(base, 'latin1');
    const at = Math.floor(rand() * b.length);
    b[at] = rand() < 0.7 ? bytesPool[Math.floor(rand() * bytesPool.length)] : Math.floor(rand() * 256);
    const dec = new ChunkedDecoder({ maxSizeDigits: 4, maxExtensionBytes: 16, maxTrailerBytes: 64 });
    let total = 0;
    const step = 1 + Math.floor(rand() * 7);
    let outcome = 'more';
    for (let p = 0; p < b.length && outcome === 'more'; p += step) {
      const r = dec.push(b.subarray(p, p + step));
      for (const d of r.data) total += d.length;
      assert.ok(r.consumed >= 0 && r.consumed <= Math.min(step, b.length - p));
      if (r.error) outcome = 'error';
      else if (r.done) outcome = 'done';
    }
    assert.ok(total <= b.length);
    if (outcome === 'done') done++;
    if (outcome === 'error') errors++;
  }
  assert.ok(done > 100 && errors > 100, `done ${done}, errors ${errors}`);
});

test('trailers as a HeaderList, and the writer helpers round-trip through the decoder', async () => {
  const { chunkHeader, CHUNK_END, CHUNKED_BODY_END } = await import('../../../../src/codec/http1/index.js');
  const dec = new ChunkedDecoder();
  const body = Buffer.concat([chunkHeader(26), Buffer.from('abcdefghijklmnopqrstuvwxyz'), CHUNK_END, CHUNKED_BODY_END]);
  const r = dec.push(body);
  assert.equal(r.done, true);
  assert.equal(r.data.map((d) => Buffer.from(d).toString()).join(''), 'abcdefghijklmnopqrstuvwxyz');
  assert.equal(chunkHeader(26).toString(), '1a\r\n');
  assert.throws(() => chunkHeader(0), RangeError);
  const withTrailers = new ChunkedDecoder();
  withTrailers.push(bytes('0\r\nGrpc-Status: 0\r\ngrpc-message: ok\r\n\r\n'));
  const t = withTrailers.trailerList();
  assert.equal(t.size, 2);
  assert.equal(t.get('grpc-status'), '0');
  assert.equal(t.get('Grpc-Message'), 'ok');
  assert.deepEqual(t.getAll('grpc-status'), ['0']);
  assert.equal(t.has('x'), false);
  assert.throws(() => t.name(2), RangeError);
});

test('a trailer section as large as a generous limit decodes without exhausting the stack', () => {
  const dec = new ChunkedDecoder({ maxTrailerBytes: 1 << 20 });
  const big = 'v'.repeat(500_000);
  const r = dec.push(bytes(`0\r\nX-Big: ${big}\r\n\r\n`));
  assert.equal(r.done, true);
  assert.equal(dec.trailers[0][1].length, big.length);
});
