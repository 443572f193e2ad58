import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { once } from 'node:events';
import { StatsStore } from '../../../src/common/stats.js';
import { mainInstance } from '../../../src/wasm/runtime.js';
import { ListenerManager } from '../../../src/listener/listener_manager.js';
import { registerNoopNetworkFilter } from '../../../src/listener/network_filters.js';
import { HTTP2_PREFACE, registerServerCodec, unregisterServerCodec, type ServerCodecFactory } from '../../../src/stream/server_codecs.js';
import { InlineRouteResolver } from '../../../src/router/index.js';
import type { Listener } from '../../../src/types/envoy.js';
import { closedPort } from '../../helpers/ports.js';
import { PATIENCE_MS } from '../../helpers/wait.js';
import { registerBuiltinExtensions } from '../../../src/server/extensions.js';
import { echoFilter, registerEchoFilter } from '../../helpers/echo_filter.js';

const HCM = 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager';

function hcmFilter(body: string, extra: Record<string, unknown> = {}): { name: string; typed_config: Record<string, unknown> } {
  return {
    name: 'envoy.filters.network.http_connection_manager',
    typed_config: { '@type': HCM, stat_prefix: body, route_config: { virtual_hosts: [{ name: 'v', domains: ['*'], routes: [
      { match: { prefix: '/' }, direct_response: { status: 200, body: { inline_string: body } } },
    ] }] }, ...extra },
  };
}

function listener(extra: Record<string, unknown>, address = '127.0.0.1'): Listener {
  return { name: 'l', address: { socket_address: { address, port_value: 0 } }, ...extra } as Listener;
}

async function start(l: Listener): Promise<{ lm: ListenerManager; stats: StatsStore; port: number }> {
  const stats = new StatsStore();
  const clusters = { get: () => undefined, all: () => [], close: () => {} };
  const lm = new ListenerManager([l], { wasm: mainInstance(), stats, clusters, resolverFor: (t) => new InlineRouteResolver(t) });
  await lm.start();
  return { lm, stats, port: lm.addresses()[0]!.port };
}

/** Sends `bytes`, reads until the peer closes (bounded by a timer); '' when the connection was closed unanswered. */
async function exchange(port: number, bytes: Buffer | string, host = '127.0.0.1'): Promise<string> {
  const s = net.connect(port, host);
  s.on('error', () => {});
  let data = '';
  s.on('data', (c: Buffer) => { data += c.toString('latin1'); });
  await once(s, 'connect');
  s.write(bytes);
  const timer = setTimeout(() => s.destroy(), PATIENCE_MS);
  // Not events.once: it rejects on 'error', and a closed connection is an outcome here.
  await new Promise((r) => s.once('close', r));
  clearTimeout(timer);
  return data;
}

const GET = 'GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n';

/**
 * A stand-in HTTP/2 codec that collects what the connection carried (the bytes the listener read first, then
 * the socket's) until `expected` bytes are in, records them in `seen` and answers `reply`. It waits for the
 * bytes, not for a fixed time, so a busy machine delivering the rest later does not cut the check short.
 */
function collectingCodec(expected: number, seen: Buffer[], reply: string): ServerCodecFactory {
  return (ctx) => {
    const chunks: Buffer[] = [Buffer.from(ctx.initialData)];
    let have = ctx.initialData.length;
    const finish = (): void => { seen.push(Buffer.concat(chunks)); ctx.socket.end(reply); };
    // Bounded: if the bytes never all come, what did come is recorded and the test's comparison fails.
    const timer = setTimeout(finish, PATIENCE_MS);
    const check = (): void => { if (have >= expected) { clearTimeout(timer); ctx.socket.off('data', onData); finish(); } };
    const onData = (c: Buffer): void => { chunks.push(c); have += c.length; check(); };
    ctx.socket.on('data', onData);
    ctx.socket.resume();
    check();
    return { destroy: () => { clearTimeout(timer); ctx.socket.destroy(); } };
  };
}

test('an unknown network filter is refused by path and name; a registered no-op is skipped', () => {
  const stats = new StatsStore();
  const clusters = { get: () => undefined, all: () => [], close: () => {} };
  const build = (l: Listener): ListenerManager => new ListenerManager([l], { wasm: mainInstance(), stats, clusters, resolverFor: (t) => new InlineRouteResolver(t) });
  assert.throws(() => build(listener({ filter_chains: [{ filters: [{ name: 'envoy.filters.network.mystery' }, hcmFilter('a')] }] })),
    { code: 'SKIFF_CONFIG_UNSUPPORTED', message: /listeners\[0\]\.filter_chains\[0\]\.filters\[0\]: unsupported network filter envoy\.filters\.network\.mystery/ });
  registerNoopNetworkFilter('test.noop_stats', 'a test no-op');
  assert.doesNotThrow(() => build(listener({ filter_chains: [{ filters: [{ name: 'test.noop_stats' }, hcmFilter('a')] }] })).close());
  assert.throws(() => build(listener({ filter_chains: [{ filters: [hcmFilter('a'), { name: 'test.noop_stats' }] }] })), { message: /filters\[1\]: network filter test\.noop_stats after the terminal filter/ });
  assert.throws(() => build(listener({ filter_chains: [{ filters: [{ name: 'test.noop_stats' }] }] })), { message: /filters: a terminal network filter/ });
  assert.throws(() => build(listener({ filter_chains: [{ filters: [hcmFilter('a', { codec_type: 'HTTP2' })] }] })),
    { code: 'SKIFF_CONFIG_UNSUPPORTED', message: /filters\[0\]\.typed_config\.codec_type: unsupported codec_type HTTP2/ });
  assert.throws(() => build(listener({ listener_filters: [{ name: 'envoy.filters.listener.proxy_protocol' }], filter_chains: [{ filters: [hcmFilter('a')] }] })),
    { code: 'SKIFF_CONFIG_UNSUPPORTED', message: /listener_filters\[0\]: unsupported listener filter envoy\.filters\.listener\.proxy_protocol/ });
});

test('chains chosen by destination address; no match closes the connection and is counted', async (t) => {
  const { lm, stats, port } = await start(listener({
    filter_chains: [
      { filter_chain_match: { prefix_ranges: [{ address_prefix: '127.0.0.2', prefix_len: { value: 32 } }] }, filters: [hcmFilter('two')] },
      { filter_chain_match: { prefix_ranges: [{ address_prefix: '127.0.0.0', prefix_len: { value: 8 } }], source_ports: [1] }, filters: [hcmFilter('never')] },
    ],
  }, '0.0.0.0'));
  t.after(() => lm.close());
  assert.match(await exchange(port, GET, '127.0.0.2'), /200 OK[\s\S]*two$/);
  assert.equal(await exchange(port, GET, '127.0.0.1'), '');
  assert.equal(stats.counter(`listener.0.0.0.0_${port}.no_filter_chain_match`).value, 1);
});

test('default_filter_chain serves what no chain matches', async (t) => {
  const { lm, port } = await start(listener({
    filter_chains: [{ filter_chain_match: { source_prefix_ranges: [{ address_prefix: '10.0.0.0', prefix_len: { value: 8 } }] }, filters: [hcmFilter('ten')] }],
    default_filter_chain: { filters: [hcmFilter('fallback')] },
  }));
  t.after(() => lm.close());
  assert.match(await exchange(port, GET), /fallback$/);
});

test('http_inspector: a prior-knowledge HTTP/2 connection goes to the h2c chain with every byte it sent', async (t) => {
  const seen: Buffer[] = [];
  const sent = Buffer.concat([HTTP2_PREFACE, Buffer.from('frames')]);
  registerServerCodec('http2', collectingCodec(sent.length, seen, 'dummy-h2'));
  t.after(() => unregisterServerCodec('http2'));
  const { lm, port } = await start(listener({
    listener_filters: [{ name: 'envoy.filters.listener.http_inspector' }],
    filter_chains: [
      { filter_chain_match: { application_protocols: ['h2c'] }, filters: [hcmFilter('h2c-chain')] },
      { filters: [hcmFilter('h1-chain', { codec_type: 'HTTP1' })] },
    ],
  }));
  t.after(() => lm.close());
  assert.equal(await exchange(port, sent), 'dummy-h2');
  assert.deepEqual(seen[0], sent);
  assert.match(await exchange(port, GET), /h1-chain$/);
});

test('codec_type AUTO hands the preface bytes to the http2 codec and plain HTTP/1 to http1, split or whole', async (t) => {
  const seen: Buffer[] = [];
  const sent = Buffer.concat([HTTP2_PREFACE, Buffer.from([0, 0, 0, 4, 0, 0, 0, 0, 0])]);
  registerServerCodec('http2', collectingCodec(sent.length, seen, 'auto-h2'));
  t.after(() => unregisterServerCodec('http2'));
  const { lm, port } = await start(listener({ filter_chains: [{ filters: [hcmFilter('auto')] }] }));
  t.after(() => lm.close());
  assert.equal(await exchange(port, sent), 'auto-h2');
  assert.deepEqual(seen[0], sent);
  // The preface split over two writes still reaches the codec whole.
  const s = net.connect(port, '127.0.0.1');
  let data = '';
  s.on('data', (c: Buffer) => { data += c.toString('latin1'); });
  await once(s, 'connect');
  s.write(sent.subarray(0, 5));
  await new Promise((r) => setTimeout(r, 30));
  s.write(sent.subarray(5));
  await once(s, 'close');
  assert.equal(data, 'auto-h2');
  assert.deepEqual(seen[1], sent);
  // HTTP/1 sent one byte at a time first is detected as HTTP/1 and parsed from its first byte.
  const h = net.connect(port, '127.0.0.1');
  let reply = '';
  h.on('data', (c: Buffer) => { reply += c.toString('latin1'); });
  await once(h, 'connect');
  h.write('G');
  await new Promise((r) => setTimeout(r, 20));
  h.write(GET.slice(1));
  await once(h, 'close');
  assert.match(reply, /^HTTP\/1\.1 200 OK[\s\S]*auto$/);
});

test('destination_port and source prefix: the port chain wins over the catch-all, the source range over the port-less one', async (t) => {
  const port = await closedPort();
  const { lm } = await start({
    name: 'l', address: { socket_address: { address: '127.0.0.1', port_value: port } },
    filter_chains: [
      { filter_chain_match: { destination_port: { value: port } }, filters: [hcmFilter('by-port')] },
      { filter_chain_match: { destination_port: { value: port }, source_prefix_ranges: [{ address_prefix: '127.0.0.0', prefix_len: { value: 8 } }] }, filters: [hcmFilter('by-port-and-source')] },
      { filters: [hcmFilter('catch-all')] },
    ],
  } as Listener);
  t.after(() => lm.close());
  assert.match(await exchange(port, GET), /by-port-and-source$/);
});

test('listener_filters_timeout: a silent client is closed and counted; with continue_on_listener_filters_timeout it is served', async (t) => {
  const { lm, stats, port } = await start(listener({
    listener_filters: [{ name: 'envoy.filters.listener.tls_inspector' }], listener_filters_timeout: { nanos: 100_000_000 },
    filter_chains: [{ filters: [hcmFilter('late')] }],
  }));
  t.after(() => lm.close());
  const s = net.connect(port, '127.0.0.1');
  s.on('error', () => {});
  const started = Date.now();
  await new Promise((r) => s.once('close', r));
  assert.ok(Date.now() - started < PATIENCE_MS, 'closed by the 100 ms timeout, not left open');
  assert.equal(stats.counter(`listener.127.0.0.1_${port}.downstream_pre_cx_timeout`).value, 1);
  const cont = await start(listener({
    listener_filters: [{ name: 'envoy.filters.listener.http_inspector' }], listener_filters_timeout: { nanos: 100_000_000 },
    continue_on_listener_filters_timeout: true, filter_chains: [{ filters: [hcmFilter('continued')] }],
  }));
  t.after(() => cont.lm.close());
  // A request line without its CRLF keeps http_inspector waiting until the timeout; the chain then gets those bytes first.
  const c = net.connect(cont.port, '127.0.0.1');
  let reply = '';
  c.on('data', (d: Buffer) => { reply += d.toString('latin1'); });
  await once(c, 'connect');
  c.write('GET / HTTP/1.1');
  await new Promise((r) => setTimeout(r, 250));
  c.write('\r\nHost: x\r\nConnection: close\r\n\r\n');
  await new Promise((r) => c.once('close', r));
  assert.match(reply, /^HTTP\/1\.1 200 OK[\s\S]*continued$/);
});

test('a registered terminal filter gets the connection: addresses, inspector results and the bytes already read', async (t) => {
  registerEchoFilter();
  const { lm, port } = await start(listener({
    listener_filters: [{ name: 'envoy.filters.listener.http_inspector' }],
    filter_chains: [{ filters: [echoFilter] }],
  }));
  t.after(() => lm.close());
  const reply = await exchange(port, 'GET /x HTTP/1.0\r\n');
  const info = JSON.parse(reply) as Record<string, unknown>;
  assert.equal(info.localAddress, '127.0.0.1');
  assert.equal(info.localPort, port);
  assert.equal(info.remoteAddress, '127.0.0.1');
  assert.ok(Number(info.remotePort) > 0);
  assert.equal(info.transportProtocol, 'raw_buffer');
  assert.equal(info.alpn, 'http/1.0');
  assert.equal(Buffer.from(String(info.initialData), 'hex').toString('latin1'), 'GET /x HTTP/1.0\r\n');
  // Without listener filters the one chain gets the connection at once, nothing read.
  const plain = await start(listener({ filter_chains: [{ filters: [echoFilter] }] }));
  t.after(() => plain.lm.close());
  const p = JSON.parse(await exchange(plain.port, 'x')) as Record<string, unknown>;
  assert.deepEqual([p.localPort, p.initialData, p.alpn], [plain.port, '', '']);
});

test("Istio's no-op network filters are skipped; a wasm filter is one only when it is Istio's stats plugin", () => {
  registerBuiltinExtensions();
  const stats = new StatsStore();
  const clusters = { get: () => undefined, all: () => [], close: () => {} };
  const build = (filters: unknown[]): ListenerManager => new ListenerManager([listener({ filter_chains: [{ filters }] })],
    { wasm: mainInstance(), stats, clusters, resolverFor: (t) => new InlineRouteResolver(t) });
  const wasm = (inline: string): unknown => ({
    name: 'istio.stats',
    typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.network.wasm.v3.Wasm', config: { root_id: 'stats_inbound', vm_config: { runtime: 'envoy.wasm.runtime.null', code: { local: { inline_string: inline } } } } },
  });
  assert.doesNotThrow(() => build([{ name: 'istio.metadata_exchange' }, wasm('envoy.wasm.stats'), hcmFilter('a')]).close());
  assert.throws(() => build([wasm('my.authz.plugin'), hcmFilter('a')]), { code: 'SKIFF_CONFIG_UNSUPPORTED', message: /filters\[0\]: unsupported network filter istio\.stats/ });
});
