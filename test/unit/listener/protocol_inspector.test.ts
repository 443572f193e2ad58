import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { once } from 'node:events';
import { PATIENCE_MS } from '../../helpers/wait.js';
import { StatsStore } from '../../../src/common/stats.js';
import { mainInstance } from '../../../src/wasm/runtime.js';
import { ListenerManager, buildListenerSpec } from '../../../src/listener/listener_manager.js';
import { loadBootstrapText } from '../../../src/config/bootstrap.js';
import {
  ProtocolInspector, couldBeHttp, inspectHttpBytes, MAX_REQUEST_LINE_BYTES, PROTOCOL_INSPECTOR, PROTOCOL_INSPECTOR_TYPE_URL,
} from '../../../src/listener/protocol_inspector.js';
import { inspectHttp } from '../../../src/listener/listener_filters.js';
import { registerExampleProtocol } from '../../../src/codec/xprotocol/example.js';
import { HTTP2_PREFACE } from '../../../src/stream/server_codecs.js';
import { InlineRouteResolver } from '../../../src/router/index.js';
import type { Listener } from '../../../src/types/envoy.js';
import { registerBuiltinExtensions } from '../../../src/server/extensions.js';
import { echoFilter, registerEchoFilter } from '../../helpers/echo_filter.js';

registerBuiltinExtensions();
registerEchoFilter();

/** A Bolt v1 request header's first bytes: proto 1, type request (1), cmdcode RPC request (1), ver2, request id. */
const BOLT_V1 = Buffer.from([0x01, 0x01, 0x00, 0x01, 0x01, 0x00, 0x00, 0x00, 0x07, 0x01]);
/** Bolt v2: proto 2, ver1 1, then the v1 fields. */
const BOLT_V2 = Buffer.from([0x02, 0x01, 0x01, 0x00, 0x01, 0x01, 0x00, 0x00, 0x00, 0x07]);
/** Dubbo: magic 0xdabb, flags (request, two-way, hessian2), status, request id. */
const DUBBO = Buffer.from([0xda, 0xbb, 0xc2, 0x00, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0]);
const GET = 'GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n';
const GARBAGE = Buffer.from([0x00, 0x13, 0x37, 0xff, 0x42, 0x42, 0x42, 0x42]);

function guess(inspector: ProtocolInspector, bytes: Uint8Array | string): string {
  const g = inspector.inspect(typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes);
  return g.kind === 'found' ? g.protocol : g.kind;
}

test('inspect names Bolt v1/v2, Dubbo, h2c and HTTP/1.x from the first bytes, and waits on a prefix', () => {
  const inspector = new ProtocolInspector(mainInstance());
  assert.equal(guess(inspector, BOLT_V1), 'bolt');
  assert.equal(guess(inspector, BOLT_V2), 'bolt');
  assert.equal(guess(inspector, DUBBO), 'dubbo');
  assert.equal(guess(inspector, Buffer.concat([HTTP2_PREFACE, Buffer.from([0, 0, 0, 4])])), 'h2c');
  assert.equal(guess(inspector, GET), 'http/1.1');
  assert.equal(guess(inspector, 'POST /x HTTP/1.0\r\n'), 'http/1.0');
  // Prefixes that could still become one of them.
  assert.equal(guess(inspector, BOLT_V1.subarray(0, 1)), 'need-more');
  assert.equal(guess(inspector, BOLT_V2.subarray(0, 3)), 'need-more');
  assert.equal(guess(inspector, DUBBO.subarray(0, 1)), 'need-more');
  assert.equal(guess(inspector, 'GET /pa'), 'need-more');
  assert.equal(guess(inspector, HTTP2_PREFACE.subarray(0, 10)), 'need-more');
  assert.equal(guess(inspector, ''), 'need-more');
});

test('inspect rules garbage out at once, without waiting for a CRLF', () => {
  const inspector = new ProtocolInspector(mainInstance());
  assert.equal(guess(inspector, GARBAGE), 'unknown');
  assert.equal(guess(inspector, Buffer.from([0x01, 0x09, 0x09, 0x09])), 'unknown'); // Bolt's proto code, unknown type
  assert.equal(guess(inspector, Buffer.from([0xda, 0x00])), 'unknown'); // half a Dubbo magic
  assert.equal(guess(inspector, '123 abc'), 'unknown');
  assert.equal(guess(inspector, 'hello world\r\n'), 'unknown'); // a token and a space, but no request line
  assert.equal(guess(inspector, 'A'.repeat(40)), 'unknown'); // longer than any method
  assert.equal(couldBeHttp(Buffer.from('GET')), true);
  assert.equal(couldBeHttp(Buffer.from(' GET')), false);
  assert.equal(couldBeHttp(Buffer.from('GE\x00')), false);
});

test('inspectHttpBytes gives http_inspector\'s answers without a regex', () => {
  const cases: [string, string][] = [
    [GET, 'http/1.1'], ['OPTIONS * HTTP/1.0\r\n', 'http/1.0'], ['VERSION-CONTROL /x HTTP/1.1\r\n', 'http/1.1'],
    ['GET /x HTTP/1.2\r\n', 'unknown'], ['GET /x HTTP/2.0\r\n', 'unknown'], ['GET  /x HTTP/1.1\r\n', 'unknown'],
    ['GET /x\tHTTP/1.1\r\n', 'unknown'], ['GET /x HTTP/1.1 \r\n', 'unknown'], ['GET /x HTTP/1.1', 'need-more'],
    ['PRI * HTTP/2.0\r\n', 'need-more'], [' GET / HTTP/1.1\r\n', 'unknown'], ['G3T / HTTP/1.1\r\n', 'unknown'],
  ];
  for (const [text, want] of cases) {
    const bytes = Buffer.from(text, 'latin1');
    assert.equal(inspectHttpBytes(bytes), want, JSON.stringify(text));
    if (!text.startsWith('VERSION-')) assert.equal(inspectHttp(bytes), want, `http_inspector: ${JSON.stringify(text)}`);
  }
  assert.equal(inspectHttpBytes(HTTP2_PREFACE), 'h2c');
  assert.equal(inspectHttpBytes(Buffer.alloc(MAX_REQUEST_LINE_BYTES, 0x41)), 'unknown');
});

test('a protocol registered with registerXProtocol is named by its registered name', () => {
  const inspector = new ProtocolInspector(mainInstance());
  const echo = Buffer.from('ECHO\x01\x00\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00', 'latin1');
  assert.equal(guess(inspector, echo), 'unknown'); // its wasm matcher says yes, but nothing registered it
  registerExampleProtocol();
  assert.equal(guess(inspector, echo), 'echo');
});

function listener(extra: Record<string, unknown>): Listener {
  return { name: 'mixed', address: { socket_address: { address: '127.0.0.1', port_value: 0 } }, ...extra } as Listener;
}

async function start(l: Listener): Promise<{ lm: ListenerManager; stats: StatsStore; port: number }> {
  const stats = new StatsStore();
  const clusters = { get: () => undefined, all: () => [], close: () => {} };
  const lm = new ListenerManager([l], { wasm: mainInstance(), stats, clusters, resolverFor: (t) => new InlineRouteResolver(t) });
  await lm.start();
  return { lm, stats, port: lm.addresses()[0]!.port };
}

/** Writes `parts` with a pause between them, then reads until the peer closes (bounded by a timer). */
async function exchange(port: number, parts: (Buffer | string)[], gapMs = 20, limitMs = PATIENCE_MS): Promise<string> {
  const s = net.connect(port, '127.0.0.1');
  s.on('error', () => {});
  let data = '';
  s.on('data', (c: Buffer) => { data += c.toString('latin1'); });
  await once(s, 'connect');
  const timer = setTimeout(() => s.destroy(), limitMs);
  for (const [i, p] of parts.entries()) {
    if (i > 0) await new Promise((r) => setTimeout(r, gapMs));
    if (!s.destroyed) s.write(p);
  }
  await new Promise((r) => s.once('close', r));
  clearTimeout(timer);
  return data;
}

const HCM = 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager';
function hcm(body: string): Record<string, unknown> {
  return {
    name: 'envoy.filters.network.http_connection_manager',
    typed_config: { '@type': HCM, stat_prefix: body, route_config: { virtual_hosts: [{ name: 'v', domains: ['*'], routes: [
      { match: { prefix: '/' }, direct_response: { status: 200, body: { inline_string: body } } },
    ] }] } },
  };
}

const MIXED_CHAINS = [
  { filter_chain_match: { application_protocols: ['bolt', 'dubbo'] }, filters: [echoFilter] },
  { filter_chain_match: { application_protocols: ['http/1.1', 'h2c'] }, filters: [hcm('http-chain')] },
];

test('application_protocols picks the chain; every byte read reaches it, split across packets or not', async (t) => {
  const { lm, stats, port } = await start(listener({
    listener_filters: [{ name: PROTOCOL_INSPECTOR, typed_config: { '@type': PROTOCOL_INSPECTOR_TYPE_URL } }],
    filter_chains: MIXED_CHAINS,
  }));
  t.after(() => lm.close());
  const bolt = JSON.parse(await exchange(port, [BOLT_V1.subarray(0, 1), BOLT_V1.subarray(1, 3), BOLT_V1.subarray(3)])) as { alpn: string; initialData: string };
  assert.equal(bolt.alpn, 'bolt');
  assert.equal(bolt.initialData, BOLT_V1.toString('hex'));
  const dubbo = JSON.parse(await exchange(port, [DUBBO])) as { alpn: string; initialData: string };
  assert.equal(dubbo.alpn, 'dubbo');
  assert.equal(dubbo.initialData, DUBBO.toString('hex'));
  assert.match(await exchange(port, [GET.slice(0, 5), GET.slice(5)]), /^HTTP\/1\.1 200 OK[\s\S]*http-chain$/);
  // Garbage matches no chain (there is no default): closed unanswered, counted twice over.
  assert.equal(await exchange(port, [GARBAGE]), '');
  assert.equal(stats.counter(`listener.127.0.0.1_${port}.no_filter_chain_match`).value, 1);
  assert.equal(stats.counter('protocol_inspector.bolt_found').value, 1);
  assert.equal(stats.counter('protocol_inspector.dubbo_found').value, 1);
  assert.equal(stats.counter('protocol_inspector.http_1_1_found').value, 1);
  assert.equal(stats.counter('protocol_inspector.protocol_not_found').value, 1);
});

test('an undetectable first packet falls to the default chain with its bytes; a stalled prefix times out', async (t) => {
  const { lm, stats, port } = await start(listener({
    listener_filters: [{ name: PROTOCOL_INSPECTOR }], listener_filters_timeout: { nanos: 150_000_000 },
    filter_chains: MIXED_CHAINS,
    default_filter_chain: { filters: [echoFilter] },
  }));
  t.after(() => lm.close());
  const fallback = JSON.parse(await exchange(port, [GARBAGE])) as { alpn: string; initialData: string };
  assert.equal(fallback.alpn, '');
  assert.equal(fallback.initialData, GARBAGE.toString('hex'));
  // A request line that never ends: given up at 8 KiB (not at the timeout), and the bytes go to the default chain.
  const endless = Buffer.from(`GET /${'a'.repeat(MAX_REQUEST_LINE_BYTES + 1000)}`, 'latin1');
  const long = JSON.parse(await exchange(port, [endless])) as { alpn: string; initialData: string };
  assert.equal(long.alpn, '');
  assert.ok(long.initialData.length / 2 >= MAX_REQUEST_LINE_BYTES);
  assert.ok(endless.toString('hex').startsWith(long.initialData));
  assert.equal(stats.counter(`listener.127.0.0.1_${port}.downstream_pre_cx_timeout`).value, 0);
  // One byte of a Bolt header and then silence: still undecided at the timeout, so closed (Envoy's default).
  const started = Date.now();
  assert.equal(await exchange(port, [BOLT_V1.subarray(0, 1)]), '');
  // Closed by the 150 ms timeout (counted below), not by exchange()'s own limit.
  assert.ok(Date.now() - started < PATIENCE_MS);
  assert.equal(stats.counter(`listener.127.0.0.1_${port}.downstream_pre_cx_timeout`).value, 1);
  assert.equal(stats.counter('protocol_inspector.read_error').value, 1);
});

test('with tls_inspector configured before it, plain text is still inspected', async (t) => {
  const { lm, port } = await start(listener({
    listener_filters: [{ name: 'envoy.filters.listener.tls_inspector' }, { name: PROTOCOL_INSPECTOR }],
    filter_chains: MIXED_CHAINS,
  }));
  t.after(() => lm.close());
  const dubbo = JSON.parse(await exchange(port, [DUBBO])) as { alpn: string; transportProtocol: string };
  assert.deepEqual([dubbo.alpn, dubbo.transportProtocol], ['dubbo', 'raw_buffer']);
});

function withRouter(filter: Record<string, unknown>): Record<string, unknown> {
  const router = { name: 'envoy.filters.http.router', typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router' } };
  return { ...filter, typed_config: { ...(filter.typed_config as object), http_filters: [router] } };
}

test('config: the inspector is accepted with or without its typed_config, and its message has no fields', () => {
  const bootstrap = (filter: Record<string, unknown>): string => JSON.stringify({ static_resources: { listeners: [{
    name: 'mixed', address: { socket_address: { address: '127.0.0.1', port_value: 0 } },
    listener_filters: [filter], filter_chains: [{ filters: [withRouter(hcm('x'))] }],
  }] } });
  for (const filter of [{ name: PROTOCOL_INSPECTOR }, { name: 'any', typed_config: { '@type': PROTOCOL_INSPECTOR_TYPE_URL } }]) {
    const loaded = loadBootstrapText(bootstrap(filter), 'json');
    assert.deepEqual(loaded.warnings, []);
    const spec = buildListenerSpec(loaded.bootstrap.static_resources!.listeners![0]!, 'static_resources.listeners[0]', {
      wasm: mainInstance(), stats: new StatsStore(), clusters: { get: () => undefined, all: () => [], close: () => {} },
      resolverFor: (t) => new InlineRouteResolver(t),
    });
    assert.ok(spec.listenerFilters.protocolInspector instanceof ProtocolInspector);
  }
  assert.throws(() => loadBootstrapText(bootstrap({ name: PROTOCOL_INSPECTOR, typed_config: { '@type': PROTOCOL_INSPECTOR_TYPE_URL, max_bytes: 5 } }), 'json'),
    /listener_filters\[0\]\.typed_config\.max_bytes: unknown field/);
});
