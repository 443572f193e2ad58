// RFC 7541 Appendix C examples: the decoder's output and dynamic table after each block.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as L from '../../../../src/wasm/layout.js';
import { HpackDecoder } from '../../../../src/codec/hpack/index.js';
import { buffers, decodeBytes, entries, hex } from './harness.js';

const b = buffers();

function run(title: string, tableSize: number, steps: [string, [string, string][], number][]): void {
  test(title, () => {
    const dec = new HpackDecoder(b.wasm, tableSize);
    try {
      for (const [wire, expected, size] of steps) {
        assert.equal(decodeBytes(b, dec, L.HPACK_MODE_RAW, hex(wire)), L.HPACK_OK);
        assert.deepEqual(entries(b.wasm, b.rec), expected);
        assert.equal(dec.tableSize, size);
      }
    } finally {
      dec.dispose();
    }
  });
}

const req1: [string, string][] = [[':method', 'GET'], [':scheme', 'http'], [':path', '/'], [':authority', 'www.example.com']];
const req2: [string, string][] = [...req1, ['cache-control', 'no-cache']];
const req3: [string, string][] = [[':method', 'GET'], [':scheme', 'https'], [':path', '/index.html'], [':authority', 'www.example.com'], ['custom-key', 'custom-value']];

run('C.3 requests without Huffman coding', 4096, [
  ['828684410f7777772e6578616d706c652e636f6d', req1, 57],
  ['828684be58086e6f2d6361636865', req2, 110],
  ['828785bf400a637573746f6d2d6b65790c637573746f6d2d76616c7565', req3, 164],
]);

run('C.4 requests with Huffman coding', 4096, [
  ['828684418cf1e3c2e5f23a6ba0ab90f4ff', req1, 57],
  ['828684be5886a8eb10649cbf', req2, 110],
  ['828785bf408825a849e95ba97d7f8925a849e95bb8e8b4bf', req3, 164],
]);

const resp1: [string, string][] = [[':status', '302'], ['cache-control', 'private'], ['date', 'Mon, 21 Oct 2013 20:13:21 GMT'], ['location', 'https://www.example.com']];
const resp2: [string, string][] = [[':status', '307'], ['cache-control', 'private'], ['date', 'Mon, 21 Oct 2013 20:13:21 GMT'], ['location', 'https://www.example.com']];
const resp3: [string, string][] = [[':status', '200'], ['cache-control', 'private'], ['date', 'Mon, 21 Oct 2013 20:13:22 GMT'], ['location', 'https://www.example.com'], ['content-encoding', 'gzip'], ['set-cookie', 'foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1']];

run('C.5 responses without Huffman coding, table size 256 (evictions)', 256, [
  ['4803333032580770726976617465611d4d6f6e2c203231204f637420323031332032303a31333a323120474d546e1768747470733a2f2f7777772e6578616d706c652e636f6d', resp1, 222],
  ['4803333037c1c0bf', resp2, 222],
  ['88c1611d4d6f6e2c203231204f637420323031332032303a31333a323220474d54c05a04677a69707738666f6f3d4153444a4b48514b425a584f5157454f50495541585157454f49553b206d61782d6167653d333630303b2076657273696f6e3d31', resp3, 215],
]);

run('C.6 responses with Huffman coding, table size 256 (evictions)', 256, [
  ['488264025885aec3771a4b6196d07abe941054d444a8200595040b8166e082a62d1bff6e919d29ad171863c78f0b97c8e9ae82ae43d3', resp1, 222],
  ['4883640effc1c0bf', resp2, 222],
  ['88c16196d07abe941054d444a8200595040b8166e084a62d1bffc05a839bd9ab77ad94e7821dd7f2e6c7b335dfdfcd5b3960d5af27087f3672c1ab270fb5291f9587316065c003ed4ee5b1063d5007', resp3, 215],
]);

test.after(() => b.release());
