// hpack-test-case (../shared/conformance/hpack-test-case): every story of every implementation directory
// decodes, header by header, to its headers, with the dynamic table carried across the cases of a story.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as L from '../../src/wasm/layout.js';
import { HpackDecoder, HpackEncoder, hpackErrorInfo } from '../../src/codec/hpack/index.js';
import { buffers, entries } from '../unit/codec/hpack/harness.js';
import { readStories, encodedDirs, ROOT } from './hpack/stories.js';
import { requestsThroughNghttp2, responsesThroughNghttp2 } from './hpack/h2peer.js';

const b = buffers(1024);
const dirs = encodedDirs();
const tally = { stories: 0, blocks: 0, fields: 0 };

test('the hpack-test-case stories are present', () => {
  assert.ok(dirs.length >= 3, `found ${dirs.length} encoder directories under ${ROOT.pathname}`);
});

for (const dir of dirs) {
  for (const story of readStories(dir)) {
    test(`decode ${dir}/${story.file}`, () => {
      const capacity = Math.max(4096, ...story.cases.map((c) => c.headerTableSize ?? 0));
      const dec = new HpackDecoder(b.wasm, capacity);
      try {
        for (const c of story.cases) {
          if (c.headerTableSize !== undefined) dec.setMaxTableSize(c.headerTableSize);
          const wire = c.wire!;
          b.wasm.u8.set(wire, b.block);
          const st = dec.decode(L.HPACK_MODE_RAW, b.block, wire.length, b.rec, b.maxHeaders, b.out, b.outCap, 1 << 24);
          assert.equal(st, L.HPACK_OK, `case ${c.seqno}: status ${st}`);
          assert.deepEqual(entries(b.wasm, b.rec), c.headers, `case ${c.seqno}`);
          tally.blocks++;
          tally.fields += c.headers.length;
        }
      } finally {
        dec.dispose();
      }
      tally.stories++;
    });
  }
}

test.after(() => {
  b.release();
  console.log(`hpack-test-case decode: ${tally.stories} stories, ${tally.blocks} blocks, ${tally.fields} fields`);
});

// Skiff's encoder over raw-data's header sets, read back by Skiff's decoder (one context pair per story).
const rawStories = readStories('raw-data');
const roundTrip = { stories: 0, blocks: 0, wireBytes: 0, plainBytes: 0 };

test('the raw-data stories are present', () => {
  assert.ok(rawStories.length >= 30, `found ${rawStories.length} raw-data stories`);
});

for (const story of rawStories) {
  test(`encode and decode raw-data/${story.file}`, () => {
    const enc = new HpackEncoder(b.wasm);
    const dec = new HpackDecoder(b.wasm);
    try {
      for (const c of story.cases) {
        const n = enc.encodeLocal(c.headers, b.block, b.blockCap, { raw: true });
        assert.ok(n > 0, `case ${c.seqno}: encode returned ${n}`);
        const st = dec.decode(L.HPACK_MODE_RAW, b.block, n, b.rec, b.maxHeaders, b.out, b.outCap, 1 << 24);
        assert.equal(st, L.HPACK_OK, `case ${c.seqno}: status ${st}`);
        assert.deepEqual(entries(b.wasm, b.rec), c.headers, `case ${c.seqno}`);
        assert.equal(dec.tableSize, enc.tableSize, `case ${c.seqno}: tables in step`);
        roundTrip.blocks++;
        roundTrip.wireBytes += n;
        roundTrip.plainBytes += c.headers.reduce((s, [k, v]) => s + k.length + v.length, 0);
      }
    } finally {
      enc.dispose();
      dec.dispose();
    }
    roundTrip.stories++;
  });
}

test.after(() => {
  console.log(`Skiff encoder -> Skiff decoder: ${roundTrip.stories} stories, ${roundTrip.blocks} blocks, ` +
    `${roundTrip.wireBytes} bytes for ${roundTrip.plainBytes} bytes of names and values`);
});

// Skiff's encoder output decoded by nghttp2 (Node's http2), over sockets. raw-data was captured from
// HTTP/1.1 traffic, so its header sets are first given their HTTP/2 form as a proxy would: the
// connection-specific fields (RFC 9113 §8.2.2) are dropped, and requests lose content-length (they are sent
// with END_STREAM and no body; responses keep it: they answer HEAD requests). A stream nghttp2 still refuses
// must be one Skiff's own HTTP/2 checks refuse too; every other block must arrive field for field, and the
// connection must never fail (no COMPRESSION_ERROR).
// Two places where nghttp2 is lenient where Skiff is strict are allowed for, and counted: nghttp2 drops a
// field whose value has surrounding whitespace (Skiff refuses the message, RFC 9113 §8.2.1), and drops
// content-length from 1xx/204/304 responses.
const nghttp2 = { stories: 0, blocks: 0, echoed: 0, refusedAsSkiffDoes: 0, droppedInvalidField: 0, droppedContentLength: 0 };
const refusedCodes = new Map<string, number>();
const hasOws = (v: string): boolean => /^[ \t]|[ \t]$/.test(v);
const CONNECTION_SPECIFIC = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade']);

function http2Form(headers: [string, string][], isResponse: boolean): [string, string][] {
  return headers.filter(([n]) => !CONNECTION_SPECIFIC.has(n) && (isResponse || n !== 'content-length'));
}

for (const story of rawStories) {
  const isResponse = story.cases[0].headers.some(([n]) => n === ':status');
  test(`raw-data/${story.file}: Skiff-encoded ${isResponse ? 'responses' : 'requests'} through nghttp2`, async () => {
    const enc = new HpackEncoder(b.wasm);
    const judge = new HpackDecoder(b.wasm);
    const skiffVerdict: number[] = [];
    const encode = (i: number): Buffer => {
      const n = enc.encodeLocal(http2Form(story.cases[i].headers, isResponse), b.block, b.blockCap, { raw: true });
      assert.ok(n > 0);
      const block = Buffer.from(b.wasm.u8.slice(b.block, b.block + n));
      skiffVerdict[i] = judge.decode(isResponse ? L.HPACK_MODE_RESPONSE : L.HPACK_MODE_REQUEST, b.block, n, b.rec, b.maxHeaders, b.out, b.outCap, 1 << 20);
      return block;
    };
    try {
      const result = isResponse
        ? await responsesThroughNghttp2(story.cases.length, encode)
        : await requestsThroughNghttp2(story.cases.map((_, i) => encode(i)));
      assert.equal(result.goaway, undefined, `nghttp2 ended the connection with code ${result.goaway}`);
      story.cases.forEach((c, i) => {
        const raw = result.received.get(i);
        if (raw === undefined) {
          assert.ok(result.refused.has(i), `case ${i}: neither delivered nor refused`);
          assert.notEqual(skiffVerdict[i], L.HPACK_OK, `case ${i}: nghttp2 refused what Skiff accepts: ${JSON.stringify(http2Form(c.headers, isResponse))}`);
          nghttp2.refusedAsSkiffDoes++;
          const code = hpackErrorInfo(skiffVerdict[i]).code;
          refusedCodes.set(code, (refusedCodes.get(code) ?? 0) + 1);
          return;
        }
        const pairs: [string, string][] = [];
        for (let k = 0; k < raw.length; k += 2) pairs.push([raw[k], raw[k + 1]]);
        let expected = http2Form(c.headers, isResponse);
        if (skiffVerdict[i] === L.HPACK_E_INVALID_VALUE && expected.some(([, v]) => hasOws(v))) {
          expected = expected.filter(([, v]) => !hasOws(v));
          nghttp2.droppedInvalidField++;
        }
        const status = Number(expected.find(([n]) => n === ':status')?.[1]);
        if ((status < 200 || status === 204 || status === 304) && expected.some(([n]) => n === 'content-length') &&
          !pairs.some(([n]) => n === 'content-length')) {
          expected = expected.filter(([n]) => n !== 'content-length');
          nghttp2.droppedContentLength++;
        }
        assert.deepEqual(pairs, expected, `case ${i}`);
        nghttp2.echoed++;
      });
      nghttp2.blocks += story.cases.length;
      nghttp2.stories++;
    } finally {
      enc.dispose();
      judge.dispose();
    }
  });
}

test.after(() => {
  console.log(`Skiff encoder -> nghttp2: ${nghttp2.stories} stories, ${nghttp2.blocks} blocks: ${nghttp2.echoed} delivered field for field, ` +
    `${nghttp2.refusedAsSkiffDoes} refused as HTTP/2-malformed (Skiff's decoder refuses them too); ` +
    `nghttp2 dropped a whitespace-padded field Skiff refuses in ${nghttp2.droppedInvalidField}, content-length of a 1xx/204/304 in ${nghttp2.droppedContentLength}; ` +
    `refusals by Skiff's code: ${JSON.stringify(Object.fromEntries(refusedCodes))}`);
});
