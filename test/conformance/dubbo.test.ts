// ../shared/conformance/dubbo: every frame decodes to its golden fields (the encoder's inputs for requests,
// dubbo2.js's decode for responses) and, with the request id patched to itself, is re-sent byte-identical.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as L from '../../src/wasm/layout.js';
import { XP_DUBBO, detectProtocol, setRequestId } from '../../src/codec/xprotocol/index.js';
import { harness } from '../unit/codec/xprotocol/harness.js';
import { readGoldenFrames } from '../helpers/golden_frames.js';

const root = fileURLToPath(new URL('../../../../shared/conformance/dubbo/', import.meta.url));

interface Golden {
  hex: string;
  length: number;
  input?: {
    requestId: number; dubboVersion?: string; interface?: string; version?: string; method: string; group?: string;
    attachments?: Record<string, string | number>;
  };
  decoded_by_dubbo2js?: { requestId: number; res: unknown; err: string | null; attachments: Record<string, string> };
}

function resendsIdentical(bytes: Buffer, name: string): void {
  const h = harness();
  const id = Number(bytes.readBigUInt64BE(4));
  setRequestId(h.wasm, XP_DUBBO, h.buf, h.rec, id);
  assert.deepEqual(h.bytesAt(h.buf, bytes.length), bytes, `${name} re-sent byte-identical`);
}

test('every generated Dubbo frame decodes to its golden fields and re-sends byte-identical', () => {
  const h = harness();
  const frames = readGoldenFrames<Golden>(root);
  const defaults = frames.find((f) => f.name === 'dubbo-request-sayHello-string')!.golden.input!;
  let checked = 0;
  for (const { name, golden: g, bytes } of frames) {
    const len = h.load(bytes);
    assert.equal(detectProtocol(h.wasm, h.buf, len), XP_DUBBO, name);
    const { n, frame } = h.decode(XP_DUBBO, bytes);
    assert.equal(n, g.length, name);
    if (g.input) {
      const input = { ...defaults, ...g.input };
      assert.equal(frame.kind, 'request', name);
      assert.equal(frame.requestId, input.requestId, name);
      assert.equal(frame.rpcVersion, input.dubboVersion, name);
      assert.equal(frame.service, input.interface, name);
      assert.equal(frame.serviceVersion, input.version, name);
      assert.equal(frame.method, input.method, name);
      assert.equal(frame.group, input.group ?? '', name);
      assert.ok(frame.flags & L.XFF_PEEKED, name);
      // the sample's attachments: strings as entries, timeout as the frame timeout (absent when not sent)
      const sentTimeout = name !== 'dubbo-request-noargs';
      assert.equal(frame.timeoutMs, sentTimeout ? 3000 : 0, name);
      for (const [k, v] of Object.entries(input.attachments ?? {})) {
        if (typeof v === 'string') assert.equal(frame.header(k), v, `${name} ${k}`);
      }
    } else if (g.decoded_by_dubbo2js) {
      const d = g.decoded_by_dubbo2js;
      assert.equal(frame.kind, 'response', name);
      assert.equal(frame.requestId, d.requestId, name);
      const failed = frame.status !== L.DUBBO_STATUS_OK || frame.responseType === 0 || frame.responseType === 3;
      assert.equal(failed, d.err !== null, name);
      if (!failed) assert.equal(frame.responseType === 2 || frame.responseType === 5, d.res === null, name);
      assert.deepEqual(Object.fromEntries(frame.headers()), d.attachments, name);
    } else {
      assert.equal(frame.kind, 'heartbeat', name);
      assert.equal(frame.requestId, 0, name);
    }
    resendsIdentical(bytes, name);
    checked++;
  }
  assert.equal(checked, 8);
});

test('the dubbo-js heartbeat vectors: the event flag makes the heartbeat', () => {
  const h = harness();
  const hb = readFileSync(`${root}upstream-test-vectors/heartbeat-event-id5.bin`);
  const a = h.decode(XP_DUBBO, hb);
  assert.equal(a.n, hb.length);
  assert.equal(a.frame.kind, 'heartbeat');
  assert.equal(a.frame.requestId, 5);
  resendsIdentical(hb, 'heartbeat-event-id5');
  const not = readFileSync(`${root}upstream-test-vectors/not-heartbeat-id5.bin`);
  const b = h.decode(XP_DUBBO, not);
  assert.equal(b.n, not.length);
  assert.notEqual(b.frame.kind, 'heartbeat');
  assert.notEqual(b.frame.kind, 'heartbeat_reply');
  resendsIdentical(not, 'not-heartbeat-id5');
});
