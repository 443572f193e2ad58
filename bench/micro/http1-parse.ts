/**
 * HTTP/1.1 request head parsing: Skiff's wasm parser (assembly/codec/http1) against llhttp compiled to wasm as
 * undici ships it (node_modules/undici/lib/llhttp/llhttp-wasm.js, and the SIMD build undici prefers), and
 * Node's own parser (process.binding('http_parser'), llhttp compiled natively).
 *
 * Every contender starts from the same JS Buffer, copies it into its wasm memory once per parse (as a socket
 * chunk would be), and parses one complete head. Skiff fills its head record; llhttp's callbacks only note
 * offsets and lengths (the least work a user of llhttp can do); Node's parser builds its header arrays.
 *
 * Run: node dist/bench/micro/http1-parse.js   (after npm run build)
 */
import { createRequire } from 'node:module';
import { Bench } from 'tinybench';
import { mainInstance } from '../../src/wasm/runtime.js';
import { slabPool } from '../../src/wasm/slab.js';
import * as L from '../../src/wasm/layout.js';
import { parseRequestHead, recordBytes, type HeadLimits } from '../../src/codec/http1/index.js';

const require = createRequire(import.meta.url);

const REQUESTS: Record<string, Buffer> = {
  curl: Buffer.from('GET /api/v1/health HTTP/1.1\r\nHost: service.local:8080\r\nUser-Agent: curl/8.5.0\r\nAccept: */*\r\n\r\n', 'latin1'),
  browser: Buffer.from([
    'GET /products/shoes/running?color=blue&size=42&sort=price_asc HTTP/1.1',
    'Host: shop.example.com',
    'Connection: keep-alive',
    'sec-ch-ua: "Chromium";v="124", "Google Chrome";v="124", "Not-A.Brand";v="99"',
    'sec-ch-ua-mobile: ?0',
    'sec-ch-ua-platform: "macOS"',
    'Upgrade-Insecure-Requests: 1',
    'User-Agent: Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36',
    'Accept: text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7',
    'Sec-Fetch-Site: same-origin',
    'Sec-Fetch-Mode: navigate',
    'Sec-Fetch-User: ?1',
    'Sec-Fetch-Dest: document',
    'Referer: https://shop.example.com/products/shoes',
    'Accept-Encoding: gzip, deflate, br, zstd',
    'Accept-Language: en-US,en;q=0.9,de;q=0.8',
    'Cookie: session=8f14e45fceea167a5a36dedd4bea2543; cart=3; _ga=GA1.1.1234567890.1700000000; theme=dark',
  ].join('\r\n') + '\r\n\r\n', 'latin1'),
  'json-post': Buffer.from([
    'POST /v2/orders HTTP/1.1',
    'Host: orders.internal.svc.cluster.local',
    'Content-Type: application/json',
    'Content-Length: 187',
    'Accept: application/json',
    'Authorization: Bearer eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.c2lnbmF0dXJl',
    'X-Request-Id: 7b3f0c2e-9a51-4d7e-8c1b-2f6e4a9d0b13',
    'traceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
    'User-Agent: orders-client/2.3.1 (node)',
  ].join('\r\n') + '\r\n\r\n', 'latin1'),
};

/** Parses per task call, so one sample is long enough for the timer. */
const BATCH = 200;

// ---- Skiff ----
const wasm = mainInstance();
const skiffBuf = slabPool(wasm).lease(16384);
const skiffRec = slabPool(wasm).lease(recordBytes(64));
const limits: HeadLimits = { maxHeaders: 64, maxHeadBytes: 16384 };
function skiffParse(req: Buffer): void {
  wasm.u8.set(req, skiffBuf);
  if (parseRequestHead(wasm, skiffBuf, req.length, 0, skiffRec, limits) !== L.HEAD_OK) throw new Error('skiff: parse failed');
}

// ---- llhttp as undici instantiates it ----
interface LlhttpExports {
  memory: WebAssembly.Memory;
  _initialize?: () => void;
  malloc(n: number): number;
  llhttp_alloc(type: number): number;
  llhttp_reset(p: number): void;
  llhttp_execute(p: number, ptr: number, len: number): number;
}
function llhttpParser(file: string): (req: Buffer) => void {
  const spans = new Int32Array(512);
  let n = 0;
  let complete = false;
  const note = (_p: number, at: number, len: number): number => { spans[n & 511] = at; spans[(n + 1) & 511] = len; n += 2; return 0; };
  const mod = new WebAssembly.Module(new Uint8Array(require(file) as Buffer));
  const instance = new WebAssembly.Instance(mod, {
    env: {
      wasm_on_url: note, wasm_on_status: note, wasm_on_header_field: note, wasm_on_header_value: note, wasm_on_body: note,
      wasm_on_message_begin: () => 0,
      wasm_on_headers_complete: () => { complete = true; return 0; },
      wasm_on_message_complete: () => 0,
    },
  });
  const ll = instance.exports as unknown as LlhttpExports;
  ll._initialize?.();
  const parser = ll.llhttp_alloc(0 /* REQUEST */);
  const bufPtr = ll.malloc(16384);
  return (req: Buffer): void => {
    n = 0;
    complete = false;
    ll.llhttp_reset(parser);
    new Uint8Array(ll.memory.buffer, bufPtr, req.length).set(req);
    const ret = ll.llhttp_execute(parser, bufPtr, req.length);
    if (ret !== 0 || !complete) throw new Error(`llhttp: error ${ret}`);
  };
}

// ---- Node's native parser ----
function nodeParser(): ((req: Buffer) => void) | undefined {
  try {
    const originalEmit = process.emitWarning;
    process.emitWarning = () => undefined; // process.binding is deprecated; the warning is not a result
    const { HTTPParser } = (process as unknown as { binding(name: string): any }).binding('http_parser');
    process.emitWarning = originalEmit;
    const parser = new HTTPParser();
    let complete = false;
    parser[HTTPParser.kOnHeadersComplete] = () => { complete = true; return 0; };
    parser[HTTPParser.kOnMessageComplete] = () => undefined;
    parser[HTTPParser.kOnHeaders] = () => undefined;
    parser[HTTPParser.kOnBody] = () => undefined;
    parser[HTTPParser.kOnExecute] = () => undefined;
    return (req: Buffer): void => {
      complete = false;
      parser.initialize(HTTPParser.REQUEST, {});
      const ret = parser.execute(req);
      if (ret instanceof Error || !complete) throw new Error(`node http_parser: ${String(ret)}`);
    };
  } catch {
    return undefined;
  }
}

const contenders: [string, (req: Buffer) => void][] = [
  ['skiff-wasm', skiffParse],
  ['llhttp-wasm (undici)', llhttpParser('undici/lib/llhttp/llhttp-wasm.js')],
  ['llhttp-simd-wasm (undici)', llhttpParser('undici/lib/llhttp/llhttp_simd-wasm.js')],
];
const native = nodeParser();
if (native) contenders.push(['node http_parser (native)', native]);

// The machine is shared, so load changes during a run: each round measures every task once (in a rotated
// order), and a task's figure is its best round, the one least disturbed by others.
const ROUNDS = 5;
const tasks: [string, () => void][] = [];
for (const [reqName, req] of Object.entries(REQUESTS)) {
  for (const [who, parse] of contenders) {
    parse(req); // fail fast if a contender cannot parse it
    tasks.push([`${reqName} ${req.length}B | ${who}`, () => { for (let i = 0; i < BATCH; i++) parse(req); }]);
  }
}
const best = new Map<string, number>();
for (let round = 0; round < ROUNDS; round++) {
  const bench = new Bench({ name: `http1 head parse, round ${round + 1}`, time: 120, warmup: true });
  for (let k = 0; k < tasks.length; k++) {
    const [name, fn] = tasks[(k + round * 5) % tasks.length];
    bench.add(name, fn);
  }
  await bench.run();
  for (const task of bench.tasks) {
    const r = task.result as unknown as { period?: number; latency?: { mean: number } } | undefined;
    const ms = r?.latency?.mean ?? r?.period ?? NaN;
    const ns = (ms * 1e6) / BATCH;
    best.set(task.name, Math.min(best.get(task.name) ?? Infinity, ns));
  }
}

const rows: Record<string, string | number>[] = [];
const nsPerParse = new Map<string, number>();
for (const [name] of tasks) {
  const ns = best.get(name) ?? NaN;
  nsPerParse.set(name, ns);
  rows.push({ task: name, 'ns/parse': Math.round(ns), 'parses/s': Math.round(1e9 / ns) });
}
console.log(`Best of ${ROUNDS} rounds, ${BATCH} parses per sample:`);
console.table(rows);
const ratios: Record<string, string | number>[] = [];
for (const [reqName, req] of Object.entries(REQUESTS)) {
  const key = (who: string): number => nsPerParse.get(`${reqName} ${req.length}B | ${who}`) ?? NaN;
  const skiff = key('skiff-wasm');
  const row: Record<string, string | number> = { request: `${reqName} (${req.length} B)` };
  for (const [who] of contenders.slice(1)) row[`${who} / skiff`] = (key(who) / skiff).toFixed(2) + 'x';
  ratios.push(row);
}
console.log('Speed-up of Skiff (time of the other parser divided by Skiff\'s; target >= 1.5x against llhttp-wasm):');
console.table(ratios);
